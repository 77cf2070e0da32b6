"""Tuning stage: an Optuna study over training configurations, pruned, durable, parallel.

``tune(data, TuneConfig(...), TrainConfig(...))`` runs trials of ``train()`` on one fixed
split and writes into the study folder::

    OUT/study.db                SQLite storage (default for one worker; or any RDB URL)
    OUT/study.log               Optuna's journal (default for several workers here)
    OUT/splits.csv              the one split every trial uses
    OUT/trials/<number>/        each trial's run (weights kept for the best trial only)
    OUT/trials.csv              number, value, duration, params_*, state (best first)
    OUT/best.yaml               the best TrainConfig (``stylecast train --config best.yaml``)
    OUT/optimization_history.png, OUT/param_importances.png
    OUT/best-trial-<n>/         with ``retrain_best``: trained on train+val, scored on test,
                                with ``tuning/`` holding the table and the two figures
    OUT/defaults-retrained/     with ``retrain_best``: the default configuration, the same way
    OUT/retrain.json            both test accuracies and McNemar's test on the test images

The study's first trial is the default configuration (the baseline to beat), and the
command stops within its time budget (``TuneConfig.timeout``). Trials reuse the
content-keyed caches (decoded pixels, backbone features), so features are computed once
per study. Re-running the same command continues the study; another machine joins it
with the same storage and study name.

This module runs the stage; :mod:`~stylecast.tuning.prepare` makes the split and the study,
:mod:`~stylecast.tuning.worker` runs trials, :mod:`~stylecast.tuning.results` writes the
table and figures, :mod:`~stylecast.tuning.retrain` retrains the best configuration.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import os
import sys
import time
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from stylecast import __version__
from stylecast.config import TrainConfig, TuneConfig, config_to_dict
from stylecast.data import ImageCache
from stylecast.errors import ConfigError, DataError, RunError
from stylecast.fileio import atomic_write_json, atomic_write_text
from stylecast.run import RunFolder
from stylecast.tuning.budget import fmt_budget, say_budget
from stylecast.tuning.loop import session_counts
from stylecast.tuning.outcome import TuneResult
from stylecast.tuning.prepare import (
    StudyPins,
    compute_split,
    create_or_load,
    enqueue_defaults,
    warm_feature_cache,
)
from stylecast.tuning.results import (
    TRIALS_CSV,
    best_trial,
    state_counts,
    strip_non_best,
    trial_config,
    trials_table,
    write_outputs,
)
from stylecast.tuning.retrain import retrain_best
from stylecast.tuning.space import resolve_space, space_to_json
from stylecast.tuning.storage import open_storage, redact, resolve_storage
from stylecast.tuning.worker import (
    DEFAULTS_ATTR,
    WorkerSpec,
    run_workers,
    trial_resource,
    worker_exits_text,
)

__all__ = ["TuneResult", "tune"]

TUNE_JSON = "tune.json"  # in the study folder: what the study is, for people and tools


def _data_name(data: str | os.PathLike[str]) -> str:
    p = Path(data).resolve()
    # A manifest file is named after its folder: looks/manifest.csv -> "looks".
    if not p.is_file():
        return p.name
    return p.parent.name if p.stem == "manifest" else p.stem


def _default_out(data: str | os.PathLike[str]) -> Path:
    # Stable (no time stamp): running the same command again continues the same study.
    return Path("runs") / f"tune-{_data_name(data)}"


def _fixed_by_default(base: TrainConfig) -> set[str]:
    defaults = TrainConfig()
    return {
        f.name
        for f in dataclasses.fields(TrainConfig)
        if getattr(base, f.name) != getattr(defaults, f.name)
    }


def tune(
    data: str | os.PathLike[str],
    cfg: TuneConfig | None = None,
    train_cfg: TrainConfig | None = None,
    out: str | os.PathLike[str] | None = None,
    *,
    fixed: Iterable[str] | None = None,
    progress: bool = True,
    cache: ImageCache | None = None,
    sampler: Any = None,
    pruner: Any = None,
) -> TuneResult:
    """Run (or continue) a study on ``data`` and write its results into ``out``.

    ``train_cfg`` holds the values every trial shares (image size, group column, ...).
    ``fixed`` names TrainConfig keys the user set, which are taken out of the search
    space; by default, every key of ``train_cfg`` that differs from TrainConfig's default.
    ``sampler`` / ``pruner`` are optional Optuna objects that replace the configured ones
    (with ``workers > 1`` they are pickled into each worker).
    """
    import optuna

    previous = optuna.logging.get_verbosity()
    # Our own progress lines replace Optuna's INFO log ("A new study created ...").
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        return _tune(
            data,
            cfg or TuneConfig(),
            train_cfg or TrainConfig(),
            out,
            fixed=fixed,
            progress=progress,
            cache=cache,
            sampler=sampler,
            pruner=pruner,
        )
    finally:
        optuna.logging.set_verbosity(previous)


def _tune(
    data: str | os.PathLike[str],
    cfg: TuneConfig,
    base: TrainConfig,
    out: str | os.PathLike[str] | None,
    *,
    fixed: Iterable[str] | None,
    progress: bool,
    cache: ImageCache | None,
    sampler: Any,
    pruner: Any,
) -> TuneResult:
    t0 = time.perf_counter()
    deadline = None if cfg.timeout is None else time.time() + cfg.timeout
    import optuna

    if data is None:
        raise DataError("no data given: pass an image folder or manifest")
    if not Path(data).exists():
        raise DataError(f"data path {data} does not exist")
    if base.val_fraction <= 0:
        raise ConfigError(
            "tuning needs a validation split to score trials: val_fraction must be above 0"
        )
    members = base.ensemble
    if members > 1 and not cfg.retrain_best:
        raise ConfigError(
            f"--ensemble {members} in a study retrains the best configuration as an ensemble "
            "of that many members: add --retrain-best (every trial trains one model)"
        )
    # Trials are single models; the retrained best (and defaults) are ensembles of `members`.
    base = dataclasses.replace(base, ensemble=1)
    fixed_keys = (set(fixed) if fixed is not None else _fixed_by_default(base)) - {"ensemble"}
    space, base = resolve_space(cfg.space, base, fixed_keys)
    out = Path(out) if out is not None else _default_out(data)
    url = resolve_storage(cfg.storage, out, cfg.workers)
    study_name = cfg.study_name or f"stylecast-{_data_name(data)}"
    cache = cache or ImageCache()
    say = _say(progress)

    # Reach the storage before the (slow) data work: a wrong URL fails in a second.
    local = url.split(":///" if url.startswith("sqlite:///") else ":", 1)[-1]
    if url.startswith(("sqlite:///", "journal:")) and Path(local).parent == out.resolve():
        out.mkdir(parents=True, exist_ok=True)
    storage = open_storage(
        url,
        heartbeat_interval=cfg.heartbeat_interval,
        grace_period=cfg.grace_period,
        max_retry=cfg.max_retry,
    )
    out.mkdir(parents=True, exist_ok=True)

    split = compute_split(data, base, cache=cache, progress=progress)
    if cfg.retrain_best and not split.has_test:
        raise DataError(
            "--retrain-best scores the best configuration once on the test split, and this "
            "split has none: set --test-fraction above 0 (or add a test/ folder)"
        )
    study = create_or_load(storage, study_name, url, StudyPins.of(cfg, space, base, split))
    # Written only once the study accepted it: a refused run must not replace the split.
    splits_csv = RunFolder(out).splits_file
    atomic_write_text(splits_csv, split.csv_text)
    n_before = len(study.trials)
    how_many = "as many trials as fit" if cfg.trials is None else f"up to {cfg.trials} more"
    budget = "" if cfg.timeout is None else f" within {fmt_budget(cfg.timeout)}"
    say(
        f"study {study_name!r} in {redact(url)}: {n_before} trial(s) so far; running "
        f"{how_many}{budget} on {cfg.workers} worker(s), {cfg.direction} {cfg.metric}"
    )
    say("search space: " + ", ".join(f"{k} {v.describe()}" for k, v in space.items()))
    say(enqueue_defaults(study, space, base))
    atomic_write_json(
        out / TUNE_JSON,
        {
            "data": str(Path(data).resolve()),
            "storage": redact(url),
            "study_name": study_name,
            "tune_config": config_to_dict(cfg) | {"storage": redact(url)},
            "base_config": config_to_dict(base),
            "space": space_to_json(space),
            "stylecast_version": __version__,
            "updated": _dt.datetime.now().isoformat(timespec="seconds"),
            "command": redact(" ".join(sys.argv)) if sys.argv and sys.argv[0] else "",
        },
    )
    warm_feature_cache(data, base, space, splits_csv=splits_csv, cache=cache, say=say)
    if progress:
        say_budget(
            study, data, base, cfg, splits_csv=splits_csv, cache=cache, deadline=deadline, say=say
        )

    session = uuid.uuid4().hex[:12]
    specs = [
        WorkerSpec(
            data=str(Path(data).resolve()),
            out=str(out.resolve()),
            storage_url=url,
            study_name=study_name,
            tune_cfg=cfg,
            base=base,
            space=space,
            splits_csv=str(splits_csv.resolve()),
            cache_root=str(Path(cache.root).resolve()),
            n_trials=cfg.trials,
            worker_index=i,
            n_workers=cfg.workers,
            session=session,
            progress=progress,
            sampler=sampler,
            pruner=pruner,
            deadline=deadline,
            resource=trial_resource(space, base),
        )
        # The workers share the command's trial count; more workers than trials would idle.
        for i in range(cfg.workers if cfg.trials is None else min(cfg.workers, cfg.trials))
    ]
    files: dict[str, Path] = {}
    table = trials_table(study)
    try:
        died = run_workers(specs)
    finally:
        # Even after Ctrl-C the table and figures show what the study has so far.
        study = optuna.load_study(study_name=study_name, storage=storage)
        if study.trials:
            files, table = write_outputs(study, out, cfg)
            strip_non_best(study, out)

    trials = study.trials
    new = [t.number for t in trials if t.user_attrs.get("session") == session]
    if died:
        done, _ = session_counts(trials, session)
        if cfg.trials is None or done < cfg.trials:
            raise RunError(
                f"{worker_exits_text(died)} stopped early; its trials so far are in the "
                "study; run the same command again to continue"
            )
        say(
            f"{worker_exits_text(died)} stopped early; the other workers ran its trials "
            f"(a killed worker's trial is failed and queued again)"
        )
    counts = state_counts(table)
    best = best_trial(study)
    if best is None:
        errors = [t.user_attrs.get("error") for t in trials if t.user_attrs.get("error")]
        first = f"; first error: {errors[0]}" if errors else ""
        raise RunError(
            f"no trial of study {study_name!r} completed ({_counts_text(counts)}){first}; "
            f"see {out / TRIALS_CSV}"
        )
    result = TuneResult(
        out=out,
        study_name=study_name,
        storage=redact(url),
        metric=cfg.metric,
        direction=cfg.direction,
        n_trials=len(trials),
        new_trials=new,
        best_number=best.number,
        best_value=float(best.value),
        best_params=dict(best.params),
        best_config=trial_config(best, base),
        trials=table,
        files=files,
        seconds=time.perf_counter() - t0,
        counts=counts,
        defaults_config=base,
        **_defaults_trial(study),
    )
    if cfg.retrain_best:
        run, metrics, comparison = retrain_best(
            data, result, cache=cache, progress=progress, say=say, members=members
        )
        result = dataclasses.replace(
            result,
            retrained_run=run,
            test_metrics=metrics,
            comparison=comparison,
            seconds=time.perf_counter() - t0,
        )
    return result


def _defaults_trial(study: Any) -> dict[str, Any]:
    """The completed trial of the default configuration: its number and score, if any."""
    for t in study.trials:
        if t.state.name == "COMPLETE" and t.user_attrs.get(DEFAULTS_ATTR):
            return {"defaults_number": t.number, "defaults_value": float(t.value)}
    return {}


def _say(progress: bool) -> Callable[[str], None]:
    def say(text: str) -> None:
        if progress:
            print(text, file=sys.stderr, flush=True)

    return say


def _counts_text(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {s}" for s, n in counts.items()) or "no trials"
