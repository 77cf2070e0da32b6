"""Tuning stage: an Optuna study over training configurations, pruned, durable, parallel.

``tune(data, TuneConfig(...), TrainConfig(...))`` runs trials of ``train()`` on one fixed
split and writes into the study folder::

    OUT/study.db                SQLite storage (default; or any RDB URL / journal file)
    OUT/splits.csv              the one split every trial uses
    OUT/trials/<number>/        each trial's run (weights kept for the best trial only)
    OUT/trials.csv              number, value, duration, params_*, state (best first)
    OUT/best.yaml               the best TrainConfig (``stylecast train --config best.yaml``)
    OUT/optimization_history.png, OUT/param_importances.png
    OUT/best-trial-<n>/         with ``retrain_best``: trained on train+val, scored on test,
                                with ``tuning/`` holding the table and the two figures

Head-mode trials reuse the content-keyed caches (decoded pixels, backbone features), so
features are computed once per study and each trial costs seconds. Re-running the same
command continues the study; another machine joins it with the same storage and study name.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as _dt
import hashlib
import json
import math
import os
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from stylecast import __version__
from stylecast.config import TrainConfig, TuneConfig, config_to_dict, config_to_yaml
from stylecast.data import ImageCache
from stylecast.errors import ConfigError, DataError, RunError
from stylecast.fileio import atomic_write_json, atomic_write_text
from stylecast.tuning.space import ParamSpec, resolve_space, space_to_json
from stylecast.tuning.storage import STALE_ATTR, open_storage, redact, resolve_storage

__all__ = ["TuneResult", "tune", "trials_table", "format_trials"]

TUNING_FILES = ("trials.csv", "optimization_history.png", "param_importances.png")
# Study attributes that pin what a study measures; a re-run or another worker must match.
_ATTR = "stylecast:"
# Machine settings may differ between the machines of one study.
_MACHINE_KEYS = ("device", "num_threads", "precision")
_STATE_ORDER = {"COMPLETE": 0, "PRUNED": 1, "FAIL": 2, "RUNNING": 3, "WAITING": 4}


@dataclass(frozen=True)
class TuneResult:
    """What a tuning command produced (the study holds every trial, of every worker)."""

    out: Path
    study_name: str
    storage: str  # password redacted
    metric: str
    direction: str
    n_trials: int  # trials in the study, all workers and runs together
    new_trials: list[int]  # numbers of the trials this call ran
    best_number: int | None
    best_value: float | None
    best_params: dict[str, Any]
    best_config: TrainConfig | None
    trials: pd.DataFrame  # the trials.csv table
    files: dict[str, Path]
    seconds: float
    retrained_run: Path | None = None
    test_metrics: dict[str, Any] | None = None
    counts: dict[str, int] = field(default_factory=dict)


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
        return _tune(data, cfg, train_cfg, out, fixed, progress, cache, sampler, pruner)
    finally:
        optuna.logging.set_verbosity(previous)


def _tune(
    data: str | os.PathLike[str],
    cfg: TuneConfig | None,
    train_cfg: TrainConfig | None,
    out: str | os.PathLike[str] | None,
    fixed: Iterable[str] | None,
    progress: bool,
    cache: ImageCache | None,
    sampler: Any,
    pruner: Any,
) -> TuneResult:
    t0 = time.perf_counter()
    import optuna

    cfg = cfg or TuneConfig()
    base = train_cfg or TrainConfig()
    if data is None:
        raise DataError("no data given: pass an image folder or manifest")
    if not Path(data).exists():
        raise DataError(f"data path {data} does not exist")
    if base.val_fraction <= 0:
        raise ConfigError(
            "tuning needs a validation split to score trials: val_fraction must be above 0"
        )
    fixed_keys = set(fixed) if fixed is not None else _fixed_by_default(base)
    space, base = resolve_space(cfg.space, base, fixed_keys)
    out = Path(out) if out is not None else _default_out(data)
    url = resolve_storage(cfg.storage, out)
    study_name = cfg.study_name or f"stylecast-{_data_name(data)}"
    cache = cache or ImageCache()
    say = _say(progress)

    # Reach the storage before the (slow) data work: a wrong URL fails in a second.
    if url.startswith("sqlite:///") and Path(url[len("sqlite:///") :]).parent == out.resolve():
        out.mkdir(parents=True, exist_ok=True)
    storage = open_storage(
        url, heartbeat_interval=cfg.heartbeat_interval, grace_period=cfg.grace_period
    )
    out.mkdir(parents=True, exist_ok=True)

    split_text, split_digest, has_test = _compute_split(data, base, cache, progress)
    if cfg.retrain_best and not has_test:
        raise DataError(
            "--retrain-best scores the best configuration once on the test split, and this "
            "split has none: set --test-fraction above 0 (or add a test/ folder)"
        )
    study = _create_or_load(optuna, storage, study_name, cfg, space, base, split_digest, url)
    # Written only once the study accepted it: a refused run must not replace the split.
    splits_csv = out / "splits.csv"
    atomic_write_text(splits_csv, split_text)
    n_before = len(study.trials)
    say(
        f"study {study_name!r} in {redact(url)}: {n_before} trial(s) so far; running "
        f"{cfg.trials} more on {cfg.workers} worker(s), {cfg.direction} {cfg.metric}"
    )
    say("search space: " + ", ".join(f"{k} {v.describe()}" for k, v in space.items()))
    atomic_write_json(
        out / "tune.json",
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
    _warm_feature_cache(data, base, space, splits_csv, cache, progress, say)

    session = uuid.uuid4().hex[:12]
    from stylecast.tuning.worker import WorkerSpec

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
            n_trials=n,
            worker_index=i,
            n_workers=cfg.workers,
            session=session,
            progress=progress,
            sampler=sampler,
            pruner=pruner,
        )
        for i, n in enumerate(_share(cfg.trials, cfg.workers))
        if n > 0
    ]
    files: dict[str, Path] = {}
    table = trials_table(study)
    try:
        _run_workers(specs)
    finally:
        # Even after Ctrl-C the table and figures show what the study has so far.
        study = optuna.load_study(study_name=study_name, storage=storage)
        if study.trials:
            files, table = _write_outputs(study, out, cfg)
            _strip_non_best(study, out)

    trials = study.trials
    new = [t.number for t in trials if t.user_attrs.get("session") == session]
    counts = {
        s: int((table["state"] == s).sum()) for s in _STATE_ORDER if (table["state"] == s).any()
    }
    best = _best_trial(study)
    if best is None:
        errors = [t.user_attrs.get("error") for t in trials if t.user_attrs.get("error")]
        first = f"; first error: {errors[0]}" if errors else ""
        raise RunError(
            f"no trial of study {study_name!r} completed ({_counts_text(counts)}){first}; "
            f"see {out / 'trials.csv'}"
        )
    best_config = _trial_config(best, base)
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
        best_config=best_config,
        trials=table,
        files=files,
        seconds=time.perf_counter() - t0,
        counts=counts,
    )
    if cfg.retrain_best:
        run, metrics = _retrain_best(data, result, cache, progress, say)
        result = dataclasses.replace(
            result, retrained_run=run, test_metrics=metrics, seconds=time.perf_counter() - t0
        )
    return result


# --------------------------------------------------------------------------- helpers


def _say(progress: bool) -> Any:
    def say(text: str) -> None:
        if progress:
            print(text, file=sys.stderr, flush=True)

    return say


def _share(n: int, k: int) -> list[int]:
    return [n // k + (1 if i < n % k else 0) for i in range(k)]


def _counts_text(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {s}" for s, n in counts.items()) or "no trials"


def _compute_split(
    data: Any, base: TrainConfig, cache: ImageCache, progress: bool
) -> tuple[str, str, bool]:
    """The study's split (as splits.csv text) and its digest; every trial uses exactly it."""
    from stylecast.data import prepare_run_data

    rd = prepare_run_data(data, base, cache=cache, progress=progress)
    if len(rd.indices("val")) == 0:
        raise DataError(
            f"{data} has no validation images after splitting; tuning scores trials on "
            "them: raise --val-fraction, or add a val/ folder to a pre-split dataset"
        )
    splits = rd.table.drop(columns=["path"]).rename(columns={"relpath": "path"})
    cols = ["path", "label", "split"] + [
        c for c in splits.columns if c not in ("path", "label", "split")
    ]
    h = hashlib.sha256()
    for p, s in sorted(zip(splits["path"], splits["split"], strict=True)):
        h.update(f"{p}\t{s}\n".encode())
    has_test = bool((splits["split"] == "test").any())
    return splits[cols].to_csv(index=False), h.hexdigest()[:16], has_test


