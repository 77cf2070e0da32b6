"""The two commands of the README: `make demo` installs only what the demo needs."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _recipe(text: str, target: str) -> tuple[list[str], list[str]]:
    match = re.search(rf"^{re.escape(target)}:(.*)\n((?:\t.*\n)*)", text, re.M)
    assert match, target
    return match.group(1).split(), [ln.strip() for ln in match.group(2).splitlines()]


def test_make_demo_installs_no_dev_extras() -> None:
    text = (REPO / "Makefile").read_text()
    deps, _ = _recipe(text, "demo")
    assert deps == ["$(STAMP)"]
    _, install = _recipe(text, "$(STAMP)")
    assert any("pip install" in ln and "-e ." in ln for ln in install)
    assert not any("[dev]" in ln for ln in install)
    deps, _ = _recipe(text, "test")
    assert deps == ["$(DEV_STAMP)"]
    _, dev = _recipe(text, "$(DEV_STAMP)")
    assert any("'.[dev]'" in ln for ln in dev)


def test_readme_opens_with_the_two_commands() -> None:
    readme = (REPO / "README.md").read_text()
    block = re.search(r"```sh\n(.*?)```", readme, re.S).group(1)
    assert [ln.split()[:2] for ln in block.strip().splitlines()] == [
        ["make", "demo"],
        ["make", "test"],
    ]
