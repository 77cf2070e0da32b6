"""Batches straight from the decoded-pixel cache, augmented on tensors.

No PIL and no per-sample Python transforms in the hot loop: a batch of uint8 pixels is
indexed out of the memory-mapped cache, converted once, and augmented for the whole
batch with one ``grid_sample`` call (random resized crop + flip).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from contextlib import nullcontext
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "to_input",
    "augment_batch",
    "iterate_batches",
    "predict_logits",
    "amp_dtype",
    "autocast_for",
]


def to_input(
    batch_u8: np.ndarray | torch.Tensor,
    mean: Sequence[float],
    std: Sequence[float],
    device: torch.device | str = "cpu",
) -> torch.Tensor:
    """uint8 NHWC pixels -> normalised float NCHW tensor in channels_last memory."""
    arr = batch_u8 if isinstance(batch_u8, torch.Tensor) else np.array(batch_u8, copy=True)
    # NHWC memory permuted to NCHW *is* channels_last: no copy until the one fused pass
    # (x / 255 - mean) / std == x * scale + shift.
    t = torch.as_tensor(arr).to(device).permute(0, 3, 1, 2)
    std_t = torch.tensor(std, device=t.device, dtype=torch.float32).view(1, 3, 1, 1)
    scale = 1.0 / (255.0 * std_t)
    shift = -torch.tensor(mean, device=t.device, dtype=torch.float32).view(1, 3, 1, 1) / std_t
    return torch.addcmul(shift, t, scale).contiguous(memory_format=torch.channels_last)


def augment_batch(
    x: torch.Tensor,
    generator: torch.Generator,
    *,
    scale: tuple[float, float] = (0.7, 1.0),
    ratio: tuple[float, float] = (3 / 4, 4 / 3),
    flip: bool = True,
    color_jitter: float = 0.0,
    fill: float = 0.0,
    rows: tuple[slice, int] | None = None,
) -> torch.Tensor:
    """Random resized crop (keeping most of the garment), horizontal flip, optional jitter.

    ``x`` is a normalised NCHW batch. ``fill`` is the normalised letterbox border colour
    (:attr:`~stylecast.run.Preprocessing.fill_value`): what the crop samples beyond the
    image is that colour, so a crop's edge blends into the border the image already has.

    ``rows = (part, total)``: ``x`` is the rows ``part`` (a slice) of a batch of ``total``
    (one process's share of a data-parallel step). The random parameters are drawn for the
    whole batch and this share taken, so every image gets the augmentation a single process
    would give it.
    """
    n, _, h, w = x.shape
    part, total = rows if rows is not None else (slice(None), n)
    g = generator
    area = torch.empty(total).uniform_(scale[0], scale[1], generator=g)
    log_r = torch.empty(total).uniform_(math.log(ratio[0]), math.log(ratio[1]), generator=g)
    r = torch.exp(log_r)
    sw = torch.sqrt(area * r).clamp(max=1.0)
    sh = torch.sqrt(area / r).clamp(max=1.0)
    tx = (torch.rand(total, generator=g) * 2 - 1) * (1 - sw)
    ty = (torch.rand(total, generator=g) * 2 - 1) * (1 - sh)
    sx = sw.clone()
    if flip:
        sx = torch.where(torch.rand(total, generator=g) < 0.5, -sx, sx)
    sx, sh, tx, ty = sx[part], sh[part], tx[part], ty[part]
    # The crop is a diagonal affine map: build its sampling grid by broadcasting (affine_grid's
    # per-pixel batched matmul costs as much as the sampling itself on a CPU).
    bx = (torch.arange(w, dtype=x.dtype) * 2 + 1) / w - 1
    by = (torch.arange(h, dtype=x.dtype) * 2 + 1) / h - 1
    gx = sx.to(x.dtype).view(n, 1, 1) * bx.view(1, 1, w) + tx.to(x.dtype).view(n, 1, 1)
    gy = sh.to(x.dtype).view(n, 1, 1) * by.view(1, h, 1) + ty.to(x.dtype).view(n, 1, 1)
    grid = torch.stack((gx.expand(n, h, w), gy.expand(n, h, w)), dim=-1).to(x.device)
    # grid_sample pads with zeros only: shift the batch so that zero is the fill colour.
    # Crops stay inside the image; the padding reaches only the half pixel at a crop's edge.
    shifted = x - fill if fill else x
    out = F.grid_sample(shifted, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    if fill:
        out = out + fill
    if color_jitter > 0:
        b = 1 + (torch.rand(total, 1, 1, 1, generator=g)[part] * 2 - 1) * color_jitter
        c = 1 + (torch.rand(total, 1, 1, 1, generator=g)[part] * 2 - 1) * color_jitter
        mean = out.mean(dim=(1, 2, 3), keepdim=True)
        out = (out - mean) * c.to(out) + mean * b.to(out)
    return out.contiguous(memory_format=torch.channels_last)


def iterate_batches(
    indices: np.ndarray,
    batch_size: int,
    *,
    shuffle: bool,
    rng: np.random.Generator | None = None,
    drop_last: bool = False,
) -> Iterator[np.ndarray]:
    """Index batches; shuffled by ``rng``. The last short batch is kept unless asked."""
    idx = np.asarray(indices)
    if shuffle:
        assert rng is not None  # internal invariant, not user input
        idx = idx[rng.permutation(len(idx))]
    stop = len(idx) - (len(idx) % batch_size if drop_last and len(idx) > batch_size else 0)
    for start in range(0, stop, batch_size):
        yield (
            np.sort(idx[start : start + batch_size])
            if not shuffle
            else idx[start : start + batch_size]
        )


def amp_dtype(
    device: torch.device, precision: str, *, training: bool = False
) -> torch.dtype | None:
    """The autocast dtype for ``precision`` on ``device`` (None = full fp32).

    CUDA: bf16 where the GPU has it, else fp16 (with loss scaling). CPU, ``auto``: bf16
    where oneDNN has bf16 kernels (AVX512-BF16/AMX) for inference; for training only with
    AMX: on an AVX512-BF16 CPU without it (AMD EPYC), channels_last training steps ran
    faster in fp32 than in bf16 (docs/benchmarks.md, "Training speed at 128 px").
    """
    if precision == "fp32":
        return None
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if precision == "bf16":
        return torch.bfloat16
    fast = cpu_has_amx() if training else cpu_has_fast_bf16()
    return torch.bfloat16 if fast else None


def autocast_for(device: torch.device, precision: str, *, training: bool = False) -> Any:
    """An autocast context for ``precision`` on ``device`` (a no-op for fp32)."""
    dtype = amp_dtype(device, precision, training=training)
    return nullcontext() if dtype is None else torch.autocast(device.type, dtype=dtype)


def cpu_has_fast_bf16() -> bool:
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except Exception:  # noqa: BLE001 - older builds lack the op
        return False


def cpu_has_amx() -> bool:
    """Whether the CPU has AMX tiles (oneDNN's fast bf16 path for training)."""
    try:
        return bool(torch.cpu._is_amx_tile_supported()) and cpu_has_fast_bf16()
    except Exception:  # noqa: BLE001 - older builds lack the probe
        return False


@torch.inference_mode()
def predict_logits(
    model: nn.Module,
    pixels: np.ndarray,
    mean: Sequence[float],
    std: Sequence[float],
    *,
    batch_size: int = 64,
    device: torch.device | str = "cpu",
    features: bool = False,
    progress: Any = None,
) -> np.ndarray:
    """Logits (or pooled pre-logit features) for uint8 NHWC ``pixels``, in float32."""
    # Restore each module's own mode afterwards: frozen layers must stay in eval mode.
    modes = {m: m.training for m in model.modules()}
    model.eval()
    outs = []
    for start in range(0, len(pixels), batch_size):
        x = to_input(pixels[start : start + batch_size], mean, std, device)
        y = model.forward_head(model.forward_features(x), pre_logits=True) if features else model(x)
        outs.append(y.float().cpu().numpy())
        if progress is not None:
            progress(len(x))
    for m, training in modes.items():
        m.training = training
    if not outs:
        return np.zeros((0, 0), dtype=np.float32)
    return np.concatenate(outs).astype(np.float32)
