"""A run's ONNX export as the engine of predict, evaluate and serve (ONNX Runtime).

:func:`onnx_engine` picks the run's usable export for a ``--backend``; it lives in the
export stage, below every stage that scores images, so that evaluation, inference and
distillation take it from here without importing one another.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from stylecast.errors import MissingDependencyError
from stylecast.export.runtime import find_export, load_onnx

__all__ = ["OnnxEngine", "onnx_engine", "stream_onnx_logits"]


@dataclass(frozen=True)
class OnnxEngine:
    """A run's exported model in ONNX Runtime (:class:`stylecast.export.OnnxLogits`)."""

    runtime: Any  # OnnxLogits: uint8 letterboxed NHWC pixels -> float32 logits
    int8: bool

    def describe(self) -> str:
        return f"ONNX Runtime {'int8' if self.int8 else 'fp32'} ({self.runtime.path.name})"


def onnx_engine(run: Any, backend: str, threads: int | None = None) -> OnnxEngine | None:
    """The run's usable export for ``backend``, or None for torch (``threads``: ONNX
    Runtime's intra-op threads, default one per usable core).

    ``auto`` takes ``model.onnx`` when ``stylecast export`` wrote one that matches the run's
    weights and ONNX Runtime is installed (a stale export is named in one line on stderr);
    ``onnx`` / ``onnx-int8`` insist (RunError or MissingDependencyError saying what to do).
    """
    if backend == "torch":
        return None
    if backend in ("onnx", "onnx-int8"):
        int8 = backend == "onnx-int8"
        return OnnxEngine(load_onnx(run, int8=int8, threads=threads), int8)
    if find_export(run) is None:
        return None
    try:
        return OnnxEngine(load_onnx(run, threads=threads), False)
    except MissingDependencyError:
        return None  # exported, but ONNX Runtime is not installed here: torch it is


def stream_onnx_logits(
    engine: OnnxEngine,
    pixels: np.ndarray,
    *,
    batch_size: int = 64,
    progress: Callable[[int], Any] | None = None,
    members: bool = False,
) -> Iterator[np.ndarray]:
    """float32 logits of uint8 NHWC ``pixels``, read from a memory map a block at a time
    (``members``: an ensemble's members' raw logits ``(N, M, C)``)."""
    block = max(batch_size, 256)
    run = engine.runtime.member_logits if members else engine.runtime.logits
    for start in range(0, len(pixels), block):
        chunk = np.ascontiguousarray(pixels[start : start + block])
        yield run(chunk, batch_size=batch_size)
        if progress is not None:
            progress(len(chunk))
