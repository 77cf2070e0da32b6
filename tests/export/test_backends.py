"""One inference path: evaluate, the Predictor (predict, serve) use a matching ONNX export."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from stylecast.config import EvaluateConfig
from stylecast.errors import ConfigError


def _evaluate(run: Path, backend: str) -> dict:
    from stylecast.evaluation import evaluate

    cfg = EvaluateConfig(backend=backend, n_bootstrap=0, gallery_size=0, calibrate=False)
    evaluate(run, cfg=cfg, progress=False)
    return json.loads((run / "evaluation.json").read_text())


def test_evaluate_scores_with_the_export_and_agrees_with_torch(exported: Path) -> None:
    onnx = _evaluate(exported, "auto")
    assert onnx["backend"].startswith("ONNX Runtime fp32")
    torch_ = _evaluate(exported, "torch")
    assert torch_["backend"] == "torch (cpu)"
    assert onnx["accuracy"] == pytest.approx(torch_["accuracy"])
    assert onnx["log_loss"] == pytest.approx(torch_["log_loss"], abs=1e-3)


def test_the_predictor_uses_the_export_unless_told_otherwise(exported: Path) -> None:
    from stylecast.inference import Predictor
    from stylecast.run import RunFolder

    folder = RunFolder(exported)
    images = [folder.image_root() / p for p in folder.splits()["path"][:5]]
    auto = Predictor.from_run(exported)
    plain = Predictor.from_run(exported, backend="torch")
    assert auto.backend.startswith("ONNX Runtime") and plain.backend == "torch"
    np.testing.assert_allclose(auto.predict_proba(images), plain.predict_proba(images), atol=1e-4)


def test_a_stale_export_falls_back_to_torch(exported: Path) -> None:
    from stylecast.inference import Predictor

    assert Predictor.from_run(exported).backend.startswith("ONNX")
    (exported / "export.json").write_text(
        json.dumps(json.loads((exported / "export.json").read_text()) | {"weights_digest": "x"})
    )
    assert Predictor.from_run(exported).backend == "torch"


def test_an_unknown_backend_is_refused() -> None:
    with pytest.raises(ConfigError, match="backend"):
        EvaluateConfig(backend="tensorrt")
