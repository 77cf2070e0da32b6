"""The server's first start on a CPU: a never-exported run is exported to ONNX, or says why not."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pandas as pd
import pytest

from stylecast.serve import ServeSettings
from stylecast.serve import backend as backend_module
from stylecast.serve.backend import export_on_start, why_not_export

pytest.importorskip("onnxruntime", reason="the onnx extra is not installed")
pytest.importorskip("onnxscript", reason="the onnx extra is not installed")


@pytest.fixture()
def fresh_run(serve_run: Path, tmp_path: Path) -> Path:
    """A copy of the shared run (the export writes into the folder it serves)."""
    run = tmp_path / "run"
    shutil.copytree(serve_run, run)
    for name in ("model.onnx", "export.json", "model.int8.onnx"):
        (run / name).unlink(missing_ok=True)
    return run


def test_why_not_export_names_each_reason(
    fresh_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert why_not_export(fresh_run, ServeSettings()) is None
    assert why_not_export(fresh_run, ServeSettings(auto_export=False)) == "--no-export was given"
    for backend in ("torch", "onnx", "onnx-int8"):
        reason = why_not_export(fresh_run, ServeSettings(backend=backend))
        assert reason == f"--backend {backend} was chosen"
    assert why_not_export(tmp_path / "absent", ServeSettings()) == (
        "the folder holds no trained model"
    )
    monkeypatch.setattr(backend_module, "_missing_modules", lambda: ["onnxscript"])
    said: list[str] = []
    assert export_on_start(fresh_run, ServeSettings(), say=said.append) is None
    assert said == [
        "note: serving with torch: onnxscript not installed (pip install 'stylecast[onnx]'); "
        "ONNX Runtime is faster on a CPU"
    ]
    monkeypatch.undo()
    (fresh_run / "model.onnx").write_bytes(b"the user's own file")
    assert why_not_export(fresh_run, ServeSettings()) == "model.onnx exists"
    said.clear()
    assert export_on_start(fresh_run, ServeSettings(), say=said.append) is None
    assert said == [] and (fresh_run / "model.onnx").read_bytes() == b"the user's own file"


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root writes anywhere")
def test_a_read_only_run_is_served_with_torch(fresh_run: Path) -> None:
    fresh_run.chmod(0o555)
    try:
        assert why_not_export(fresh_run, ServeSettings()) == f"{fresh_run} is not writable"
    finally:
        fresh_run.chmod(0o755)


def test_first_start_exports_and_the_server_runs_onnx(first_start, photos) -> None:  # noqa: ANN001
    from stylecast.inference import Predictor
    from stylecast.serve.service import ModelService

    run, added, said = first_start  # export_on_start on a copy of a run never exported
    assert (run / "model.onnx").is_file()
    assert added == {"model.onnx", "export.json"}
    assert said[0].startswith(f"exporting {run} to ONNX once")
    assert (
        said[-1].startswith("exported model.onnx in ")
        and "agrees with torch on 100.0%" in (said[-1])
    )
    service = ModelService.load(run, ServeSettings())
    assert service.card["model"]["backend"].startswith("ONNX Runtime fp32")
    torch_proba = Predictor.from_run(run, "torch").predict_proba(photos)
    assert service.predictor.predict_proba(photos) == pytest.approx(torch_proba, abs=1e-4)
    # The second start finds the export and does nothing.
    said = []
    assert export_on_start(run, ServeSettings(), say=said.append) is None
    assert said == []


def test_a_failed_export_is_one_line_and_torch(fresh_run: Path) -> None:
    splits = pd.read_csv(fresh_run / "splits.csv")
    splits["path"] = "moved/" + splits["path"].astype(str)
    splits.to_csv(fresh_run / "splits.csv", index=False)
    before = {p.name for p in fresh_run.iterdir()}
    said: list[str] = []
    assert export_on_start(fresh_run, ServeSettings(), say=said.append) is None
    assert len(said) == 2 and said[1].startswith(f"warning: could not export {fresh_run} to ONNX")
    assert "has the data moved?" in said[1] and said[1].endswith("; serving with torch")
    assert {p.name for p in fresh_run.iterdir()} == before  # nothing written
