"""Choosing the temperature: keep a fitted ``T`` only where it holds out of sample.

Temperature scaling fitted on a validation split can make calibration worse on new images:
the NLL is dominated by a few confident mistakes, and a ``T`` that fits them need not
generalise. :func:`choose_temperature` therefore cross-validates the whole procedure on the
validation logits (stratified folds, fixed seed): ``T`` is fitted on ``K - 1`` folds and the
held-out fold is scored with that ``T`` and with ``T = 1``. The ``T`` fitted on all validation
images is kept only when the cross-validated log loss falls by at least ``MIN_NLL_GAIN``
(relative) and by at least one standard error of the per-image gain, and the cross-validated
ECE does not rise; otherwise ``T = 1``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy import special

from stylecast.evaluation._checks import check_logits
from stylecast.evaluation.calibration import fit_temperature, reliability_bins, softmax
from stylecast.records.parts import FITTED, NO_GAIN, SEPARABLE, TOO_FEW, TemperatureFit

__all__ = [
    "CALIBRATION_FOLDS",
    "MIN_NLL_GAIN",
    "TemperatureChoice",
    "choose_temperature",
    "stratified_folds",
]

# Folds of the cross-validation on the validation split (EvaluateConfig.calibration_folds,
# once the config has that field).
CALIBRATION_FOLDS = 5
# The fitted T must lower the cross-validated log loss by at least this share of the log
# loss at T = 1: a smaller gain is within the noise of a validation split.
MIN_NLL_GAIN = 0.01


@dataclass(frozen=True)
class TemperatureChoice(TemperatureFit):
    """The temperature this evaluation keeps, why, and the cross-validation behind it (the
    fields: :class:`stylecast.records.parts.TemperatureFit`)."""

    def to_json(self) -> dict[str, Any]:
        return asdict(self) | {"min_nll_gain": MIN_NLL_GAIN}


def stratified_folds(y: np.ndarray, folds: int, seed: int = 0) -> np.ndarray:
    """A fold number per sample: each class shuffled (seeded) and dealt round-robin, so
    every fold holds about the same share of every class."""
    rng = np.random.default_rng(seed)
    fold = np.empty(len(y), dtype=np.int64)
    start = 0
    for c in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == c))
        # Continue the deal where the last class stopped, so small classes do not all
        # land in fold 0.
        fold[idx] = (start + np.arange(len(idx))) % folds
        start = (start + len(idx)) % folds
    return fold


def _nll_rows(z: np.ndarray, y: np.ndarray, temperature: float) -> np.ndarray:
    scaled = z / temperature
    return special.logsumexp(scaled, axis=1) - scaled[np.arange(len(y)), y]


def _fit_or_one(z: np.ndarray, y: np.ndarray) -> float:
    """The procedure being validated: fit T, except on a split with no error (T = 1)."""
    return 1.0 if (z.argmax(1) == y).all() else fit_temperature(z, y)


def choose_temperature(
    logits: ArrayLike,
    y_true: ArrayLike,
    *,
    folds: int = CALIBRATION_FOLDS,
    seed: int = 0,
    min_images: int = 10,
    n_bins: int = 15,
) -> TemperatureChoice:
    """The temperature to keep for validation ``logits`` with labels ``y_true``.

    ``T = 1`` with decision ``TOO_FEW`` below ``min_images`` images, ``SEPARABLE`` when the
    split has no error, ``NO_GAIN`` when the cross-validated log loss does not fall by
    ``MIN_NLL_GAIN`` (relative) and one standard error, or the cross-validated ECE rises;
    else the ``T`` fitted on every image (``FITTED``). Deterministic for a given ``seed``.
    """
    z, y = check_logits(logits, y_true)
    n = len(y)
    if n < max(int(min_images), 2):
        return TemperatureChoice(1.0, TOO_FEW, n_val=n)
    if (z.argmax(1) == y).all():
        # An error-free split lets the NLL fall towards T -> 0: the fit would claim
        # certainty from a handful of images.
        return TemperatureChoice(1.0, SEPARABLE, n_val=n)
    fitted = fit_temperature(z, y)
    k = max(2, min(int(folds), n))
    fold = stratified_folds(y, k, seed)
    oof_t = np.ones(n)  # the T each image is scored with when held out
    for f in range(k):
        held = fold == f
        if held.any() and (~held).any():
            oof_t[held] = _fit_or_one(z[~held], y[~held])
    scaled = z / oof_t[:, None]
    rows_fitted, rows_one = _nll_rows(scaled, y, 1.0), _nll_rows(z, y, 1.0)
    nll_fitted, nll_one = float(rows_fitted.mean()), float(rows_one.mean())
    gain = rows_one - rows_fitted
    se = float(gain.std(ddof=1) / math.sqrt(n))
    ece_fitted = reliability_bins(y, softmax(scaled), n_bins)[0]
    ece_one = reliability_bins(y, softmax(z), n_bins)[0]
    # A gain within one standard error is what a validation split's noise produces on its
    # own; the ECE guard keeps a T that fits a few confident mistakes from bending the rest.
    helps = (
        math.isfinite(nll_fitted)
        and nll_one - nll_fitted >= max(MIN_NLL_GAIN * nll_one, se)
        and ece_fitted <= ece_one
    )
    return TemperatureChoice(
        temperature=fitted if helps else 1.0,
        decision=FITTED if helps else NO_GAIN,
        n_val=n,
        fitted=fitted,
        folds=k,
        cv_nll_fitted=nll_fitted,
        cv_nll_one=nll_one,
        cv_ece_fitted=ece_fitted,
        cv_ece_one=ece_one,
        cv_nll_se=se,
    )
