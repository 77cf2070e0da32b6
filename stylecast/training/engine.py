"""Training stage: transfer learning in three modes, resumable, with honest progress.

Modes
    ``head``      backbone frozen; pooled features computed once per image (and per
                  augmented view) and cached on disk; a linear head trains on them in seconds
                  (:mod:`~stylecast.training.head`).
    ``finetune``  every layer trains, on batches augmented as tensors
                  (:mod:`~stylecast.training.finetune`).
    ``warmup``    the ``head`` phase first, then unfreeze (all at once, or block by block);
                  frozen layers keep their BatchNorm statistics (held in eval mode).

Every epoch ends with an atomic checkpoint (:class:`~stylecast.training.state.TrainState`:
model, optimizer, scheduler, RNG states, history), so ``train(..., resume=True)`` continues
a killed run and ends where an uninterrupted one would.

Under torchrun the same ``train()`` runs in every process, data-parallel
(:mod:`~stylecast.training.distributed`); rank 0 alone writes the run folder.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import os
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from stylecast import __version__
from stylecast.config import TrainConfig, config_to_yaml
from stylecast.data import ImageCache, prepare_run_data
from stylecast.errors import ConfigError, RunError
from stylecast.fileio import atomic_write_json, atomic_write_text
from stylecast.models import model_summary, save_model
from stylecast.records import EpochRecord, SkippedFile
from stylecast.run import ModelInfo, RunFolder, RunInfo
from stylecast.training.context import PhaseContext, Progress
from stylecast.training.distributed import (
    announce_training,
    describe_job,
    join,
    resolve_device,
    shared_file,
)
from stylecast.training.ensemble import ensemble_size
from stylecast.training.ensemble import train_ensemble as _train_ensemble
from stylecast.training.finetune import finetune_phase
from stylecast.training.head import head_phase
from stylecast.training.result import TrainResult
from stylecast.training.soft import SoftTargets
from stylecast.training.state import TrainState
from stylecast.training.targets import new_target, resume_target

__all__ = ["TrainResult", "train", "train_ensemble", "EpochCallback"]

EpochCallback = Callable[[dict[str, Any]], None]
"""Called after every epoch with its history row; may raise to stop (tuning prunes this way)."""

PHASES = {"head": ("head",), "finetune": ("finetune",), "warmup": ("head", "finetune")}
_PHASE_RUNNERS = {"head": head_phase, "finetune": finetune_phase}


def train(
    data: str | os.PathLike[str] | None = None,
    cfg: TrainConfig | None = None,
    out: str | os.PathLike[str] | None = None,
    *,
    resume: bool = False,
    progress: bool = True,
    on_epoch: EpochCallback | None = None,
    cache: ImageCache | None = None,
    write_summary: bool = True,
    splits_csv: str | os.PathLike[str] | None = None,
    soft_targets: SoftTargets | None = None,
) -> TrainResult:
    """Train a classifier on ``data`` into the run folder ``out``.

    With ``resume=True``, ``out`` is an existing run: its saved config and data are used
    (a ``cfg`` or ``data`` that differ raise ``RunError`` naming the differences) and
    training continues from the last checkpoint.

    ``splits_csv`` (a run's ``splits.csv``) makes a new run use exactly that split instead
    of computing one; ``on_epoch`` is called with every epoch's history row.

    Under torchrun every process calls this (see :mod:`~stylecast.training.distributed`):
    they train one model data-parallel, rank 0 writes the run folder and calls ``on_epoch``,
    and every rank returns the same result.

    ``cfg.ensemble`` above 1 trains that many members on one split into ``out/members/<k>``
    (:mod:`~stylecast.training.ensemble`); resuming such a run continues it member by member.
    ``soft_targets`` (``stylecast distill``) fine-tunes on a teacher's soft labels.
    """
    if (
        resume
        and soft_targets is None
        and out is not None
        and RunFolder(out).distill_file.is_file()
    ):
        raise RunError(
            f"{out} is a student distilled from an ensemble; continue it with `stylecast "
            f"distill --resume {out}` (it needs the teacher's soft labels)"
        )
    n_members = ensemble_size(cfg, out, resume=resume)
    if n_members > 1 and soft_targets is not None:
        raise ConfigError("a distilled student is one model: leave --ensemble at 1")
    if n_members > 1:
        return _train_ensemble(
            train,
            data,
            cfg,
            out,
            resume=resume,
            progress=progress,
            on_epoch=on_epoch,
            cache=cache,
            write_summary=write_summary,
            splits_csv=splits_csv,
        )
    t_start = time.perf_counter()
    cache = cache or ImageCache()
    dist = join()
    announce_training(
        dist,
        {
            "data": data,
            "cfg": cfg,
            "out": out,
            "resume": resume,
            "cache": str(cache.root),
            "write_summary": write_summary,
            "splits_csv": splits_csv,
        },
    )
    # Rank 0 decides what is trained where (it alone reads and writes the run folder).
    where, cfg, data = dist.on_main(lambda: _target(data, cfg, out, resume=resume))
    run = RunFolder(where)
    torch.manual_seed(cfg.seed)
    if cfg.num_threads:
        torch.set_num_threads(cfg.num_threads)
    device = dist.agree(lambda: resolve_device(cfg.device, dist.local_rank))
    say = Progress(progress and dist.is_main)
    if dist.active:
        say.line(describe_job(dist, device, cfg.batch_size, cfg.lr))

    # Everything that can fail on bad input happens before the run folder is created.
    # One process per machine decodes the images into the cache; the others then read it.
    with shared_file(dist, run.splits_file if resume else splits_csv) as given_split:
        rd = dist.first_then_rest(
            lambda: prepare_run_data(
                data,
                cfg,
                splits_csv=given_split,
                cache=cache,
                progress=progress and dist.is_main,
            ),
            first=dist.local_rank == 0,
        )
    if len(set(dist.gather(_split_digest(rd)))) > 1:
        raise RunError(
            "the processes of this job made different splits of the data: every machine "
            "must see the same images at the same path (and, to resume, the same run folder)"
        )
    ctx = PhaseContext.for_run(
        rd, cfg, device=device, progress=say, cache=cache, dist=dist, soft=soft_targets
    )
    source = Path(data).resolve()
    created_dir = not run.path.exists()
    with contextlib.ExitStack() as held:

        def open_run() -> None:
            held.enter_context(run.lock())
            if not resume:
                # Again under the lock: another process may have started a run here meanwhile.
                run.check_new()
            for path in run.remove_stale_temporaries():
                ctx.progress.line(f"removed {path.name}, a file half-written by a killed run")

        dist.on_main(open_run)
        return _train_locked(
            run,
            ctx,
            source,
            created_dir=created_dir,
            resume=resume,
            write_summary=write_summary,
            on_epoch=on_epoch,
            t_start=t_start,
        )


def _target(
    data: Any, cfg: TrainConfig | None, out: Any, *, resume: bool
) -> tuple[str, TrainConfig, Any]:
    """(run folder, config, data) of a new or a resumed run."""
    if resume:
        run, cfg, data = resume_target(out, cfg, data)
    else:
        run, cfg = new_target(data, cfg, out)
    return str(run.path), cfg, data


def _split_digest(rd: Any) -> str:
    table = rd.table
    text = "\n".join(f"{p}\t{s}\t{y}" for p, s, y in zip(table["relpath"], table["split"], rd.y))
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def _train_locked(
    run: RunFolder,
    ctx: PhaseContext,
    source: Path,
    *,
    created_dir: bool,
    resume: bool,
    write_summary: bool,
    on_epoch: EpochCallback | None,
    t_start: float,
) -> TrainResult:
    cfg, model, device, dist = ctx.cfg, ctx.model, ctx.device, ctx.dist
    try:
        if not resume:
            dist.on_main(lambda: _write_run_files(run, ctx, source, write_summary=write_summary))
        model.to(device).to(memory_format=torch.channels_last)
        state = TrainState(
            run,
            model,
            seed=cfg.seed,
            patience=cfg.patience,
            on_epoch=on_epoch if dist.is_main else None,
            writes=dist.is_main,
            select=ctx.has_val,
        )
        ckpt = dist.on_main(state.read_checkpoint) if resume else None
        if ckpt is not None:
            state.restore(ckpt)
            ctx.progress.line(f"resuming {run.path} at {state.phase} epoch {state.epoch}")
        _run_phases(ctx, state)
        return _finish(ctx, state, source, seconds=time.perf_counter() - t_start)
    except BaseException:
        # A run that failed before its first checkpoint leaves nothing behind.
        if dist.is_main and created_dir and not resume and not run.checkpoint_dir.exists():
            shutil.rmtree(run.path, ignore_errors=True)
        raise


def _write_run_files(run: RunFolder, ctx: PhaseContext, data: Path, *, write_summary: bool) -> None:
    """The files a new run starts with: config, source, split, data check, model summary."""
    rd, cfg = ctx.rd, ctx.cfg
    atomic_write_text(run.config_file, config_to_yaml(cfg))
    run.write_info(
        RunInfo(
            data=data,
            data_kind=rd.dataset.kind,
            created=_dt.datetime.now().isoformat(timespec="seconds"),
            stylecast_version=__version__,
            command=" ".join(sys.argv) if sys.argv and sys.argv[0] else "",
        )
    )
    splits = rd.table.drop(columns=["path"]).rename(columns={"relpath": "path"})
    first = ["path", "label", "split"]
    cols = first + [c for c in splits.columns if c not in first]
    atomic_write_text(run.splits_file, splits[cols].to_csv(index=False))
    if rd.prepared.skipped:
        atomic_write_json(run.skipped_file, rd.prepared.skipped)
    if rd.check:
        atomic_write_json(run.data_check_file, rd.check)
    if ctx.soft is not None:  # a distilled student: its teacher and the soft labels
        atomic_write_json(run.distill_file, ctx.soft.record)
        ctx.soft.save(run.distill_targets_file)
    if write_summary:
        atomic_write_text(run.summary_file, model_summary(ctx.model, cfg.img_size) + "\n")


def _run_phases(ctx: PhaseContext, state: TrainState) -> None:
    """Run the mode's phases, skipping those a resumed checkpoint has completed."""
    state.open_tensorboard()
    try:
        for phase in PHASES[ctx.cfg.mode]:
            if phase in state.completed:
                continue
            state.start_phase(phase)
            if phase == "head" and ctx.dist.active:
                _head_on_main(ctx, state)
            else:
                _PHASE_RUNNERS[phase](ctx, state)
            state.finish_phase()
    finally:
        state.close()


def _head_on_main(ctx: PhaseContext, state: TrainState) -> None:
    """The head phase of a data-parallel job: rank 0 fits it (seconds on cached features,
    so the features are computed once), the other ranks take its weights and state."""

    def fit() -> dict[str, Any]:
        head_phase(ctx, state)
        return state.snapshot() | {"best": state.best_weights}

    snap = ctx.dist.on_main(fit)
    if not ctx.dist.is_main:
        state.restore(snap)


def _finish(ctx: PhaseContext, state: TrainState, data: Path, *, seconds: float) -> TrainResult:
    """Keep the best epoch's weights, save the model, and drop the checkpoints."""
    cfg, model, run = ctx.cfg, ctx.model, state.run
    if state.best_weights is not None:
        model.load_state_dict(state.best_weights)
    best = state.best
    assert best is not None  # internal invariant: every phase records at least one epoch
    info = ModelInfo(
        name=cfg.model,
        timm_name=model.pretrained_cfg.get("architecture", cfg.model)
        if hasattr(model, "pretrained_cfg")
        else cfg.model,
        classes=tuple(ctx.rd.classes),
        preprocessing=ctx.prep,
        temperature=1.0,
        extra={
            "mode": cfg.mode,
            "best": best,
            "trained_on": str(data),
            "stylecast_version": __version__,
        }
        | (
            {"processes": ctx.dist.world_size, "global_batch_size": cfg.batch_size}
            if ctx.dist.active
            else {}
        ),
    )

    def save() -> None:
        save_model(model.cpu(), run.path, info)
        state.write_metrics()
        shutil.rmtree(run.checkpoint_dir, ignore_errors=True)

    ctx.dist.on_main(save)
    ctx.progress.line(
        f"best val_accuracy {best['val_accuracy']:.3f} ({best['phase']} epoch {best['epoch']}); "
        f"model saved to {run.path}"
    )
    return TrainResult(
        run_dir=run.path,
        classes=ctx.rd.classes,
        mode=cfg.mode,
        best_epoch=int(best["epoch"]),
        best_phase=str(best["phase"]),
        best_val_accuracy=float(best["val_accuracy"]),
        best_val_loss=float(best["val_loss"]),
        history=tuple(EpochRecord.from_json(row) for row in state.history),
        seconds=seconds,
        skipped=tuple(SkippedFile.from_json(s) for s in ctx.rd.prepared.skipped),
    )


def train_ensemble(data: Any, cfg: TrainConfig | None, out: Any, **options: Any) -> TrainResult:
    """Train (or continue) ``cfg.ensemble`` members into ``out`` (what :func:`train` does
    for an ensemble config): :func:`stylecast.training.ensemble.train_ensemble` with this
    module's :func:`train` for each member."""
    return _train_ensemble(train, data, cfg, out, **options)
