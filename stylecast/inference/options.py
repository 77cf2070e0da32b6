"""How :func:`~stylecast.inference.batch.predict_batch` runs (:class:`PredictOptions`).

A module of its own, importing neither numpy nor pandas: ``stylecast predict``'s flags are
built from these fields when the command line starts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from stylecast.config import BACKENDS, DEVICES, PRECISIONS
from stylecast.config_fields import check_fields, option

if TYPE_CHECKING:
    from stylecast.inference.shift import ShiftOptions

__all__ = ["PredictOptions", "backend_option", "device_option"]


def backend_option(note: str = "") -> Any:
    """``backend`` of a command that runs a run's model (predict, serve): a usable export."""
    return option(
        "auto",
        "auto: the run's ONNX export when `stylecast export` wrote one that matches its "
        f"weights (and onnxruntime is installed), else torch{note}",
        choices=BACKENDS,
    )


def device_option(default: str, what: str) -> Any:
    """``device``: where torch runs ``what``."""
    return option(
        default,
        f"where torch runs {what}: auto (a CUDA GPU when there is one), cpu or cuda",
        choices=DEVICES,
    )


def _shift_options() -> ShiftOptions:
    from stylecast.inference.shift import ShiftOptions

    return ShiftOptions()


@dataclass(frozen=True)
class PredictOptions:
    """How :func:`predict_batch` runs; each field with help is a flag of ``stylecast predict``."""

    batch_size: int = option(64, "images per forward pass", low=1)
    precision: str = option(
        "auto",
        "auto (bf16 where the CPU has fast bf16 and it agrees with fp32 on the first batch), "
        "fp32 or bf16",
        choices=PRECISIONS,
        error="{label} must be auto, fp32 or bf16, got {value}",
    )
    backend: str = backend_option()
    device: str = device_option("auto", "the model")
    # TorchScript-freeze the model (when it agrees with the eager one) for this many images
    # or more: freezing costs seconds, which pays off only over a large set.
    trace_min_images: int = option(
        1000, "TorchScript-freeze the model from this many images on", low=0, cli=False
    )
    shift_check: bool = option(True, "skip the shift check", flag="--no-shift-check", switch="off")
    palette: bool = option(
        False,
        "add each image's main garment colour (name, family, hex) and its palette",
        switch="on",
    )
    progress: bool = option(True, "progress bars (the CLI's --quiet turns them off)", cli=False)
    workers: int | None = option(
        None, "decoding processes (default: the CPU count, at most 8)", low=1, cli=False
    )
    shift: ShiftOptions = field(default_factory=_shift_options)

    def __post_init__(self) -> None:
        check_fields(self, by_flag=True)
