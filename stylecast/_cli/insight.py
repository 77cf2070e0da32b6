"""Subcommands that look at a trained run: evaluate, report (explain and compare to come)."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "evaluate",
        help="score a run on its held-out test split (or on other data)",
        description="Evaluate RUN's model: on the run's own test split by default, or on every "
        "image of DATA. Writes evaluation.json, predictions.csv and figures into RUN.",
    )
    p.add_argument("run", help="run folder")
    p.add_argument(
        "data", nargs="?", help="other labelled data to score (default: the run's test split)"
    )
    p.add_argument("--batch-size", type=int, default=None)
    p.add_argument("--n-bootstrap", type=int, default=None, help="bootstrap resamples for the CI")
    p.add_argument(
        "--no-calibrate",
        dest="calibrate",
        action="store_const",
        const=False,
        help="skip temperature scaling",
    )
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=_evaluate)

    p = sub.add_parser("report", help="write the run's self-contained HTML report")
    p.add_argument("run", help="run folder")
    p.add_argument("--out", help="HTML file (default RUN/report.html)")
    p.set_defaults(func=_report)


def _evaluate(args: argparse.Namespace) -> int:
    from stylecast.config import EvaluateConfig, load_config
    from stylecast.evaluate import evaluate, format_evaluation

    cfg = load_config(
        EvaluateConfig,
        overrides={
            "batch_size": args.batch_size,
            "n_bootstrap": args.n_bootstrap,
            "calibrate": args.calibrate,
        },
    )
    result = evaluate(args.run, args.data, cfg, progress=not args.quiet)
    print(format_evaluation(result.metrics))
    print(f"wrote {Path(args.run) / 'evaluation.json'} and {result.predictions_csv}")
    return 0


def _report(args: argparse.Namespace) -> int:
    from stylecast.report import build_report

    result = build_report(args.run, args.out)
    print(f"report: {result.path}")
    return 0
