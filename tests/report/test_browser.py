"""The report in a real browser: headless Chromium (Debian's), driven by Playwright for Python.

Skipped where Chromium or the playwright package is absent; `.ci/run` installs
Chromium, and playwright comes with the dev extras. Nothing is downloaded: the browser
is the system's (``executable_path``), never ``playwright install``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests._runs import evaluated_run

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _chromium() -> str:
    for candidate in (
        "/usr/bin/chromium",
        shutil.which("chromium"),
        shutil.which("chromium-browser"),
    ):
        if candidate and Path(candidate).is_file():
            return candidate
    pytest.skip("Chromium is not installed (apt-get install chromium)")


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory, lookbook: Path) -> tuple[Path, list[str]]:
    pytest.importorskip("playwright.sync_api", reason="playwright (Python) is not installed")
    _chromium()
    from stylecast.report import build_report

    run = evaluated_run(tmp_path_factory, lookbook)
    result = build_report(run)
    return result.path, result.sections


def test_report_in_headless_chromium(report: tuple[Path, list[str]], tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    path, sections = report
    outside: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=_chromium(), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.on(
                "request",
                lambda r: (
                    outside.append(r.url) if not r.url.startswith(("file:", "data:")) else None
                ),
            )
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(path.resolve().as_uri(), wait_until="load")
            # Every section is there, visible, with its heading.
            for s in sections:
                section = page.locator(f"section#{s}")
                assert section.count() == 1, s
                assert section.is_visible(), s
                assert section.locator("h2").inner_text().strip(), s
            nav = page.locator("nav a").all_inner_texts()
            assert len(nav) == len(sections)
            # No broken image: every <img> decoded to a real bitmap.
            images = page.eval_on_selector_all(
                "img",
                "els => els.map(e => ({alt: e.alt, complete: e.complete, w: e.naturalWidth, "
                "h: e.naturalHeight}))",
            )
            assert len(images) >= 8
            broken = [im["alt"] for im in images if not (im["complete"] and im["w"] > 0)]
            assert not broken, broken
            assert not errors, errors
            assert not outside, outside  # self-contained: no request leaves the file
            shot = tmp_path / "report.png"
            page.screenshot(path=str(shot), full_page=True)
            # Printing works (the layout has print rules); a PDF of several pages comes out.
            pdf = tmp_path / "report.pdf"
            page.pdf(path=str(pdf), format="A4")
        finally:
            browser.close()
    assert shot.stat().st_size > 50_000 and pdf.read_bytes()[:4] == b"%PDF"
    print(f"\nreport screenshot: {shot}")
