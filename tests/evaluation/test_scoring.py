"""stylecast.evaluation.scoring: the numbers, the files and calibration of a real (tiny) run."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from stylecast.config import EvaluateConfig
from stylecast.evaluation.scoring import evaluate
from stylecast.evaluation.summary import (
    FITTED,
    NO_GAIN,
    SEPARABLE,
    TOO_FEW,
    calibration_reason,
    format_evaluation,
)
from stylecast.run import RunFolder
from tests._runs import evaluated_run

# What evaluation.json's calibration block holds (besides the before/after numbers).
CALIBRATION_KEYS = {
    "temperature",
    "decision",
    "source",
    "reason",
    "n_val",
    "fitted",
    "folds",
    "cv_nll_fitted",
    "cv_nll_one",
    "cv_ece_fitted",
    "cv_ece_one",
    "cv_nll_se",
    "ece_before",
    "ece_after",
    "log_loss_before",
    "log_loss_after",
}


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory, lookbook: Path) -> Path:
    return evaluated_run(tmp_path_factory, lookbook)


def test_evaluation_json_holds_every_number(run: Path) -> None:
    ev = json.loads((run / "evaluation.json").read_text())
    splits = pd.read_csv(run / "splits.csv")
    assert ev["split"] == "test" and ev["n"] == int((splits["split"] == "test").sum())
    lo, hi = ev["accuracy_ci"]
    assert lo <= ev["accuracy"] <= hi
    assert ev["balanced_accuracy_ci"][0] <= ev["balanced_accuracy"] <= ev["balanced_accuracy_ci"][1]
    assert set(ev["per_class"]) == {"FallWinter", "SpringSummer"}
    for pc in ev["per_class"].values():
        assert {"precision", "recall", "f1", "support", "recall_ci", "precision_ci"} <= set(pc)
    assert {"macro_avg", "weighted_avg", "log_loss", "ece", "reliability"} <= set(ev)
    assert sum(map(sum, ev["confusion_matrix"])) == ev["n"]
    assert all(math.isclose(sum(r), 1) for r in ev["confusion_matrix_normalized"] if sum(r))
    assert ev["top_k"] == {}  # two classes: top-2 accuracy would always be 1
    cal = ev["calibration"]
    assert cal["n_val"] == int((splits["split"] == "val").sum())
    assert set(cal) >= CALIBRATION_KEYS
    # The tiny lookbook is often learned perfectly: then there is nothing to fit and T = 1
    # (the NLL of an error-free split falls without bound as T -> 0). Otherwise T is
    # cross-validated on the validation split and kept only when it helps there.
    assert cal["decision"] == cal["source"] in (FITTED, NO_GAIN, SEPARABLE)
    if cal["decision"] != FITTED:
        assert cal["temperature"] == 1.0
    assert cal["reason"] == calibration_reason(cal, "test")
    # The kept temperature is stored with the model, so predict/serve use it too.
    assert json.loads((run / "model.json").read_text())["temperature"] == cal["temperature"]
    assert Path(ev["image_root"]).is_dir()


def test_predictions_csv(run: Path) -> None:
    preds = pd.read_csv(run / "predictions.csv")
    splits = pd.read_csv(run / "splits.csv")
    assert sorted(preds["path"]) == sorted(splits.loc[splits["split"] == "test", "path"])
    cols = list(preds.columns)
    assert cols[:4] == ["path", "true", "predicted", "confidence"]
    assert {"p_FallWinter", "p_SpringSummer", "correct", "group", "brand", "period"} <= set(cols)
    p = preds[["p_FallWinter", "p_SpringSummer"]].to_numpy()
    np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-5)
    assert (preds["correct"] == (preds["true"] == preds["predicted"])).all()
    assert np.allclose(preds["confidence"], p.max(axis=1))


def test_figures_are_written(run: Path) -> None:
    for name in ("confusion_matrix", "confusion_matrix_normalized", "reliability", "calibration"):
        with Image.open(run / f"{name}.png") as im:
            assert im.format == "PNG" and min(im.size) > 200


def test_headline_of_the_run(run: Path) -> None:
    """EvaluationResult.headline holds the numbers of evaluation.json, typed."""
    result = evaluate(run, cfg=EvaluateConfig(n_bootstrap=50, gallery_size=0), progress=False)
    ev = json.loads((run / "evaluation.json").read_text())
    h = result.headline
    assert result.metrics == ev and result.run_dir == run
    assert result.predictions_csv == RunFolder(run).predictions_file
    assert (h.split, h.n) == ("test", ev["n"])
    assert h.accuracy == ev["accuracy"] and h.balanced_accuracy == ev["balanced_accuracy"]
    assert h.accuracy_ci == tuple(ev["accuracy_ci"]) and len(h.accuracy_ci) == 2
    assert h.balanced_accuracy_ci == tuple(ev["balanced_accuracy_ci"])
    assert (h.log_loss, h.ece) == (ev["log_loss"], ev["ece"])
    cal, raw = ev["calibration"], ev["uncalibrated"]
    assert h.log_loss_before == cal["log_loss_before"] == raw["log_loss"]
    assert h.ece_before == cal["ece_before"] == raw["ece"]
    assert h.temperature == ev["temperature"] == RunFolder(run).model_info().temperature
    assert h.macro_f1 == ev["macro_avg"]["f1"]


def test_calibration_lowers_ece_of_an_overconfident_model(run: Path) -> None:
    """A head that ignores the image: one class at 99.97% for every photo, right about half
    the time. Temperature scaling must soften it. (A random head was tried first: whether it
    is half right or mostly wrong depends on the backbone's features, and a mostly wrong
    model cannot be calibrated by a temperature.)"""
    import torch
    from safetensors.torch import load_file, save_file

    weights = load_file(str(run / "model.safetensors"))
    weights["classifier.weight"] = torch.zeros_like(weights["classifier.weight"])
    weights["classifier.bias"] = torch.tensor([4.0, -4.0])
    save_file(weights, str(run / "model.safetensors"))
    result = evaluate(run, cfg=EvaluateConfig(n_bootstrap=0, gallery_size=0), progress=False)
    cal = result.metrics["calibration"]
    # Its over-confidence is the same on every image: it holds out of sample, T is kept.
    assert cal["decision"] == FITTED and cal["temperature"] == cal["fitted"]
    assert cal["cv_nll_fitted"] < cal["cv_nll_one"] and cal["cv_ece_fitted"] <= cal["cv_ece_one"]
    assert result.headline.temperature > 2  # softened
    assert cal["ece_before"] > 0.25
    assert cal["ece_after"] < cal["ece_before"] - 0.1
    assert cal["log_loss_after"] < cal["log_loss_before"]
    h = result.headline
    assert (h.ece_before, h.ece) == (cal["ece_before"], cal["ece_after"])
    assert json.loads((run / "model.json").read_text())["temperature"] == h.temperature


def test_evaluate_other_data_has_galleries_from_there(run: Path, lookbook_folder: Path) -> None:
    own = (run / "evaluation.json").read_bytes(), (run / "predictions.csv").read_bytes()
    result = evaluate(
        run, lookbook_folder, EvaluateConfig(n_bootstrap=0, gradcam=False), progress=False
    )
    # Other data goes to its own folder; the run's test evaluation is left as it was.
    out = run / "evaluations" / lookbook_folder.name
    assert result.out_dir == out and result.evaluation_json == out / "evaluation.json"
    assert result.predictions_csv == out / "predictions.csv"
    assert ((run / "evaluation.json").read_bytes(), (run / "predictions.csv").read_bytes()) == own
    assert (out / "confusion_matrix.png").is_file()
    ev = result.metrics
    assert ev["split"] == "external" and ev["n"] == 48
    assert (result.headline.split, result.headline.n) == ("external", 48)
    # No validation split to fit on: the stored temperature is used (T = 1 means none).
    stored = json.loads((run / "model.json").read_text())["temperature"]
    assert ev["temperature"] == stored
    assert ev["calibration"]["source"] == ("none" if stored == 1.0 else "model.json")
    assert Path(ev["image_root"]) == lookbook_folder.resolve()
    index = json.loads((out / "galleries.json").read_text())
    assert index["gradcam"] is False and index["galleries"]
    assert all((out / g["file"]).is_file() for g in index["galleries"])
    # The same data again: the same folder; other data of the same name: a new one.
    again = evaluate(
        run, lookbook_folder, EvaluateConfig(n_bootstrap=0, gallery_size=0), progress=False
    )
    assert again.out_dir == out


def test_other_data_before_is_raw_and_after_uses_the_stored_temperature(
    run: Path, lookbook_folder: Path
) -> None:
    """Other data is scored with the T the run's own evaluation kept: before = T 1, after =
    that T, and the printed numbers differ."""
    folder = RunFolder(run)
    folder.write_model_info(folder.model_info().with_temperature(2.0))
    cfg = EvaluateConfig(n_bootstrap=0, gallery_size=0)
    result = evaluate(run, lookbook_folder, cfg, progress=False)
    cal = result.metrics["calibration"]
    assert (cal["decision"], cal["temperature"], result.headline.temperature) == (
        "model.json",
        2.0,
        2.0,
    )
    assert set(cal) >= CALIBRATION_KEYS
    assert cal["log_loss_before"] == result.metrics["uncalibrated"]["log_loss"]
    assert cal["log_loss_before"] != cal["log_loss_after"] == result.metrics["log_loss"]
    assert cal["ece_before"] != cal["ece_after"]
    text = format_evaluation(result.metrics)
    assert "calibration: temperature 2.00 from model.json, kept by the run's own evaluation" in (
        text
    )
    line = next(ln for ln in text.splitlines() if ln.startswith("  log loss "))
    before, after = line.split("log loss ")[1].split("   ")[0].split(" -> ")
    assert before != after and float(before) == pytest.approx(cal["log_loss_before"], abs=1e-3)
    assert line.endswith("(before: T = 1 -> after: T = 2.00)")
    assert folder.model_info().temperature == 2.0  # other data never refits it


def test_too_few_validation_images_keep_one(run: Path) -> None:
    folder = RunFolder(run)
    folder.write_model_info(folder.model_info().with_temperature(1.7))
    cfg = EvaluateConfig(n_bootstrap=0, gallery_size=0, min_calibration_images=10_000)
    cal = evaluate(run, cfg=cfg, progress=False).metrics["calibration"]
    n_val = int((folder.splits()["split"] == "val").sum())
    assert (cal["decision"], cal["temperature"], cal["n_val"]) == (TOO_FEW, 1.0, n_val)
    assert cal["cv_nll_one"] is None and cal["fitted"] is None
    assert cal["log_loss_before"] == cal["log_loss_after"]  # T = 1: nothing rescaled
    assert folder.model_info().temperature == 1.0  # the kept T is what predict uses
