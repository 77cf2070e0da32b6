"""The teacher's soft labels: its calibrated logits for the student's training images.

The teacher is an ensemble run. Its logits for an image are its members' combined at their
temperatures and divided by the ensemble's own (what ``stylecast predict`` turns into
probabilities), computed by ONNX Runtime when the teacher has a usable export, else torch.

Extra unlabelled images widen what the student learns from. None of them may be, or look
like, an image the teacher was validated or tested on: such an image would carry held-out
answers into training. Every extra image that is a near-duplicate (perceptual hash, the
run's own ``dup_threshold``) of a validation or test image is left out and reported.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from stylecast.data import prepare_images
from stylecast.errors import DataError
from stylecast.export import onnx_engine
from stylecast.inference import read_prediction_input
from stylecast.run import ModelInfo, Preprocessing, RunFolder

__all__ = ["ExtraImages", "TeacherScorer", "extra_pixels", "extra_targets", "split_targets"]


@dataclass
class TeacherScorer:
    """A teacher ensemble's calibrated logits for letterboxed pixels."""

    folder: RunFolder
    model: Any
    info: ModelInfo
    onnx: Any = None  # an OnnxEngine when the teacher's export matches its members

    @classmethod
    def load(cls, folder: RunFolder) -> TeacherScorer:
        from stylecast.models import load_model

        model, info = load_model(folder.path)
        return cls(folder, model, info, onnx_engine(folder.path, "auto"))

    def logits(self, pixels: np.ndarray, batch_size: int = 64) -> np.ndarray:
        from stylecast.ensemble import MemberLogits, combine_logits
        from stylecast.training import predict_logits

        if len(pixels) == 0:
            return np.zeros((0, len(self.info.classes)), np.float32)
        if self.onnx is not None:
            members = self.onnx.runtime.member_logits(np.ascontiguousarray(pixels), batch_size)
        else:
            prep = self.info.preprocessing
            members = predict_logits(
                MemberLogits(self.model), pixels, prep.mean, prep.std, batch_size=batch_size
            )
        temps = [m.temperature for m in self.info.members]
        return combine_logits(members, temps) / float(self.info.temperature)

    @property
    def engine(self) -> str:
        return self.onnx.describe() if self.onnx is not None else "torch"


def _decode(table: pd.DataFrame, prep: Preprocessing, cache: Any, progress: bool) -> Any:
    return prepare_images(table, prep.img_size, cache=cache, fill=prep.fill, progress=progress)


def _split_rows(folder: RunFolder, names: Sequence[str]) -> pd.DataFrame:
    splits = folder.splits()
    rows = splits[splits["split"].isin(list(names))]
    root = folder.image_root()
    return rows.assign(relpath=rows["path"], path=[str(root / p) for p in rows["path"]])


def split_targets(
    teacher: TeacherScorer, *, cache: Any, progress: bool
) -> tuple[tuple[str, ...], np.ndarray]:
    """The teacher's logits for its training split's images (paths as in splits.csv)."""
    rows = _split_rows(teacher.folder, ["train"])
    if rows.empty:
        raise DataError(f"{teacher.folder.splits_file} has no training images to distill on")
    prepared = _decode(rows, teacher.info.preprocessing, cache, progress)
    logits = teacher.logits(prepared.pixels)
    return tuple(str(p) for p in prepared.table["relpath"]), logits


@dataclass(frozen=True)
class ExtraImages:
    """Extra unlabelled images the student learns from, and those left out (and why)."""

    paths: tuple[str, ...]  # absolute
    logits: np.ndarray  # (E, C) the teacher's
    dropped: list[dict[str, str]] = field(default_factory=list)  # {"path", "reason"}


def extra_targets(
    teacher: TeacherScorer,
    items: Sequence[str | os.PathLike[str]],
    *,
    dup_threshold: int,
    cache: Any,
    progress: bool,
) -> ExtraImages:
    """The teacher's logits for extra images (files, folders or a manifest), without any
    that duplicate a validation or test image of the teacher's split."""
    from stylecast.data import find_near_duplicates

    inp = read_prediction_input(items)
    prep = teacher.info.preprocessing
    extra = _decode(inp.table, prep, cache, progress)
    dropped = [{"path": s["path"], "reason": s.get("reason", "unreadable")} for s in inp.skipped]
    dropped += [{"path": s["path"], "reason": s.get("reason", "unreadable")} for s in extra.skipped]
    held = _decode(_split_rows(teacher.folder, ["val", "test"]), prep, cache, False)
    n = len(extra.table)
    keep = np.ones(n, dtype=bool)
    if n and len(held.table):
        dups = find_near_duplicates(
            [*extra.digests, *held.digests], [*extra.infos, *held.infos], dup_threshold
        )
        held_clusters = set(dups.cluster[n:].tolist())
        keep = np.array([c not in held_clusters for c in dups.cluster[:n]], dtype=bool)
    paths = [str(Path(p).resolve()) for p in extra.table["path"]]
    for i in np.flatnonzero(~keep):
        dropped.append(
            {
                "path": paths[i],
                "reason": "a near-duplicate of a validation or test image of the teacher",
            }
        )
    kept = np.flatnonzero(keep)
    # Scored straight from the memory-mapped cache, a batch at a time.
    logits = teacher.logits(extra.pixels)[kept]
    return ExtraImages(tuple(paths[i] for i in kept), logits, dropped)


def extra_pixels(paths: Sequence[str], prep: Preprocessing, *, cache: Any, progress: bool) -> Any:
    """The extra images decoded at the student's size, in the order of ``paths``."""
    table = pd.DataFrame({"path": list(paths), "relpath": list(paths)})
    return _decode(table, prep, cache, progress).pixels
