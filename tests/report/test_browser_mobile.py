"""The report on a phone (390 px wide, headless Chromium): nothing wider than the screen."""

from __future__ import annotations

from pathlib import Path

from tests.report.test_browser import (
    CHROMIUM_ARGS,
    _chromium,
    report,  # noqa: F401 - the fixture
)


def test_report_fits_a_phone(report: tuple[Path, list[str]], tmp_path: Path) -> None:  # noqa: F811
    from playwright.sync_api import sync_playwright

    path, _ = report
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=_chromium(), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 390, "height": 844})
            page.goto(path.as_uri(), wait_until="load")
            width = page.evaluate("document.documentElement.scrollWidth")
            wide = page.evaluate(
                """() => Array.from(document.querySelectorAll('body *'))
                    .filter(e => e.getBoundingClientRect().right > 391)
                    .slice(0, 5).map(e => e.tagName + '.' + e.className)"""
            )
            page.screenshot(path=str(tmp_path / "report-390.png"), full_page=True)
        finally:
            browser.close()
    assert width <= 390, f"report.html is {width} px wide at 390 px: {wide}"
