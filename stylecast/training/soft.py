"""Soft labels for knowledge distillation: what a teacher said of every training image.

:class:`SoftTargets` carries a teacher's logits for the images of a run's split (by their
path under the run's image root) and, optionally, for extra unlabelled images (their
pixels, decoded at the student's size). The fine-tune phase then trains on

    labelled images:   alpha * tau^2 * KL(q_tau || p_tau) + (1 - alpha) * CE(y, p)
    unlabelled images: tau^2 * KL(q_tau || p_tau)

where ``q_tau`` and ``p_tau`` are the teacher's and the student's softmax at temperature
``tau`` (Hinton et al., 2015; the ``tau^2`` keeps the soft term's gradients on the scale of
the hard one's). The teacher's logits are fixed per image: the student's augmented views of
an image share its teacher's answer on the plain image.
"""

from __future__ import annotations

import hashlib
import os
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from stylecast.errors import RunError
from stylecast.fileio import atomic_path

__all__ = ["SoftTargets", "batch_pixels", "distill_loss"]


@dataclass(frozen=True, eq=False)
class SoftTargets:
    """A teacher's logits for a split's images and for extra unlabelled ones."""

    paths: tuple[str, ...]  # paths of labelled images, as in splits.csv
    logits: np.ndarray  # (len(paths), C) the teacher's calibrated logits
    temperature: float = 2.0
    alpha: float = 0.5
    extra_pixels: np.ndarray | None = None  # (E, S, S, 3) uint8 at the student's size
    extra_logits: np.ndarray | None = None  # (E, C)
    extra_paths: tuple[str, ...] = ()  # where the extra images are (to decode them again)
    record: dict[str, Any] = field(default_factory=dict)  # distill.json: teacher, settings

    def __post_init__(self) -> None:
        if len(self.paths) != len(self.logits):
            raise ValueError("one row of teacher logits per path is needed")
        if self.extra_pixels is not None and len(self.extra_pixels) != len(self.extra_logits):
            raise ValueError("one row of teacher logits per extra image is needed")

    def digest(self) -> str:
        """A digest of the soft labels (stored with them, checked when they are read back)."""
        h = hashlib.blake2b(digest_size=16)
        for part in (self.paths, self.extra_paths):
            h.update("\0".join(part).encode() + b"\1")
        for arr in (self.logits, self.extra_logits):
            if arr is not None:
                h.update(np.ascontiguousarray(arr, dtype=np.float32).tobytes())
        h.update(f"{self.temperature}:{self.alpha}".encode())
        return h.hexdigest()

    def save(self, path: str | os.PathLike[str]) -> None:
        """The soft labels as ``.npz`` (the extra images' pixels are decoded again on use)."""
        extra = self.extra_logits if self.extra_logits is not None else np.zeros((0, 0))
        with atomic_path(path) as tmp, open(tmp, "wb") as f:
            np.savez(
                f,
                paths=np.array(self.paths, dtype=str),
                logits=self.logits.astype(np.float32),
                extra_paths=np.array(self.extra_paths, dtype=str),
                extra_logits=extra.astype(np.float32),
                settings=np.array([self.temperature, self.alpha]),
                digest=np.array(self.digest()),
            )

    @classmethod
    def load(cls, path: str | os.PathLike[str], record: dict[str, Any]) -> SoftTargets:
        """Soft labels written by :meth:`save`, verified (RunError when damaged); the extra
        images' pixels are left for the caller to decode (``extra_paths``)."""
        try:
            with np.load(path, allow_pickle=False) as z:
                extra = z["extra_logits"]
                out = cls(
                    paths=tuple(str(p) for p in z["paths"]),
                    logits=z["logits"],
                    temperature=float(z["settings"][0]),
                    alpha=float(z["settings"][1]),
                    extra_paths=tuple(str(p) for p in z["extra_paths"]),
                    extra_logits=extra if len(z["extra_paths"]) else None,
                    record=record,
                )
                stored = str(z["digest"])
        except (OSError, ValueError, KeyError, IndexError, zipfile.BadZipFile) as exc:
            raise RunError(f"{path} is unreadable ({type(exc).__name__}); it is damaged") from None
        if stored != out.digest():
            raise RunError(f"{path} does not match its own digest: it is damaged")
        return out

    @property
    def n_extra(self) -> int:
        return 0 if self.extra_pixels is None else len(self.extra_pixels)

    def with_extra_pixels(self, pixels: np.ndarray) -> SoftTargets:
        """The same soft labels with the extra images' pixels (decoded at the student's size)."""
        import dataclasses

        if len(pixels) != len(self.extra_paths):
            raise RunError(
                f"{len(self.extra_paths)} extra images were labelled by the teacher but "
                f"{len(pixels)} could be decoded; were some removed?"
            )
        return dataclasses.replace(self, extra_pixels=pixels)

    def aligned(self, relpaths: Sequence[str], needed: np.ndarray) -> np.ndarray:
        """The teacher's logits in the order of a run's rows (``relpaths``); rows where
        ``needed`` is set (the training rows) must all have one (else RunError)."""
        index = {p: i for i, p in enumerate(self.paths)}
        rows = np.array([index.get(str(p), -1) for p in relpaths], dtype=np.int64)
        missing = np.flatnonzero(needed & (rows < 0))
        if len(missing):
            raise RunError(
                f"the teacher's soft labels lack {len(missing)} training image(s) of this "
                f"run (first: {relpaths[missing[0]]}); distill from the teacher's own split"
            )
        out = np.full((len(rows), self.logits.shape[1]), np.nan, dtype=np.float32)
        out[rows >= 0] = self.logits[rows[rows >= 0]]
        return out


def batch_pixels(pixels: np.ndarray, extra: np.ndarray | None, idx: np.ndarray) -> np.ndarray:
    """uint8 pixels of rows ``idx``: below ``len(pixels)`` the run's, above the extra images'."""
    n = len(pixels)
    if extra is None or (idx < n).all():
        return pixels[idx]
    out = np.empty((len(idx), *pixels.shape[1:]), dtype=pixels.dtype)
    own = idx < n
    if own.any():
        out[own] = pixels[idx[own]]
    out[~own] = extra[idx[~own] - n]
    return out


def distill_loss(
    logits: torch.Tensor,
    teacher: torch.Tensor,
    y: torch.Tensor,
    *,
    temperature: float,
    alpha: float,
    label_smoothing: float = 0.0,
) -> torch.Tensor:
    """The per-image distillation loss (see the module docstring); ``y`` is -1 where an
    image has no label."""
    tau = float(temperature)
    log_p = F.log_softmax(logits.float() / tau, dim=1)
    q = F.softmax(teacher.float() / tau, dim=1)
    soft = (q * (torch.log(q.clamp_min(1e-12)) - log_p)).sum(dim=1) * tau * tau
    labelled = y >= 0
    hard = torch.zeros_like(soft)
    if labelled.any():
        hard[labelled] = F.cross_entropy(
            logits.float()[labelled],
            y[labelled],
            label_smoothing=label_smoothing,
            reduction="none",
        )
    return torch.where(labelled, alpha * soft + (1.0 - alpha) * hard, soft)
