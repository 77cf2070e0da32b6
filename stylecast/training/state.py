"""Where a training run stands, and how it survives being killed.

:class:`TrainState` holds the phase, epoch, history, best epoch (and its weights) and the
random streams of a run. Every checkpoint writes all of it atomically to
``checkpoint/last.pt`` (``best.pt`` beside it), so a resumed run draws the same batches and
augmentations, and ends where an uninterrupted one would.

The checkpoint is a dict that ``torch.load(weights_only=True)`` reads: ``state`` (phase,
epoch, history, best, bad, completed), ``model``, ``rng`` and, in the fine-tune phase,
``optimizer`` and ``scheduler`` (and ``ema``, the averaged weights, with ``--ema``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from stylecast.errors import RunError
from stylecast.fileio import atomic_path, atomic_write_text
from stylecast.run import RunFolder

__all__ = [
    "TrainState",
    "is_better",
    "load_checkpoint",
    "save_checkpoint",
]


def save_checkpoint(path: Path, payload: dict[str, Any]) -> None:
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)


def load_checkpoint(path: Path) -> dict[str, Any]:
    """A checkpoint file, read as data only (RunError when it is damaged)."""
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - a corrupt file surfaces as many error types
        raise RunError(
            f"checkpoint {path} is unreadable ({exc}); delete it to start over"
        ) from None


def is_better(row: dict[str, Any], best: dict[str, Any] | None) -> bool:
    """Higher validation accuracy wins; a tie goes to the lower validation loss.

    Within the head phase a tie keeps the earlier row: its grid runs from strong to weak
    regularisation, and on a small, separable validation split weaker regularisation always
    lowers the validation loss while generalising worse (a lookbook run chose C = 100 that
    way and fell from 0.9 to 0.6 on test, and its huge logits derailed fine-tuning).
    """
    if best is None:
        return True
    if row["val_accuracy"] != best["val_accuracy"]:
        return row["val_accuracy"] > best["val_accuracy"]
    if row.get("phase") == "head" and best.get("phase") == "head":
        return False
    return row["val_loss"] < best["val_loss"]


def _cpu_weights(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}


class TrainState:
    """The progress of one run: what :meth:`checkpoint` saves and :meth:`resume` restores.

    ``np_rng`` orders the fine-tune batches and ``gen`` draws their augmentation; both are
    seeded from ``seed`` and travel in every checkpoint with torch's global RNG.
    ``on_epoch`` is called with every epoch's row (it may raise to stop the run).
    ``select=False`` (a run without a validation split, e.g. retrained on train+val) keeps
    the last epoch and never stops early: the rows' "validation" figures are then measured
    on training images, and choosing by them would prefer whatever fits those best (a
    warm-up head over fine-tuning, measured: 0.71 on test instead of the full recipe).
    """

    def __init__(
        self,
        run: RunFolder,
        model: nn.Module,
        *,
        seed: int,
        patience: int,
        on_epoch: Callable[[dict[str, Any]], None] | None = None,
        writes: bool = True,
        select: bool = True,
    ) -> None:
        self.run = run
        self.select = select
        # False on every process of a data-parallel job but rank 0: it keeps the same
        # state, and rank 0 alone writes checkpoints, metrics and tensorboard logs.
        self.writes = writes
        self.model = model
        self.patience = patience
        self.on_epoch = on_epoch
        self.np_rng = np.random.default_rng(seed)
        self.gen = torch.Generator().manual_seed(seed)
        self.phase: str | None = None
        self.epoch = 0
        self.history: list[dict[str, Any]] = []
        self.best: dict[str, Any] | None = None
        self.bad = 0  # epochs since the best one of the phase
        self.completed: list[str] = []
        self.best_weights: dict[str, torch.Tensor] | None = None
        # Optimizer and scheduler of the phase a resumed checkpoint was in.
        self.resumed_optimizer: dict[str, Any] | None = None
        # With --ema: the averaged copy of the model the fine-tune phase validates and keeps
        # (its weights travel in every checkpoint; a resume restores them into it).
        self.ema: nn.Module | None = None
        self.resumed_ema: dict[str, torch.Tensor] | None = None
        self.tensorboard: Any = None

    @property
    def last_file(self) -> Path:
        return self.run.last_checkpoint

    @property
    def best_file(self) -> Path:
        return self.run.best_checkpoint

    # -- the checkpoint's parts -----------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        """The ``state`` entry of a checkpoint."""
        return {
            "phase": self.phase,
            "epoch": self.epoch,
            "history": self.history,
            "best": self.best,
            "bad": self.bad,
            "completed": self.completed,
        }

    def rng_state(self) -> dict[str, Any]:
        return {
            "numpy": self.np_rng.bit_generator.state,
            "torch_gen": self.gen.get_state(),
            "torch": torch.get_rng_state(),
        }

    def set_rng_state(self, state: dict[str, Any]) -> None:
        self.np_rng.bit_generator.state = state["numpy"]
        self.gen.set_state(state["torch_gen"])
        torch.set_rng_state(state["torch"])

    # -- saving and restoring ---------------------------------------------------------
    def checkpoint(
        self,
        optimizer: torch.optim.Optimizer | None = None,
        scheduler: torch.optim.lr_scheduler.LRScheduler | None = None,
    ) -> None:
        """Save everything a resume needs (atomically), and the metrics so far."""
        if not self.writes:
            return
        payload = self.snapshot()
        if optimizer is not None and scheduler is not None:
            payload["optimizer"] = optimizer.state_dict()
            payload["scheduler"] = scheduler.state_dict()
            if self.ema is not None:
                payload["ema"] = _cpu_weights(self.ema)
        if self.best_weights is not None:
            save_checkpoint(self.best_file, self.best_weights)
        save_checkpoint(self.last_file, payload)
        self.write_metrics()

    def snapshot(self) -> dict[str, Any]:
        """State, weights and RNG streams as a checkpoint holds them (without the optimizer)."""
        return {
            "state": self.to_json(),
            "model": {k: v.detach().cpu() for k, v in self.model.state_dict().items()},
            "rng": self.rng_state(),
        }

    def read_checkpoint(self) -> dict[str, Any] | None:
        """The last checkpoint (with the best weights under ``best``), or None."""
        if not self.last_file.is_file():
            return None
        ckpt = load_checkpoint(self.last_file)
        best = self.best_file
        ckpt["best"] = load_checkpoint(best) if best.is_file() else None
        return ckpt

    def restore(self, ckpt: dict[str, Any]) -> None:
        """Continue from ``ckpt`` (:meth:`read_checkpoint`, or another rank's :meth:`snapshot`
        with ``best`` holding its best weights)."""
        state = ckpt["state"]
        self.phase, self.epoch = state["phase"], state["epoch"]
        self.history, self.best, self.bad = state["history"], state["best"], state["bad"]
        self.completed = list(state.get("completed", []))
        self.model.load_state_dict(ckpt["model"])
        self.set_rng_state(ckpt["rng"])
        self.best_weights = ckpt.get("best")
        if "optimizer" in ckpt:
            self.resumed_optimizer = {k: ckpt[k] for k in ("optimizer", "scheduler")}
            self.resumed_ema = ckpt.get("ema")

    def resume(self) -> bool:
        """Restore the last checkpoint, if there is one (weights, RNG streams, history)."""
        ckpt = self.read_checkpoint()
        if ckpt is None:
            return False
        self.restore(ckpt)
        return True

    def restore_optimizer(
        self, optimizer: torch.optim.Optimizer, scheduler: torch.optim.lr_scheduler.LRScheduler
    ) -> None:
        """Continue the resumed phase's optimizer and schedule (a no-op for a fresh phase)."""
        if self.resumed_optimizer is not None:
            optimizer.load_state_dict(self.resumed_optimizer["optimizer"])
            scheduler.load_state_dict(self.resumed_optimizer["scheduler"])

    def start_phase(self, phase: str) -> None:
        """Enter ``phase``; a phase the checkpoint was already in continues where it was."""
        if self.phase != phase:
            self.phase, self.epoch, self.bad = phase, 0, 0
            self.resumed_optimizer = None
            self.resumed_ema = None

    def finish_phase(self) -> None:
        self.completed.append(str(self.phase))
        self.ema = None
        self.checkpoint()

    # -- epochs ----------------------------------------------------------------------
    def record(self, row: dict[str, Any]) -> bool:
        """Add an epoch's row; returns whether training should stop early."""
        phase_best = self._phase_best(row.get("phase"))
        self.history.append(row)
        if self.tensorboard is not None:
            for key in ("train_loss", "val_loss", "val_accuracy", "lr", "images_per_s"):
                self.tensorboard.add_scalar(f"{row['phase']}/{key}", row[key], len(self.history))
            self.tensorboard.flush()
        if not self.select or is_better(row, self.best):
            self.best = {k: row[k] for k in ("phase", "epoch", "val_accuracy", "val_loss")}
            # The weights that were validated: the averaged ones when there are.
            self.best_weights = _cpu_weights(self.ema if self.ema is not None else self.model)
        # Patience counts epochs without improvement within the phase: a fine-tune's first
        # epochs, at the peak of its learning rate, are often below the warmed-up head, and
        # counting them against the head's best stopped 2 of 15 ensemble members after
        # three fine-tune epochs (docs/ensembles.md). The best weights are still chosen over
        # every phase, above.
        self.bad = 0 if is_better(row, phase_best) else self.bad + 1
        if self.on_epoch is not None:
            self.on_epoch(row)
        return self.select and self.patience > 0 and self.bad >= self.patience

    def _phase_best(self, phase: Any) -> dict[str, Any] | None:
        """The best row of ``phase`` so far (from the history, so a resume keeps it)."""
        best = None
        for row in self.history:
            if row.get("phase") == phase and is_better(row, best):
                best = row
        return best

    def write_metrics(self) -> None:
        """``metrics.csv``: one row per epoch so far."""
        if not self.writes:
            return
        atomic_write_text(self.run.metrics_file, pd.DataFrame(self.history).to_csv(index=False))

    def open_tensorboard(self) -> None:
        """Log epochs to ``RUN/tensorboard`` too, when tensorboard is installed."""
        if not self.writes:
            return
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:  # tensorboard is an optional extra
            return
        self.tensorboard = SummaryWriter(log_dir=str(self.run / RunFolder.TENSORBOARD))

    def close(self) -> None:
        if self.tensorboard is not None:
            self.tensorboard.close()
            self.tensorboard = None
