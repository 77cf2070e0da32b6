"""``stylecast export``: a run's model as ONNX (and int8), checked against PyTorch."""

from __future__ import annotations

import argparse

from stylecast.cli.common import add_config_options, add_quiet_option, config_from_args
from stylecast.export.config import ExportConfig


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
    add_config_options(p, ExportConfig)
    add_quiet_option(p, "no progress lines")
    p.set_defaults(func=_export)


def _export(args: argparse.Namespace) -> int:
    from stylecast.export import export_run, format_export

    cfg = config_from_args(ExportConfig, args)
    result = export_run(args.run, cfg, progress=not args.quiet)
    print(format_export(result))
    return 0
