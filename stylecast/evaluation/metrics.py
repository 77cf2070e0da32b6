"""Classification metrics as plain numbers (no torch, no plotting).

Everything here takes numpy-compatible arrays and returns JSON-ready Python values
(``float``, ``int``, ``list``, ``dict``), so ``evaluation.json`` can be written as is and
the functions of :mod:`stylecast.plots` can draw it later. Calibration lives in
:mod:`stylecast.evaluation.calibration`, intervals in :mod:`stylecast.evaluation.intervals`.

Conventions: ``y_true`` holds integer class indices ``0..C-1``; ``proba`` is an
``(N, C)`` array of predicted probabilities whose rows sum to 1.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats
from sklearn import metrics as skm

from stylecast.errors import DataError
from stylecast.evaluation._checks import check_proba
from stylecast.evaluation.calibration import reliability_bins
from stylecast.evaluation.intervals import balanced_accuracy_rows, bootstrap_ci, wilson_interval

__all__ = ["classification_metrics", "mcnemar_test"]

# Below this many discordant pairs the chi-square approximation is poor (Edwards 1948).
_MCNEMAR_EXACT_BELOW = 25


def _prf(y: np.ndarray, pred: np.ndarray, labels: np.ndarray, average: str) -> dict[str, float]:
    p, r, f, _ = skm.precision_recall_fscore_support(
        y, pred, labels=labels, average=average, zero_division=0
    )
    return {"precision": float(p), "recall": float(r), "f1": float(f)}


def classification_metrics(
    y_true: ArrayLike,
    proba: ArrayLike,
    class_names: Sequence[str],
    *,
    n_bootstrap: int = 1000,
    seed: int = 0,
    n_bins: int = 15,
) -> dict[str, Any]:
    """Every number the report shows about a classifier, as a JSON-ready dict.

    Args:
        y_true: ``(N,)`` integer class indices.
        proba: ``(N, C)`` predicted probabilities; the prediction is the row's argmax.
        class_names: ``C`` names, in column order.
        n_bootstrap: resamples for the balanced-accuracy interval; ``0`` skips it
            (``balanced_accuracy_ci`` is then ``None``).
        seed: seed of the bootstrap, so the interval is reproducible.
        n_bins: equal-width confidence bins for ECE and the reliability diagram.

    Returns:
        ``n``, ``accuracy``, ``accuracy_ci`` (95 % Wilson score interval ``[lo, hi]``),
        ``majority`` (the largest class's share and the one-sided binomial p-value of
        beating it), ``small_sample`` (too few images to say much),
        ``balanced_accuracy`` and ``balanced_accuracy_ci`` (bootstrap, same seed),
        ``per_class`` (``{name: {precision, recall, f1, support, precision_ci,
        recall_ci}}``, the intervals Wilson 95 %), ``macro_avg`` and ``weighted_avg``
        (``{precision, recall, f1}``),
        ``confusion_matrix`` (counts, rows = true class), ``confusion_matrix_normalized``
        (rows sum to 1; classes absent from ``y_true`` stay 0), ``top_k``
        (``{"top_2": ..., "top_3": ...}`` for ``k < C``; only when ``C > 2``),
        ``log_loss``, ``ece``, ``reliability`` (bins, see
        :func:`expected_calibration_error`) and ``class_names``.
    """
    names = [str(c) for c in class_names]
    if len(set(names)) != len(names):
        raise DataError(f"class_names must be unique, got {names}")
    if int(n_bootstrap) != n_bootstrap or n_bootstrap < 0:
        raise DataError(f"n_bootstrap must be a non-negative integer, got {n_bootstrap}")
    if int(n_bins) != n_bins or n_bins < 1:
        raise DataError(f"n_bins must be a positive integer, got {n_bins}")
    y, p = check_proba(y_true, proba, names)
    n, n_classes = p.shape
    labels = np.arange(n_classes)
    pred = p.argmax(axis=1)
    correct = (pred == y).astype(np.float64)

    accuracy = float(skm.accuracy_score(y, pred))
    # A closed form (Wilson) holds on small test sets, where a percentile bootstrap
    # collapses to "100-100" after 20 correct answers.
    accuracy_ci = wilson_interval(int(correct.sum()), int(n))
    with warnings.catch_warnings():
        # Predicted classes that never occur in y_true are expected on small test sets.
        warnings.filterwarnings("ignore", message="y_pred contains classes not in y_true")
        warnings.filterwarnings("ignore", message="A single label was found")
        balanced = float(skm.balanced_accuracy_score(y, pred))

    prec, rec, f1, support = skm.precision_recall_fscore_support(
        y, pred, labels=labels, average=None, zero_division=0
    )
    cm = skm.confusion_matrix(y, pred, labels=labels)
    per_class = {
        name: {
            "precision": float(prec[i]),
            "recall": float(rec[i]),
            "f1": float(f1[i]),
            "support": int(support[i]),
            # Wilson 95 % intervals: recall over the class's images, precision over the
            # images predicted as the class (None when there are none).
            "recall_ci": wilson_interval(int(cm[i, i]), int(cm[i, :].sum())),
            "precision_ci": wilson_interval(int(cm[i, i]), int(cm[:, i].sum())),
        }
        for i, name in enumerate(names)
    }
    balanced_ci = (
        bootstrap_ci(
            balanced_accuracy_rows(y, correct, n_classes),
            n,
            n_bootstrap=int(n_bootstrap),
            seed=seed,
        )
        if n_bootstrap
        else None
    )

    row_sums = cm.sum(axis=1, keepdims=True)
    cm_norm = np.divide(cm, row_sums, out=np.zeros(cm.shape, dtype=np.float64), where=row_sums > 0)

    top_k: dict[str, float] = {}
    if n_classes > 2:
        for k in (2, 3):
            if k < n_classes:
                top_k[f"top_{k}"] = float(
                    skm.top_k_accuracy_score(y, p, k=k, labels=labels, normalize=True)
                )

    ece, reliability = reliability_bins(y, p, int(n_bins))
    return {
        "accuracy_ci_method": "wilson",
        "majority": majority_baseline(y, correct, names),
        "small_sample": small_sample(int(n), accuracy_ci),
        "n": int(n),
        "accuracy": accuracy,
        "accuracy_ci": accuracy_ci,
        "balanced_accuracy": balanced,
        "balanced_accuracy_ci": balanced_ci,
        "per_class": per_class,
        "macro_avg": _prf(y, pred, labels, "macro"),
        "weighted_avg": _prf(y, pred, labels, "weighted"),
        "confusion_matrix": cm.astype(int).tolist(),
        "confusion_matrix_normalized": cm_norm.tolist(),
        "top_k": top_k,
        "log_loss": float(skm.log_loss(y, p, labels=labels)),
        "ece": ece,
        "reliability": reliability,
        "class_names": names,
    }


# Fewer test images, or an interval wider than this, and the report says the number is rough.
SMALL_SAMPLE_N = 50
SMALL_SAMPLE_WIDTH = 0.2


def small_sample(n: int, interval: Sequence[float] | None) -> bool:
    """Whether a test split is too small to say much (few images, or a wide interval)."""
    return n < SMALL_SAMPLE_N or (
        interval is not None and interval[1] - interval[0] > SMALL_SAMPLE_WIDTH
    )


def majority_baseline(y: np.ndarray, correct: np.ndarray, names: Sequence[str]) -> dict[str, Any]:
    """Always answering the largest class: its share, and whether the model beats it.

    ``p_value`` is the one-sided exact binomial test of "accuracy > the majority share":
    small means the model is better than guessing the largest class.
    """
    n = len(y)
    if n == 0:
        return {"class": None, "share": None, "p_value": None}
    counts = np.bincount(y, minlength=len(names))
    top = int(counts.argmax())
    share = float(counts[top] / n)
    test = stats.binomtest(int(correct.sum()), n, min(share, 1.0), alternative="greater")
    return {"class": names[top], "share": share, "p_value": float(test.pvalue)}


def mcnemar_test(correct_a: ArrayLike, correct_b: ArrayLike) -> dict[str, Any]:
    """McNemar's test: do models A and B differ in accuracy on the *same* samples?

    ``correct_a`` / ``correct_b`` are per-sample booleans (or 0/1). Only discordant
    pairs count: ``b`` = A right and B wrong, ``c`` = A wrong and B right. With
    ``b + c < 25`` the exact two-sided binomial test is used (``statistic`` is
    ``min(b, c)``), otherwise the chi-square test with continuity correction
    (``statistic`` = ``(|b - c| - 1)^2 / (b + c)``, 1 degree of freedom).

    Returns ``{b, c, statistic, pvalue, method}`` with method ``"exact"``,
    ``"chi2"`` or ``"none"`` (no discordant pairs: ``pvalue`` 1.0).
    """
    a = np.asarray(correct_a)
    bb = np.asarray(correct_b)
    for name, arr in (("correct_a", a), ("correct_b", bb)):
        if arr.ndim != 1:
            raise DataError(f"{name} must be 1-D (one flag per sample), got shape {arr.shape}")
        if arr.size and not np.all((arr == 0) | (arr == 1)):
            raise DataError(f"{name} must hold booleans or 0/1 values")
    if a.shape != bb.shape:
        raise DataError(
            f"correct_a has {a.shape[0]} samples but correct_b has {bb.shape[0]}; "
            "McNemar compares both models on the same samples"
        )
    a = a.astype(bool)
    bb = bb.astype(bool)
    b = int(np.sum(a & ~bb))
    c = int(np.sum(~a & bb))
    m = b + c
    if m == 0:
        statistic, pvalue, method = 0.0, 1.0, "none"
    elif m < _MCNEMAR_EXACT_BELOW:
        statistic = float(min(b, c))
        pvalue = float(stats.binomtest(b, m, 0.5, alternative="two-sided").pvalue)
        method = "exact"
    else:
        statistic = float((abs(b - c) - 1) ** 2 / m)
        pvalue = float(stats.chi2.sf(statistic, df=1))
        method = "chi2"
    return {"b": b, "c": c, "statistic": statistic, "pvalue": min(pvalue, 1.0), "method": method}