def _comparable(base: TrainConfig) -> dict[str, Any]:
    return {k: v for k, v in config_to_dict(base).items() if k not in _MACHINE_KEYS}


def _create_or_load(
    optuna: Any,
    storage: Any,
    name: str,
    cfg: TuneConfig,
    space: dict[str, ParamSpec],
    base: TrainConfig,
    split_digest: str,
    url: str,
) -> Any:
    """Create the study, or load it and refuse to mix in trials that measure something else."""
    try:
        study = optuna.create_study(
            storage=storage, study_name=name, direction=cfg.direction, load_if_exists=True
        )
    except Exception as exc:  # noqa: BLE001 - storage errors surface here too
        raise RunError(f"cannot create or load study {name!r} in {redact(url)}: {exc}") from None
    where = f"study {name!r} in {redact(url)}"
    hint = "use a new --study-name (or --out) for a different study"
    if len(study.directions) != 1:
        raise RunError(f"{where} is a multi-objective study; {hint}")
    have = study.direction.name.lower()
    attrs = study.user_attrs
    metric = attrs.get(_ATTR + "metric")
    if have != cfg.direction or (metric is not None and metric != cfg.metric):
        raise RunError(
            f"{where} was created to {have} {metric or 'another objective'}; this command "
            f"asks to {cfg.direction} {cfg.metric}. Use --metric {metric or '...'} to continue "
            f"it, or {hint}"
        )
    wanted = {
        "metric": cfg.metric,
        "direction": cfg.direction,
        "space": space_to_json(space),
        "base_config": _comparable(base),
        "split": split_digest,
    }
    if metric is None:
        for k, v in wanted.items():
            study.set_user_attr(_ATTR + k, v)
        return study
    if attrs.get(_ATTR + "split") != split_digest:
        raise RunError(
            f"{where} was run on another split of the data (other images, or other "
            f"--val-fraction/--test-fraction/--group-column/--seed); {hint}"
        )
    saved_space = attrs.get(_ATTR + "space")
    if saved_space != wanted["space"]:
        changed = sorted(
            k
            for k in set(saved_space or {}) | set(wanted["space"])
            if (saved_space or {}).get(k) != wanted["space"].get(k)
        )
        raise RunError(
            f"{where} was run with another search space (differs in {', '.join(changed)}); "
            f"pass the study's --space, or {hint}"
        )
    saved_base = attrs.get(_ATTR + "base_config", {})
    differ = [k for k, v in wanted["base_config"].items() if saved_base.get(k, v) != v]
    if differ:
        pairs = ", ".join(
            f"{k} (study: {saved_base[k]!r}, now: {wanted['base_config'][k]!r})" for k in differ
        )
        raise RunError(f"{where} was run with other fixed training values: {pairs}; {hint}")
    return study


