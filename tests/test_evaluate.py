"""evaluate: the numbers, the files, calibration and the galleries of a real (tiny) run."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from stylecast.config import EvaluateConfig
from stylecast.evaluation.galleries import build_galleries, select_galleries
from stylecast.evaluation.metrics import classification_metrics
from stylecast.evaluation.scoring import evaluate, format_evaluation
from tests._runs import evaluated_run


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
    # The tiny lookbook is often learned perfectly: then there is nothing to fit and T = 1
    # (the NLL of an error-free split falls without bound as T -> 0).
    assert cal["source"] == "val" or (cal["source"] == "separable" and cal["temperature"] == 1.0)
    # The fitted temperature is stored with the model, so predict/serve use it too.
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


def test_figures_and_galleries_are_written(run: Path) -> None:
    for name in ("confusion_matrix", "confusion_matrix_normalized", "reliability", "calibration"):
        with Image.open(run / f"{name}.png") as im:
            assert im.format == "PNG" and min(im.size) > 200
    index = json.loads((run / "galleries.json").read_text())
    assert index["gradcam"] is True
    preds = pd.read_csv(run / "predictions.csv")
    right = preds[preds["correct"]]
    expected = {f"gallery_correct_{c}.png" for c in right["true"].unique()}
    wrong = preds[~preds["correct"]]
    expected |= {f"gallery_wrong_{t}_as_{p}.png" for t, p in zip(wrong["true"], wrong["predicted"])}
    assert {g["file"] for g in index["galleries"]} == expected
    assert {p.name for p in run.glob("gallery_*.png")} == expected
    for g in index["galleries"]:
        k = len(g["items"])
        assert 0 < k <= 12
        cols, rows = min(4, k), math.ceil(k / 4)
        with Image.open(run / g["file"]) as im:
            # 4 photo|heat-map pairs per row, each 1.1 in high and (160+4+160)/160 as wide,
            # at 150 dpi; rows add two title lines each and the gallery title on top.
            assert abs(im.width - cols * 1.1 * (324 / 160) * 150) <= 2
            assert abs(im.height - (rows * (1.1 + 0.4) + 0.35) * 150) <= 2
            # The right half of a tile is the Grad-CAM overlay: it has colour the photo lacks.
            assert np.asarray(im.convert("RGB")).std() > 10
        p_true = [it["p_true"] for it in g["items"]]
        assert p_true == sorted(p_true, reverse=g["kind"] == "correct")


def test_console_summary(run: Path) -> None:
    text = format_evaluation(json.loads((run / "evaluation.json").read_text()))
    for piece in (
        "accuracy:",
        "95% CI",
        "balanced accuracy",
        "calibration: temperature",
        "ECE",
        "->",
        "confusion matrix",
        "macro avg",
        "weighted avg",
        "FallWinter",
    ):
        assert piece in text, piece


def test_console_summary_shows_top_k_for_four_classes() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 4, 80)
    p = rng.dirichlet(np.ones(4), 80)
    m = classification_metrics(y, p, ["Fall", "Winter", "Spring", "Summer"], n_bootstrap=50)
    m |= {"split": "test", "temperature": 1.0}
    text = format_evaluation(m)
    assert f"top-2 accuracy: {m['top_k']['top_2']:.3f}" in text
    assert f"top-3 accuracy: {m['top_k']['top_3']:.3f}" in text


def test_calibration_lowers_ece_of_an_overconfident_model(run: Path) -> None:
    """A large random head: confident and uninformative (about half right at near-certain
    confidence). Temperature scaling must soften it."""
    import torch
    from safetensors.torch import load_file, save_file

    weights = load_file(str(run / "model.safetensors"))
    gen = torch.Generator().manual_seed(0)
    w = weights["classifier.weight"]
    weights["classifier.weight"] = torch.randn(w.shape, generator=gen) * 0.5
    save_file(weights, str(run / "model.safetensors"))
    result = evaluate(run, cfg=EvaluateConfig(n_bootstrap=0, gallery_size=0), progress=False)
    cal = result.metrics["calibration"]
    assert result.temperature > 2  # softened
    assert cal["ece_before"] > 0.25
    assert cal["ece_after"] < cal["ece_before"] - 0.1
    assert cal["log_loss_after"] < cal["log_loss_before"]
    assert json.loads((run / "model.json").read_text())["temperature"] == result.temperature


def test_evaluate_other_data_has_galleries_from_there(run: Path, lookbook_folder: Path) -> None:
    result = evaluate(
        run, lookbook_folder, EvaluateConfig(n_bootstrap=0, gradcam=False), progress=False
    )
    ev = result.metrics
    assert ev["split"] == "external" and ev["n"] == 48
    # No validation split to fit on: the stored temperature is used (T = 1 means none).
    stored = json.loads((run / "model.json").read_text())["temperature"]
    assert ev["temperature"] == stored
    assert ev["calibration"]["source"] == ("none" if stored == 1.0 else "model.json")
    assert Path(ev["image_root"]) == lookbook_folder.resolve()
    index = json.loads((run / "galleries.json").read_text())
    assert index["gradcam"] is False and index["galleries"]
    assert all((run / g["file"]).is_file() for g in index["galleries"])


def test_select_galleries_order() -> None:
    classes = ["A", "B", "C"]
    rows = [  # path, true, predicted, p_A, p_B, p_C
        ("1", "A", "A", 0.9, 0.05, 0.05),
        ("2", "A", "A", 0.6, 0.2, 0.2),
        ("3", "A", "B", 0.3, 0.6, 0.1),
        ("4", "A", "B", 0.1, 0.8, 0.1),
        ("5", "C", "B", 0.1, 0.5, 0.4),
        ("6", "B", "B", 0.1, 0.7, 0.2),
    ]
    df = pd.DataFrame(rows, columns=["path", "true", "predicted", "p_A", "p_B", "p_C"])
    got = select_galleries(df, classes, size=5)
    assert [(k, t, p, n) for k, t, p, _, n in got] == [
        ("correct", "A", "A", 2),
        ("correct", "B", "B", 1),
        ("wrong", "A", "B", 2),  # the most frequent confusion first
        ("wrong", "C", "B", 1),
    ]
    assert list(got[0][3]["path"]) == ["1", "2"]  # most confident first
    assert list(got[2][3]["path"]) == ["4", "3"]  # worst (lowest p(true)) first
    assert list(got[2][3]["p_true"]) == [0.1, 0.3]
    assert [len(g[3]) for g in select_galleries(df, classes, size=1)] == [1, 1, 1, 1]


def test_build_galleries_needs_an_evaluation(tmp_path: Path) -> None:
    from stylecast.errors import RunError

    with pytest.raises(RunError, match="has not been evaluated"):
        build_galleries(tmp_path)
