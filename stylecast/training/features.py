"""Pooled backbone features for the head phase, cached on disk.

The file name hashes the backbone, its exact weights, the input size and border colour,
the view (0 plain, >= 1 augmented with its seed) and the content of every image, so a
second run or every tuning trial reuses the features, and nothing stale is ever read.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import torch

from stylecast.data import ImageCache
from stylecast.fileio import atomic_path
from stylecast.training.context import PhaseContext
from stylecast.training.tensors import augment_batch, to_input

__all__ = ["compute_features", "feature_cache_file"]


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
    if path.is_file():
        return np.load(path)
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
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.save(f, feats)
    return feats
