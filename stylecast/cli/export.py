"""``stylecast export``: a run's model as ONNX (and int8), checked against PyTorch."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``export`` to the subcommands."""
    p = sub.add_parser(
        "export",
        help="export a run's model to ONNX (optionally int8), checked against PyTorch",
        description="Write RUN/model.onnx: the trained network behind its normalisation "
        "(letterboxed uint8 NHWC pixels in, logits out; dynamic batch, the run's image size). "
        "The export is checked against PyTorch on the run's test split (max logit difference, "
        "top-1 agreement), and the check is stored in RUN/export.json. --int8 adds "
        "RUN/model.int8.onnx: static per-channel QDQ quantisation calibrated on training "
        "images, kept only when it loses at most one point of test accuracy. Needs the onnx "
        "extra: pip install 'stylecast[onnx]'.",
    )
    p.add_argument("run", help="trained run folder")
    p.add_argument(
        "--format", default="onnx", choices=["onnx"], help="model format (default: onnx)"
    )
    p.add_argument(
        "--int8", action="store_true", help="also write a static int8 model (ONNX Runtime QDQ)"
    )
    p.add_argument("--opset", type=int, default=18, help="ONNX opset (default: 18)")
    p.add_argument(
        "--calibration-images",
        type=int,
        default=256,
        metavar="N",
        help="training images that calibrate the int8 ranges (default: 256)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    p.set_defaults(func=_export)


def _export(args: argparse.Namespace) -> int:
    from stylecast.export import ExportConfig, export_run, format_export

    cfg = ExportConfig(
        format=args.format,
        int8=args.int8,
        opset=args.opset,
        calibration_images=args.calibration_images,
    )
    result = export_run(args.run, cfg, progress=not args.quiet)
    print(format_export(result))
    return 0
