"""Tensor batches: normalisation, augmentation (and its fill colour), batching, precision."""

from __future__ import annotations

from contextlib import nullcontext

import numpy as np
import pytest
import torch

from stylecast.run import Preprocessing
from stylecast.training import augment_batch, iterate_batches, tensors, to_input
from stylecast.training.tensors import amp_dtype, autocast_for


def _augment(x: torch.Tensor, fill: float) -> torch.Tensor:
    # A fixed square crop of half the area: its position alone is random.
    gen = torch.Generator().manual_seed(0)
    return augment_batch(x, gen, scale=(0.5, 0.5), ratio=(1.0, 1.0), fill=fill)


def test_augment_pads_with_the_fill_colour() -> None:
    """A crop at the image's edge samples beyond it: that is the fill colour, not the edge."""
    x = torch.zeros(64, 3, 8, 8)
    plain = _augment(x, 0.0)
    assert torch.equal(plain, torch.zeros_like(plain))
    white = _augment(x, 2.0)
    assert white.shape == x.shape and white.is_contiguous(memory_format=torch.channels_last)
    assert white.min() >= -1e-6 and white.max() <= 2.0
    assert white.max() > 0.1  # the border colour reached the crops at the image's edge
    # Only the outermost rows and columns can reach beyond the image.
    assert torch.allclose(white[..., 1:-1, 1:-1], torch.zeros(()), atol=1e-6)
    edge = white.abs() > 1e-6
    assert 0 < edge.float().mean() < 0.2
    # The padding is the fill value, blended in linearly: twice the fill, twice the value.
    assert torch.allclose(_augment(x, 4.0), 2 * white, atol=1e-5)
    # An image that already is the fill colour (a letterbox border) stays that colour.
    assert torch.allclose(_augment(x + 2.0, 2.0), torch.full_like(x, 2.0), atol=1e-5)


def test_augment_with_the_preprocessing_fill_value() -> None:
    prep = Preprocessing(img_size=8, mean=(0.5,) * 3, std=(0.5,) * 3, fill=255)
    assert prep.fill_value == pytest.approx(1.0)
    black = to_input(np.zeros((64, 8, 8, 3), np.uint8), prep.mean, prep.std)
    out = _augment(black, prep.fill_value)
    assert out.min() >= -1.0 - 1e-6 and out.max() > -0.9  # black image, white border reached
    assert torch.allclose(out[..., 1:-1, 1:-1], torch.full((), -1.0), atol=1e-6)


def test_augment_is_reproducible_and_flips() -> None:
    x = torch.arange(2 * 3 * 4 * 4, dtype=torch.float32).view(2, 3, 4, 4)
    a = augment_batch(x, torch.Generator().manual_seed(5), scale=(1.0, 1.0), ratio=(1.0, 1.0))
    b = augment_batch(x, torch.Generator().manual_seed(5), scale=(1.0, 1.0), ratio=(1.0, 1.0))
    assert torch.equal(a, b)
    for i in range(2):  # a full-size crop is the image itself, or its mirror image
        assert torch.allclose(a[i], x[i], atol=1e-5) or torch.allclose(
            a[i], x[i].flip(-1), atol=1e-5
        )


def test_to_input_normalises_into_channels_last() -> None:
    pixels = np.zeros((1, 2, 2, 3), np.uint8)
    pixels[..., 0] = 255
    t = to_input(pixels, (0.5, 0.5, 0.5), (0.5, 0.25, 0.5))
    assert t.shape == (1, 3, 2, 2) and t.is_contiguous(memory_format=torch.channels_last)
    assert t[0, 0].flatten().tolist() == pytest.approx([1.0] * 4)
    assert t[0, 1].flatten().tolist() == pytest.approx([-2.0] * 4)


def test_iterate_batches() -> None:
    idx = np.arange(10)
    assert [b.tolist() for b in iterate_batches(idx[::-1], 4, shuffle=False)] == [
        [6, 7, 8, 9],
        [2, 3, 4, 5],
        [0, 1],
    ]
    kept = list(iterate_batches(idx, 4, shuffle=False, drop_last=True))
    assert [len(b) for b in kept] == [4, 4]
    shuffled = list(iterate_batches(idx, 3, shuffle=True, rng=np.random.default_rng(0)))
    assert sorted(np.concatenate(shuffled).tolist()) == idx.tolist()
    assert np.concatenate(shuffled).tolist() != idx.tolist()


def test_fp32_precision_means_no_autocast() -> None:
    cpu = torch.device("cpu")
    assert amp_dtype(cpu, "fp32") is None
    assert amp_dtype(cpu, "bf16") == torch.bfloat16
    assert isinstance(autocast_for(cpu, "fp32"), nullcontext)


def test_auto_precision_trains_in_bf16_on_a_cpu_only_with_amx(monkeypatch) -> None:  # noqa: ANN001
    cpu = torch.device("cpu")
    for amx, bf16 in ((True, True), (False, True), (False, False)):
        monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda amx=amx: amx)
        monkeypatch.setattr(tensors, "cpu_has_fast_bf16", lambda bf16=bf16: bf16)
        want = torch.bfloat16 if amx and bf16 else None
        assert amp_dtype(cpu, "auto", training=True) == want, (amx, bf16)
        # Inference keeps bf16 wherever oneDNN has bf16 kernels.
        assert amp_dtype(cpu, "auto") == (torch.bfloat16 if bf16 else None), (amx, bf16)
        assert amp_dtype(cpu, "bf16", training=True) == torch.bfloat16
