"""``stylecast distill TEACHER --out STUDENT``: one model trained on an ensemble's soft labels.

An ensemble predicts at N times one model's cost. Knowledge distillation (Hinton et al.,
2015) trains a single *student* on what the ensemble says of every training image (its
calibrated probabilities, softened by ``temperature``) besides the images' own labels, so
that most of the ensemble's gain survives at one model's speed. The student is an ordinary
run folder on the teacher's split (the same test images, so ``stylecast compare`` pairs
them), and the default student is the teacher's own configuration with the teacher's seed:
member 0 of the teacher is then the same model trained without the soft labels.

The student's folder also holds ``distill.json`` (the teacher, its digest, the settings,
the extra images used and those left out) and ``distill_targets.npz`` (the soft labels,
with a digest checked before they are used again): a killed student continues with
``stylecast distill --resume STUDENT``, without needing the teacher.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stylecast.config import TrainConfig, load_config
from stylecast.distill.config import DistillConfig
from stylecast.errors import ConfigError, RunError
from stylecast.fileio import read_json
from stylecast.run import RunFolder
from stylecast.training import under_torchrun

__all__ = ["DISTILL_FORMAT", "DistillResult", "distill", "student_config"]

DISTILL_FORMAT = 1


@dataclass(frozen=True)
class DistillResult:
    """A trained student, and what it learnt from."""

    run_dir: Path
    train: Any  # the student's TrainResult
    teacher: Path
    n_soft: int  # labelled training images with the teacher's soft labels
    n_extra: int  # extra unlabelled images
    dropped: list[dict[str, str]] = field(default_factory=list)
    seconds_targets: float = 0.0  # computing the soft labels


def _teacher(run: str | os.PathLike[str]) -> RunFolder:
    folder = RunFolder(run)
    folder.require_dir()
    if not folder.has_model():
        raise RunError(f"{folder.path} holds no trained model to distil")
    if not folder.model_info().is_ensemble:
        raise RunError(
            f"{folder.path} is a single model, not an ensemble: a student learns from an "
            "ensemble's soft labels (make one with `stylecast train DATA --ensemble 3`, or "
            "`stylecast ensemble RUN_A RUN_B ... --out ENSEMBLE`)"
        )
    return folder


def student_config(teacher: RunFolder, overrides: dict[str, Any] | None = None) -> TrainConfig:
    """The teacher's configuration as one model, with ``overrides`` laid over it."""
    given = {k: v for k, v in (overrides or {}).items() if v is not None}
    if given.get("ensemble", 1) != 1:
        raise ConfigError("a student is one model: leave --ensemble out")
    base = teacher.config_file if teacher.config_file.is_file() else None
    cfg = load_config(TrainConfig, base, {**given, "ensemble": 1})
    return check_student(cfg)


def check_student(cfg: TrainConfig) -> TrainConfig:
    if cfg.mode == "head":
        raise ConfigError(
            "distillation fine-tunes the student on the soft labels: use --mode warmup (the "
            "default) or finetune, not head"
        )
    if cfg.balance != "none":
        raise ConfigError(
            "--balance does not apply to distillation: the teacher's soft labels carry its "
            "view of every class; leave --balance at none"
        )
    return dataclasses.replace(cfg, ensemble=1)


def distill(
    teacher: str | os.PathLike[str] | None,
    out: str | os.PathLike[str] | None = None,
    data: Sequence[str | os.PathLike[str]] = (),
    cfg: DistillConfig | None = None,
    train_cfg: TrainConfig | None = None,
    *,
    resume: bool = False,
    progress: bool = True,
    cache: Any = None,
) -> DistillResult:
    """Train a student on ``teacher``'s soft labels (and on extra unlabelled ``data``) into
    ``out``; with ``resume``, continue the student in ``out``."""
    from stylecast.data import ImageCache

    if under_torchrun():
        raise ConfigError("stylecast distill runs in one process; start it without torchrun")
    cache = cache or ImageCache()
    if resume:
        return _resume(out, progress=progress, cache=cache)
    if teacher is None:
        raise RunError("give the teacher: the folder of an ensemble run")
    folder = _teacher(teacher)
    cfg = cfg or DistillConfig()
    student_cfg = check_student(train_cfg) if train_cfg is not None else student_config(folder)
    target = RunFolder(out if out is not None else Path("runs") / f"{folder.path.name}-student")
    target.check_new()
    return _new(folder, target, data, cfg, student_cfg, progress=progress, cache=cache)


