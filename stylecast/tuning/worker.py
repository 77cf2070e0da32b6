"""One tuning worker: load the shared study and run trials (in-process or a child process).

A trial is a normal ``train()`` run into ``OUT/trials/<number>`` on the study's fixed
split, with the shared image and feature caches. Every epoch of the phase the pruner
measures (fine-tune epochs where trials fine-tune, head epochs in a head-only study)
reports the metric to Optuna with the epoch as its step, so Hyperband's resource is
epochs; a pruned trial stops at once (``on_epoch`` raises ``TrialPruned``). The trial of
the default configuration is never pruned: it is the baseline every other trial must beat.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import os
import shutil
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from stylecast.config import TrainConfig, TuneConfig, config_to_dict
from stylecast.data import ImageCache
from stylecast.run import RunFolder
from stylecast.tuning.budget import defaults_line, eta_text
from stylecast.tuning.loop import run_trials, session_counts
from stylecast.tuning.space import suggest
from stylecast.tuning.spec import DEFAULTS_ATTR, TrialResource, WorkerSpec, trial_resource
from stylecast.tuning.storage import open_storage

__all__ = [
    "DEFAULTS_ATTR",
    "TRIALS_DIR",
    "TrialResource",
    "WorkerSpec",
    "child_main",
    "make_pruner",
    "make_sampler",
    "run_worker",
    "run_workers",
    "worker_exits_text",
    "strip_trial_dir",
    "trial_resource",
]

# The study folder's sub-folder of trial runs: TRIALS_DIR/<number>/.
TRIALS_DIR = "trials"
# What a non-best trial folder keeps: enough to see what it did, not its 13 MB of weights.
KEEP_IN_TRIAL = (RunFolder.CONFIG, RunFolder.METRICS, RunFolder.INFO)
# Successive halving keeps the best third of the trials at each rung.
HYPERBAND_REDUCTION = 3


def make_pruner(cfg: TuneConfig, resource: TrialResource | None = None) -> Any:
    """The Optuna pruner ``cfg.pruner`` names (``auto``: by what the trials train).

    Hyperband's resource is epochs of ``resource.phase``: it starts trials with 1 epoch
    (2 from 6 epochs on, where the first epoch says little), keeps the best third at each
    rung and lets the rest run to ``resource.max_epochs``.
    """
    import optuna

    resource = resource or TrialResource("finetune", TrainConfig().epochs)
    kind = cfg.pruner
    if kind == "auto":
        kind = "hyperband" if resource.phase == "finetune" else "median"
    if kind == "median":
        return optuna.pruners.MedianPruner(
            n_startup_trials=cfg.pruner_startup_trials, n_warmup_steps=cfg.pruner_warmup_epochs
        )
    if kind == "hyperband":
        top = max(1, resource.max_epochs)
        return optuna.pruners.HyperbandPruner(
            min_resource=1 if top < 6 else 2,
            max_resource=top,
            reduction_factor=HYPERBAND_REDUCTION,
        )
    return optuna.pruners.NopPruner()


def make_sampler(cfg: TuneConfig, worker_index: int, n_done: int) -> Any:
    """A TPE sampler for one worker, with ``n_done`` trials already in the study."""
    import optuna

    # Workers (and re-runs) must not draw the same "random" startup trials.
    seed = None if cfg.sampler_seed is None else cfg.sampler_seed + 1000 * worker_index + n_done
    return optuna.samplers.TPESampler(seed=seed, constant_liar=True)


def strip_trial_dir(run: Path) -> None:
    """Remove a trial folder's weights, checkpoint and split copy; keep config + metrics."""
    if not run.is_dir():
        return
    for p in run.iterdir():
        if p.name in KEEP_IN_TRIAL:
            continue
        if p.is_dir():
            shutil.rmtree(p, ignore_errors=True)
        else:
            with contextlib.suppress(FileNotFoundError):
                p.unlink()


def _fmt_params(params: dict[str, Any]) -> str:
    parts = []
    for k, v in params.items():
        parts.append(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}")
    return " ".join(parts)


