"""One trained and evaluated run per test session, copied for each module that needs one.

Training even a tiny run takes seconds on two loaded cores; evaluate, report and the
browser test all need the same kind of run, so it is trained once and each module gets
its own copy (``copytree`` keeps mtimes, so the galleries stay fresh).
"""

from __future__ import annotations

import shutil
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


def evaluated_run(tmp_path_factory: pytest.TempPathFactory, lookbook: Path) -> Path:
    """A fresh copy of the session's trained + evaluated run on the lookbook fixture."""
    if "run" not in _BASE:
        # From the modules: once stylecast.evaluation.scoring (the module) is imported, the package
        # attribute of that name is the module, not the function.
        from stylecast.config import EvaluateConfig, TrainConfig
        from stylecast.evaluation.scoring import evaluate
        from stylecast.training.engine import train

        base = tmp_path_factory.mktemp("insight-base") / "run"
        train(lookbook, TrainConfig(**TRAIN_KW), out=base, progress=False)
        evaluate(base, cfg=EvaluateConfig(n_bootstrap=200), progress=False)
        _BASE["run"] = base
    copy = tmp_path_factory.mktemp("insight") / "run"
    shutil.copytree(_BASE["run"], copy)
    return copy


def trained_ensemble(tmp_path_factory: pytest.TempPathFactory, lookbook: Path) -> Path:
    """A fresh copy of the session's ensemble of 3 (trained, not evaluated) on the lookbook."""
    if "ensemble" not in _BASE:
        from stylecast.config import TrainConfig
        from stylecast.training.engine import train

        base = tmp_path_factory.mktemp("ensemble-base") / "ens"
        train(lookbook, TrainConfig(ensemble=3, **TRAIN_KW), out=base, progress=False)
        _BASE["ensemble"] = base
    copy = tmp_path_factory.mktemp("ensemble") / "ens"
    shutil.copytree(_BASE["ensemble"], copy)
    return copy


def evaluated_ensemble(tmp_path_factory: pytest.TempPathFactory, lookbook: Path) -> Path:
    """A fresh copy of the session's ensemble of 3, evaluated on its test split."""
    if "ensemble-evaluated" not in _BASE:
        from stylecast.config import EvaluateConfig
        from stylecast.evaluation.scoring import evaluate

        base = trained_ensemble(tmp_path_factory, lookbook)
        evaluate(base, cfg=EvaluateConfig(n_bootstrap=200), progress=False)
        _BASE["ensemble-evaluated"] = base
    copy = tmp_path_factory.mktemp("ensemble-ev") / "ens"
    shutil.copytree(_BASE["ensemble-evaluated"], copy)
    return copy
