"""Classification metrics as plain numbers (no torch, no plotting).

Everything here takes numpy-compatible arrays and returns JSON-ready Python values
(``float``, ``int``, ``list``, ``dict``), so ``evaluation.json`` can be written as
is and the plotting functions in :mod:`stylecast.plots.core` can draw it later.

Conventions: ``y_true`` holds integer class indices ``0..C-1``; ``proba`` is an
``(N, C)`` array of predicted probabilities whose rows sum to 1.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy import optimize, special, stats
from sklearn import metrics as skm

from stylecast.errors import DataError

__all__ = [
    "classification_metrics",
    "wilson_interval",
    "expected_calibration_error",
    "fit_temperature",
    "mcnemar_test",
    "softmax",
]

# Rows of `proba` may drift from 1 by float32 rounding; anything further is a caller bug
# (logits passed instead of probabilities, a missing softmax).
_ROW_SUM_TOL = 1e-3
# Bounds the bootstrap's memory: resample at most this many indices at once.
_BOOTSTRAP_CHUNK = 2_000_000
_TEMPERATURE_BOUNDS = (0.05, 20.0)
# Below this many discordant pairs the chi-square approximation is poor (Edwards 1948).
_MCNEMAR_EXACT_BELOW = 25


# --------------------------------------------------------------------------- validation


def _as_labels(y_true: ArrayLike, name: str = "y_true") -> np.ndarray:
    y = np.asarray(y_true)
    if y.ndim != 1:
        raise DataError(f"{name} must be 1-D (one class index per sample), got shape {y.shape}")
    if y.size == 0:
        raise DataError(f"{name} is empty: metrics need at least one sample")
    if y.dtype.kind == "f":
        if not np.all(np.isfinite(y)) or not np.all(y == np.round(y)):
            raise DataError(f"{name} must hold integer class indices, got non-integer floats")
    elif y.dtype.kind not in "iub":
        raise DataError(f"{name} must hold integer class indices, got dtype {y.dtype}")
    return y.astype(np.int64)


def _validate(
    y_true: ArrayLike, proba: ArrayLike, class_names: Sequence[str] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Check labels and probabilities once; return them as int64 / float64 arrays."""
    y = _as_labels(y_true)
    p = np.asarray(proba, dtype=np.float64)
    if p.ndim != 2:
        raise DataError(
            f"proba must be 2-D (n_samples, n_classes), got shape {p.shape}; "
            "for a single sample use proba[None, :]"
        )
    if p.shape[0] != y.shape[0]:
        raise DataError(
            f"y_true has {y.shape[0]} samples but proba has {p.shape[0]} rows; "
            "they must describe the same samples in the same order"
        )
    n_classes = p.shape[1]
    if n_classes < 2:
        raise DataError(f"proba needs at least 2 columns (classes), got {n_classes}")
    if class_names is not None and len(class_names) != n_classes:
        raise DataError(
            f"class_names has {len(class_names)} names but proba has {n_classes} columns"
        )
    if not np.all(np.isfinite(p)):
        raise DataError("proba contains NaN or infinite values")
    if p.min() < 0.0 or p.max() > 1.0 + _ROW_SUM_TOL:
        raise DataError("proba values must lie in [0, 1]; did you pass logits? use softmax()")
    row_sums = p.sum(axis=1)
    worst = float(np.max(np.abs(row_sums - 1.0)))
    if worst > _ROW_SUM_TOL:
        raise DataError(
            f"proba rows must sum to 1 (worst row sums to {1.0 + worst:.4f} or "
            f"{1.0 - worst:.4f}); did you pass logits? use softmax()"
        )
    lo, hi = int(y.min()), int(y.max())
    if lo < 0 or hi >= n_classes:
        bad = lo if lo < 0 else hi
        raise DataError(
            f"y_true label {bad} is out of range for {n_classes} classes "
            f"(labels must be 0..{n_classes - 1})"
        )
    # Within tolerance, renormalise so sklearn (log_loss warns on any drift) sees exact rows.
    return y, p / row_sums[:, None]