def _metric_value(history: list[dict[str, Any]], metric: str, direction: str) -> float:
    values = [float(r[metric]) for r in history if r.get(metric) is not None]
    values = [v for v in values if not math.isnan(v)]
    if not values:
        raise RuntimeError(f"the run reported no {metric}")
    return max(values) if direction == "maximize" else min(values)


def _trial_line(ft: Any, metric: str, best: Any) -> str:
    """``trial 3 PRUNED val_accuracy 0.7 after 2 epochs in 41.0s  lr=... | best ...``."""
    secs = ft.duration.total_seconds() if ft.duration else 0.0
    value = "" if ft.value is None else f" {metric} {ft.value:.4f}"
    epochs = ft.user_attrs.get("epochs_run")
    what = ""
    if ft.state.name == "PRUNED":
        what = " at the end of the time budget" if ft.user_attrs.get("stopped") else ""
        what += f" after {epochs} epochs" if epochs else ""
    err = f"  ({ft.user_attrs['error']})" if "error" in ft.user_attrs else ""
    best_s = f" | best {best.value:.4f} (trial {best.number})" if best else ""
    params = _fmt_params(ft.params)
    again = ft.system_attrs.get("failed_trial")
    retry = f" (retry of trial {again})" if again is not None else ""
    return (
        f"trial {ft.number}{retry} {ft.state.name}{value}{what} in {secs:.1f}s  "
        f"{params}{err}{best_s}"
    )


def run_worker(spec: WorkerSpec) -> None:
    """Run ``spec.n_trials`` trials of the study (failures are recorded, never raised)."""
    import optuna
    import torch

    from stylecast.training import train

    cfg = spec.tune_cfg
    if spec.n_workers > 1 and spec.base.num_threads == 0:
        # K workers share this machine's cores instead of each taking all of them.
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // spec.n_workers))
    storage = open_storage(
        spec.storage_url,
        heartbeat_interval=cfg.heartbeat_interval,
        grace_period=cfg.grace_period,
        max_retry=cfg.max_retry,
    )
    n_done = len(optuna.load_study(study_name=spec.study_name, storage=storage).trials)
    study = optuna.load_study(
        study_name=spec.study_name,
        storage=storage,
        sampler=spec.sampler or make_sampler(cfg, spec.worker_index, n_done),
        pruner=spec.pruner or make_pruner(cfg, spec.resource),
    )
    cache = ImageCache(spec.cache_root)
    out = Path(spec.out)
    tag = f"[worker {spec.worker_index + 1}] " if spec.n_workers > 1 else ""
    started = time.perf_counter()
    finished = 0

    def objective(trial: optuna.Trial) -> float:
        params = suggest(trial, spec.space, spec.base)
        cfg_t = dataclasses.replace(spec.base, **params)
        run = out / TRIALS_DIR / str(trial.number)
        trial.set_user_attr("run_dir", str(run))
        trial.set_user_attr("train_config", config_to_dict(cfg_t))
        if run.exists():  # a leftover of an older study that used this trial number
            shutil.rmtree(run)
        step = 0
        is_defaults = bool(trial.user_attrs.get(DEFAULTS_ATTR))
        # The pruner's steps: epochs of the measured phase (a head-mode trial of a study
        # that fine-tunes has none: it costs seconds and is never pruned).
        phase = "head" if cfg_t.mode == "head" else "finetune"
        reports = phase == spec.resource.phase

        def on_epoch(row: dict[str, Any]) -> None:
            nonlocal step
            if reports and row.get("phase") == phase:
                step = int(row["epoch"])
                value = float(row[cfg.metric])
                if not math.isnan(value):
                    trial.report(value, step)
                if not is_defaults and trial.should_prune():
                    raise optuna.TrialPruned(
                        f"pruned after epoch {step} ({cfg.metric} {value:.4f})"
                    )
            last = cfg_t.head_epochs if phase == "head" else cfg_t.epochs
            done = row.get("phase") == phase and int(row["epoch"]) >= last  # nothing to save
            over = spec.deadline is not None and time.time() >= spec.deadline
            if over and not done and not is_defaults:
                trial.set_user_attr("stopped", "time budget")
                raise optuna.TrialPruned("stopped at the end of the time budget")

        # train() runs a head loop on one thread by itself (tiny ops: extra threads only wait).
        try:
            result = train(
                spec.data,
                cfg_t,
                run,
                progress=False,
                on_epoch=on_epoch,
                cache=cache,
                write_summary=False,
                splits_csv=spec.splits_csv,
            )
        except optuna.TrialPruned:
            trial.set_user_attr("epochs_run", step)
            strip_trial_dir(run)
            raise
        except Exception as exc:
            trial.set_user_attr("error", f"{type(exc).__name__}: {exc}"[:1000])
            trial.set_user_attr("epochs_run", step)
            strip_trial_dir(run)
            raise
        trial.set_user_attr("epochs_run", step if reports else len(result.history))
        return _metric_value(result.history, cfg.metric, cfg.direction)

    def after_trial(study: optuna.Study, ft: optuna.trial.FrozenTrial) -> None:
        nonlocal finished
        finished += 1
        try:
            best = study.best_trial
        except ValueError:
            best = None
        run = out / TRIALS_DIR / str(ft.number)
        if ft.state != optuna.trial.TrialState.COMPLETE or (best and best.number != ft.number):
            strip_trial_dir(run)  # keep weights of the best trial only
        if not spec.progress:
            return
        # The command's trials, all its workers together (they share its trial count).
        done = max(finished, session_counts(study.get_trials(deepcopy=False), spec.session)[0])
        per_trial = (time.perf_counter() - started) / done
        eta = eta_text(spec.deadline, spec.n_trials, done, per_trial)
        print(tag + _trial_line(ft, cfg.metric, best) + eta, file=sys.stderr, flush=True)
        if ft.user_attrs.get(DEFAULTS_ATTR) and ft.state.name == "COMPLETE":
            line = defaults_line(ft, spec.deadline, spec.n_workers)
            print(tag + line, file=sys.stderr, flush=True)

    previous = optuna.logging.get_verbosity()
    # Our own line per trial replaces Optuna's (its FAIL warning carries a whole traceback).
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    try:
        run_trials(study, storage, spec, objective, after_trial)
    finally:
        optuna.logging.set_verbosity(previous)


