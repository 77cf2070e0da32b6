"""Pooled backbone features for the head phase, cached on disk.

The file name hashes the backbone, its exact weights, the input size and border colour,
the view (0 plain, >= 1 augmented with its seed) and the content of every image, so a
second run or every tuning trial reuses the features, and nothing stale is ever read.
"""

from __future__ import annotations

import hashlib
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from stylecast.config import TrainConfig
from stylecast.data import ImageCache, prepare_run_data
from stylecast.fileio import atomic_path, atomic_write_json, read_json
from stylecast.models import state_dict_digest
from stylecast.training.context import PhaseContext, Progress
from stylecast.training.tensors import augment_batch, to_input

__all__ = ["RunFeatures", "compute_features", "feature_cache_file", "run_features", "weights_key"]


def weights_key(model: nn.Module, cfg: TrainConfig) -> str:
    """The ``weights_digest`` part of the cache key for ``model`` as ``cfg`` built it."""
    # Random weights differ per seed: the seed keeps one run's features from another's.
    return state_dict_digest(model) if cfg.weights or cfg.pretrained else f"random-{cfg.seed}"


def feature_cache_file(
    cache: ImageCache,
    digests: list[str],
    *,
    model_name: str,
    weights_digest: str,
    img_size: int,
    fill: int,
    view: int,
    seed: int,
) -> Path:
    """Where the features of the images with content ``digests`` are kept.

    ``fill`` is part of the key: it is the letterbox border and, in augmented views, the
    padding of the crop, so features made with another border are never reused.
    """
    h = hashlib.blake2b(digest_size=16)
    key = f"{model_name}:{weights_digest}:{img_size}:fill{fill}:{view}:{seed if view else 0}"
    h.update(key.encode())
    for d in digests:
        h.update(d.encode())
    return cache.root / "features" / f"{h.hexdigest()}.npy"


def compute_features(
    ctx: PhaseContext,
    indices: np.ndarray,
    *,
    view: int,
    weights_digest: str,
    batch_size: int = 64,
) -> np.ndarray:
    """Pooled features of ``ctx.model`` for ``indices``; view 0 is plain, views >= 1 augmented."""
    rd, prep, seed = ctx.rd, ctx.prep, ctx.cfg.seed
    path = feature_cache_file(
        ctx.cache,
        [rd.prepared.digests[i] for i in indices],
        model_name=ctx.cfg.model,
        weights_digest=weights_digest,
        img_size=prep.img_size,
        fill=prep.fill,
        view=view,
        seed=seed,
    )
    cached = load_verified(path, rows=len(indices))
    if cached is not None:
        return cached
    gen = torch.Generator().manual_seed(seed * 1000 + view)
    model = ctx.model
    bar = ctx.progress.bar(len(indices), f"features (view {view})")
    outs = []
    model.eval()
    with torch.inference_mode():
        for start in range(0, len(indices), batch_size):
            idx = indices[start : start + batch_size]
            # The cache is memory-mapped: read rows in file order, then restore idx's order.
            pixels = rd.prepared.pixels[np.sort(idx)][np.argsort(np.argsort(idx))]
            x = to_input(pixels, prep.mean, prep.std, ctx.device)
            if view > 0:
                x = augment_batch(x, gen, fill=prep.fill_value)
            f = model.forward_head(model.forward_features(x), pre_logits=True)
            outs.append(f.float().cpu().numpy())
            if bar is not None:
                bar.update(len(idx))
    if bar is not None:
        bar.close()
    feats = np.concatenate(outs).astype(np.float32)
    save_verified(path, feats)
    return feats


def _digest(array: np.ndarray) -> str:
    return hashlib.blake2b(np.ascontiguousarray(array).tobytes(), digest_size=16).hexdigest()


def save_verified(path: Path, feats: np.ndarray) -> None:
    """Write ``feats`` and, beside it, its shape and content digest (written last)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.save(f, feats)
    meta = {"shape": list(feats.shape), "dtype": str(feats.dtype), "blake2b": _digest(feats)}
    atomic_write_json(path.with_suffix(".json"), meta)


def load_verified(path: Path, *, rows: int) -> np.ndarray | None:
    """The cached features at ``path`` if they are whole and unchanged, else None.

    A truncated, overwritten or unverifiable file (no digest beside it, as older versions
    wrote) is removed and recomputed, with one line saying so: a cache is never trusted.
    """
    if not path.is_file():
        return None
    meta_path = path.with_suffix(".json")
    try:
        meta = read_json(meta_path)
        feats = np.load(path)
        problem = None
        if list(feats.shape) != meta["shape"] or feats.shape[0] != rows:
            problem = f"shape {feats.shape}, expected {tuple(meta['shape'])}"
        elif _digest(feats) != meta["blake2b"]:
            problem = "content does not match its digest"
    except FileNotFoundError:
        problem = "unverifiable"
    except (OSError, ValueError, KeyError, TypeError, EOFError) as exc:
        problem = f"unreadable: {type(exc).__name__}"
    if problem is None:
        return feats
    why = (
        "was written without a digest (an older stylecast), so it cannot be trusted"
        if problem == "unverifiable"
        else f"was damaged ({problem})"
    )
    print(
        f"features cache {path.name} {why}; computing it again",
        file=sys.stderr,
        flush=True,
    )
    path.unlink(missing_ok=True)
    meta_path.unlink(missing_ok=True)
    return None


@dataclass(frozen=True)
class RunFeatures:
    """Plain-view pooled features (``x``) and label indices (``y``) per split name."""

    classes: list[str]
    x: dict[str, np.ndarray]
    y: dict[str, np.ndarray]


def run_features(
    data: str | os.PathLike[str],
    cfg: TrainConfig,
    *,
    splits_csv: str | os.PathLike[str],
    splits: tuple[str, ...] = ("train", "val", "test"),
    cache: ImageCache | None = None,
    progress: bool = False,
) -> RunFeatures:
    """The frozen backbone's features of a run's splits (its ``splits.csv``), through the cache.

    The backbone is built as :func:`~stylecast.training.train` builds it (same seed, so the
    same cache key): what a head-mode run computed is read back, and a split it never
    needed (test) is computed once and cached. Baselines fit on exactly the head's inputs.
    """
    cache = cache or ImageCache()
    torch.manual_seed(cfg.seed)
    rd = prepare_run_data(data, cfg, splits_csv=splits_csv, cache=cache, progress=progress)
    ctx = PhaseContext.for_run(
        rd, cfg, device=torch.device("cpu"), progress=Progress(progress), cache=cache
    )
    key = weights_key(ctx.model, cfg)
    idx = {s: rd.indices(s) for s in splits}
    return RunFeatures(
        classes=list(rd.classes),
        x={s: compute_features(ctx, i, view=0, weights_digest=key) for s, i in idx.items()},
        y={s: rd.y[i] for s, i in idx.items()},
    )
