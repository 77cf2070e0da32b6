"""A trained, evaluated run and its loaded Predictor, shared by the serve tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests._runs import evaluated_run


@pytest.fixture(scope="session")
def serve_run(tmp_path_factory: pytest.TempPathFactory, lookbook: Path) -> Path:
    pytest.importorskip("fastapi", reason="the serve extra is not installed")
    return evaluated_run(tmp_path_factory, lookbook)


@pytest.fixture(scope="session")
def predictor(serve_run: Path):  # noqa: ANN201 - stylecast.inference.Predictor
    from stylecast.inference import Predictor

    return Predictor.from_run(serve_run)


@pytest.fixture(scope="session")
def photos(lookbook: Path) -> list[Path]:
    """Three lookbook photos: two of one season, one of the other."""
    return [
        *sorted((lookbook / "FallWinter").glob("*.jpg"))[:2],
        sorted((lookbook / "SpringSummer").glob("*.jpg"))[0],
    ]


@pytest.fixture(scope="session")
def first_start(serve_run: Path, tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    """A copy of the shared run as a server's first start on a CPU leaves it: exported to
    ONNX by :func:`stylecast.serve.backend.export_on_start` (one export for the tests that
    need one; a test that changes the folder copies it). ``(run, files added, lines said)``."""
    import shutil

    pytest.importorskip("onnxruntime", reason="the onnx extra is not installed")
    pytest.importorskip("onnxscript", reason="the onnx extra is not installed")
    from stylecast.serve import ServeSettings
    from stylecast.serve.backend import export_on_start

    run = tmp_path_factory.mktemp("first-start") / "run"
    shutil.copytree(serve_run, run)
    for name in ("model.onnx", "export.json", "model.int8.onnx"):
        (run / name).unlink(missing_ok=True)
    before = {p.name for p in run.iterdir()}
    said: list[str] = []
    onnx = export_on_start(run, ServeSettings(), say=said.append)
    assert onnx == run / "model.onnx"
    return run, {p.name for p in run.iterdir()} - before, said
