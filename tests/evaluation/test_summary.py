"""stylecast.evaluation.summary: the typed headline of an evaluation and the console summary."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from stylecast.errors import RunError
from stylecast.evaluation import Headline, format_evaluation
from stylecast.evaluation.metrics import classification_metrics
from tests._runs import evaluated_run


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory, lookbook: Path) -> Path:
    return evaluated_run(tmp_path_factory, lookbook)


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


def test_headline_of_classification_metrics() -> None:
    y = np.array([0, 0, 1, 1, 1])
    p = np.array([[0.9, 0.1], [0.4, 0.6], [0.2, 0.8], [0.3, 0.7], [0.6, 0.4]])
    m = classification_metrics(y, p, ["FW", "SS"], n_bootstrap=0)
    h = Headline.from_metrics(m)
    assert (h.n, h.accuracy, h.balanced_accuracy) == (5, m["accuracy"], m["balanced_accuracy"])
    assert h.accuracy == pytest.approx(3 / 5)
    assert h.balanced_accuracy == pytest.approx((1 / 2 + 2 / 3) / 2)
    assert (h.log_loss, h.ece, h.macro_f1) == (m["log_loss"], m["ece"], m["macro_avg"]["f1"])
    # Not an evaluation yet: no split, no interval, nothing before calibration, T = 1.
    assert (h.split, h.accuracy_ci, h.balanced_accuracy_ci) == (None, None, None)
    assert (h.log_loss_before, h.ece_before, h.temperature) == (None, None, 1.0)


def test_headline_reads_calibration_and_rejects_missing_numbers() -> None:
    ev = {
        "n": 10,
        "split": "val",
        "accuracy": 0.7,
        "accuracy_ci": [0.4, 0.9],
        "balanced_accuracy": 0.65,
        "balanced_accuracy_ci": None,
        "log_loss": 0.5,
        "ece": 0.04,
        "temperature": 1.8,
        "calibration": {"ece_before": 0.2, "log_loss_before": 0.9},
    }
    h = Headline.from_metrics(ev)
    assert h.accuracy_ci == (0.4, 0.9) and h.balanced_accuracy_ci is None
    assert (h.ece_before, h.log_loss_before, h.temperature) == (0.2, 0.9, 1.8)
    assert (h.split, h.macro_f1) == ("val", None)
    with pytest.raises(RunError, match="run/evaluation.json lacks 'accuracy'"):
        Headline.from_metrics({"n": 3}, "run/evaluation.json")
    with pytest.raises(AttributeError):
        h.accuracy = 1.0  # frozen
