"""Input checks shared by the metric and calibration functions: labels, probabilities, logits.

Conventions: ``y_true`` holds integer class indices ``0..C-1``; ``proba`` is an ``(N, C)``
array of predicted probabilities whose rows sum to 1. Every failure is a DataError that
says what the caller passed and what to pass instead.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

from stylecast.errors import DataError

__all__ = ["ROW_SUM_TOL", "as_labels", "check_logits", "check_proba"]

# Rows of `proba` may drift from 1 by float32 rounding; anything further is a caller bug
# (logits passed instead of probabilities, a missing softmax).
ROW_SUM_TOL = 1e-3


def as_labels(y_true: ArrayLike, name: str = "y_true") -> np.ndarray:
    """``y_true`` as an int64 vector of class indices (DataError when it is not one)."""
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


def check_proba(
    y_true: ArrayLike, proba: ArrayLike, class_names: Sequence[str] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Check labels and probabilities once; return them as int64 / float64 arrays."""
    y = as_labels(y_true)
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
    if p.min() < 0.0 or p.max() > 1.0 + ROW_SUM_TOL:
        raise DataError("proba values must lie in [0, 1]; did you pass logits? use softmax()")
    row_sums = p.sum(axis=1)
    worst = float(np.max(np.abs(row_sums - 1.0)))
    if worst > ROW_SUM_TOL:
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


def check_logits(logits: ArrayLike, y_true: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Check logits and labels once; return them as float64 / int64 arrays."""
    y = as_labels(y_true)
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
