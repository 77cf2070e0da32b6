"""The fastest forward pass this machine offers for a run's model, checked against plain fp32.

On a CPU with bf16 kernels (AVX512-BF16/AMX) ``precision="auto"`` runs under bf16
autocast, as training does (:func:`stylecast.training.amp_dtype`), but only when the first
batch's probabilities stay within :data:`PROB_TOLERANCE` of fp32 (else fp32, saying why);
the model is in channels_last memory, and for large sets it is traced and frozen by
TorchScript, which folds every BatchNorm into its convolution, again only when the first
batch agrees with fp32 (otherwise, or when tracing fails, the eager model runs).

When ``stylecast export`` has written an ONNX model that matches the run's weights, ONNX
Runtime runs it instead (:func:`stylecast.export.engine.onnx_engine`, re-exported here):
several times faster than torch on a CPU.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from stylecast.config import BACKENDS  # one list for every command
from stylecast.export.engine import OnnxEngine, onnx_engine, stream_onnx_logits
from stylecast.run import Preprocessing
from stylecast.training import amp_dtype, to_input

__all__ = [
    "BACKENDS",
    "Engine",
    "OnnxEngine",
    "make_engine",
    "onnx_engine",
    "stream_logits",
    "stream_onnx_logits",
]

# Largest |probability| difference from eager fp32 on the first batch that a faster form
# (bf16 under precision="auto", a TorchScript-frozen model) may show and still be used.
PROB_TOLERANCE = 0.02


@dataclass(frozen=True)
class Engine:
    """A model ready to predict: its forward, its autocast dtype and how it was made."""

    forward: Callable[[torch.Tensor], torch.Tensor]
    dtype: torch.dtype | None  # autocast dtype; None is fp32
    device: torch.device
    traced: bool
    note: str = ""  # why a faster form was not used

    @property
    def precision(self) -> str:
        return {None: "fp32", torch.bfloat16: "bf16", torch.float16: "fp16"}[self.dtype]

    def autocast(self) -> Any:
        return (
            nullcontext()
            if self.dtype is None
            else torch.autocast(self.device.type, dtype=self.dtype)
        )

    def describe(self) -> str:
        traced = ", TorchScript-frozen" if self.traced else ""
        note = f" ({self.note})" if self.note else ""
        return f"{self.precision}, channels_last{traced}{note}"


def _probs(forward: Callable, x: torch.Tensor, dtype: torch.dtype | None, dev: Any) -> Any:
    """Probabilities of ``forward`` on ``x``: of every member for an ensemble's ``(N, M, C)``
    member logits (:class:`stylecast.ensemble.MemberLogits`), else ``(N, C)``."""
    ctx = nullcontext() if dtype is None else torch.autocast(dev.type, dtype=dtype)
    with torch.no_grad(), ctx:
        return torch.softmax(forward(x).float(), dim=-1)


def _traced(model: nn.Module, example: torch.Tensor, dtype: torch.dtype | None, dev: Any) -> Any:
    """The model traced and frozen by TorchScript (BatchNorm folded), or None if it fails."""
    ctx = nullcontext() if dtype is None else torch.autocast(dev.type, dtype=dtype)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # TorchScript's deprecation and tracer warnings
            with torch.inference_mode(False), torch.no_grad(), ctx:
                traced = torch.jit.freeze(torch.jit.trace(model, example, check_trace=False))
            _probs(traced, example, dtype, dev)  # the first call optimises the graph
            return traced
    except Exception:  # noqa: BLE001 - any model TorchScript cannot trace runs eagerly
        return None


def make_engine(
    model: nn.Module,
    example: torch.Tensor,
    *,
    precision: str = "auto",
    device: torch.device | str = "cpu",
    trace: bool = True,
) -> Engine:
    """The model in eval mode, channels_last, autocast per ``precision``, traced if it agrees.

    ``example`` is one normalised input batch (the first one to predict). Under ``auto``,
    bf16 is used only when its probabilities on ``example`` stay within
    :data:`PROB_TOLERANCE` of eager fp32 (a head with large weights amplifies bf16's
    rounding); the traced model only when it is no further from fp32 than the eager one.
    """
    dev = torch.device(device)
    model = model.eval().to(dev).to(memory_format=torch.channels_last)
    dtype = amp_dtype(dev, precision)
    if len(example) == 0:
        return Engine(model, dtype, dev, traced=False)
    example = example.to(dev)
    want = _probs(model, example, None, dev)
    off = 0.0 if dtype is None else float((_probs(model, example, dtype, dev) - want).abs().max())
    note = ""
    if dtype is not None and precision == "auto" and off > PROB_TOLERANCE:
        note = f"bf16 was {off:.3f} off fp32 on the first batch"
        dtype, off = None, 0.0
    if trace:
        traced = _traced(model, example, dtype, dev)
        if traced is not None:
            t_off = float((_probs(traced, example, dtype, dev) - want).abs().max())
            if t_off <= max(PROB_TOLERANCE, off):
                return Engine(traced, dtype, dev, traced=True, note=note)
    return Engine(model, dtype, dev, traced=False, note=note)


def stream_logits(
    engine: Engine,
    pixels: np.ndarray,
    prep: Preprocessing,
    *,
    batch_size: int = 64,
    progress: Callable[[int], Any] | None = None,
) -> Iterator[np.ndarray]:
    """float32 logits of uint8 NHWC ``pixels`` (a memory-mapped cache is read batch by batch)."""
    with torch.inference_mode():
        for start in range(0, len(pixels), batch_size):
            x = to_input(pixels[start : start + batch_size], prep.mean, prep.std, engine.device)
            with engine.autocast():
                y = engine.forward(x)
            if progress is not None:
                progress(len(x))
            yield y.float().cpu().numpy()