def _warm_feature_cache(
    data: Any,
    base: TrainConfig,
    space: dict[str, ParamSpec],
    splits_csv: Path,
    cache: ImageCache,
    progress: bool,
    say: Any,
) -> bool:
    """Compute the frozen backbone's features once, before any trial (True if it did).

    A one-epoch head run on the study's split goes through exactly the code path (and
    cache keys) the trials use, so workers starting together do not all compute them.
    """
    modes = set(space["mode"].choices) if "mode" in space else {base.mode}
    feature_keys = {"model", "weights", "pretrained", "img_size", "augment", "feature_views"}
    if modes == {"finetune"} or feature_keys & set(space):
        return False
    from stylecast.training import train

    t = time.perf_counter()
    say("preparing backbone features once for the whole study (cached for every trial)")
    warm = dataclasses.replace(base, mode="head", head_epochs=1, patience=0)
    with tempfile.TemporaryDirectory(prefix="stylecast-warm-") as tmp:
        train(
            data,
            warm,
            Path(tmp) / "run",
            progress=progress,
            cache=cache,
            write_summary=False,
            splits_csv=splits_csv,
        )
    say(f"features ready in {time.perf_counter() - t:.1f}s")
    return True


def _run_workers(specs: list[Any]) -> None:
    from stylecast.tuning.worker import child_main, run_worker

    if len(specs) == 1:
        run_worker(specs[0])
        return
    import multiprocessing as mp

    # spawn: a fresh interpreter per worker (forking a process that holds torch threads
    # and open database connections is unsafe).
    ctx = mp.get_context("spawn")
    procs = [
        ctx.Process(target=child_main, args=(s,), name=f"stylecast-tune-{i}")
        for i, s in enumerate(specs)
    ]
    for p in procs:
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
    bad = [(i + 1, p.exitcode) for i, p in enumerate(procs) if p.exitcode not in (0, None)]
    if bad:
        which = ", ".join(f"worker {i} (exit code {c})" for i, c in bad)
        raise RunError(
            f"{which} stopped early; its trials so far are in the study; run the same "
            "command again to continue"
        )


