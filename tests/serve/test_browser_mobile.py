"""The page on a phone (390 px wide, headless Chromium): nothing wider than the screen, the
probability bars readable, the out-of-domain hint beside an astronaut's prediction."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from tests.report.test_browser import CHROMIUM_ARGS, _chromium
from tests.serve.test_browser import server  # noqa: F401 - the fixture

PHONE = {"width": 390, "height": 844}


def test_page_fits_a_phone_and_flags_an_astronaut(
    server: str,  # noqa: F811
    photos: list[Path],
    tmp_path: Path,
) -> None:
    from PIL import Image
    from playwright.sync_api import expect, sync_playwright

    data = pytest.importorskip("skimage.data")
    astronaut = tmp_path / "astronaut.jpg"
    buf = io.BytesIO()
    Image.fromarray(data.astronaut()).save(buf, format="JPEG")
    astronaut.write_bytes(buf.getvalue())
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=_chromium(), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport=PHONE)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(server, wait_until="load")
            expect(page.locator("#card-list")).to_contain_text("test accuracy")
            page.uncheck("#cam")
            page.set_input_files("#files", [str(photos[0]), str(astronaut)])
            expect(page.locator(".result")).to_have_count(2, timeout=60_000)
            width = page.evaluate("document.documentElement.scrollWidth")
            tracks = page.eval_on_selector_all(
                ".track", "els => els.map(e => e.getBoundingClientRect().width)"
            )
            labels = page.eval_on_selector_all(
                ".bar .label",
                "els => els.map(e => [e.scrollWidth, e.clientWidth])",
            )
            hint = page.locator('.result[data-filename="astronaut.jpg"] .unusual')
            hint_text = hint.inner_text() if hint.count() else ""
            garment_hints = page.locator(f'.result[data-filename="{photos[0].name}"] .unusual')
            n_garment_hints = garment_hints.count()
            note = page.locator("#calibration")
            note = note.inner_text() if note.count() else ""
            page.screenshot(path=str(tmp_path / "serve-390.png"), full_page=True)
        finally:
            browser.close()
    assert not errors, errors
    assert width <= PHONE["width"], f"the page is {width} px wide at {PHONE['width']} px"
    assert tracks and min(tracks) >= 80, f"probability bars collapse: {tracks}"
    assert all(sw <= cw + 1 for sw, cw in labels), f"class names cut off: {labels}"
    assert "unlike" in hint_text.lower(), hint_text
    assert n_garment_hints == 0
    assert "temperature" in note
