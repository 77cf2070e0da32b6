"""What a training run hands back: :class:`TrainResult` (below the engine and the ensemble
trainer, which both make one)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from stylecast.records import EpochRecord, SkippedFile

__all__ = ["TrainResult"]


@dataclass(frozen=True)
class TrainResult:
    """What a finished training run produced: ``history`` holds one record per epoch (the
    rows of ``metrics.csv``), ``skipped`` the inputs that could not be used
    (``skipped.json``)."""

    run_dir: Path
    classes: list[str]
    mode: str
    best_epoch: int
    best_phase: str
    best_val_accuracy: float
    best_val_loss: float
    history: tuple[EpochRecord, ...]
    seconds: float
    skipped: tuple[SkippedFile, ...] = ()
    # An ensemble's members, in order (its best_* figures are then the averaged members'
    # on the validation split, and history holds every member's rows with a "member" key).
    members: tuple[TrainResult, ...] = ()
