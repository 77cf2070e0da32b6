"""``stylecast tune`` as a user runs it: help, one-line errors, a journal study, retrain-best."""

from __future__ import annotations

import json
from pathlib import Path

import optuna
import pandas as pd

from tests.conftest import run_cli
from tests.tuning._study import COLUMNS_HEAD, FAST_FLAGS, space_file


def test_cli_tune_help_and_one_line_errors(lookbook: Path, tmp_path: Path) -> None:
    res = run_cli("tune", "--help")
    assert res.returncode == 0
    for flag in (
        "--trials",
        "--timeout",
        "--metric",
        "--space",
        "--pruner",
        "--storage",
        "--study-name",
        "--workers",
        "--retrain-best",
        "--img-size",
        "--freeze",
    ):
        assert flag in res.stdout

    bad = space_file(tmp_path, "batch_sise: {type: int, low: 16, high: 64}\n")
    res = run_cli("tune", str(lookbook), "--space", bad, "--out", str(tmp_path / "x"))
    assert res.returncode == 1
    assert res.stderr.count("\n") == 1 and "Traceback" not in res.stderr
    assert "unknown parameter 'batch_sise' (did you mean 'batch_size'?)" in res.stderr

    res = run_cli(
        "tune",
        str(lookbook),
        "--storage",
        "postgresql://me:secret@127.0.0.1:1/none",
        "--out",
        str(tmp_path / "y"),
    )
    assert res.returncode == 1, res.stderr
    assert res.stderr.startswith(
        "error: cannot open the study storage postgresql+psycopg://me:***@"
    )
    assert res.stderr.count("\n") == 1 and "secret" not in res.stderr
    assert not (tmp_path / "y").exists()  # failed before touching the disk


def test_cli_tune_on_a_journal_then_retrain_best(lookbook: Path, tmp_path: Path) -> None:
    out = tmp_path / "cli-study"
    journal = tmp_path / "study.log"
    res = run_cli(
        "tune",
        str(lookbook),
        "--trials",
        "3",
        "--storage",
        str(journal),
        "--out",
        str(out),
        "--retrain-best",
        "--space",
        "head",
        "--freeze",
        "--sampler-seed",
        "0",
        *FAST_FLAGS,
    )
    assert res.returncode == 0, res.stderr
    # Internal throw-away folders (feature warm-up, speed probe) are never shown.
    assert "stylecast-warm-" not in res.stdout + res.stderr
    assert "stylecast-probe-" not in res.stdout + res.stderr
    header = res.stdout.splitlines()[0].split()
    assert header[:3] == COLUMNS_HEAD and header[-1] == "state"
    assert "params_balance" in header and "params_mode" not in header  # --freeze fixed the mode
    assert "params_head_lr" not in header  # a head fit has no learning rate
    assert len(res.stdout.splitlines()[1:4]) == 3
    table = pd.read_csv(out / "trials.csv")
    assert sorted(table["number"]) == [0, 1, 2] and set(table["state"]) == {"COMPLETE"}
    assert not (out / "study.db").exists()  # the study lives in the journal file
    storage = optuna.storages.JournalStorage(
        optuna.storages.journal.JournalFileBackend(str(journal))
    )
    study = optuna.load_study(study_name=f"stylecast-{lookbook.name}", storage=storage)
    assert [t.number for t in study.trials] == [0, 1, 2]
    best = int(table["number"].iloc[0])
    run = out / f"best-trial-{best}"
    for name in ("trials.csv", "optimization_history.png", "param_importances.png"):
        assert (run / "tuning" / name).is_file()
    info = json.loads((run / "tuning" / "study.json").read_text())
    assert info["metric"] == "val_accuracy" and info["best_trial"] == best
    assert (run / "evaluation.json").is_file() and (run / "report.html").is_file()
    # Retrained on train+val; the test split is the study's, untouched.
    splits = pd.read_csv(run / "splits.csv")
    study_splits = pd.read_csv(out / "splits.csv")
    assert set(splits["split"]) == {"train", "test"}
    assert sorted(splits.loc[splits["split"] == "test", "path"]) == sorted(
        study_splits.loc[study_splits["split"] == "test", "path"]
    )
    assert f"best configuration retrained on train+val: {run}" in res.stdout
    assert "accuracy:" in res.stdout
    # Trial 0 is `stylecast train`'s configuration (with the flags given), the baseline.
    first = table.set_index("number").loc[0]
    assert first["params_balance"] == "none"
    # The winner against the defaults, both retrained on train+val and tested once.
    cmp = json.loads((out / "retrain.json").read_text())
    assert cmp["best_trial"] == best and cmp["best_run"] == str(run)
    assert cmp["best_accuracy"] == json.loads((run / "evaluation.json").read_text())["accuracy"]
    assert "the best against the defaults:" in res.stdout
    if cmp["same_config"]:  # trial 0 won: trained once, and said so
        assert best == 0 and not (out / "defaults-retrained").exists()
        assert (
            "the best trial (0) is the default configuration: trained once; test accuracy "
            f"{cmp['best_accuracy']:.4f}"
        ) in res.stdout
    else:
        defaults = out / "defaults-retrained"
        accuracy = json.loads((defaults / "evaluation.json").read_text())["accuracy"]
        assert cmp["defaults_run"] == str(defaults) and cmp["defaults_accuracy"] == accuracy
        assert f"best (trial {best})  {cmp['best_accuracy']:.4f}" in res.stdout
        assert f"defaults           {accuracy:.4f}" in res.stdout
        assert f"McNemar's {cmp['method']} test: p = {cmp['pvalue']:.3g}" in res.stdout
