"""What ``stylecast export`` does (:class:`ExportConfig`): a module without torch or numpy,
so that the command's flags can be built from its fields when the command line starts."""

from __future__ import annotations

from dataclasses import dataclass

from stylecast.config_fields import check_fields, option

__all__ = ["EXPORTERS", "ExportConfig"]

EXPORTERS = ("auto", "dynamo", "torchscript")


@dataclass(frozen=True)
class ExportConfig:
    """What ``stylecast export`` does (validated here, once); errors name the flag."""

    format: str = option(
        "onnx",
        "model format",
        choices=("onnx",),
        error="{label} {value} is not supported; use onnx",
    )
    int8: bool = option(
        False, "also write a static int8 model (ONNX Runtime QDQ)", flag="--int8", switch="on"
    )
    opset: int = option(18, "ONNX opset", low=11, high=23)
    exporter: str = option(
        "auto", "torch exporter: auto (dynamo, else torchscript)", choices=EXPORTERS, cli=False
    )
    calibration_images: int = option(
        256, "training images that calibrate the int8 ranges", metavar="N", low=1
    )
    max_int8_loss: float = option(
        1.0,
        "accuracy points the int8 model may lose on the test split (negative: it must gain)",
        cli=False,
    )
    batch_size: int = option(32, "images per forward pass of the checks", low=1, cli=False)
    seed: int = option(0, "seed of the calibration sample", low=0, cli=False)

    def __post_init__(self) -> None:
        check_fields(self, by_flag=True)
