"""stylecast.evaluation.metrics: values checked against scikit-learn, scipy and hand-made cases."""

from __future__ import annotations

import json
import re
import warnings

import numpy as np
import pytest
from scipy import stats
from sklearn import metrics as skm

from stylecast.errors import DataError
from stylecast.evaluation.metrics import (
    classification_metrics,
    expected_calibration_error,
    fit_temperature,
    mcnemar_test,
    softmax,
    wilson_interval,
)

NAMES3 = ["FallWinter", "SpringSummer", "Resort"]


@pytest.fixture
def three_class() -> tuple[np.ndarray, np.ndarray]:
    """A fixed, imperfect 3-class problem (seeded, so values are stable)."""
    rng = np.random.default_rng(42)
    y = rng.integers(0, 3, size=200)
    logits = rng.normal(size=(200, 3))
    logits[np.arange(200), y] += 1.2  # informative but far from perfect
    return y, softmax(logits)


def _calibrated(n: int, n_classes: int = 3, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Logits and labels drawn *from* softmax(logits): calibrated by construction."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(scale=2.0, size=(n, n_classes))
    p = softmax(logits)
    u = rng.random(n)[:, None]
    y = (u > np.cumsum(p, axis=1)).sum(axis=1)
    return logits, np.minimum(y, n_classes - 1)


# --------------------------------------------------------------------------- agreement with sklearn


def test_matches_sklearn(three_class):
    y, p = three_class
    m = classification_metrics(y, p, NAMES3, n_bootstrap=200)
    pred = p.argmax(axis=1)

    assert m["n"] == 200
    assert m["class_names"] == NAMES3
    assert m["accuracy"] == pytest.approx(skm.accuracy_score(y, pred))
    assert 0.4 < m["accuracy"] < 0.9  # the fixture is informative but imperfect
    assert m["balanced_accuracy"] == pytest.approx(skm.balanced_accuracy_score(y, pred))
    assert m["log_loss"] == pytest.approx(skm.log_loss(y, p))
    assert m["confusion_matrix"] == skm.confusion_matrix(y, pred).tolist()

    prec, rec, f1, sup = skm.precision_recall_fscore_support(y, pred, zero_division=0)
    for i, name in enumerate(NAMES3):
        pc = m["per_class"][name]
        assert pc["precision"] == pytest.approx(prec[i])
        assert pc["recall"] == pytest.approx(rec[i])
        assert pc["f1"] == pytest.approx(f1[i])
        assert pc["support"] == sup[i]
    for avg in ("macro", "weighted"):
        p_, r_, f_, _ = skm.precision_recall_fscore_support(y, pred, average=avg, zero_division=0)
        assert m[f"{avg}_avg"] == pytest.approx({"precision": p_, "recall": r_, "f1": f_})


def test_float32_rounding_in_rows_is_tolerated():
    rng = np.random.default_rng(5)
    p = softmax(rng.normal(size=(300, 3)))
    drift = (p * (1 + rng.normal(scale=3e-4, size=(300, 1)))).astype(np.float32)
    y = rng.integers(0, 3, size=300)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # sklearn warns when rows do not sum to one
        m = classification_metrics(y, drift, NAMES3, n_bootstrap=0)
    assert m["log_loss"] == pytest.approx(skm.log_loss(y, p), rel=1e-3)


def test_result_is_plain_json(three_class):
    y, p = three_class
    m = classification_metrics(y, p, NAMES3, n_bootstrap=50)
    assert json.loads(json.dumps(m)) == m  # no numpy scalars, no tuples


def test_normalized_confusion_keeps_absent_class_at_zero():
    # Class 2 never occurs in y_true but is predicted once; its row must be all zeros.
    y = np.array([0, 0, 1, 1, 1])
    p = np.array(
        [[0.8, 0.1, 0.1], [0.1, 0.2, 0.7], [0.2, 0.7, 0.1], [0.1, 0.8, 0.1], [0.6, 0.3, 0.1]]
    )
    m = classification_metrics(y, p, ["a", "b", "c"], n_bootstrap=0)
    assert m["confusion_matrix"] == [[1, 0, 1], [1, 2, 0], [0, 0, 0]]
    np.testing.assert_allclose(
        m["confusion_matrix_normalized"], [[0.5, 0.0, 0.5], [1 / 3, 2 / 3, 0.0], [0.0, 0.0, 0.0]]
    )
    assert m["per_class"]["c"] == {
        "precision": 0.0,
        "recall": 0.0,
        "f1": 0.0,
        "support": 0,
        "recall_ci": None,  # no image of class c: recall has no interval
        "precision_ci": [0.0, pytest.approx(0.7934, abs=1e-4)],  # 0 of 1 predicted c
    }
    assert m["accuracy_ci"] is None and m["balanced_accuracy_ci"] is None
    # sklearn's balanced accuracy averages recall over classes present in y_true.
    assert m["balanced_accuracy"] == pytest.approx((0.5 + 2 / 3) / 2)


# --------------------------------------------------------------------------- bootstrap CI


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


# --------------------------------------------------------------------------- top-k


def test_top_k_only_for_more_than_two_classes():
    y = np.array([0, 1, 1, 0])
    p = np.array([[0.9, 0.1], [0.3, 0.7], [0.6, 0.4], [0.2, 0.8]])
    assert classification_metrics(y, p, ["FW", "SS"], n_bootstrap=0)["top_k"] == {}


def test_top_k_hand_made():
    # Sample ranks of the true class: 1st, 2nd, 3rd, 4th.
    y = np.array([0, 1, 2, 3])
    p = np.array(
        [
            [0.70, 0.10, 0.10, 0.10],  # true class ranked 1st
            [0.50, 0.30, 0.15, 0.05],  # 2nd
            [0.40, 0.30, 0.20, 0.10],  # 3rd
            [0.40, 0.30, 0.20, 0.10],  # 4th
        ]
    )
    m = classification_metrics(y, p, list("abcd"), n_bootstrap=0)
    assert m["top_k"] == {"top_2": pytest.approx(0.5), "top_3": pytest.approx(0.75)}
    assert m["accuracy"] == pytest.approx(0.25)
    # With 3 classes only top_2 exists (top_3 would always be 1).
    m3 = classification_metrics(
        y[:3], p[:3, :3] / p[:3, :3].sum(1, keepdims=True), list("abc"), n_bootstrap=0
    )
    assert set(m3["top_k"]) == {"top_2"}
    assert m3["top_k"]["top_2"] == pytest.approx(2 / 3)


# --------------------------------------------------------------------------- calibration


def test_ece_small_for_calibrated_large_for_overconfident():
    logits, y = _calibrated(20_000)
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
    logits, y = _calibrated(5000, seed=1)
    over = logits * 5.0  # a model 5x too sure of itself
    t = fit_temperature(over, y)
    assert t > 1.0
    assert t == pytest.approx(5.0, rel=0.15)  # recovers the factor we applied

    before, after = softmax(over), softmax(over, temperature=t)
    assert expected_calibration_error(y, after)[0] < expected_calibration_error(y, before)[0] / 3
    assert skm.log_loss(y, after) < skm.log_loss(y, before)
    # Temperature scaling never changes the prediction.
    assert np.array_equal(before.argmax(1), after.argmax(1))


def test_fit_temperature_near_one_when_calibrated():
    logits, y = _calibrated(5000, seed=2)
    assert fit_temperature(logits, y) == pytest.approx(1.0, abs=0.1)


def test_softmax_is_stable_and_tempered():
    p = softmax(np.array([[1000.0, 1000.0, -1000.0]]))
    assert np.all(np.isfinite(p))
    assert p[0] == pytest.approx([0.5, 0.5, 0.0])
    z = np.array([[2.0, 0.0]])
    assert softmax(z, temperature=2.0)[0] == pytest.approx(softmax(z / 2.0)[0])
    with pytest.raises(DataError, match="temperature must be a positive"):
        softmax(z, temperature=0.0)


# --------------------------------------------------------------------------- McNemar


def test_mcnemar_exact_hand_made():
    # 10 samples: A right & B wrong on 6 (b), A wrong & B right on 1 (c), 3 ties.
    a = np.array([1, 1, 1, 1, 1, 1, 0, 1, 0, 1], dtype=bool)
    b = np.array([0, 0, 0, 0, 0, 0, 1, 1, 0, 1], dtype=bool)
    r = mcnemar_test(a, b)
    assert (r["b"], r["c"]) == (6, 1)
    assert r["method"] == "exact"
    # Exact two-sided binomial: 2 * P(X <= 1 | n=7, p=0.5) = 2 * 8/128 = 0.125
    assert r["pvalue"] == pytest.approx(0.125)
    assert r["pvalue"] == pytest.approx(stats.binomtest(6, 7, 0.5).pvalue)


def test_mcnemar_chi2_for_many_discordant_pairs():
    a = np.array([True] * 30 + [False] * 10 + [True] * 50)
    b = np.array([False] * 30 + [True] * 10 + [True] * 50)
    r = mcnemar_test(a, b)
    assert (r["b"], r["c"], r["method"]) == (30, 10, "chi2")
    assert r["statistic"] == pytest.approx((abs(30 - 10) - 1) ** 2 / 40)
    assert r["pvalue"] == pytest.approx(stats.chi2.sf(9.025, 1))


def test_mcnemar_no_discordant_pairs():
    a = np.array([1, 0, 1])
    r = mcnemar_test(a, a)
    assert r["pvalue"] == 1.0
    assert (r["b"], r["c"]) == (0, 0)


def test_mcnemar_length_mismatch():
    with pytest.raises(DataError, match="correct_a has 3 samples but correct_b has 2"):
        mcnemar_test([1, 0, 1], [1, 0])


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("y", "p", "names", "match"),
    [
        ([0, 1, 1], [[0.5, 0.5], [0.2, 0.8]], ["a", "b"], "y_true has 3 samples but proba has 2"),
        ([0, 1], [0.5, 0.5], ["a", "b"], "proba must be 2-D"),
        ([0, 2], [[0.5, 0.5], [0.2, 0.8]], ["a", "b"], "label 2 is out of range for 2 classes"),
        ([0, -1], [[0.5, 0.5], [0.2, 0.8]], ["a", "b"], "label -1 is out of range"),
        ([0, 1], [[0.5, 0.5], [0.2, 0.8]], ["a", "b", "c"], "class_names has 3 names"),
        ([0, 1], [[2.0, -1.0], [0.2, 0.8]], ["a", "b"], "did you pass logits"),
        ([0, 1], [[0.6, 0.6], [0.2, 0.8]], ["a", "b"], "rows must sum to 1"),
        ([[0], [1]], [[0.5, 0.5], [0.2, 0.8]], ["a", "b"], "y_true must be 1-D"),
        ([0.5, 1], [[0.5, 0.5], [0.2, 0.8]], ["a", "b"], "integer class indices"),
        ([], np.zeros((0, 2)), ["a", "b"], "y_true is empty"),
        ([0, 1], [[np.nan, 0.5], [0.2, 0.8]], ["a", "b"], "NaN"),
        ([0, 1], [[0.5, 0.5], [0.2, 0.8]], ["a", "a"], "class_names must be unique"),
    ],
)
def test_bad_input_raises_data_error(y, p, names, match):
    with pytest.raises(DataError, match=match):
        classification_metrics(y, p, names)


def test_data_error_is_a_value_error():
    with pytest.raises(ValueError):
        expected_calibration_error([0, 1], [[0.5, 0.5]])


def test_fit_temperature_bad_input():
    with pytest.raises(DataError, match="logits must be 2-D"):
        fit_temperature([1.0, 2.0], [0, 1])
    with pytest.raises(DataError, match=re.escape("labels must be 0..1")):
        fit_temperature([[1.0, 2.0]], [3])


# --------------------------------------------------------------------------- intervals


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
    from stylecast.evaluation.metrics import _balanced_accuracy_rows

    y, p = three_class
    pred = p.argmax(axis=1)
    idx = np.random.default_rng(0).integers(0, len(y), size=(5, len(y)))
    got = _balanced_accuracy_rows(y, (pred == y).astype(float), 3)(idx)
    want = [skm.balanced_accuracy_score(y[i], pred[i]) for i in idx]
    np.testing.assert_allclose(got, want)
