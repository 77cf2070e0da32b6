"""What ``stylecast export`` hands back: the parity check, the int8 verdict, the result.

Below both :mod:`stylecast.export.pipeline` (which makes them) and
:mod:`stylecast.export.summary` (which writes and prints them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["ExportResult", "Int8Check", "Parity"]


@dataclass(frozen=True)
class Parity:
    """ONNX Runtime against PyTorch on the same letterboxed images."""

    split: str
    images: int
    max_abs_diff: float
    top1_agreement: float
    accuracy_torch: float
    accuracy_onnx: float
    skipped: int = 0  # images of the split that could not be read

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class Int8Check:
    """The int8 model on the test split, and whether it was kept."""

    path: Path
    accepted: bool
    calibration_images: int
    accuracy_fp32: float
    accuracy_int8: float
    top1_agreement: float
    max_abs_diff: float
    max_loss: float
    quantisation: dict[str, Any] = field(default_factory=dict)

    @property
    def change_points(self) -> float:
        return 100.0 * (self.accuracy_int8 - self.accuracy_fp32)


@dataclass(frozen=True)
class ExportResult:
    run: Path
    onnx: Path
    exporter: str
    opset: int
    parity: Parity
    int8: Int8Check | None
    export_json: Path
    members: int = 0  # an ensemble's members (0: one model)
