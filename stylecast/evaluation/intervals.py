"""Confidence intervals: percentile bootstrap (accuracy, balanced accuracy) and Wilson
(per-class precision and recall)."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from scipy import stats

from stylecast.errors import DataError

__all__ = ["balanced_accuracy_rows", "bootstrap_ci", "wilson_interval"]

# Bounds the bootstrap's memory: resample at most this many indices at once.
BOOTSTRAP_CHUNK = 2_000_000


def bootstrap_ci(
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
    chunk = max(1, BOOTSTRAP_CHUNK // max(n, 1))
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


def balanced_accuracy_rows(
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
