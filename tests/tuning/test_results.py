"""The trials table, its printed form and the state counts, from an in-memory study."""

from __future__ import annotations

import math

import optuna
import pandas as pd
import pytest

from stylecast.config import TrainConfig
from stylecast.tuning import format_trials, trials_table
from stylecast.tuning.results import best_trial, state_counts, trial_config
from stylecast.tuning.storage import STALE_ATTR


def _study(direction: str = "maximize") -> optuna.Study:
    """Five trials: three complete (0.5, 0.9, 0.7), one pruned, one failed."""
    study = optuna.create_study(direction=direction)
    for value in (0.5, 0.9, 0.7):
        t = study.ask()
        t.suggest_float("head_lr", 1e-3, 1e-2, log=True)
        t.suggest_int("batch_size", 16, 64)
        study.tell(t, value)
    t = study.ask()
    t.suggest_float("head_lr", 1e-3, 1e-2, log=True)
    t.report(0.3, 1)
    study.tell(t, state=optuna.trial.TrialState.PRUNED)
    t = study.ask()
    t.set_user_attr("error", "RuntimeError: boom")
    study.tell(t, state=optuna.trial.TrialState.FAIL)
    return study


def test_the_table_is_best_first_with_errors() -> None:
    table = trials_table(_study())
    assert list(table.columns) == [
        "number",
        "value",
        "duration",
        "params_batch_size",
        "params_head_lr",
        "state",
        "error",
    ]
    assert list(table["number"]) == [1, 2, 0, 3, 4]  # complete by value, pruned, failed
    assert list(table["state"]) == ["COMPLETE"] * 3 + ["PRUNED", "FAIL"]
    assert list(table["value"].iloc[:4]) == [0.9, 0.7, 0.5, 0.3]
    assert math.isnan(table["value"].iloc[4])
    assert list(table["error"]) == ["", "", "", "", "RuntimeError: boom"]
    assert math.isnan(table["params_batch_size"].iloc[3])  # the pruned trial never drew it
    assert state_counts(table) == {"COMPLETE": 3, "PRUNED": 1, "FAIL": 1}
    assert state_counts(table.iloc[0:0]) == {}

    minimize = trials_table(_study("minimize"))
    assert list(minimize["number"]) == [0, 2, 1, 3, 4]


def test_a_trial_failed_by_the_heartbeat_check_says_so() -> None:
    study = optuna.create_study()
    t = study.ask()
    study.set_user_attr(f"{STALE_ATTR}{t.number}", "its worker stopped sending heartbeats")
    study.tell(t, state=optuna.trial.TrialState.FAIL)
    t = study.ask()
    study.tell(t, state=optuna.trial.TrialState.FAIL)
    table = trials_table(study)
    assert list(table["error"]) == [
        "its worker stopped sending heartbeats",
        "failed without an error message (worker interrupted?)",
    ]
    assert best_trial(study) is None


def test_format_trials_prints_compact_numbers() -> None:
    text = format_trials(trials_table(_study()))
    lines = text.splitlines()
    assert lines[0].split() == [
        "number",
        "value",
        "duration",
        "params_batch_size",
        "params_head_lr",
        "state",
    ]
    assert lines[1].split()[:2] == ["1", "0.9000"]
    last = lines[-1].split()  # the failed trial: no value, no parameters
    assert last[:2] == ["4", "-"] and last[2].endswith("s") and last[3:] == ["-", "-", "FAIL"]
    assert "error" not in text and "boom" not in text
    short = format_trials(trials_table(_study()), max_rows=2)
    assert len(short.splitlines()) == 4
    assert short.splitlines()[-1] == "... 3 more rows in trials.csv"
    assert format_trials(pd.DataFrame()) == "(no trials)"


def test_trial_config_prefers_the_saved_config() -> None:
    study = _study()
    best = best_trial(study)
    assert best.number == 1
    base = TrainConfig(img_size=64)
    cfg = trial_config(best, base)  # no saved config: the base with the trial's params
    assert cfg.img_size == 64 and cfg.head_lr == pytest.approx(best.params["head_lr"])
    assert cfg.batch_size == best.params["batch_size"]
    saved = {**vars(TrainConfig(img_size=96, batch_size=20)), "gone_key": 1}
    t = study.ask()
    t.set_user_attr("train_config", saved)
    study.tell(t, 1.0)
    cfg = trial_config(best_trial(study), base)  # keys of older versions are ignored
    assert cfg == TrainConfig(img_size=96, batch_size=20)
