"""What a study shows: the trials table, ``best.yaml``, the two figures, importances.

Written after every command, even an interrupted one, into the study folder::

    trials.csv  best.yaml  optimization_history.png  param_importances.png
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from pathlib import Path
from typing import Any

import pandas as pd

from stylecast.config import TrainConfig, TuneConfig, config_to_yaml
from stylecast.fileio import atomic_write_text
from stylecast.run import RunFolder
from stylecast.tuning.prepare import study_base_config
from stylecast.tuning.storage import STALE_ATTR
from stylecast.tuning.worker import TRIALS_DIR, strip_trial_dir

__all__ = [
    "STATE_ORDER",
    "TUNING_FILES",
    "best_trial",
    "format_trials",
    "state_counts",
    "strip_non_best",
    "trial_config",
    "trials_table",
    "write_outputs",
]

TRIALS_CSV = RunFolder.TRIALS
BEST_YAML = RunFolder.BEST_CONFIG
HISTORY_PNG = RunFolder.HISTORY_FIGURE
IMPORTANCES_PNG = RunFolder.IMPORTANCES_FIGURE
# What a retrained run's ``tuning/`` folder copies for the report.
TUNING_FILES = (TRIALS_CSV, HISTORY_PNG, IMPORTANCES_PNG)
# Table order: finished trials by value first, then the ones that tell less.
STATE_ORDER = {"COMPLETE": 0, "PRUNED": 1, "FAIL": 2, "RUNNING": 3, "WAITING": 4}


def best_trial(study: Any) -> Any:
    """The best completed trial, or None."""
    try:
        return study.best_trial
    except ValueError:  # no completed trial
        return None


def trial_config(trial: Any, base: TrainConfig) -> TrainConfig:
    """The full TrainConfig a trial trained with."""
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
    """Number, value, duration (s), params_*, state, error: one row a trial, best first."""
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
    rank = df["state"].map(STATE_ORDER).fillna(9)
    value = df["value"].astype(float)
    key = (-value if maximize else value).fillna(math.inf)
    order = sorted(range(len(df)), key=lambda i: (rank.iloc[i], key.iloc[i], df["number"].iloc[i]))
    return df.iloc[order].reset_index(drop=True)


def state_counts(table: pd.DataFrame) -> dict[str, int]:
    """Trials per state, in table order (``{"COMPLETE": 3, "PRUNED": 1}``)."""
    if table.empty:
        return {}
    return {s: int((table["state"] == s).sum()) for s in STATE_ORDER if (table["state"] == s).any()}


def format_trials(table: pd.DataFrame, max_rows: int = 50) -> str:
    """The table as printed at the end of ``stylecast tune``: compact numbers, no errors."""
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
        text += f"\n... {len(table) - max_rows} more rows in {TRIALS_CSV}"
    return text


def write_outputs(study: Any, out: Path, cfg: TuneConfig) -> tuple[dict[str, Path], pd.DataFrame]:
    """Write the table, ``best.yaml`` and both figures into ``out``; their paths and the table."""
    from stylecast.plots import plot_optimization_history, plot_param_importances, save_figure

    table = trials_table(study)
    files = {TRIALS_CSV: out / TRIALS_CSV}
    atomic_write_text(files[TRIALS_CSV], table.to_csv(index=False))
    best = best_trial(study)
    if best is not None:
        files[BEST_YAML] = out / BEST_YAML
        best_cfg = trial_config(best, study_base_config(study))
        atomic_write_text(files[BEST_YAML], config_to_yaml(best_cfg))
    ordered = sorted(study.trials, key=lambda t: t.number)
    values = [t.value if t.state.name == "COMPLETE" else None for t in ordered]
    fig = plot_optimization_history(values, direction=cfg.direction)
    fig.axes[0].set_ylabel(cfg.metric)
    files[HISTORY_PNG] = save_figure(fig, out / HISTORY_PNG)
    importances, note = _importances(study)
    files[IMPORTANCES_PNG] = save_figure(
        plot_param_importances(importances, note=note), out / IMPORTANCES_PNG
    )
    return files, table


def _importances(study: Any) -> tuple[dict[str, float], str | None]:
    import optuna

    complete = [t for t in study.trials if t.state.name == "COMPLETE"]
    if len(complete) < 2:
        return {}, f"needs at least 2 completed trials ({len(complete)} so far)"
    try:
        with warnings.catch_warnings():
            # fANOVA warns about experimental features on every call; the figure says enough.
            warnings.simplefilter("ignore")
            imp = optuna.importance.get_param_importances(
                study, evaluator=optuna.importance.FanovaImportanceEvaluator(seed=0)
            )
    except Exception as exc:  # noqa: BLE001 - e.g. no parameter shared by every trial
        return {}, f"not computable yet: {exc}"
    note = f"from {len(complete)} completed trials"
    return {k: float(v) for k, v in imp.items()}, note


def strip_non_best(study: Any, out: Path) -> None:
    """Only the best trial keeps its weights (13 MB each otherwise)."""
    best = best_trial(study)
    folder = out / TRIALS_DIR
    if not folder.is_dir():
        return
    for run in folder.iterdir():
        if run.is_dir() and (best is None or run.name != str(best.number)):
            strip_trial_dir(run)
