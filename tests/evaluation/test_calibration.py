"""stylecast.evaluation.calibration: ECE and its bins, temperature scaling, softmax."""

from __future__ import annotations

import re

import numpy as np
import pytest
from sklearn import metrics as skm

from stylecast.errors import DataError
from stylecast.evaluation.calibration import (
    expected_calibration_error,
    fit_temperature,
    softmax,
)
from stylecast.evaluation.metrics import classification_metrics
from tests.evaluation._arrays import NAMES3, calibrated


def test_ece_small_for_calibrated_large_for_overconfident():
    logits, y = calibrated(20_000)
    ece_cal, bins = expected_calibration_error(y, softmax(logits))
    ece_over, _ = expected_calibration_error(y, softmax(logits * 5))
    assert ece_cal < 0.02
    assert ece_over > 0.1
    assert len(bins) == 15
    assert sum(b["count"] for b in bins) == 20_000
    assert bins[0]["lo"] == 0.0 and bins[-1]["hi"] == 1.0


def test_ece_hand_made_bins():
    # Confidences 0.9, 0.9 (one right, one wrong) and 0.6 (right); 2 bins of width 0.5.
    y = np.array([0, 1, 0])
    p = np.array([[0.9, 0.1], [0.9, 0.1], [0.6, 0.4]])
    ece, bins = expected_calibration_error(y, p, n_bins=2)
    # bin (0.5, 1]: 3 samples, conf mean 0.8, acc 2/3 -> ECE = |2/3 - 0.8| = 0.1333
    assert bins[0] == {"lo": 0.0, "hi": 0.5, "count": 0, "confidence": None, "accuracy": None}
    assert bins[1]["count"] == 3
    assert bins[1]["confidence"] == pytest.approx(0.8)
    assert bins[1]["accuracy"] == pytest.approx(2 / 3)
    assert ece == pytest.approx(0.8 - 2 / 3)


def test_ece_in_classification_metrics_matches_function(three_class):
    y, p = three_class
    m = classification_metrics(y, p, NAMES3, n_bootstrap=0, n_bins=10)
    ece, bins = expected_calibration_error(y, p, n_bins=10)
    assert m["ece"] == pytest.approx(ece)
    assert m["reliability"] == bins


def test_fit_temperature_fixes_overconfidence():
    logits, y = calibrated(5000, seed=1)
    over = logits * 5.0  # a model 5x too sure of itself
    t = fit_temperature(over, y)
    assert t > 1.0
    assert t == pytest.approx(5.0, rel=0.15)  # recovers the factor we applied

    before, after = softmax(over), softmax(over, temperature=t)
    assert expected_calibration_error(y, after)[0] < expected_calibration_error(y, before)[0] / 3
    assert skm.log_loss(y, after) < skm.log_loss(y, before)
    # Temperature scaling never changes the prediction.
    assert np.array_equal(before.argmax(1), after.argmax(1))


def test_fit_temperature_near_one_whencalibrated():
    logits, y = calibrated(5000, seed=2)
    assert fit_temperature(logits, y) == pytest.approx(1.0, abs=0.1)


def test_softmax_is_stable_and_tempered():
    p = softmax(np.array([[1000.0, 1000.0, -1000.0]]))
    assert np.all(np.isfinite(p))
    assert p[0] == pytest.approx([0.5, 0.5, 0.0])
    z = np.array([[2.0, 0.0]])
    assert softmax(z, temperature=2.0)[0] == pytest.approx(softmax(z / 2.0)[0])
    with pytest.raises(DataError, match="temperature must be a positive"):
        softmax(z, temperature=0.0)


def test_fit_temperature_bad_input():
    with pytest.raises(DataError, match="logits must be 2-D"):
        fit_temperature([1.0, 2.0], [0, 1])
    with pytest.raises(DataError, match=re.escape("labels must be 0..1")):
        fit_temperature([[1.0, 2.0]], [3])


def test_data_error_is_a_value_error():
    with pytest.raises(ValueError):
        expected_calibration_error([0, 1], [[0.5, 0.5]])