def _validate_logits(logits: ArrayLike, y_true: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    y = _as_labels(y_true)
    z = np.asarray(logits, dtype=np.float64)
    if z.ndim != 2:
        raise DataError(f"logits must be 2-D (n_samples, n_classes), got shape {z.shape}")
    if z.shape[0] != y.shape[0]:
        raise DataError(f"y_true has {y.shape[0]} samples but logits has {z.shape[0]} rows")
    if z.shape[1] < 2:
        raise DataError(f"logits need at least 2 columns (classes), got {z.shape[1]}")
    if not np.all(np.isfinite(z)):
        raise DataError("logits contain NaN or infinite values")
    if y.min() < 0 or y.max() >= z.shape[1]:
        raise DataError(
            f"y_true labels must be 0..{z.shape[1] - 1} for {z.shape[1]} logit columns, "
            f"got range {int(y.min())}..{int(y.max())}"
        )
    return z, y


# --------------------------------------------------------------------------- helpers


def softmax(logits: ArrayLike, temperature: float = 1.0) -> np.ndarray:
    """Numerically stable softmax of ``logits / temperature`` over the last axis."""
    if not (temperature > 0 and math.isfinite(temperature)):
        raise DataError(f"temperature must be a positive finite number, got {temperature}")
    z = np.asarray(logits, dtype=np.float64) / temperature
    z = z - np.max(z, axis=-1, keepdims=True)
    e = np.exp(z)
    return e / np.sum(e, axis=-1, keepdims=True)


def _bootstrap_ci(
    statistic: Callable[[np.ndarray], np.ndarray],
    n: int,
    *,
    n_bootstrap: int,
    seed: int,
    level: float = 0.95,
) -> list[float]:
    """Percentile bootstrap interval.

    ``statistic`` receives a ``(B, n)`` array of resampled row indices and returns the
    ``B`` statistics; resampling goes in chunks so memory stays bounded for large ``n``.
    """
    rng = np.random.default_rng(seed)
    chunk = max(1, _BOOTSTRAP_CHUNK // max(n, 1))
    stats_: list[np.ndarray] = []
    done = 0
    while done < n_bootstrap:
        b = min(chunk, n_bootstrap - done)
        stats_.append(np.asarray(statistic(rng.integers(0, n, size=(b, n)))))
        done += b
    values = np.concatenate(stats_)
    alpha = (1.0 - level) / 2.0
    lo, hi = np.quantile(values, [alpha, 1.0 - alpha])
    return [float(lo), float(hi)]


def wilson_interval(successes: int, n: int, level: float = 0.95) -> list[float] | None:
    """Wilson score interval for a proportion ``successes / n``; ``None`` when ``n == 0``.

    Unlike the normal approximation it stays inside ``[0, 1]`` and is sensible for the
    small per-class counts of a test split (a class with 9 of 9 right is not "100 % +- 0").
    """
    if n < 0 or successes < 0 or successes > n:
        raise DataError(f"need 0 <= successes <= n, got {successes} of {n}")
    if n == 0:
        return None
    z = float(stats.norm.ppf(0.5 + level / 2.0))
    phat = successes / n
    denom = 1.0 + z * z / n
    centre = (phat + z * z / (2 * n)) / denom
    half = z * math.sqrt(phat * (1 - phat) / n + z * z / (4 * n * n)) / denom
    return [max(0.0, centre - half), min(1.0, centre + half)]


def _balanced_accuracy_rows(
    y: np.ndarray, correct: np.ndarray, n_classes: int
) -> Callable[[np.ndarray], np.ndarray]:
    """Balanced accuracy of each bootstrap resample (rows of an index matrix)."""

    def statistic(idx: np.ndarray) -> np.ndarray:
        yy, cc = y[idx], correct[idx]
        recalls = []
        present = []
        for c in range(n_classes):
            member = yy == c
            den = member.sum(axis=1)
            recalls.append(
                np.divide((cc * member).sum(axis=1), den, where=den > 0, out=np.zeros(len(idx)))
            )
            present.append(den > 0)
        r, m = np.stack(recalls), np.stack(present)
        # As sklearn: the mean recall over the classes present in this resample.
        return (r * m).sum(axis=0) / np.maximum(m.sum(axis=0), 1)

    return statistic


def _prf(y: np.ndarray, pred: np.ndarray, labels: np.ndarray, average: str) -> dict[str, float]:
    p, r, f, _ = skm.precision_recall_fscore_support(
        y, pred, labels=labels, average=average, zero_division=0
    )
    return {"precision": float(p), "recall": float(r), "f1": float(f)}


# --------------------------------------------------------------------------- public API


def expected_calibration_error(
    y_true: ArrayLike, proba: ArrayLike, n_bins: int = 15
) -> tuple[float, list[dict[str, Any]]]:
    """Top-label expected calibration error with equal-width confidence bins.

    Confidence is the largest probability in each row; a sample whose confidence is
    exactly a bin edge belongs to the lower bin (bins are ``(lo, hi]``, the first one
    also holds 0). ECE is ``sum_b |acc_b - conf_b| * n_b / N``.

    Returns ``(ece, bins)`` where each bin is ``{lo, hi, count, confidence, accuracy}``;
    ``confidence`` and ``accuracy`` are ``None`` for empty bins.
    """
    if int(n_bins) != n_bins or n_bins < 1:
        raise DataError(f"n_bins must be a positive integer, got {n_bins}")
    n_bins = int(n_bins)
    y, p = _validate(y_true, proba)
    return _ece(y, p, n_bins)


def _ece(y: np.ndarray, p: np.ndarray, n_bins: int) -> tuple[float, list[dict[str, Any]]]:
    conf = p.max(axis=1)
    correct = (p.argmax(axis=1) == y).astype(np.float64)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    # ceil(conf * n_bins) - 1 puts conf in (lo, hi]; clip keeps 0 in the first bin.
    idx = np.clip(np.ceil(conf * n_bins).astype(np.int64) - 1, 0, n_bins - 1)
    counts = np.bincount(idx, minlength=n_bins)
    conf_sum = np.bincount(idx, weights=conf, minlength=n_bins)
    acc_sum = np.bincount(idx, weights=correct, minlength=n_bins)
    bins: list[dict[str, Any]] = []
    ece = 0.0
    for b in range(n_bins):
        count = int(counts[b])
        if count:
            mean_conf = float(conf_sum[b] / count)
            mean_acc = float(acc_sum[b] / count)
            ece += abs(mean_acc - mean_conf) * count / len(y)
        else:
            mean_conf = mean_acc = None
        bins.append(
            {
                "lo": float(edges[b]),
                "hi": float(edges[b + 1]),
                "count": count,
                "confidence": mean_conf,
                "accuracy": mean_acc,
            }
        )
    return float(ece), bins


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
        n_bootstrap: resamples for the accuracy interval; ``0`` skips it
            (``accuracy_ci`` is then ``None``).
        seed: seed of the bootstrap, so the interval is reproducible.
        n_bins: equal-width confidence bins for ECE and the reliability diagram.

    Returns:
        ``n``, ``accuracy``, ``accuracy_ci`` (95 % percentile bootstrap ``[lo, hi]``),
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
    y, p = _validate(y_true, proba, names)
    n, n_classes = p.shape
    labels = np.arange(n_classes)
    pred = p.argmax(axis=1)
    correct = (pred == y).astype(np.float64)

    accuracy = float(skm.accuracy_score(y, pred))
    accuracy_ci = (
        _bootstrap_ci(
            lambda idx: correct[idx].mean(axis=1), n, n_bootstrap=int(n_bootstrap), seed=seed
        )
        if n_bootstrap
        else None
    )
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
        _bootstrap_ci(
            _balanced_accuracy_rows(y, correct, n_classes),
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

    ece, reliability = _ece(y, p, int(n_bins))
    return {
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


def fit_temperature(logits: ArrayLike, y_true: ArrayLike) -> float:
    """Temperature ``T`` minimising the NLL of ``softmax(logits / T)`` (Guo et al., 2017).

    Fit it on a validation split, never on the test split it will be judged on.
    ``T > 1`` softens an over-confident model, ``T < 1`` sharpens an under-confident
    one; argmax (and so accuracy) never changes. The search runs over ``log T`` with
    ``T`` in ``[0.05, 20]``.
    """
    z, y = _validate_logits(logits, y_true)
    rows = np.arange(len(y))

    def nll(log_t: float) -> float:
        scaled = z / math.exp(log_t)
        return float(np.mean(special.logsumexp(scaled, axis=1) - scaled[rows, y]))

    lo, hi = (math.log(b) for b in _TEMPERATURE_BOUNDS)
    res = optimize.minimize_scalar(nll, bounds=(lo, hi), method="bounded", options={"xatol": 1e-5})
    return float(math.exp(res.x))


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
