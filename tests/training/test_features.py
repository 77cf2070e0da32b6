"""Cached pooled features: the cache key, and reuse of a cache entry."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from stylecast import TrainConfig
from stylecast.data import ImageCache, prepare_run_data
from stylecast.models import create_model, preprocessing_for
from stylecast.training.context import PhaseContext, Progress
from stylecast.training.features import compute_features, feature_cache_file

KEY = dict(model_name="efficientnet_lite0", weights_digest="abc", img_size=32, fill=255, seed=0)


def test_the_cache_key_names_everything_that_changes_features(tmp_path: Path) -> None:
    cache = ImageCache(tmp_path)
    base = feature_cache_file(cache, ["d1", "d2"], view=0, **KEY)
    assert base.parent == tmp_path / "features" and base.suffix == ".npy"
    assert feature_cache_file(cache, ["d1", "d2"], view=0, **KEY) == base
    changed = [
        feature_cache_file(cache, ["d2", "d1"], view=0, **KEY),
        feature_cache_file(cache, ["d1", "d2"], view=1, **KEY),
        feature_cache_file(cache, ["d1", "d2"], view=0, **{**KEY, "fill": 0}),
        feature_cache_file(cache, ["d1", "d2"], view=0, **{**KEY, "weights_digest": "x"}),
        feature_cache_file(cache, ["d1", "d2"], view=0, **{**KEY, "img_size": 48}),
    ]
    assert len({base, *changed}) == 6
    # The seed draws the augmentation: it keys augmented views only.
    assert feature_cache_file(cache, ["d1"], view=0, **{**KEY, "seed": 7}) == (
        feature_cache_file(cache, ["d1"], view=0, **KEY)
    )
    assert feature_cache_file(cache, ["d1"], view=1, **{**KEY, "seed": 7}) != (
        feature_cache_file(cache, ["d1"], view=1, **KEY)
    )


@pytest.fixture(scope="module")
def ctx(lookbook: Path) -> PhaseContext:
    cfg = TrainConfig(img_size=32, group_column="group", val_fraction=0.0, test_fraction=0.2)
    cache = ImageCache()
    rd = prepare_run_data(lookbook, cfg, cache=cache, progress=False)
    torch.manual_seed(0)
    return PhaseContext(
        model=create_model(cfg.model, len(rd.classes), pretrained=False),
        rd=rd,
        cfg=cfg,
        prep=preprocessing_for(cfg.model, cfg.img_size),
        device=torch.device("cpu"),
        progress=Progress(False),
        cache=cache,
    )


def test_context_without_a_validation_split_validates_on_training_images(
    ctx: PhaseContext,
) -> None:
    assert len(ctx.rd.indices("val")) == 0
    assert np.array_equal(ctx.val_idx, ctx.train_idx)
    assert np.array_equal(ctx.train_idx, ctx.rd.indices("train")) and len(ctx.train_idx) > 0
    assert ctx.loss_weight() is None


def test_features_are_computed_once_then_read_back(ctx: PhaseContext) -> None:
    idx = ctx.train_idx[:5][::-1].copy()  # out of file order: rows must follow idx
    first = compute_features(ctx, idx, view=0, weights_digest="test-features")
    assert first.shape == (5, ctx.model.num_features) and first.dtype == np.float32
    single = compute_features(ctx, idx[:1], view=0, weights_digest="test-features-1")
    assert np.allclose(single[0], first[0], atol=1e-5)
    with torch.no_grad():
        ctx.model.conv_stem.weight.mul_(0.5)  # same key, other weights: the cache answers
    try:
        again = compute_features(ctx, idx, view=0, weights_digest="test-features")
        assert np.array_equal(again, first)
    finally:
        with torch.no_grad():
            ctx.model.conv_stem.weight.mul_(2.0)
    view1 = compute_features(ctx, idx, view=1, weights_digest="test-features")
    assert view1.shape == first.shape and not np.allclose(view1, first)


@pytest.mark.parametrize("damage", ["truncate", "zeros", "no_digest"])
def test_a_damaged_features_file_is_recomputed(
    ctx: PhaseContext, damage: str, capfd: pytest.CaptureFixture[str]
) -> None:
    idx = ctx.train_idx[:4].copy()
    key = f"test-damage-{damage}"
    first = compute_features(ctx, idx, view=0, weights_digest=key)
    path = feature_cache_file(
        ctx.cache,
        [ctx.rd.prepared.digests[i] for i in idx],
        model_name=ctx.cfg.model,
        weights_digest=key,
        img_size=ctx.prep.img_size,
        fill=ctx.prep.fill,
        view=0,
        seed=ctx.cfg.seed,
    )
    if damage == "truncate":
        path.write_bytes(path.read_bytes()[:200])
    elif damage == "zeros":
        np.save(path, np.zeros_like(first))  # same shape: only the digest can tell
    else:
        path.with_suffix(".json").unlink()
    capfd.readouterr()
    again = compute_features(ctx, idx, view=0, weights_digest=key)
    assert np.allclose(again, first, atol=1e-6) and np.abs(again).sum() > 0
    said = capfd.readouterr().err
    expected = "was written without a digest" if damage == "no_digest" else "was damaged"
    assert f"features cache {path.name} {expected}" in said
    # Repaired: the next read is silent.
    compute_features(ctx, idx, view=0, weights_digest=key)
    assert "damaged" not in capfd.readouterr().err


def test_random_weights_of_different_seeds_do_not_share_features() -> None:
    from stylecast.training.features import weights_key

    model = torch.nn.Linear(2, 2)
    keys = {weights_key(model, TrainConfig(pretrained=False, seed=s)) for s in (0, 1)}
    assert keys == {"random-0", "random-1"}
