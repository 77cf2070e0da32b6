"""The shift check: do new images look like the images the run was trained on?

Called by ``stylecast predict`` and by ``stylecast evaluate RUN OTHER_DATA``. Features
come from the frozen ImageNet backbone of the run's architecture (the features a
head-mode run classifies; for a fine-tuned run they are untouched by its training
images). When those weights are unavailable (a hub-only backbone offline), the run's
own model is used and the reference comes from its held-out splits instead, since a
fine-tuned model's features of its own training images are not those of new images.

The reference side (at most ``max_per_side`` training images, a fixed sample) is
computed once and kept in the run as ``shift_reference.npz``, keyed by the extractor's
weights, the input size and the sample, and verified by a digest before use; so a later
check costs only the new images' forward pass. See :mod:`stylecast.inference.shift_stats`
for the numbers, and ``docs/shift.md`` for the thresholds and what they measured.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import zipfile
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from stylecast.errors import StylecastError
from stylecast.inference.shift_stats import (
    AccuracyDrop,
    ConfidenceShift,
    DomainScore,
    accuracy_drop,
    balanced_sample,
    confidence_shift,
    domain_auc,
)
from stylecast.records import EvaluationRecord
from stylecast.run import ModelInfo, RunFolder

__all__ = ["MIN_IMAGES", "ShiftOptions", "ShiftReport", "check_shift"]

MIN_IMAGES = 50  # fewer new (or reference) images than this: the check is skipped, with why
_REFERENCE_FORMAT = 1


@dataclass(frozen=True)
class ShiftOptions:
    """How the check decides. ``auc_threshold`` and ``alpha``: see docs/shift.md."""

    auc_threshold: float = 0.7
    alpha: float = 0.01
    max_per_side: int = 1000
    folds: int = 5
    seed: int = 0
    batch_size: int = 64


@dataclass(frozen=True)
class ShiftReport:
    """What the shift check found; ``shifted`` decides the warning line."""

    shifted: bool
    skipped: str | None = None  # why the check did not run
    features: str = ""
    domain: DomainScore | None = None
    confidence: ConfidenceShift | None = None
    accuracy: AccuracyDrop | None = None
    notes: tuple[str, ...] = ()
    options: ShiftOptions = field(default_factory=ShiftOptions)

    def warning(self) -> str | None:
        """``warning: distribution shift: ...`` with the numbers, or None when not shifted."""
        if not self.shifted:
            return None
        return "warning: distribution shift: " + "; ".join(self._parts()) + _ADVICE

    def summary(self) -> str:
        """One line for every outcome (the warning, or what the check found or why not)."""
        if self.skipped:
            return f"shift check skipped: {self.skipped}"
        return (
            self.warning()
            or "shift check: no distribution shift (" + "; ".join(self._parts()) + ")"
        )

    def _parts(self) -> list[str]:
        o = self.options
        parts = []
        if self.domain is not None:
            d = self.domain
            parts.append(
                f"a classifier tells these images from the training images with AUC "
                f"{d.auc:.2f} (95% {d.auc_ci[0]:.2f}-{d.auc_ci[1]:.2f}, {_p(d.p_value)}; 0.5 = "
                f"alike, warning from {o.auc_threshold:.2f})"
            )
        if self.confidence is not None:
            c = self.confidence
            parts.append(
                f"mean confidence {c.mean_new:.2f} vs {c.mean_reference:.2f} on the test split "
                f"(KS {_p(c.p_value)})"
            )
        if self.accuracy is not None:
            a = self.accuracy
            parts.append(
                f"accuracy {a.accuracy:.3f} vs {a.reference:.3f} on the test split "
                f"({_p(a.p_value)} for lower)"
            )
        return parts

    def to_json(self) -> dict[str, Any]:
        return {
            "shifted": self.shifted,
            "skipped": self.skipped,
            "warning": self.warning(),
            "summary": self.summary(),
            "features": self.features,
            "domain": self.domain.to_json() if self.domain else None,
            "confidence": self.confidence.to_json() if self.confidence else None,
            "accuracy": self.accuracy.to_json() if self.accuracy else None,
            "notes": list(self.notes),
            "auc_threshold": self.options.auc_threshold,
            "alpha": self.options.alpha,
        }


_ADVICE = (
    " -- the model was not trained on images like these: check its accuracy on a labelled "
    "sample before trusting these predictions"
)


def _p(p: float) -> str:
    return "p<0.001" if p < 0.001 else f"p={p:.3f}"


def check_shift(
    run: str | os.PathLike[str],
    pixels: np.ndarray,
    *,
    confidence: np.ndarray,
    correct: np.ndarray | None = None,
    options: ShiftOptions | None = None,
    cache: Any = None,
    progress: bool = False,
) -> ShiftReport:
    """Compare new images (uint8 NHWC ``pixels`` at the run's size) with the run's training
    images; ``confidence`` is their top probability, ``correct`` (labelled data) whether
    each prediction was right."""
    o = options or ShiftOptions()
    folder = RunFolder(run)
    if len(pixels) < MIN_IMAGES:
        return ShiftReport(
            False, skipped=f"only {len(pixels)} image(s); the check needs {MIN_IMAGES}", options=o
        )
    info = folder.model_info()
    extractor, described, splits = _extractor(folder, info)
    try:
        reference = _reference_features(
            folder, info, extractor, splits, o, cache=cache, progress=progress
        )
    except _Skip as skip:
        return ShiftReport(False, skipped=str(skip), features=described, options=o)
    idx = balanced_sample(len(pixels), o.max_per_side, o.seed + 1)
    new = _features(extractor, pixels, idx, info, o.batch_size)
    domain = domain_auc(reference, new, max_per_side=o.max_per_side, folds=o.folds, seed=o.seed)
    notes: list[str] = []
    conf = _confidence(folder, confidence, notes)
    acc = _accuracy(folder, correct, notes)
    covariate = domain.auc >= o.auc_threshold and domain.p_value < o.alpha
    dropped = acc is not None and acc.accuracy < acc.reference and acc.p_value < o.alpha
    return ShiftReport(
        shifted=bool(covariate or dropped),
        features=described,
        domain=domain,
        confidence=conf,
        accuracy=acc,
        notes=tuple(notes),
        options=o,
    )


class _Skip(Exception):
    """The check cannot run (its message says why)."""


def _extractor(folder: RunFolder, info: ModelInfo) -> tuple[Any, str, tuple[str, ...]]:
    """The feature model, its description and the splits the reference is drawn from."""
    from stylecast.models import create_model, load_model

    try:
        # The ImageNet head is kept: a fresh head would be random, and its weights are part
        # of the key of the stored reference.
        model = create_model(info.name, num_classes=1000, pretrained=True)
        return model.eval(), f"frozen ImageNet {info.name} backbone", ("train",)
    except StylecastError:
        model, _ = load_model(folder.path)
        members = getattr(model, "members", None)
        if members is not None:  # an ensemble: its first member's features
            model = members[0]
        return model, f"the run's own {info.name} (no ImageNet weights offline)", ("val", "test")


def _features(
    model: Any, pixels: np.ndarray, idx: np.ndarray, info: ModelInfo, batch_size: int
) -> np.ndarray:
    """Pooled fp32 features of rows ``idx`` (read a block at a time from a memory map)."""
    from stylecast.training import predict_logits

    prep = info.preprocessing
    out = [
        predict_logits(
            model,
            np.asarray(pixels[idx[s : s + 256]]),
            prep.mean,
            prep.std,
            batch_size=batch_size,
            features=True,
        )
        for s in range(0, len(idx), 256)
    ]
    return np.concatenate(out) if out else np.zeros((0, 0), np.float32)


def _reference_key(model: Any, info: ModelInfo, relpaths: list[str]) -> str:
    from stylecast.models import state_dict_digest

    h = hashlib.blake2b(digest_size=16)
    prep = info.preprocessing
    h.update(f"{_REFERENCE_FORMAT}:{state_dict_digest(model)}:{prep.to_json()}:".encode())
    for r in relpaths:
        h.update(r.encode() + b"\0")
    return h.hexdigest()


def _reference_features(
    folder: RunFolder,
    info: ModelInfo,
    model: Any,
    splits: tuple[str, ...],
    o: ShiftOptions,
    *,
    cache: Any,
    progress: bool,
) -> np.ndarray:
    """Features of a fixed sample of the run's ``splits`` images: from the run, or computed."""
    import pandas as pd

    table = folder.splits()
    rows = table[table["split"].isin(splits)].reset_index(drop=True)
    if len(rows) < MIN_IMAGES:
        raise _Skip(
            f"the run has only {len(rows)} {'/'.join(splits)} image(s); the check needs "
            f"{MIN_IMAGES}"
        )
    rel = [rows["path"].iloc[i] for i in balanced_sample(len(rows), o.max_per_side, o.seed)]
    key = _reference_key(model, info, rel)
    cached = _load_reference(folder, key)
    if cached is not None:
        return cached
    root = folder.image_root()
    paths = [str(root / r) for r in rel]
    gone = sum(not os.path.isfile(p) for p in paths)
    if gone:
        raise _Skip(
            f"{gone} of the run's {len(rel)} sampled training images are gone from {root} "
            "(the reference is computed from them once)"
        )
    from stylecast.data import ImageCache, prepare_images

    prepared = prepare_images(
        pd.DataFrame({"path": paths, "relpath": rel}),
        info.preprocessing.img_size,
        cache=cache or ImageCache(),
        fill=info.preprocessing.fill,
        progress=progress,
    )
    feats = _features(model, prepared.pixels, np.arange(len(prepared.pixels)), info, o.batch_size)
    _save_reference(folder, key, feats)
    return feats


def _digest(feats: np.ndarray) -> str:
    return hashlib.blake2b(np.ascontiguousarray(feats).tobytes(), digest_size=16).hexdigest()


def _load_reference(folder: RunFolder, key: str) -> np.ndarray | None:
    """The stored reference when it is for ``key`` and matches its digest, else None."""
    path = folder.shift_reference_file
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            feats = np.array(z["features"])
    except (OSError, ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile):
        return None  # cut short or overwritten: computed again
    if meta.get("key") != key or meta.get("blake2b") != _digest(feats):
        return None  # another sample, model or size, or a damaged file: computed again
    return feats


def _save_reference(folder: RunFolder, key: str, feats: np.ndarray) -> None:
    """Keep the reference in the run; a read-only run folder only costs the recomputation."""
    from stylecast.fileio import atomic_write_bytes

    meta = json.dumps({"key": key, "blake2b": _digest(feats), "shape": list(feats.shape)})
    buf = io.BytesIO()
    np.savez(buf, features=feats, meta=np.array(meta))
    with contextlib.suppress(OSError):
        atomic_write_bytes(folder.shift_reference_file, buf.getvalue())


def _confidence(
    folder: RunFolder, confidence: np.ndarray, notes: list[str]
) -> ConfidenceShift | None:
    import pandas as pd

    path = folder.predictions_file
    try:
        ref = pd.read_csv(path, usecols=["confidence"])["confidence"].to_numpy(float)
    except (OSError, ValueError, KeyError):
        notes.append(f"no confidence comparison: {path.name} of the run's test split is absent")
        return None
    ref = ref[np.isfinite(ref)]
    if len(ref) == 0 or len(confidence) == 0:
        return None
    return confidence_shift(np.asarray(confidence, float), ref)


def _accuracy(
    folder: RunFolder, correct: np.ndarray | None, notes: list[str]
) -> AccuracyDrop | None:
    if correct is None or len(correct) == 0:
        return None
    try:
        ev = EvaluationRecord.read_if_present(folder.evaluation_file)
    except StylecastError:
        ev = None
    if ev is None or not ev.n:
        notes.append("no accuracy comparison: the run's test split was never evaluated")
        return None
    c = np.asarray(correct, bool)
    return accuracy_drop(int(c.sum()), len(c), reference=ev.accuracy, n_reference=ev.n)