def _best_trial(study: Any) -> Any:
    try:
        return study.best_trial
    except ValueError:  # no completed trial
        return None


def _trial_config(trial: Any, base: TrainConfig) -> TrainConfig:
    saved = trial.user_attrs.get("train_config")
    if saved:
        known = {f.name for f in dataclasses.fields(TrainConfig)}
        return TrainConfig(**{k: v for k, v in saved.items() if k in known})
    return dataclasses.replace(base, **trial.params)


def _trial_error(trial: Any, study_attrs: dict[str, Any]) -> str:
    if trial.state.name != "FAIL":
        return ""
    return str(
        trial.user_attrs.get("error")
        or study_attrs.get(f"{STALE_ATTR}{trial.number}")
        or "failed without an error message (worker interrupted?)"
    )


def trials_table(study: Any) -> pd.DataFrame:
    """The talk's table: number, value, duration (s), params_*, state, error; best first."""
    maximize = study.direction.name.lower() == "maximize"
    attrs = study.user_attrs
    names = sorted({k for t in study.trials for k in t.params})
    rows = []
    for t in study.trials:
        row: dict[str, Any] = {
            "number": t.number,
            "value": t.value,
            "duration": round(t.duration.total_seconds(), 2) if t.duration else None,
        }
        for k in names:
            row[f"params_{k}"] = t.params.get(k)
        row["state"] = t.state.name
        row["error"] = _trial_error(t, attrs)
        rows.append(row)
    df = pd.DataFrame(
        rows,
        columns=["number", "value", "duration", *[f"params_{k}" for k in names], "state", "error"],
    )
    if df.empty:
        return df
    rank = df["state"].map(_STATE_ORDER).fillna(9)
    value = df["value"].astype(float)
    key = (-value if maximize else value).fillna(math.inf)
    order = sorted(range(len(df)), key=lambda i: (rank.iloc[i], key.iloc[i], df["number"].iloc[i]))
    return df.iloc[order].reset_index(drop=True)


def format_trials(table: pd.DataFrame, max_rows: int = 50) -> str:
    """The table as printed at the end of ``stylecast tune`` (like the talk's slide)."""
    if table.empty:
        return "(no trials)"
    shown = table.drop(columns=["error"]).head(max_rows).copy()

    def num(v: Any, fmt: str) -> str:
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return "-"
        return format(v, fmt) if isinstance(v, (int, float)) else str(v)

    shown["value"] = [num(v, ".4f") for v in shown["value"]]
    shown["duration"] = [
        num(v, ".1f") + ("s" if num(v, ".1f") != "-" else "") for v in shown["duration"]
    ]
    for c in shown.columns:
        if c.startswith("params_"):
            shown[c] = [num(v, ".3g") if isinstance(v, float) else num(v, "") for v in shown[c]]
    text = shown.to_string(index=False)
    if len(table) > max_rows:
        text += f"\n... {len(table) - max_rows} more rows in trials.csv"
    return text


def _write_outputs(study: Any, out: Path, cfg: TuneConfig) -> tuple[dict[str, Path], pd.DataFrame]:
    from stylecast.plots import plot_optimization_history, plot_param_importances, save_figure

    table = trials_table(study)
    files = {"trials.csv": out / "trials.csv"}
    atomic_write_text(files["trials.csv"], table.to_csv(index=False))
    best = _best_trial(study)
    if best is not None:
        base = TrainConfig(
            **{
                k: v
                for k, v in study.user_attrs.get(_ATTR + "base_config", {}).items()
                if k in {f.name for f in dataclasses.fields(TrainConfig)}
            }
        )
        files["best.yaml"] = out / "best.yaml"
        atomic_write_text(files["best.yaml"], config_to_yaml(_trial_config(best, base)))
    ordered = sorted(study.trials, key=lambda t: t.number)
    values = [t.value if t.state.name == "COMPLETE" else None for t in ordered]
    fig = plot_optimization_history(values, direction=cfg.direction)
    fig.axes[0].set_ylabel(cfg.metric)
    files["optimization_history.png"] = save_figure(fig, out / "optimization_history.png")
    importances, note = _importances(study)
    files["param_importances.png"] = save_figure(
        plot_param_importances(importances, note=note), out / "param_importances.png"
    )
    return files, table


