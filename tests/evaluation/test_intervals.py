"""stylecast.evaluation.intervals: bootstrap and Wilson intervals, checked against scipy/sklearn."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

from stylecast.errors import DataError
from stylecast.evaluation.intervals import balanced_accuracy_rows, wilson_interval
from stylecast.evaluation.metrics import classification_metrics
from tests.evaluation._arrays import NAMES3


def test_accuracy_ci_contains_accuracy_and_shrinks_with_n():
    rng = np.random.default_rng(1)

    def ci_width(n: int) -> float:
        y = rng.integers(0, 2, size=n)
        p1 = np.where(rng.random(n) < 0.75, y, 1 - y) * 0.5 + 0.25  # 75 % right
        p = np.stack([1 - p1, p1], axis=1)
        m = classification_metrics(y, p, ["FW", "SS"], n_bootstrap=500, seed=3)
        lo, hi = m["accuracy_ci"]
        assert lo <= m["accuracy"] <= hi
        assert 0.0 <= lo < hi <= 1.0
        return hi - lo

    small, large = ci_width(100), ci_width(2500)
    assert large < small / 3  # width ~ 1/sqrt(n): 25x samples -> about 5x narrower
    # Binomial normal approximation at n=100, p=0.75: 2 * 1.96 * sqrt(.75*.25/100) ~ 0.17
    assert small == pytest.approx(0.17, abs=0.05)


def test_accuracy_ci_is_reproducible(three_class):
    y, p = three_class
    a = classification_metrics(y, p, NAMES3, n_bootstrap=300, seed=7)["accuracy_ci"]
    b = classification_metrics(y, p, NAMES3, n_bootstrap=300, seed=7)["accuracy_ci"]
    assert a == b


def test_wilson_interval_known_values():
    from scipy.stats import binomtest

    for k, n in ((8, 10), (0, 5), (9, 9), (37, 120)):
        ref = binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
        assert wilson_interval(k, n) == pytest.approx([ref.low, ref.high], abs=1e-9)
    assert wilson_interval(8, 10) == pytest.approx([0.4902, 0.9433], abs=1e-4)
    assert wilson_interval(0, 0) is None
    with pytest.raises(DataError):
        wilson_interval(3, 2)


def test_per_class_intervals_bracket_the_estimates(three_class):
    y, p = three_class
    m = classification_metrics(y, p, NAMES3, n_bootstrap=300)
    for pc in m["per_class"].values():
        assert pc["recall_ci"][0] <= pc["recall"] <= pc["recall_ci"][1]
        assert pc["precision_ci"][0] <= pc["precision"] <= pc["precision_ci"][1]
    lo, hi = m["balanced_accuracy_ci"]
    assert lo < m["balanced_accuracy"] < hi and hi - lo < 0.3


def test_balanced_accuracy_bootstrap_matches_sklearn_per_resample(three_class):
    y, p = three_class
    pred = p.argmax(axis=1)
    idx = np.random.default_rng(0).integers(0, len(y), size=(5, len(y)))
    got = balanced_accuracy_rows(y, (pred == y).astype(float), 3)(idx)
    want = [skm.balanced_accuracy_score(y[i], pred[i]) for i in idx]
    np.testing.assert_allclose(got, want)
