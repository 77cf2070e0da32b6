"""int8 ONNX models: static, per-channel QDQ quantisation calibrated on training images.

For a CNN, dynamic quantisation barely touches the convolutions (it quantises MatMul
activations at run time); static quantisation fixes every activation's range from
calibration images and lets ONNX Runtime run the convolutions in int8 (VNNI where the CPU
has it). Weights are int8 per output channel, activations uint8 (ONNX Runtime's fast x86
path); on a CPU without VNNI the weights use 7 bits (``reduce_range``) so its u8 x s8
multiply-adds cannot saturate.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from stylecast.errors import MissingDependencyError

__all__ = ["QuantSettings", "cpu_has_vnni", "quantize_int8"]

INPUT_NAME = "pixels"


@dataclass(frozen=True)
class QuantSettings:
    """How the int8 model was made (stored in ``export.json``)."""

    format: str = "QDQ"
    per_channel: bool = True
    activations: str = "uint8"
    weights: str = "int8"
    calibration: str = "minmax"
    reduce_range: bool = False

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def cpu_has_vnni() -> bool:
    """Whether the CPU has int8 dot products (AVX512-VNNI or AVX-VNNI), from /proc/cpuinfo."""
    try:
        flags = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return any(f in flags for f in ("avx512_vnni", "avx_vnni", "amx_int8"))


def _require_quantization() -> Any:
    try:
        import onnx  # noqa: F401 - the quantiser needs it; fail here with the extra's name
        from onnxruntime import quantization
    except ImportError:
        raise MissingDependencyError(
            "int8 export needs onnx and onnxruntime: pip install 'stylecast[onnx]'"
        ) from None
    return quantization


def quantize_int8(
    fp32: str | os.PathLike[str],
    out: str | os.PathLike[str],
    calibration: np.ndarray,
    *,
    batch_size: int = 16,
) -> QuantSettings:
    """Write the int8 twin of the ONNX model ``fp32`` to ``out`` (written in place).

    ``calibration``: letterboxed uint8 training images ``(N, S, S, 3)``; their activations
    fix every quantisation range (min/max).
    """
    q = _require_quantization()
    from onnxruntime.quantization.shape_inference import quant_pre_process

    settings = QuantSettings(reduce_range=not cpu_has_vnni())
    batches = [calibration[i : i + batch_size] for i in range(0, len(calibration), batch_size)]

    class Reader(q.CalibrationDataReader):
        def __init__(self) -> None:
            self._it = iter(batches)

        def get_next(self) -> dict[str, np.ndarray] | None:
            batch = next(self._it, None)
            return None if batch is None else {INPUT_NAME: batch}

    quiet = logging.getLogger()
    level = quiet.level
    quiet.setLevel(logging.ERROR)  # the quantiser logs advice on every run
    try:
        with (
            tempfile.TemporaryDirectory(prefix="stylecast-int8-") as tmp,
            contextlib.redirect_stdout(io.StringIO()),
        ):
            # Shape inference + ONNX-level optimisation first, as ONNX Runtime recommends:
            # ranges are then calibrated on the graph that will actually be quantised.
            prepared = Path(tmp) / "prepared.onnx"
            try:
                quant_pre_process(str(fp32), str(prepared), skip_symbolic_shape=False)
            except Exception:  # noqa: BLE001 - its symbolic shape pass fails on some graphs
                # (an ensemble's stacked outputs); ONNX's own shape inference still runs.
                quant_pre_process(str(fp32), str(prepared), skip_symbolic_shape=True)
            q.quantize_static(
                str(prepared),
                str(out),
                Reader(),
                quant_format=q.QuantFormat.QDQ,
                per_channel=settings.per_channel,
                reduce_range=settings.reduce_range,
                activation_type=q.QuantType.QUInt8,
                weight_type=q.QuantType.QInt8,
                calibrate_method=q.CalibrationMethod.MinMax,
            )
    finally:
        quiet.setLevel(level)
    return settings
