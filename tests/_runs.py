"""One trained and evaluated run per test session, copied for each module that needs one.

Training even a tiny run takes seconds on two loaded cores; evaluate, report and the
browser test all need the same kind of run, so it is trained once and each module gets
its own copy (``copytree`` keeps mtimes, so the galleries stay fresh).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

_BASE: dict[str, Path] = {}

# Large val/test shares so calibration (>= 10 val images) and galleries have material.
TRAIN_KW = {
    "img_size": 48,
    "head_epochs": 8,
    "epochs": 1,
    "batch_size": 16,
    "group_column": "group",
    "val_fraction": 0.3,
    "test_fraction": 0.3,
}


def _fresh_copy(
    tmp_path_factory: pytest.TempPathFactory, key: str, make: Callable[[Path], None]
) -> Path:
    """A fresh copy of the session's run ``key``, made by ``make(folder)`` the first time."""
    if key not in _BASE:
        base = tmp_path_factory.mktemp(f"{key}-base") / "run"
        make(base)
        _BASE[key] = base
    copy = tmp_path_factory.mktemp(key) / "run"
    shutil.copytree(_BASE[key], copy)
    return copy


def _evaluate(run: Path) -> None:
    # From the modules: once stylecast.evaluation.scoring (the module) is imported, the package
    # attribute of that name is the module, not the function.
    from stylecast.config import EvaluateConfig
    from stylecast.evaluation.scoring import evaluate

    evaluate(run, cfg=EvaluateConfig(n_bootstrap=200), progress=False)


def _train(lookbook: Path, run: Path, **kw: object) -> None:
    from stylecast.config import TrainConfig
    from stylecast.training.engine import train

    train(lookbook, TrainConfig(**TRAIN_KW, **kw), out=run, progress=False)


def evaluated_run(tmp_path_factory: pytest.TempPathFactory, lookbook: Path) -> Path:
    """A fresh copy of the session's trained + evaluated run on the lookbook fixture."""

    def make(run: Path) -> None:
        _train(lookbook, run)
        _evaluate(run)

    return _fresh_copy(tmp_path_factory, "insight", make)


def trained_ensemble(tmp_path_factory: pytest.TempPathFactory, lookbook: Path) -> Path:
    """A fresh copy of the session's ensemble of 3 (trained, not evaluated) on the lookbook."""
    return _fresh_copy(tmp_path_factory, "ensemble", lambda run: _train(lookbook, run, ensemble=3))


def evaluated_ensemble(tmp_path_factory: pytest.TempPathFactory, lookbook: Path) -> Path:
    """A fresh copy of the session's ensemble of 3, evaluated on its test split."""

    def make(run: Path) -> None:
        shutil.copytree(trained_ensemble(tmp_path_factory, lookbook), run)
        _evaluate(run)

    return _fresh_copy(tmp_path_factory, "ensemble-evaluated", make)
