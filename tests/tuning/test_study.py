"""The study: its outputs, shared caches, resuming, refusals, pruning, failures, heartbeats,
and one study shared by two worker processes on a real PostgreSQL server."""

from __future__ import annotations

import dataclasses
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pandas as pd
import pytest

import stylecast.training
from stylecast.config import TrainConfig, TuneConfig, load_config
from stylecast.data import ImageCache
from stylecast.errors import RunError
from tests.tuning._study import COLUMNS_HEAD, base_config, postgres_url

# --------------------------------------------------------------------------- the study


def test_a_study_writes_its_outputs_shares_caches_and_resumes(
    lookbook: Path, tmp_path: Path
) -> None:
    from stylecast.tuning.study import tune

    out, cache = tmp_path / "study", ImageCache(tmp_path / "cache")
    cfg = TuneConfig(trials=3, sampler_seed=0, space="head")
    res = tune(lookbook, cfg, base_config(), out, progress=False, cache=cache)

    assert res.n_trials == 3 and res.new_trials == [0, 1, 2]
    assert res.counts == {"COMPLETE": 3}
    table = pd.read_csv(out / "trials.csv")
    params = ["balance"]  # head_epochs: fixed; a head fit uses nothing else
    assert list(table.columns) == [
        *COLUMNS_HEAD,
        *[f"params_{p}" for p in sorted(params)],
        "state",
        "error",
    ]
    assert sorted(table["number"]) == [0, 1, 2] and set(table["state"]) == {"COMPLETE"}
    assert list(table["value"]) == sorted(table["value"], reverse=True)  # best first
    assert table["value"].between(0, 1).all() and (table["duration"] > 0).all()
    assert res.best_value == table["value"].iloc[0]

    assert res.best_yaml == out / "best.yaml" == res.files["best.yaml"]
    best = load_config(TrainConfig, out / "best.yaml")  # what `train --config` reads
    assert best == res.best_config and best.mode == "head" and best.img_size == 32
    assert best.balance == res.best_params["balance"]
    for name in ("optimization_history.png", "param_importances.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # Weights are kept for the best trial only; the others keep config and metrics.
    kept = sorted(p.parent.name for p in (out / "trials").glob("*/model.safetensors"))
    assert kept == [str(res.best_number)]
    assert all((out / "trials" / str(n) / "metrics.csv").is_file() for n in range(3))

    # Shared caches: features were computed once, before the first trial; no trial wrote any.
    features = sorted((cache.root / "features").glob("*.npy"))
    assert len(features) == 2  # train and val views of the frozen backbone
    study = optuna.load_study(study_name=res.study_name, storage=f"sqlite:///{out}/study.db")
    first_start = min(t.datetime_start for t in study.trials).timestamp()
    assert all(f.stat().st_mtime < first_start for f in features)
    decoded = sorted((cache.root / "decoded").rglob("*.npy"))

    # Re-running continues the study: new trials are added, numbered after the old ones.
    res2 = tune(
        lookbook,
        TuneConfig(trials=2, sampler_seed=0, space="head"),
        base_config(),
        out,
        progress=False,
        cache=cache,
    )
    assert res2.n_trials == 5 and res2.new_trials == [3, 4]
    assert sorted(pd.read_csv(out / "trials.csv")["number"]) == [0, 1, 2, 3, 4]
    assert sorted((cache.root / "features").glob("*.npy")) == features
    assert sorted((cache.root / "decoded").rglob("*.npy")) == decoded

    # A study never silently mixes objectives, spaces or fixed values.
    with pytest.raises(
        RunError, match="created to maximize val_accuracy; this command asks to minimize val_loss"
    ):
        tune(
            lookbook,
            TuneConfig(trials=1, metric="val_loss", space="head"),
            base_config(),
            out,
            progress=False,
            cache=cache,
        )
    with pytest.raises(RunError, match="another search space"):
        tune(
            lookbook,
            TuneConfig(trials=1, space="full"),
            base_config(),
            out,
            progress=False,
            cache=cache,
        )
    with pytest.raises(RunError, match=r"other fixed training values: head_epochs \(study: 4"):
        tune(
            lookbook,
            TuneConfig(trials=1, space="head"),
            base_config(head_epochs=5),
            out,
            progress=False,
            cache=cache,
            fixed=["img_size", "group_column", "patience", "head_epochs", "pretrained"],
        )
    split = (out / "splits.csv").read_text()
    with pytest.raises(RunError, match="was run on another split of the data"):
        tune(
            lookbook,
            TuneConfig(trials=1, space="head"),
            base_config(val_fraction=0.3),
            out,
            progress=False,
            cache=cache,
        )
    assert (out / "splits.csv").read_text() == split  # the refused split was not written
    study = optuna.load_study(study_name=res.study_name, storage=f"sqlite:///{out}/study.db")
    assert len(study.trials) == 5  # nothing was added by the refusals


def test_a_fine_tuning_study_starts_from_the_defaults_within_its_budget(
    lookbook: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], tuning_cache: ImageCache
) -> None:
    from stylecast.tuning.study import tune

    out, cache = tmp_path / "ft", tuning_cache
    base = base_config(epochs=2, head_epochs=2)  # warm-up mode: 2 head, then 2 fine-tune epochs
    # No trial count: the budget alone stops the study. It is spent before trial 0 ends, and
    # trial 0 (the defaults: the baseline) always finishes; no other trial starts after it.
    res = tune(lookbook, TuneConfig(timeout=1, sampler_seed=0), base, out, cache=cache)
    err = capsys.readouterr().err
    assert res.n_trials == 1 and res.counts == {"COMPLETE": 1}
    study = optuna.load_study(study_name=res.study_name, storage=f"sqlite:///{out}/study.db")
    (trial,) = study.trials
    assert trial.params == {
        "freeze_stages": 0,
        "lr": 1e-3,
        "batch_size": 32,
        "weight_decay": 5e-4,
        "label_smoothing": 0.1,
    }
    assert trial.user_attrs["defaults"] is True
    assert res.best_config == res.defaults_config == base  # `stylecast train`'s configuration
    # The pruner's steps are fine-tune epochs (Hyperband's resource), not the head epochs.
    assert sorted(trial.intermediate_values) == [1, 2]
    metrics = pd.read_csv(out / "trials" / "0" / "metrics.csv")
    assert list(metrics["phase"]) == ["head", "head", "finetune", "finetune"]
    assert trial.intermediate_values[2] == metrics["val_accuracy"].iloc[3]
    # Before the study: one trial's time here and how many fit; after trial 0: measured.
    assert re.search(
        r"one trial of the default configuration takes about \d+\.\d min here \(timed from "
        r"\d warm fine-tune epochs over \d+ images and \d head epochs here, scaled to 2 epochs "
        r"over \d+ train \+ \d+ val images; backbone features of \d+ images cached\); "
        r"about 1 trials fit in the 0 s budget",
        err,
    ), err
    assert re.search(
        r"trial 0 \(defaults\) took \d+\.\d min; about 0 more trials fit in the remaining "
        r"budget \(0m00s\)",
        err,
    ), err


