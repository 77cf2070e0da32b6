"""One exported run (ONNX + accepted int8) per session; tests that change it get a copy."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests._runs import evaluated_run


@pytest.fixture(scope="session")
def exported_base(tmp_path_factory: pytest.TempPathFactory, lookbook: Path) -> Path:
    """A trained 48 px run on the lookbook fixture, exported with an int8 model kept.

    ``max_int8_loss`` is generous: a 14-image test split moves 7 points per image, and
    whether int8 is kept is tested with the threshold, not with luck.
    """
    from stylecast.export import ExportConfig, export_run

    run = evaluated_run(tmp_path_factory, lookbook)
    cfg = ExportConfig(int8=True, max_int8_loss=100.0, calibration_images=16)
    export_run(run, cfg, progress=False)
    return run


@pytest.fixture
def exported(tmp_path: Path, exported_base: Path) -> Path:
    """A copy of the exported run that a test may change."""
    copy = tmp_path / "run"
    shutil.copytree(exported_base, copy)
    return copy
