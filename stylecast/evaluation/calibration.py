"""Calibration as plain numbers: softmax with a temperature, ECE with its reliability bins,
and temperature scaling (Guo et al., 2017).

Everything returns JSON-ready Python values, so ``evaluation.json`` can be written as is and
:mod:`stylecast.plots` can draw the reliability diagrams later.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy import optimize, special

from stylecast.errors import DataError
from stylecast.evaluation._checks import check_logits, check_proba

__all__ = [
    "TEMPERATURE_BOUNDS",
    "expected_calibration_error",
    "fit_temperature",
    "reliability_bins",
    "softmax",
]

# The search range of fit_temperature; a fit at the lower bound means "no error to learn from".
TEMPERATURE_BOUNDS = (0.05, 20.0)


def softmax(logits: ArrayLike, temperature: float = 1.0) -> np.ndarray:
    """Numerically stable softmax of ``logits / temperature`` over the last axis."""
    if not (temperature > 0 and math.isfinite(temperature)):
        raise DataError(f"temperature must be a positive finite number, got {temperature}")
    z = np.asarray(logits, dtype=np.float64) / temperature
    z = z - np.max(z, axis=-1, keepdims=True)
    e = np.exp(z)
    return e / np.sum(e, axis=-1, keepdims=True)


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
    y, p = check_proba(y_true, proba)
    return reliability_bins(y, p, n_bins)


def reliability_bins(
    y: np.ndarray, p: np.ndarray, n_bins: int
) -> tuple[float, list[dict[str, Any]]]:
    """:func:`expected_calibration_error` on arrays already checked (``y`` int, ``p`` rows
    summing to 1)."""
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


def fit_temperature(logits: ArrayLike, y_true: ArrayLike) -> float:
    """Temperature ``T`` minimising the NLL of ``softmax(logits / T)`` (Guo et al., 2017).

    Fit it on a validation split, never on the test split it will be judged on.
    ``T > 1`` softens an over-confident model, ``T < 1`` sharpens an under-confident
    one; argmax (and so accuracy) never changes. The search runs over ``log T`` with
    ``T`` in ``[0.05, 20]``.
    """
    z, y = check_logits(logits, y_true)
    rows = np.arange(len(y))

    def nll(log_t: float) -> float:
        scaled = z / math.exp(log_t)
        return float(np.mean(special.logsumexp(scaled, axis=1) - scaled[rows, y]))

    lo, hi = (math.log(b) for b in TEMPERATURE_BOUNDS)
    res = optimize.minimize_scalar(nll, bounds=(lo, hi), method="bounded", options={"xatol": 1e-5})
    return float(math.exp(res.x))
