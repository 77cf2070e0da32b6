"""The bounded queue (503 when full, 504 when slow, the bound kept) and the API key."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from tests.serve._uploads import image_bytes


class SlowPredictor:
    """Holds its worker slot until ``release`` is set (or ``seconds`` pass)."""

    def __init__(self, classes: list[str], seconds: float = 30.0) -> None:
        self.classes_ = classes
        self.seconds = seconds
        self.release = threading.Event()
        self.started = threading.Semaphore(0)
        self.calls = 0

    def predict_proba(self, images):  # noqa: ANN001, ANN201
        self.calls += 1
        self.started.release()
        self.release.wait(self.seconds)
        p = np.zeros((len(images), len(self.classes_)))
        p[:, 0] = 1.0
        return p


def _classes(run: Path) -> list[str]:
    return json.loads((run / "model.json").read_text())["classes"]


def _app(run: Path, predictor: SlowPredictor, **settings):  # noqa: ANN003, ANN202
    from stylecast.serve import ServeSettings, create_app

    return create_app(run, settings=ServeSettings(**settings), predictor=predictor)


async def _predict(client, name: str = "a.jpg"):  # noqa: ANN001, ANN202
    files = [("file", (name, image_bytes(), "image/jpeg"))]
    return await client.post("/api/predict?palette=0", files=files)


async def _wait_started(slow: SlowPredictor, n: int) -> None:
    for _ in range(n):
        while not slow.started.acquire(blocking=False):
            await asyncio.sleep(0.01)


# Both ways through the server: each request on its own (--max-batch 1) and batched.
modes = pytest.mark.parametrize("max_batch", [1, 32], ids=["one-by-one", "batched"])


@modes
def test_a_full_queue_answers_503_and_health_still_answers(serve_run: Path, max_batch: int) -> None:
    import httpx

    slow = SlowPredictor(_classes(serve_run))
    app = _app(serve_run, slow, workers=1, queue=2, max_batch=max_batch)

    async def scenario() -> tuple[list[int], httpx.Response, dict]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            held = [asyncio.create_task(_predict(client, f"{i}.jpg")) for i in range(3)]
            await _wait_started(slow, 1)  # one runs, two wait
            while app.state.queue.pending < 3:
                await asyncio.sleep(0.01)
            refused = await _predict(client, "one-too-many.jpg")
            health = (await client.get("/healthz")).json()  # the loop is free meanwhile
            slow.release.set()
            done = await asyncio.gather(*held)
            return [r.status_code for r in done], refused, health

    statuses, refused, health = asyncio.run(scenario())
    assert statuses == [200, 200, 200]
    assert refused.status_code == 503 and refused.json()["error"] == "busy"
    assert int(refused.headers["retry-after"]) >= 1
    assert health["status"] == "ok" and health["queue"]["pending"] == 3
    assert app.state.queue.stats()["refused"] == 1 and app.state.queue.pending == 0


@modes
def test_a_slow_analysis_answers_504_and_still_holds_its_slot(
    serve_run: Path, max_batch: int
) -> None:
    import httpx

    slow = SlowPredictor(_classes(serve_run))
    app = _app(serve_run, slow, workers=1, queue=0, timeout=0.3, max_batch=max_batch)

    async def scenario() -> tuple[httpx.Response, httpx.Response, httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            late = await _predict(client)
            # The timed-out job still runs: the bound counts it, so the next one is refused.
            busy = await _predict(client)
            slow.release.set()
            while app.state.queue.pending:
                await asyncio.sleep(0.01)
            ok = await _predict(client)
            return late, busy, ok

    late, busy, ok = asyncio.run(scenario())
    assert late.status_code == 504 and late.json()["error"] == "timeout"
    assert busy.status_code == 503
    assert ok.status_code == 200 and slow.calls == 2


def test_a_request_that_times_out_in_the_batch_queue_is_dropped_from_its_batch(
    serve_run: Path,
) -> None:
    import httpx

    slow = SlowPredictor(_classes(serve_run))
    app = _app(serve_run, slow, workers=1, queue=4, timeout=0.5, max_batch=8)

    async def scenario() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            first = asyncio.create_task(_predict(client, "first.jpg"))
            await _wait_started(slow, 1)  # the runner is held by the first batch
            queued = await _predict(client, "queued.jpg")  # waits past its timeout
            slow.release.set()
            answers = [await first, queued]
            deadline = time.monotonic() + 30
            while app.state.queue.pending or not app.state.batching.stats()["dropped_images"]:
                assert time.monotonic() < deadline
                await asyncio.sleep(0.01)
            return answers

    first, queued = asyncio.run(scenario())
    assert first.status_code == 504 and queued.status_code == 504
    stats = app.state.batching.stats()
    # The queued image was never run: its request had given up before its batch started.
    assert stats["dropped_images"] == 1 and slow.calls == 1
    assert app.state.queue.pending == 0 and app.state.queue.stats()["timed_out"] == 2


def test_a_slow_upload_answers_408(serve_run: Path) -> None:
    from tests.serve._uploads import asgi_post, multipart

    app = _app(serve_run, SlowPredictor(_classes(serve_run)), timeout=0.3)
    body = multipart([("a.jpg", image_bytes())])
    trickle = [body[i : i + 64] for i in range(0, len(body), 64)]  # 64 bytes every 0.1 s
    status, _, answer, read = asgi_post(app, trickle, delay=0.1)
    assert status == 408 and answer["error"] == "upload_timeout" and read < len(trickle)


@pytest.fixture(scope="module")
def keyed(serve_run: Path, predictor):  # noqa: ANN001, ANN201
    from fastapi.testclient import TestClient

    from stylecast.serve import ServeSettings, create_app

    app = create_app(serve_run, settings=ServeSettings(api_key="s3cret-key"), predictor=predictor)
    with TestClient(app) as c:
        yield c


def test_the_api_key_guards_the_api_but_not_the_page_or_health(keyed) -> None:  # noqa: ANN001
    files = [("file", ("a.jpg", image_bytes(), "image/jpeg"))]
    assert keyed.get("/").status_code == 200
    assert keyed.get("/healthz").json()["api_key_required"] is True
    for res in (keyed.get("/api/model"), keyed.post("/api/predict", files=files)):
        assert res.status_code == 401 and res.json()["error"] == "unauthorized"
        assert res.headers["www-authenticate"] == "Bearer"
    wrong = keyed.get("/api/model", headers={"X-API-Key": "s3cret-kez"})
    assert wrong.status_code == 401 and wrong.json()["detail"] == "wrong API key"
    assert keyed.get("/api/model", headers={"X-API-Key": "s3cret-key"}).status_code == 200
    bearer = {"Authorization": "Bearer s3cret-key"}
    res = keyed.post("/api/predict", files=files, headers=bearer)
    assert res.status_code == 200 and res.json()["results"][0]["filename"] == "a.jpg"
    assert keyed.get("/api/model").status_code == 401  # nothing remembered between requests


def test_the_key_is_checked_before_the_body_is_read(keyed) -> None:  # noqa: ANN001
    from tests.serve._uploads import asgi_post

    status, headers, body, read = asgi_post(keyed.app, [b"x" * 1024] * 4)
    assert status == 401 and body["error"] == "unauthorized" and read == 0


def test_without_a_key_nothing_is_needed_and_a_key_comes_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from stylecast.serve import ServeSettings

    monkeypatch.delenv("STYLECAST_API_KEY", raising=False)
    assert ServeSettings.key_from_env(None) is None
    monkeypatch.setenv("STYLECAST_API_KEY", "from-the-env")
    assert ServeSettings.key_from_env(None) == "from-the-env"
    assert ServeSettings.key_from_env("given-on-cli") == "given-on-cli"
