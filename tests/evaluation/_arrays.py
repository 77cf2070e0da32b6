"""Probability arrays the metric tests share: a fixed 3-class problem, calibrated draws."""

from __future__ import annotations

import numpy as np

from stylecast.evaluation import softmax

NAMES3 = ["FallWinter", "SpringSummer", "Resort"]


def three_class_arrays() -> tuple[np.ndarray, np.ndarray]:
    """A fixed, imperfect 3-class problem (seeded, so values are stable)."""
    rng = np.random.default_rng(42)
    y = rng.integers(0, 3, size=200)
    logits = rng.normal(size=(200, 3))
    logits[np.arange(200), y] += 1.2  # informative but far from perfect
    return y, softmax(logits)


def calibrated(n: int, n_classes: int = 3, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Logits and labels drawn *from* softmax(logits): calibrated by construction."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(scale=2.0, size=(n, n_classes))
    p = softmax(logits)
    u = rng.random(n)[:, None]
    y = (u > np.cumsum(p, axis=1)).sum(axis=1)
    return logits, np.minimum(y, n_classes - 1)
