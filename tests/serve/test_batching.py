"""Dynamic batching: many requests' images in one forward pass, each answered with its own."""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import time
from pathlib import Path

import numpy as np
import pytest


class Recorder:
    """A model that answers each item with itself and records its batch sizes."""

    def __init__(self, seconds: float = 0.0) -> None:
        self.sizes: list[int] = []
        self.seconds = seconds
        self.gate = threading.Event()
        self.gate.set()

    def __call__(self, items: list) -> list:
        self.gate.wait(30)
        self.sizes.append(len(items))
        time.sleep(self.seconds)
        return [("row", x) for x in items]


def _batcher(model: Recorder, max_batch: int = 8, max_wait: float = 0.005):  # noqa: ANN202
    from stylecast.serve.batching import Batcher

    return Batcher(model, max_batch=max_batch, max_wait=max_wait)


def test_every_image_gets_its_own_row_and_batches_form_under_load() -> None:
    model = Recorder(seconds=0.02)
    batcher = _batcher(model, max_batch=8)
    try:
        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            futures = list(pool.map(lambda i: batcher.submit([i], announced=False)[0], range(64)))
        assert [f.result(30) for f in futures] == [("row", i) for i in range(64)]
    finally:
        batcher.close()
    assert sum(model.sizes) == 64 and max(model.sizes) <= 8
    assert len(model.sizes) < 64 and max(model.sizes) > 1  # requests shared forward passes
    assert batcher.stats()["batched_images"] == 64
    assert batcher.stats()["largest_batch"] == max(model.sizes)


def test_a_lone_request_does_not_wait_for_company_that_is_not_coming() -> None:
    model = Recorder()
    batcher = _batcher(model, max_wait=5.0)  # a long wait that must not be spent
    try:
        batcher.announce()
        start = time.monotonic()
        assert batcher.submit(["a"])[0].result(30) == ("row", "a")
        assert time.monotonic() - start < 1.0
    finally:
        batcher.close()


def test_a_short_batch_waits_for_an_announced_request() -> None:
    model = Recorder()
    batcher = _batcher(model, max_wait=5.0)
    try:
        batcher.announce()
        batcher.announce()
        first = batcher.submit(["a"])
        time.sleep(0.1)  # the second request is still decoding
        second = batcher.submit(["b"])
        assert [f.result(30) for f in first + second] == [("row", "a"), ("row", "b")]
        assert model.sizes == [2]
        # A request that withdraws (a bad upload) releases the wait at once.
        batcher.announce()
        batcher.announce()
        third = batcher.submit(["c"])
        start = time.monotonic()
        batcher.withdraw()
        assert third[0].result(30) == ("row", "c") and time.monotonic() - start < 1.0
    finally:
        batcher.close()


def test_the_wait_is_bounded_by_max_wait() -> None:
    model = Recorder()
    batcher = _batcher(model, max_wait=0.05)
    try:
        batcher.announce()
        batcher.announce()  # announced but never submitted nor withdrawn
        start = time.monotonic()
        assert batcher.submit(["a"])[0].result(30) == ("row", "a")
        assert 0.04 <= time.monotonic() - start < 2.0
    finally:
        batcher.close()


def test_cancelled_images_are_dropped_and_a_failing_batch_fails_each_request() -> None:
    model = Recorder()
    model.gate.clear()  # the first batch holds the runner
    batcher = _batcher(model)
    try:
        held = batcher.submit(["first"], announced=False)
        while not model.sizes and not held[0].running():
            time.sleep(0.01)
        queued = batcher.submit(["x", "y", "z"], announced=False)
        assert queued[1].cancel()  # its request timed out before its batch started
        model.gate.set()
        assert held[0].result(30) == ("row", "first")
        assert queued[0].result(30) == ("row", "x") and queued[2].result(30) == ("row", "z")
        assert batcher.stats()["dropped_images"] == 1 and model.sizes == [1, 2]
    finally:
        batcher.close()

    def broken(items: list) -> list:
        raise ValueError("the model broke")

    from stylecast.serve.batching import Batcher

    failing = Batcher(broken, max_batch=4, max_wait=0.0)
    try:
        futures = failing.submit(["a", "b"], announced=False)
        for f in futures:
            with pytest.raises(ValueError, match="the model broke"):
                f.result(30)
    finally:
        failing.close()
    with pytest.raises(RuntimeError, match="closed"):
        failing.submit(["c"])


def test_bad_batcher_settings_are_refused() -> None:
    from stylecast.errors import ConfigError
    from stylecast.serve import ServeSettings

    with pytest.raises(ConfigError, match="--max-batch"):
        ServeSettings(max_batch=0)
    with pytest.raises(ConfigError, match="--max-wait-ms"):
        ServeSettings(max_wait_ms=-1)
    assert ServeSettings().batching and not ServeSettings(max_batch=1).batching


def test_concurrent_clients_are_batched_with_the_answers_of_one_at_a_time(
    serve_run: Path, photos: list[Path], predictor
) -> None:  # noqa: ANN001
    import httpx

    from stylecast.serve import ServeSettings, create_app

    app = create_app(
        serve_run, settings=ServeSettings(max_batch=16, max_wait_ms=50), predictor=predictor
    )
    expected = predictor.predict_proba(photos)
    uploads = [(p.name, p.read_bytes()) for p in photos]

    async def scenario() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            singles = [
                client.post("/api/predict?palette=0", files=[("file", uploads[i % len(uploads)])])
                for i in range(12)
            ]
            # One request with every photo, and one with a palette: the same batcher.
            several = client.post("/api/predict?palette=0", files=[("file", u) for u in uploads])
            coloured = client.post("/api/predict", files=[("file", uploads[0])])
            return await asyncio.gather(*singles, several, coloured)

    answers = asyncio.run(scenario())
    assert [a.status_code for a in answers] == [200] * 14
    for i, a in enumerate(answers[:12]):
        (r,) = a.json()["results"]
        assert r["filename"] == photos[i % len(photos)].name and "palette" not in r
        got = list(r["probabilities"].values())
        assert np.allclose(got, expected[i % len(photos)], atol=1e-5)
    several = answers[12].json()["results"]
    assert [r["filename"] for r in several] == [p.name for p in photos]
    assert np.allclose([list(r["probabilities"].values()) for r in several], expected, atol=1e-5)
    coloured = answers[13].json()["results"][0]
    assert coloured["palette"] and sum(c["share"] for c in coloured["palette"]) == pytest.approx(
        1.0, abs=1e-3
    )
    stats = app.state.batching.stats()
    assert stats["batched_images"] == 12 + len(photos) + 1
    assert stats["batches"] < 14 and stats["largest_batch"] > 1  # requests shared passes
    assert app.state.queue.pending == 0
