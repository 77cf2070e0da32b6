"""Subcommands that look at trained runs: evaluate, report, explain, compare."""

from __future__ import annotations

import argparse

from stylecast.cli.common import (
    add_config_options,
    add_device_option,
    add_out_option,
    add_quiet_option,
    config_overrides,
)
from stylecast.config import EvaluateConfig


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``evaluate``, ``report``, ``explain`` and ``compare`` to the subcommands."""
    p = sub.add_parser(
        "evaluate",
        help="score a run on its held-out test split (or on other data)",
        description="Evaluate RUN's model: on the run's own test split by default, or on every "
        "image of DATA. Fits the temperature on the validation split (stored in model.json), "
        "and writes evaluation.json, predictions.csv, figures and galleries (with Grad-CAM) "
        "into RUN.",
    )
    p.add_argument("run", help="run folder")
    p.add_argument(
        "data", nargs="?", help="other labelled data to score (default: the run's test split)"
    )
    g = p.add_argument_group("evaluation (defaults < --config FILE < these flags)")
    g.add_argument("--config", metavar="FILE.yaml", help="YAML file of EvaluateConfig keys")
    add_config_options(g, EvaluateConfig)
    add_quiet_option(p, "no progress bars")
    p.set_defaults(func=_evaluate)

    p = sub.add_parser(
        "report",
        help="write the run's self-contained HTML report",
        description="Render RUN/report.html: data, model, training, tuning, metrics with "
        "intervals, calibration, galleries and the commands that reproduce the run. "
        "One file, every image embedded; opens offline.",
    )
    p.add_argument("run", help="run folder")
    add_out_option(p, "HTML file (default RUN/report.html)")
    p.set_defaults(func=_report)

    p = sub.add_parser(
        "explain",
        help="Grad-CAM of one image: where the model found its evidence",
        description="Predict IMAGE with RUN's model and write a PNG of the image beside its "
        "Grad-CAM heat map for the predicted class (or --target).",
    )
    p.add_argument("run", help="run folder")
    p.add_argument("image", help="image file")
    add_out_option(p, "PNG to write (default RUN/explain/STEM.png)", "FILE.png")
    p.add_argument("--target", metavar="CLASS", help="class whose evidence to show")
    add_device_option(p, "the model")
    p.set_defaults(func=_explain)

    p = sub.add_parser(
        "compare",
        help="compare evaluated runs: metrics table and McNemar's test",
        description="Print the metrics of every run and, for every pair, McNemar's test on the "
        "test images they share (predictions.csv rows matched by path): is B really better?",
    )
    p.add_argument("runs", nargs="+", metavar="RUN", help="two or more evaluated run folders")
    add_out_option(p, "also write the comparison as JSON", "FILE.json")
    p.set_defaults(func=_compare)


def _evaluate(args: argparse.Namespace) -> int:
    from stylecast.config import EvaluateConfig, load_config
    from stylecast.evaluation import evaluate, format_evaluation

    cfg = load_config(
        EvaluateConfig,
        args.config,
        overrides=config_overrides(args, EvaluateConfig),
    )
    from stylecast.inference import check_shift
    from stylecast.run import RunFolder

    RunFolder(args.run).require_finished()
    result = evaluate(args.run, args.data, cfg, progress=not args.quiet, shift_check=check_shift)
    print(format_evaluation(result.metrics))
    print(f"wrote {result.evaluation_json} and {result.predictions_csv}")
    return 0


def _report(args: argparse.Namespace) -> int:
    from stylecast.fileio import writable_file
    from stylecast.report import build_report

    if args.out:
        writable_file(args.out)
    result = build_report(args.run, args.out)
    print(f"report: {result.path}")
    return 0


def _explain(args: argparse.Namespace) -> int:
    from stylecast.evaluation import explain
    from stylecast.fileio import writable_file

    if args.out:
        writable_file(args.out)
    ex = explain(args.run, args.image, target=args.target, out=args.out, device=args.device)
    probs = "  ".join(f"{c} {p:.3f}" for c, p in ex.probabilities.items())
    print(f"predicted: {ex.predicted} ({ex.probability:.1%})   probabilities: {probs}")
    if ex.target != ex.predicted:
        print(f"heat map: evidence for {ex.target} ({ex.target_probability:.1%})")
    print(f"wrote {ex.out}")
    return 0


def _compare(args: argparse.Namespace) -> int:
    from stylecast.evaluation import compare, format_comparison, write_comparison
    from stylecast.fileio import writable_file

    if args.out:
        writable_file(args.out)
    result = compare(args.runs)
    print(format_comparison(result))
    if args.out:
        print(f"wrote {write_comparison(result, args.out)}")
    return 0