def child_main(spec: WorkerSpec) -> None:
    """Entry point of a spawned worker process."""
    try:
        run_worker(spec)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:  # noqa: BLE001 - one line for the parent to show
        print(f"worker {spec.worker_index + 1} stopped: {exc}", file=sys.stderr, flush=True)
        sys.exit(1)


def run_workers(specs: list[WorkerSpec]) -> list[tuple[int, int]]:
    """Run the workers: in this process when there is one, else as spawned processes.

    Returns ``(worker number, exit code)`` of every worker process that stopped early
    (a negative code: killed by that signal); the survivors took over its trials.
    """
    if len(specs) == 1:
        run_worker(specs[0])
        return []
    import multiprocessing as mp

    # spawn: a fresh interpreter per worker (forking a process that holds torch threads
    # and open database connections is unsafe).
    ctx = mp.get_context("spawn")
    procs = [
        ctx.Process(target=child_main, args=(s,), name=f"stylecast-tune-{i}")
        for i, s in enumerate(specs)
    ]
    gpus = _gpu_count() if "CUDA_VISIBLE_DEVICES" not in os.environ else 0
    for i, p in enumerate(procs):
        # Several GPUs: worker i trains on GPU i mod count (a spawned child reads the
        # environment it is started with).
        with _environ({"CUDA_VISIBLE_DEVICES": str(i % gpus)} if gpus > 1 else {}):
            p.start()
    try:
        for p in procs:
            p.join()
    except BaseException:
        for p in procs:
            if p.is_alive():
                p.terminate()
        for p in procs:
            p.join(timeout=30)
        raise
    return [(i + 1, p.exitcode) for i, p in enumerate(procs) if p.exitcode not in (0, None)]


def _gpu_count() -> int:
    import torch

    return torch.cuda.device_count() if torch.cuda.is_available() else 0


@contextlib.contextmanager
def _environ(values: dict[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def worker_exits_text(bad: list[tuple[int, int]]) -> str:
    """``worker 2 (killed by signal 9)``, ``worker 1 (exit code 1)``."""
    return ", ".join(
        f"worker {i} (killed by signal {-c})" if c < 0 else f"worker {i} (exit code {c})"
        for i, c in bad
    )