class _PruneFrom(optuna.pruners.BasePruner):
    """A forced pruner: trials from ``number`` on are pruned once they reported 2 epochs."""

    def __init__(self, number: int) -> None:
        self.number = number

    def prune(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> bool:
        return trial.number >= self.number and (trial.last_step or 0) >= 2


def test_failed_pruned_and_killed_trials_never_stop_the_study(
    lookbook: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from stylecast.tuning.study import tune

    out = tmp_path / "faults"
    cfg = TuneConfig(trials=1, heartbeat_interval=1, grace_period=2, sampler_seed=0, space="head")
    res = tune(lookbook, cfg, base_config(head_epochs=6), out, progress=False)
    assert res.counts == {"COMPLETE": 1}

    # A worker starts trial 1, beats once, and is killed (SIGKILL: no cleanup at all).
    url = f"sqlite:///{out.resolve()}/study.db"
    script = (
        "import os, signal, optuna\n"
        "from stylecast.tuning.storage import open_storage\n"
        f"s = open_storage({url!r}, heartbeat_interval=1, grace_period=2)\n"
        f"study = optuna.load_study(study_name={res.study_name!r}, storage=s)\n"
        "t = study.ask()\n"
        "s.record_heartbeat(t._trial_id)\n"
        "print(t.number, flush=True)\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == -9 and proc.stdout.strip() == "1", proc.stderr
    assert optuna.load_study(study_name=res.study_name, storage=url).trials[1].state.name == (
        "RUNNING"
    )
    time.sleep(3)  # longer than the grace period

    # Trial 2 runs out of memory; trials 3 and 4 are pruned after epoch 2 of 6.
    # Tuning takes train() from the room package (stylecast.training), so that is what the
    # double replaces; the lazy export caches the function there on first use.
    real_train = stylecast.training.train

    def flaky_train(data, cfg, out, **kw):  # noqa: ANN001, ANN202 - a test double
        if Path(out).name == "2" and Path(out).parent.name == "trials":
            raise RuntimeError("CUDA out of memory (simulated)")
        return real_train(data, cfg, out, **kw)

    monkeypatch.setattr(stylecast.training, "train", flaky_train)
    res = tune(
        lookbook,
        dataclasses.replace(cfg, trials=3),
        base_config(head_epochs=6),
        out,
        progress=False,
        pruner=_PruneFrom(3),
    )
    assert res.n_trials == 5 and res.new_trials == [2, 3, 4]
    assert res.counts == {"COMPLETE": 1, "PRUNED": 2, "FAIL": 2}
    # Trial 1 was queued again with the same values: trial 2 is its retry (and then ran
    # out of memory, which is a failure of its own: not retried, and it counts).
    retry = optuna.load_study(study_name=res.study_name, storage=url).trials[2]
    assert retry.system_attrs["failed_trial"] == 1
    table = pd.read_csv(out / "trials.csv", keep_default_na=False).set_index("number")
    assert list(table["state"]) == ["COMPLETE", "PRUNED", "PRUNED", "FAIL", "FAIL"]  # best first
    assert "stopped sending heartbeats" in table.loc[1, "error"]
    assert table.loc[2, "error"] == "RuntimeError: CUDA out of memory (simulated)"
    assert table.loc[0, "error"] == table.loc[3, "error"] == ""
    trials = optuna.load_study(study_name=res.study_name, storage=url).trials
    assert sorted(trials[0].intermediate_values) == [1, 2, 3, 4, 5, 6]
    for t in trials[3:]:
        assert sorted(t.intermediate_values) == [1, 2]  # stopped at once, after epoch 2
        assert t.user_attrs["epochs_run"] == 2
        assert t.value == t.intermediate_values[2]  # Optuna's value of a pruned trial
        assert not (out / "trials" / str(t.number) / "model.safetensors").exists()
    assert res.best_number == 0


# --------------------------------------------------------------------------- PostgreSQL


def test_two_workers_share_one_study_on_postgresql(lookbook: Path, tmp_path: Path) -> None:
    from stylecast.tuning.study import tune

    url, cleanup = postgres_url()
    try:
        out = tmp_path / "pg"
        cfg = TuneConfig(
            trials=4, workers=2, storage=url, study_name="pg-study", pruner="none", space="head"
        )
        res = tune(lookbook, cfg, base_config(), out, progress=False)
        assert res.storage.startswith("postgresql+psycopg://") and "***" in res.storage
        storage = url.replace("postgresql://", "postgresql+psycopg://")
        trials = optuna.load_study(study_name="pg-study", storage=storage).trials
        # Every trial of both worker processes is in the one study: none lost, none twice.
        assert sorted(t.number for t in trials) == list(range(4))
        assert len({t._trial_id for t in trials}) == 4
        by_worker: dict[str, list[int]] = {}
        for t in trials:
            by_worker.setdefault(t.user_attrs["worker"], []).append(t.number)
        # The workers share the command's 4 trials (claimed one at a time, never more).
        assert sum(len(v) for v in by_worker.values()) == 4 and 1 <= len(by_worker) <= 2
        assert os.getpid() not in {int(w.split(":")[-1]) for w in by_worker}  # child processes
        assert {t.state.name for t in trials} == {"COMPLETE"}
        assert sorted(res.new_trials) == list(range(4)) and res.n_trials == 4
        assert sorted(pd.read_csv(out / "trials.csv")["number"]) == list(range(4))
        assert sorted(int(p.name) for p in (out / "trials").iterdir()) == list(range(4))
        password = url.split(":")[2].split("@")[0]
        assert password not in (out / "tune.json").read_text()
    finally:
        cleanup()
