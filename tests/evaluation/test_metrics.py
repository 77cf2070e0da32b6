"""stylecast.evaluation.metrics: values checked against scikit-learn, scipy and hand-made cases."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
from scipy import stats
from sklearn import metrics as skm

from stylecast.errors import DataError
from stylecast.evaluation.calibration import softmax
from stylecast.evaluation.metrics import classification_metrics, mcnemar_test
from tests.evaluation._arrays import NAMES3


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
    # The accuracy interval is Wilson's closed form (3 of 5 right); no bootstrap, no balanced CI.
    assert m["accuracy_ci"] == pytest.approx([0.2307, 0.8824], abs=1e-4)
    assert m["balanced_accuracy_ci"] is None
    # sklearn's balanced accuracy averages recall over classes present in y_true.
    assert m["balanced_accuracy"] == pytest.approx((0.5 + 2 / 3) / 2)


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
