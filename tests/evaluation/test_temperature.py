"""stylecast.evaluation.temperature: a fitted temperature is kept only where it holds out of
sample (cross-validated on the validation logits), else T = 1 with the reason."""

from __future__ import annotations

import numpy as np
import pytest

from stylecast.evaluation.calibration import (
    expected_calibration_error,
    fit_temperature,
    softmax,
)
from stylecast.evaluation.summary import FITTED, NO_GAIN, SEPARABLE, TOO_FEW
from stylecast.evaluation.temperature import (
    CALIBRATION_FOLDS,
    MIN_NLL_GAIN,
    choose_temperature,
    stratified_folds,
)
from tests.evaluation._arrays import calibrated


def test_overconfidence_that_generalises_is_fitted_and_kept():
    logits, y = calibrated(600, n_classes=2, seed=3)
    over = logits * 3.0  # every image 3x too sure: the same on any split
    choice = choose_temperature(over, y, seed=0)
    assert choice.decision == FITTED and choice.n_val == 600 and choice.folds == 5
    assert choice.temperature == choice.fitted == pytest.approx(fit_temperature(over, y))
    assert choice.temperature == pytest.approx(3.0, rel=0.2)
    # Cross-validated: the folds' own temperatures beat T = 1 on the held-out folds.
    assert choice.cv_nll_fitted < choice.cv_nll_one * (1 - MIN_NLL_GAIN)
    assert choice.cv_nll_one - choice.cv_nll_fitted > choice.cv_nll_se
    assert choice.cv_ece_fitted < choice.cv_ece_one - 0.05
    # And it holds on images of the same model the choice never saw.
    fresh, y_fresh = calibrated(20_000, n_classes=2, seed=103)
    fresh *= 3.0
    before = expected_calibration_error(y_fresh, softmax(fresh))[0]
    after = expected_calibration_error(y_fresh, softmax(fresh, choice.temperature))[0]
    assert after < before / 3


def test_a_temperature_that_fits_a_few_confident_mistakes_is_refused():
    """The issue's failure: a calibrated model whose validation split holds three confident
    mistakes. Fitting T on all of it softens every prediction (T ~ 2) and makes fresh images
    worse calibrated; out of fold, the ECE shows it and T stays 1."""
    logits, y = calibrated(200, n_classes=2, seed=0)
    z = np.vstack([logits, np.tile([9.0, -9.0], (3, 1))])
    labels = np.concatenate([y, [1, 1, 1]])
    choice = choose_temperature(z, labels)
    assert (choice.temperature, choice.decision) == (1.0, NO_GAIN)
    assert choice.fitted > 1.8  # what always fitting would have kept
    assert choice.cv_ece_fitted > choice.cv_ece_one + 0.05
    fresh, y_fresh = calibrated(20_000, n_classes=2, seed=100)
    ece_one = expected_calibration_error(y_fresh, softmax(fresh))[0]
    ece_fitted = expected_calibration_error(y_fresh, softmax(fresh, choice.fitted))[0]
    assert ece_one < 0.02 and ece_fitted > ece_one + 0.05


def test_tiny_noisy_validation_keeps_one():
    """16 images of a calibrated model: the fitted T (1.29) is noise; on held-out folds it
    raises the log loss."""
    logits, y = calibrated(16, n_classes=2, seed=14)
    choice = choose_temperature(logits, y)
    assert (choice.temperature, choice.decision, choice.n_val) == (1.0, NO_GAIN, 16)
    assert choice.fitted == pytest.approx(1.29, abs=0.01)
    assert choice.cv_nll_fitted > choice.cv_nll_one


def test_too_few_and_separable_keep_one_without_cross_validation():
    logits, y = calibrated(40, n_classes=2, seed=1)
    few = choose_temperature(logits[:6], y[:6], min_images=10)
    assert (few.temperature, few.decision, few.n_val) == (1.0, TOO_FEW, 6)
    assert few.cv_nll_fitted is None and few.fitted is None and few.folds == 0
    perfect = np.eye(2)[y] * 4.0  # every image right
    sep = choose_temperature(perfect, y)
    assert (sep.temperature, sep.decision, sep.n_val, sep.fitted) == (1.0, SEPARABLE, 40, None)


def test_choice_is_deterministic_and_json_ready():
    logits, y = calibrated(120, n_classes=3, seed=5)
    a = choose_temperature(logits * 2.0, y, seed=7)
    assert a == choose_temperature(logits * 2.0, y, seed=7)
    assert set(a.to_json()) == {
        "temperature",
        "decision",
        "n_val",
        "fitted",
        "folds",
        "cv_nll_fitted",
        "cv_nll_one",
        "cv_ece_fitted",
        "cv_ece_one",
        "cv_nll_se",
        "min_nll_gain",
    }
    assert a.folds == CALIBRATION_FOLDS


def test_stratified_folds_share_every_class():
    y = np.array([0] * 23 + [1] * 7 + [2] * 10)
    fold = stratified_folds(y, 5, seed=0)
    assert np.array_equal(fold, stratified_folds(y, 5, seed=0))
    assert sorted(np.bincount(fold)) == [8, 8, 8, 8, 8]
    for c, n in ((0, 23), (1, 7), (2, 10)):
        counts = np.bincount(fold[y == c], minlength=5)
        assert counts.max() - counts.min() <= 1 and counts.sum() == n
