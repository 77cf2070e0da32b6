"""What both training phases share: the :class:`PhaseContext` they run in, progress output,
and the epoch row that ``metrics.csv``, the progress line and the callbacks see."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from stylecast.config import TrainConfig
from stylecast.data import ImageCache, RunData
from stylecast.errors import RunError
from stylecast.models import create_model, preprocessing_for
from stylecast.run import Preprocessing
from stylecast.training.distributed import SINGLE, Dist
from stylecast.training.optim import class_weights
from stylecast.training.soft import SoftTargets

__all__ = ["PhaseContext", "Progress", "epoch_line", "epoch_row", "evaluate_logits", "fmt_eta"]


class Progress:
    """A tqdm bar within an epoch, and one line per epoch on stderr."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def bar(self, total: int, desc: str) -> Any:
        """A progress bar over ``total`` images, or None when progress is off."""
        if not self.enabled:
            return None
        from tqdm.auto import tqdm

        return tqdm(total=total, desc=desc, unit="img", leave=False, file=sys.stderr)

    def line(self, text: str) -> None:
        if self.enabled:
            print(text, file=sys.stderr, flush=True)

    def early_stop(self, patience: int) -> None:
        self.line(f"early stop: val_accuracy did not improve for {patience} epochs")


@dataclass(frozen=True, eq=False)
class PhaseContext:
    """What a training phase works with; the same for every phase of a run.

    ``train_idx`` and ``val_idx`` index ``rd``; without a validation split (``has_val``
    false) the epochs' figures are measured on the training images, and the run keeps its
    last epoch (no early stopping; head mode still picks C on them). ``dist`` says which
    process of a data-parallel job this is.
    """

    model: nn.Module
    rd: RunData
    cfg: TrainConfig
    prep: Preprocessing
    device: torch.device
    progress: Progress
    cache: ImageCache
    # This process's place in a data-parallel job (world size 1 outside torchrun).
    dist: Dist = SINGLE
    # Distillation: a teacher's soft labels (the fine-tune phase trains on them).
    soft: SoftTargets | None = None
    train_idx: np.ndarray = field(init=False)
    val_idx: np.ndarray = field(init=False)
    # Rows fine-tuning draws batches from: the training rows, then (distillation) the extra
    # unlabelled images, numbered from len(rd) on.
    fit_idx: np.ndarray = field(init=False)
    # The teacher's logits per row of fit_idx's numbering (distillation only).
    teacher_logits: np.ndarray | None = field(init=False)

    @classmethod
    def for_run(
        cls, rd: RunData, cfg: TrainConfig, *, device: Any, progress: Progress, **kw: Any
    ) -> PhaseContext:
        """A new network of ``cfg.model`` for ``rd``'s classes (ImageNet weights as ``cfg``
        says) and the context a phase trains it in (``kw``: cache, dist, soft)."""
        model = create_model(
            cfg.model, len(rd.classes), pretrained=cfg.pretrained, weights=cfg.weights
        )
        prep = preprocessing_for(cfg.model, cfg.img_size)
        return cls(model, rd, cfg, prep, device, progress, **kw)

    def __post_init__(self) -> None:
        tr, va = self.rd.indices("train"), self.rd.indices("val")
        object.__setattr__(self, "train_idx", tr)
        object.__setattr__(self, "val_idx", va if len(va) else tr)
        fit, teacher = tr, None
        if self.soft is not None:
            if self.soft.extra_paths and self.soft.extra_pixels is None:
                raise RunError("the extra images of the soft labels were not decoded")
            n = len(self.rd.y)
            needed = np.zeros(n, dtype=bool)
            needed[tr] = True
            teacher = self.soft.aligned(list(self.rd.table["relpath"]), needed)
            if self.soft.n_extra:
                fit = np.concatenate([tr, n + np.arange(self.soft.n_extra)])
                teacher = np.concatenate([teacher, self.soft.extra_logits.astype(np.float32)])
        object.__setattr__(self, "fit_idx", fit)
        object.__setattr__(self, "teacher_logits", teacher)

    @property
    def has_val(self) -> bool:
        return bool(len(self.rd.indices("val")))

    def loss_weight(self, device: torch.device | None = None) -> torch.Tensor | None:
        """Per-class loss weights for ``balance="weights"``, else None."""
        if self.cfg.balance != "weights":
            return None
        weight = class_weights(self.rd.y[self.train_idx], len(self.rd.classes))
        return weight if device is None else weight.to(device)


def evaluate_logits(logits: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(cross-entropy loss, accuracy) of ``logits`` against labels ``y``."""
    t = torch.from_numpy(logits)
    loss = F.cross_entropy(t, torch.from_numpy(y)).item()
    acc = float((logits.argmax(1) == y).mean()) if len(y) else float("nan")
    return loss, acc


def epoch_row(
    phase: str,
    epoch: int,
    *,
    train_loss: float,
    val_loss: float,
    val_accuracy: float,
    lr: float,
    images_per_s: float,
    seconds: float,
) -> dict[str, Any]:
    """One row of ``metrics.csv`` (rounded so the file stays readable)."""
    return {
        "phase": phase,
        "epoch": epoch,
        "train_loss": round(train_loss, 6),
        "val_loss": round(val_loss, 6),
        "val_accuracy": round(val_accuracy, 6),
        "lr": lr,
        "images_per_s": round(images_per_s, 2),
        "seconds": round(seconds, 3),
    }


def fmt_eta(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds // 60}m{seconds % 60:02d}s"


def epoch_line(row: dict[str, Any], total_epochs: int, eta: float) -> str:
    """The progress line printed after an epoch."""
    return (
        f"[{row['phase']}] epoch {row['epoch']}/{total_epochs}  "
        f"train_loss {row['train_loss']:.4f}  "
        f"val_loss {row['val_loss']:.4f}  val_acc {row['val_accuracy']:.3f}  "
        f"{row['images_per_s']:.1f} img/s  ETA {fmt_eta(eta)}"
    )
