"""The typed records a training run hands on: one :class:`EpochRecord` per row of
``metrics.csv`` and one :class:`SkippedFile` per entry of ``skipped.json``.

:class:`~stylecast.training.TrainResult` holds them (tuning reads the epochs to score a
trial, the CLI the skipped files); the files themselves are written from the same rows,
so they are unchanged. ``record["val_accuracy"]`` still answers for code written against
the rows as dicts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from stylecast.records.parts import _object

__all__ = ["EpochRecord", "SkippedFile"]


class _ByKey:
    """Read access by the JSON key (``row["epoch"]``, ``row.get("lr")``) for older code."""

    def to_json(self) -> dict[str, Any]:
        raise NotImplementedError

    def __getitem__(self, key: str) -> Any:
        return self.to_json()[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.to_json().get(key, default)


def _float(value: Any) -> float:
    return math.nan if value is None else float(value)


@dataclass(frozen=True)
class EpochRecord(_ByKey):
    """One epoch of one phase (a row of ``metrics.csv``); ``member`` is the ensemble
    member it belongs to (None for a single model)."""

    phase: str
    epoch: int
    train_loss: float
    val_loss: float
    val_accuracy: float
    lr: float
    images_per_s: float
    seconds: float
    member: int | None = None

    def to_json(self) -> dict[str, Any]:
        row = {} if self.member is None else {"member": self.member}
        return row | {
            "phase": self.phase,
            "epoch": self.epoch,
            "train_loss": self.train_loss,
            "val_loss": self.val_loss,
            "val_accuracy": self.val_accuracy,
            "lr": self.lr,
            "images_per_s": self.images_per_s,
            "seconds": self.seconds,
        }

    @classmethod
    def from_json(cls, row: Any) -> EpochRecord:
        """A history row (``epoch_row``'s dict, or a row read back from ``metrics.csv``)."""
        o = _object(row, "an epoch row")
        member = o.get("member")
        return cls(
            phase=str(o.get("phase", "train")),
            epoch=int(o["epoch"]),
            train_loss=_float(o.get("train_loss")),
            val_loss=_float(o.get("val_loss")),
            val_accuracy=_float(o.get("val_accuracy")),
            lr=_float(o.get("lr")),
            images_per_s=_float(o.get("images_per_s")),
            seconds=_float(o.get("seconds")),
            member=None if member is None else int(member),
        )

    def with_member(self, member: int) -> EpochRecord:
        from dataclasses import replace

        return replace(self, member=member)


@dataclass(frozen=True)
class SkippedFile(_ByKey):
    """An input that could not be used: its path (relative to the source), the kind of
    problem (``truncated``, ``not_image``, ``no_label``, ...) and the reason in words."""

    path: str
    kind: str
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "kind": self.kind, "reason": self.reason}

    @classmethod
    def from_json(cls, obj: Any) -> SkippedFile:
        o = _object(obj, "a skipped file")
        return cls(str(o["path"]), str(o.get("kind", "unreadable")), str(o.get("reason", "")))
