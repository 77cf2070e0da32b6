"""One tuning worker: load the shared study and run trials (in-process or a child process).

A trial is a normal ``train()`` run into ``OUT/trials/<number>`` on the study's fixed
split, with the shared image and feature caches; every epoch reports the metric to
Optuna, and a pruned trial stops at once (``on_epoch`` raises ``TrialPruned``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import os
import shutil
import socket
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stylecast.config import TrainConfig, TuneConfig, config_to_dict
from stylecast.data import ImageCache
from stylecast.run import RunFolder
from stylecast.tuning.space import ParamSpec, suggest
from stylecast.tuning.storage import open_storage

__all__ = [
    "TRIALS_DIR",
    "WorkerSpec",
    "child_main",
    "make_pruner",
    "make_sampler",
    "run_worker",
    "strip_trial_dir",
]

# The study folder's sub-folder of trial runs: TRIALS_DIR/<number>/.
TRIALS_DIR = "trials"
# What a non-best trial folder keeps: enough to see what it did, not its 13 MB of weights.
KEEP_IN_TRIAL = (RunFolder.CONFIG, RunFolder.METRICS, RunFolder.INFO)


@dataclass(frozen=True)
class WorkerSpec:
    """Everything a worker process needs (picklable, for spawned children)."""

    data: str
    out: str
    storage_url: str
    study_name: str
    tune_cfg: TuneConfig
    base: TrainConfig
    space: dict[str, ParamSpec]
    splits_csv: str
    cache_root: str
    n_trials: int
    worker_index: int
    n_workers: int
    session: str
    progress: bool
    sampler: Any = None
    pruner: Any = None


def make_pruner(cfg: TuneConfig) -> Any:
    """The Optuna pruner ``cfg.pruner`` names."""
    import optuna

    if cfg.pruner == "median":
        return optuna.pruners.MedianPruner(
            n_startup_trials=cfg.pruner_startup_trials, n_warmup_steps=cfg.pruner_warmup_epochs
        )
    if cfg.pruner == "hyperband":
        return optuna.pruners.HyperbandPruner(
            min_resource=max(1, cfg.pruner_warmup_epochs), max_resource="auto"
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
        spec.storage_url, heartbeat_interval=cfg.heartbeat_interval, grace_period=cfg.grace_period
    )
    n_done = len(optuna.load_study(study_name=spec.study_name, storage=storage).trials)
    study = optuna.load_study(
        study_name=spec.study_name,
        storage=storage,
        sampler=spec.sampler or make_sampler(cfg, spec.worker_index, n_done),
        pruner=spec.pruner or make_pruner(cfg),
    )
    cache = ImageCache(spec.cache_root)
    out = Path(spec.out)
    tag = f"[worker {spec.worker_index + 1}] " if spec.n_workers > 1 else ""
    worker_id = f"{socket.gethostname()}:{os.getpid()}"
    started = time.perf_counter()
    finished = 0

    def objective(trial: optuna.Trial) -> float:
        params = suggest(trial, spec.space, spec.base)
        cfg_t = dataclasses.replace(spec.base, **params)
        run = out / TRIALS_DIR / str(trial.number)
        trial.set_user_attr("worker", worker_id)
        trial.set_user_attr("session", spec.session)
        trial.set_user_attr("run_dir", str(run))
        trial.set_user_attr("train_config", config_to_dict(cfg_t))
        if run.exists():  # a leftover of an older study that used this trial number
            shutil.rmtree(run)
        step = 0

        def on_epoch(row: dict[str, Any]) -> None:
            nonlocal step
            step += 1
            value = float(row[cfg.metric])
            if not math.isnan(value):
                trial.report(value, step)
            if trial.should_prune():
                raise optuna.TrialPruned(f"pruned after epoch {step} ({cfg.metric} {value:.4f})")

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
        trial.set_user_attr("epochs_run", len(result.history))
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
        secs = ft.duration.total_seconds() if ft.duration else 0.0
        value = "" if ft.value is None else f" {cfg.metric} {ft.value:.4f}"
        epochs = ft.user_attrs.get("epochs_run")
        what = f" after {epochs} epochs" if ft.state.name == "PRUNED" and epochs else ""
        err = f"  ({ft.user_attrs['error']})" if "error" in ft.user_attrs else ""
        left = spec.n_trials - finished
        eta = (time.perf_counter() - started) / finished * left
        best_s = f" | best {best.value:.4f} (trial {best.number})" if best else ""
        print(
            f"{tag}trial {ft.number} {ft.state.name}{value}{what} in {secs:.1f}s  "
            f"{_fmt_params(ft.params)}{err}{best_s} | {finished}/{spec.n_trials}, "
            f"ETA {int(eta) // 60}m{int(eta) % 60:02d}s",
            file=sys.stderr,
            flush=True,
        )

    previous = optuna.logging.get_verbosity()
    # Our own line per trial replaces Optuna's (its FAIL warning carries a whole traceback).
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    try:
        study.optimize(
            objective,
            n_trials=spec.n_trials,
            timeout=cfg.timeout,
            catch=(Exception,),
            callbacks=[after_trial],
            gc_after_trial=True,
        )
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
