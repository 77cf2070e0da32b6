"""Shared fixtures: a tiny generated lookbook and an isolated cache for the whole session."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(scope="session", autouse=True)
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every test shares one cache folder of its own, never the user's ~/.cache."""
    cache = tmp_path_factory.mktemp("stylecast-cache")
    os.environ["STYLECAST_CACHE"] = str(cache)
    os.environ["HF_HUB_OFFLINE"] = "1"  # no test may wait on a model hub
    return cache


@pytest.fixture(scope="session")
def lookbook(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small two-season lookbook (24 per class) with group/brand/period columns."""
    from stylecast.demo.lookbook import make_lookbook

    root = tmp_path_factory.mktemp("lookbook")
    make_lookbook(root, 24, seed=1, image_size=(72, 96))
    return root


@pytest.fixture(scope="session")
def lookbook_folder(tmp_path_factory: pytest.TempPathFactory, lookbook: Path) -> Path:
    """The same lookbook as a plain ImageFolder (no manifest)."""
    import shutil

    root = tmp_path_factory.mktemp("imagefolder")
    for label_dir in lookbook.iterdir():
        if label_dir.is_dir():
            shutil.copytree(label_dir, root / label_dir.name)
    return root


@pytest.fixture(scope="session")
def fpi_season() -> Path:
    path = SHARED_DATA / "fpi-season"
    if not path.is_dir():
        pytest.skip("../shared/data/fpi-season is absent (real-data tests run only beside it)")
    return path


def run_cli(
    *args: str, cwd: Path | None = None, timeout: float = 600
) -> subprocess.CompletedProcess:
    """Run ``python -m stylecast ARGS`` as a user would, capturing both streams."""
    return subprocess.run(
        [sys.executable, "-m", "stylecast", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=timeout,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
