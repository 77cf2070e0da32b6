"""The page in a real browser: Debian's Chromium (headless) driven by Playwright for Python.

A real uvicorn server on a free port of 127.0.0.1; the test picks two photos with the page's
file input and reads the probabilities the page shows. Skipped where Chromium or playwright
is absent (nothing is downloaded: the browser is the system's).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.report.test_browser import CHROMIUM_ARGS, _chromium


@pytest.fixture(scope="module")
def server(serve_run: Path, predictor) -> Iterator[str]:  # noqa: ANN001
    pytest.importorskip("playwright.sync_api", reason="playwright (Python) is not installed")
    _chromium()
    import uvicorn

    from stylecast.serve import create_app

    app = create_app(serve_run, predictor=predictor)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not srv.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        srv.should_exit = True
        thread.join(timeout=10)


def test_upload_photos_on_the_page_and_read_the_probabilities(
    server: str,
    photos: list[Path],
    predictor,
    tmp_path: Path,  # noqa: ANN001
) -> None:
    from playwright.sync_api import expect, sync_playwright

    outside: list[str] = []
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=_chromium(), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.on(
                "request",
                lambda r: (
                    None if r.url.startswith((server, "data:", "blob:")) else outside.append(r.url)
                ),
            )
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.goto(server, wait_until="load")
            # The model card, from /api/model.
            # (Locators and expect, not wait_for_function: the page's CSP forbids eval.)
            expect(page.locator("#card-list")).to_contain_text("test accuracy")
            card = page.locator("#card-list").inner_text()
            assert "FallWinter" in card and "95% CI" in card
            # Two photos through the file input (Grad-CAM is on by default).
            page.set_input_files("#files", [str(f) for f in photos[:2]])
            expect(page.locator(".result")).to_have_count(2, timeout=60_000)
            expect(page.locator("#status")).to_have_text("Analysed 2 photo(s).")
            deadline = time.monotonic() + 10
            while not page.evaluate("Array.from(document.images).every(i => i.complete)"):
                assert time.monotonic() < deadline, "images did not load"
                time.sleep(0.05)
            shown = page.eval_on_selector_all(
                ".result",
                """els => els.map(e => ({
                    name: e.dataset.filename,
                    probs: Object.fromEntries(Array.from(e.querySelectorAll('.bar')).map(
                        b => [b.dataset.cls, parseFloat(b.querySelector('.prob').dataset.p)])),
                    text: e.querySelector('.verdict').innerText,
                    swatches: e.querySelectorAll('.swatch').length,
                    cam: (e.querySelector('img.cam') || {}).naturalWidth || 0,
                    photo: e.querySelector('img').naturalWidth,
                }))""",
            )
            status = page.locator("#status").inner_text()
            page.screenshot(path=str(tmp_path / "serve-page.png"), full_page=True)
        finally:
            browser.close()
    assert not errors, errors
    assert not outside, outside  # the page loads nothing from anywhere else
    assert status == "Analysed 2 photo(s)."
    by_name = {s["name"]: s for s in shown}
    assert set(by_name) == {photos[0].name, photos[1].name}
    for path in photos[:2]:
        s = by_name[path.name]
        expected = predictor.predict_proba([path])[0]
        assert list(s["probs"]) == sorted(s["probs"], key=s["probs"].get, reverse=True)
        got = [s["probs"][c] for c in predictor.classes_]
        assert got == pytest.approx(expected.tolist(), abs=1e-5)
        best = predictor.classes_[int(expected.argmax())]
        assert s["text"].startswith(best + " (")
        assert s["swatches"] >= 1 and s["cam"] == 224 and s["photo"] == 72
