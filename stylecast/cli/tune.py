"""The ``tune`` subcommand: an Optuna study over training configurations."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from pathlib import Path

import yaml

from stylecast.cli.common import (
    add_config_options,
    add_out_option,
    add_quiet_option,
    add_train_options,
    config_overrides,
    train_overrides,
)
from stylecast.config import TrainConfig, TuneConfig, load_config


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``tune``: its own flags from TuneConfig, the training flags from TrainConfig."""
    p = sub.add_parser(
        "tune",
        help="search training hyperparameters with Optuna (pruned, durable, many workers)",
        description="Run an Optuna study on DATA: each trial trains with sampled values on one "
        "fixed split and is scored on its validation split. By default trials fine-tune "
        "(freeze_stages, lr, batch size, weight decay, label smoothing), the first trial is "
        "`stylecast train`'s default configuration, Hyperband stops weak trials after a few "
        "epochs, and the command stops after --timeout seconds (one hour unless you say); "
        "--space head trains a head on cached features instead (seconds a trial). Running "
        "the same command again continues the study; another machine joins it with the same "
        "--storage and --study-name; under torchrun the job is one worker whose trials "
        "train data-parallel on all its processes. Training flags given here are fixed for "
        "every trial and left out of the search.",
    )
    p.add_argument("data", help="image folder or manifest")
    add_out_option(p, "study folder (default runs/tune-<data folder name>)")
    add_quiet_option(p)
    add_config_options(p.add_argument_group("tuning"), TuneConfig)
    add_train_options(p)
    p.set_defaults(func=_tune)


def _config_file_keys(path: str | None) -> set[str]:
    """Keys written in --config: the user chose them, so they are fixed, not searched."""
    if not path or not Path(path).is_file():
        return set()  # load_config reports a missing file
    try:
        loaded = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except yaml.YAMLError:
        return set()  # load_config reports it
    return set(loaded) if isinstance(loaded, dict) else set()


def _tune(args: argparse.Namespace) -> int:
    from stylecast.errors import ConfigError
    from stylecast.training import (
        follow_trainings,
        lead_trainings,
        process_rank,
        under_torchrun,
    )
    from stylecast.tuning import format_trials, redact, tune

    # Every run.json records the command line: never with a database password in it
    # (spawned workers inherit this argv too).
    sys.argv = [redact(a) for a in sys.argv]

    overrides = train_overrides(args)
    train_cfg = load_config(TrainConfig, args.config, overrides)
    fixed = {k for k, v in overrides.items() if v is not None} | _config_file_keys(args.config)
    tune_cfg = load_config(TuneConfig, None, config_overrides(args, TuneConfig))
    job = contextlib.nullcontext()
    if under_torchrun():
        # One tuning worker as a torchrun job: rank 0 runs the study, and every trial
        # trains data-parallel on all the job's processes (GPUs).
        if tune_cfg.workers != 1:
            raise ConfigError(
                "under torchrun the whole job is one tuning worker: leave --workers at 1 "
                "(start more jobs, on this or other machines, for more workers)"
            )
        if process_rank() != 0:
            follow_trainings()
            return 0
        job = lead_trainings()
    try:
        with job:
            result = tune(
                args.data, tune_cfg, train_cfg, args.out, fixed=fixed, progress=not args.quiet
            )
    except KeyboardInterrupt:
        if getattr(args, "debug", False) or os.environ.get("STYLECAST_DEBUG") == "1":
            raise
        print(
            "interrupted; the finished trials are in the study and trials.csv: run the same "
            "command again to continue it",
            file=sys.stderr,
        )
        return 130
    print(format_trials(result.trials))
    counts = ", ".join(f"{n} {s}" for s, n in result.counts.items())
    print(
        f"\nstudy {result.study_name!r}: {result.n_trials} trials ({counts}); this run added "
        f"{len(result.new_trials)} in {result.seconds:.0f}s"
    )
    best_yaml = result.best_yaml
    print(
        f"best: trial {result.best_number}, {result.metric} {result.best_value:.4f} -> "
        f"{best_yaml} (train it: stylecast train DATA --config {best_yaml})"
    )
    print(
        f"study folder: {result.out} (trials.csv, optimization_history.png, param_importances.png)"
    )
    if result.retrained_run is not None:
        from stylecast.evaluation import format_evaluation
        from stylecast.report import build_report

        print(f"\nbest configuration retrained on train+val: {result.retrained_run}")
        print(format_evaluation(result.test_metrics or {}))
        rep = build_report(result.retrained_run)
        print(f"report: {rep.path}")
        if result.comparison is not None:
            print("\nthe best against the defaults:")
            print("\n".join(result.comparison.lines()))
    return 0