def _say(progress: bool) -> Any:
    return (lambda m: print(m, file=sys.stderr, flush=True)) if progress else (lambda m: None)


def _new(
    folder: RunFolder,
    target: RunFolder,
    data: Sequence[Any],
    cfg: DistillConfig,
    student_cfg: TrainConfig,
    *,
    progress: bool,
    cache: Any,
) -> DistillResult:
    from stylecast.distill.targets import TeacherScorer, extra_pixels, extra_targets, split_targets
    from stylecast.ensemble import ensemble_digest
    from stylecast.models import preprocessing_for
    from stylecast.training import SoftTargets, train

    say = _say(progress)
    t0 = time.perf_counter()
    scorer = TeacherScorer.load(folder)
    info = scorer.info
    if not folder.evaluation_file.is_file():
        say(
            f"warning: {folder.path} was never evaluated, so its members are not calibrated; "
            f"`stylecast evaluate {folder.path}` first gives calibrated soft labels"
        )
    say(f"soft labels of {folder.path} ({info.describe()}, {scorer.engine}) for its training split")
    paths, logits = split_targets(scorer, cache=cache, progress=progress)
    extra = None
    if data:
        extra = extra_targets(
            scorer, data, dup_threshold=student_cfg.dup_threshold, cache=cache, progress=progress
        )
        for d in extra.dropped[:5]:
            say(f"left out {d['path']}: {d['reason']}")
        if len(extra.dropped) > 5:
            say(f"... {len(extra.dropped) - 5} more left out (all listed in distill.json)")
        say(f"{len(extra.paths)} extra unlabelled image(s) labelled by the teacher")
    seconds = time.perf_counter() - t0
    record = {
        "format": DISTILL_FORMAT,
        "teacher": str(folder.path.resolve()),
        "teacher_model": info.describe(),
        "teacher_digest": ensemble_digest(info),
        "teacher_temperatures": [m.temperature for m in info.members],
        "teacher_temperature": info.temperature,
        "temperature": cfg.temperature,
        "alpha": cfg.alpha,
        "extra_data": [str(Path(d).resolve()) for d in data],
        "n_soft": len(paths),
        "n_extra": 0 if extra is None else len(extra.paths),
        "dropped": [] if extra is None else extra.dropped,
        "seconds_targets": round(seconds, 2),
    }
    soft = SoftTargets(
        paths=paths,
        logits=logits,
        temperature=cfg.temperature,
        alpha=cfg.alpha,
        extra_logits=None if extra is None or not extra.paths else extra.logits,
        extra_paths=() if extra is None else extra.paths,
        record=record,
    )
    if soft.extra_paths:
        prep = preprocessing_for(student_cfg.model, student_cfg.img_size)
        pixels = extra_pixels(soft.extra_paths, prep, cache=cache, progress=False)
        soft = soft.with_extra_pixels(pixels)
    result = train(
        folder.info().data,
        student_cfg,
        target.path,
        progress=progress,
        cache=cache,
        splits_csv=folder.splits_file,
        soft_targets=soft,
    )
    return DistillResult(
        result.run_dir,
        result,
        folder.path,
        len(paths),
        soft.n_extra,
        record["dropped"],
        seconds,
    )


def _resume(out: Any, *, progress: bool, cache: Any) -> DistillResult:
    from stylecast.distill.targets import extra_pixels
    from stylecast.models import preprocessing_for
    from stylecast.training import SoftTargets, train

    if out is None:
        raise RunError("--resume needs the student's run folder")
    student = RunFolder(out)
    if not student.distill_file.is_file():
        raise RunError(
            f"{student.path} is not a distilled student (no {student.DISTILL}); continue an "
            f"ordinary run with `stylecast train --resume {student.path}`"
        )
    try:
        record = read_json(student.distill_file)
    except (OSError, ValueError) as exc:
        raise RunError(f"{student.distill_file} is unreadable ({exc})") from None
    soft = SoftTargets.load(student.distill_targets_file, record)
    if soft.extra_paths:
        cfg = load_config(TrainConfig, student.config_file)
        prep = preprocessing_for(cfg.model, cfg.img_size)
        pixels = extra_pixels(soft.extra_paths, prep, cache=cache, progress=False)
        soft = soft.with_extra_pixels(pixels)
    result = train(
        None, None, student.path, resume=True, progress=progress, cache=cache, soft_targets=soft
    )
    return DistillResult(
        result.run_dir,
        result,
        Path(record.get("teacher", "")),
        len(soft.paths),
        soft.n_extra,
        list(record.get("dropped", [])),
    )