def _importances(study: Any) -> tuple[dict[str, float], str | None]:
    import optuna

    complete = [t for t in study.trials if t.state.name == "COMPLETE"]
    if len(complete) < 2:
        return {}, f"needs at least 2 completed trials ({len(complete)} so far)"
    try:
        with warnings_off():
            imp = optuna.importance.get_param_importances(
                study, evaluator=optuna.importance.FanovaImportanceEvaluator(seed=0)
            )
    except Exception as exc:  # noqa: BLE001 - e.g. no parameter shared by every trial
        return {}, f"not computable yet: {exc}"
    note = f"from {len(complete)} completed trials"
    return {k: float(v) for k, v in imp.items()}, note


@contextlib.contextmanager
def warnings_off() -> Any:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def _strip_non_best(study: Any, out: Path) -> None:
    """Only the best trial keeps its weights (13 MB each otherwise)."""
    from stylecast.tuning.worker import strip_trial_dir

    best = _best_trial(study)
    folder = out / "trials"
    if not folder.is_dir():
        return
    for run in folder.iterdir():
        if run.is_dir() and (best is None or run.name != str(best.number)):
            strip_trial_dir(run)


def _retrain_best(
    data: Any, res: TuneResult, cache: ImageCache, progress: bool, say: Any
) -> tuple[Path, dict[str, Any]]:
    """Train the best configuration on train+val; score it once on the untouched test split."""
    from stylecast.evaluation import evaluate
    from stylecast.training import train

    out, number, best_cfg = res.out, res.best_number, res.best_config
    if number is None or best_cfg is None:
        raise RunError(f"study {res.study_name!r} has no completed trial to retrain")
    run = out / f"best-trial-{number}"
    splits = pd.read_csv(out / "splits.csv", dtype=str, keep_default_na=False)
    if not (splits["split"] == "test").any():
        raise DataError(
            "retraining the best trial needs a test split to score it once: set "
            "--test-fraction above 0"
        )
    done = (run / "evaluation.json").is_file() and (run / "model.json").is_file()
    if done:
        say(f"{run} already holds the retrained best trial {number}; reusing it")
    else:
        if run.exists():  # an interrupted earlier retrain
            shutil.rmtree(run)
        merged = splits.assign(split=splits["split"].replace({"val": "train"}))
        merged_csv = out / "splits_train+val.csv"
        atomic_write_text(merged_csv, merged.to_csv(index=False))
        say(f"retraining trial {number}'s configuration on train+val into {run}")
        train(data, best_cfg, run, progress=progress, cache=cache, splits_csv=merged_csv)
        with contextlib.suppress(Exception):
            # Record where the configuration came from, beside the run's own run.json.
            info = json.loads((run / "run.json").read_text(encoding="utf-8"))
            info["tuned"] = {"study_folder": str(out.resolve()), "trial": number}
            atomic_write_json(run / "run.json", info)
    tuning = run / "tuning"
    tuning.mkdir(exist_ok=True)
    for name in (*TUNING_FILES, "best.yaml"):
        if (out / name).is_file():
            shutil.copy2(out / name, tuning / name)
    # The report reads RUN/tuning/*.json for the study's name, metric and direction.
    atomic_write_json(
        tuning / "study.json",
        {
            "study_name": res.study_name,
            "storage": res.storage,
            "metric": res.metric,
            "direction": res.direction,
            "n_trials": res.n_trials,
            "counts": res.counts,
            "best_trial": number,
            "best_value": res.best_value,
            "best_params": res.best_params,
            "study_folder": str(out.resolve()),
        },
    )
    if done:
        return run, json.loads((run / "evaluation.json").read_text(encoding="utf-8"))
    # The one look at the test split: the configuration was chosen on validation alone.
    return run, evaluate(run, cache=cache, progress=progress).metrics
