"""Subcommands of ensembles: ``ensemble`` (from separate runs) and ``distill`` (one student)."""

from __future__ import annotations

import argparse

from stylecast.cli.common import (
    add_config_options,
    add_out_option,
    add_quiet_option,
    add_train_options,
    config_overrides,
)


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``ensemble`` and ``distill`` to the ``stylecast`` subcommands."""
    p = sub.add_parser(
        "ensemble",
        help="make one ensemble run of runs trained separately on one split",
        description="Copy RUN_A, RUN_B, ... (trained runs on the same split, with the same "
        "classes and image size) into OUT/members/ and write OUT's model.json: an ensemble "
        "run that evaluate, predict, explain, export, serve, compare and distill take as "
        "they take any run. `stylecast train DATA --ensemble N` trains one in one go.",
    )
    p.add_argument("runs", nargs="+", metavar="RUN", help="trained run folders (two or more)")
    add_out_option(p, "the new ensemble's run folder", required=True)
    p.add_argument("--no-evaluate", action="store_true", help="skip evaluation and report")
    add_quiet_option(p)
    p.set_defaults(func=_ensemble)

    p = sub.add_parser(
        "distill",
        help="train one model on an ensemble's soft labels (knowledge distillation)",
        description="Train a student, one model (the teacher's configuration unless flags say "
        "otherwise), on the ensemble TEACHER's calibrated probabilities for its training "
        "images besides their labels, and on extra unlabelled DATA (files, folders or a "
        "manifest; near-duplicates of the teacher's validation and test images are left "
        "out). The student is an ordinary run on the teacher's split: it is evaluated, "
        "reported and compared with the teacher on the same test images.",
    )
    p.add_argument("teacher", nargs="?", help="the ensemble run (optional with --resume)")
    p.add_argument("data", nargs="*", help="extra unlabelled images: files, folders or a manifest")
    add_out_option(p, "the student's run folder (default runs/<teacher>-student)")
    p.add_argument("--resume", metavar="STUDENT", help="continue the killed student STUDENT")
    p.add_argument("--no-evaluate", action="store_true", help="skip evaluation and report")
    add_quiet_option(p)
    from stylecast.distill.config import DistillConfig

    add_config_options(p.add_argument_group("distillation"), DistillConfig)
    add_train_options(p)
    p.set_defaults(func=_distill)


def _evaluate(run: object, quiet: bool) -> None:
    from stylecast.cli.core import _evaluate_and_report

    _evaluate_and_report(run, quiet=quiet)


def _ensemble(args: argparse.Namespace) -> int:
    from stylecast.ensemble import build_ensemble

    build = build_ensemble(args.runs, args.out)
    accs = ", ".join("?" if a is None else f"{a:.3f}" for a in build.member_val_accuracy)
    val = "" if build.val_accuracy is None else f"; averaged {build.val_accuracy:.3f}"
    print(f"ensemble of {len(build.info.members)} in {args.out}: members' val accuracy {accs}{val}")
    if not args.no_evaluate:
        _evaluate(args.out, args.quiet)
    print(f"run folder: {args.out}")
    return 0


def _distill(args: argparse.Namespace) -> int:
    from stylecast.cli.common import train_overrides
    from stylecast.config import TrainConfig, load_config
    from stylecast.distill import DistillConfig, distill, student_config
    from stylecast.errors import ConfigError
    from stylecast.run import RunFolder

    kd = {k: v for k, v in config_overrides(args, DistillConfig).items() if v is not None}
    overrides = {k: v for k, v in train_overrides(args).items() if v is not None}
    if args.resume:
        if args.teacher or args.data or kd or overrides or args.config:
            raise ConfigError(
                "--resume continues the student as it was started: give only --resume STUDENT"
            )
        result = distill(None, args.resume, resume=True, progress=not args.quiet)
    else:
        if not args.teacher:
            raise ConfigError("give TEACHER (an ensemble run), or --resume STUDENT")
        if args.config:
            train_cfg = load_config(TrainConfig, args.config, {**overrides, "ensemble": 1})
        else:
            train_cfg = student_config(RunFolder(args.teacher), overrides)
        result = distill(
            args.teacher,
            args.out,
            args.data,
            load_config(DistillConfig, None, kd),
            train_cfg,
            progress=not args.quiet,
        )
    extra = f" and {result.n_extra} extra images" if result.n_extra else ""
    print(
        f"distilled {result.teacher} into {result.run_dir} ({result.n_soft} soft-labelled "
        f"training images{extra}): best val accuracy {result.train.best_val_accuracy:.3f} in "
        f"{result.train.seconds:.0f}s"
    )
    if not args.no_evaluate and RunFolder(result.run_dir).is_trained():
        _evaluate(result.run_dir, args.quiet)
        _against_teacher(result)
    print(f"run folder: {result.run_dir}")
    return 0


def _against_teacher(result: object) -> None:
    """The student beside its teacher on their shared test images (when the teacher is there
    and evaluated)."""
    from stylecast.errors import StylecastError
    from stylecast.evaluation import compare, format_comparison
    from stylecast.run import RunFolder

    teacher = RunFolder(result.teacher)  # type: ignore[attr-defined]
    if not teacher.evaluation_file.is_file():
        return
    try:
        cmp = compare([result.run_dir, teacher.path])  # type: ignore[attr-defined]
    except StylecastError:
        return
    print("\nthe student against its teacher:")
    print(format_comparison(cmp))
