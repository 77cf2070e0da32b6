"""Numbers the plot tests draw: a confusion matrix, class names and a training history."""

from __future__ import annotations

import numpy as np

from stylecast.evaluation import classification_metrics, softmax

CM = [[50, 3, 7], [4, 41, 0], [9, 1, 35]]
NAMES = ["FallWinter", "SpringSummer", "Resort"]
HISTORY = [
    {"epoch": 1, "train_loss": 1.10, "val_loss": 0.95, "val_accuracy": 0.55},
    {"epoch": 2, "train_loss": 0.80, "val_loss": 0.82, "val_accuracy": 0.63},
    {"epoch": 3, "train_loss": 0.62, "val_loss": None, "val_accuracy": None},
    {"epoch": 4, "train_loss": 0.51, "val_loss": 0.79, "val_accuracy": 0.68},
]


def sample_metrics() -> dict:
    """classification_metrics of an informative, over-confident 3-class model (seeded)."""
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, size=300)
    logits = rng.normal(size=(300, 3))
    logits[np.arange(300), y] += 1.5
    return classification_metrics(y, softmax(logits * 2), NAMES, n_bootstrap=50)
