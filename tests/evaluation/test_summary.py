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
    ev = json.loads((run / "evaluation.json").read_text())
    text = format_evaluation(ev)
    # One line says which temperature was kept and why; before -> after only when T != 1
    # (with T = 1 both are the network's own probabilities).
    assert f"calibration: {ev['calibration']['reason']}\n" in text
    if ev["temperature"] != 1.0:
        assert "(before: T = 1 -> after: T = " in text
    for piece in (
        "accuracy:",
        "95% CI",
        "balanced accuracy",
        "calibration: temperature",
        "ECE",
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
    assert (h.split, h.balanced_accuracy_ci) == (None, None)
    assert h.accuracy_ci == pytest.approx((0.2307, 0.8824), abs=1e-4)  # Wilson, 3 of 5
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


def _external(temperature: float, decision: str) -> dict:
    """evaluation.json of other data whose log loss at T = 1 and at T rounds alike."""
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 60)
    p = rng.dirichlet(np.ones(2), 60)
    m = classification_metrics(y, p, ["FW", "SS"], n_bootstrap=0)
    m |= {
        "split": "external",
        "temperature": temperature,
        "log_loss": 0.39712,
        "ece": 0.047,
        "calibration": {
            "temperature": temperature,
            "decision": decision,
            "source": decision,
            "n_val": 0,
            "log_loss_before": 0.39748,
            "ece_before": 0.034,
        },
    }
    return m


def test_external_summary_shows_before_and_after_apart() -> None:
    """Other data: before is T = 1, after the stored T; equal at 3 decimals, so 4 are shown."""
    text = format_evaluation(_external(1.48, "model.json"))
    assert (
        "calibration: temperature 1.48 from model.json, kept by the run's own evaluation on "
        "its validation split (nothing is fitted on other data)"
    ) in text
    line = "log loss 0.3975 -> 0.3971   ECE 0.034 -> 0.047   (before: T = 1 -> after: T = 1.48)"
    assert f"  {line}\n" in text
    plain = format_evaluation(_external(1.0, "none"))
    assert "calibration: temperature 1: the run's own evaluation kept none" in plain
    assert "(temperature 1: the network's own probabilities)" in plain and "->" not in plain


@pytest.mark.parametrize(
    ("cal", "expected"),
    [
        (
            {
                "decision": "fitted",
                "temperature": 1.5,
                "n_val": 120,
                "folds": 5,
                "fitted": 1.5,
                "cv_nll_one": 0.5,
                "cv_nll_fitted": 0.4,
                "cv_ece_one": 0.1,
                "cv_ece_fitted": 0.03,
            },
            "temperature 1.50 fitted on 120 validation images and kept: it helped out of sample "
            "(5-fold cross-validation on the validation split, without -> with the fitted "
            "temperature: log loss 0.500 -> 0.400, ECE 0.100 -> 0.030)",
        ),
        (
            {
                "decision": "kept 1: did not help out of sample",
                "temperature": 1.0,
                "n_val": 80,
                "folds": 5,
                "fitted": 1.48,
                "cv_nll_one": 0.3,
                "cv_nll_fitted": 0.31,
                "cv_ece_one": 0.04,
                "cv_ece_fitted": 0.07,
            },
            "temperature 1 kept: the temperature fitted on 80 validation images (1.48) did not "
            "help out of sample (5-fold cross-validation on the validation split, without -> "
            "with the fitted temperature: log loss 0.300 -> 0.310, ECE 0.040 -> 0.070)",
        ),
        (
            {"decision": "kept 1: too few validation images", "temperature": 1.0, "n_val": 4},
            "temperature 1 kept: 4 validation images are too few to fit one",
        ),
        (
            {"decision": "separable", "temperature": 1.0, "n_val": 30},
            "temperature 1 kept: all 30 validation images right, nothing to fit",
        ),
        (  # evaluation.json of an earlier version
            {"source": "val", "temperature": 1.2, "n_val": 30},
            "temperature 1.20 fitted on 30 validation images",
        ),
    ],
)
def test_calibration_reason(cal: dict, expected: str) -> None:
    from stylecast.evaluation import calibration_reason

    assert calibration_reason(cal, "test") == expected


def test_verdict_against_the_majority_baseline() -> None:
    from stylecast.evaluation import classification_metrics, verdict_sentence

    y = np.array([0] * 40 + [1] * 20)
    good = np.eye(2)[y] * 0.8 + 0.1  # every image right
    h = Headline.from_metrics(classification_metrics(y, good, ["FW", "SS"], n_bootstrap=0))
    assert (h.majority_class, h.majority_share) == ("FW", pytest.approx(40 / 60))
    assert h.p_vs_majority < 1e-6 and h.beats_majority and h.small_sample is False
    assert verdict_sentence(h).startswith("better than guessing: always answering FW scores 66.7%")
    # 58% right against a 51% majority on 45 images: the run the issue describes.
    rng = np.random.default_rng(0)
    y = np.array([0] * 23 + [1] * 22)
    right = np.zeros(45, bool)
    right[rng.choice(45, 26, replace=False)] = True
    pred = np.where(right, y, 1 - y)
    h = Headline.from_metrics(
        classification_metrics(y, np.eye(2)[pred] * 0.6 + 0.2, ["FW", "SS"], n_bootstrap=0)
    )
    assert h.beats_majority is False and h.small_sample is True
    text = verdict_sentence(h)
    assert text.startswith("NOT shown to be better than guessing: always answering FW scores 51.1%")
    assert "Next: check the data" in text and "Only 45 images: the accuracy is rough" in text
    assert "verdict: NOT shown" in format_evaluation(
        classification_metrics(y, np.eye(2)[pred] * 0.6 + 0.2, ["FW", "SS"], n_bootstrap=0)
        | {"split": "test", "temperature": 1.0}
    )
