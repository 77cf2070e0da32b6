"""stylecast.report.sections: the material of each section, from the files of a run folder."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from stylecast.evaluation import Headline
from stylecast.report.sections import overview_sentences, reproduce_commands, tuning_section
from stylecast.run import RunFolder, RunInfo


def test_tuning_table_for_a_minimised_metric(tmp_path: Path) -> None:
    folder = tmp_path / "tuning"
    folder.mkdir()
    pd.DataFrame(
        {
            "number": [0, 1, 2],
            "value": [0.7, 0.4, 0.5],
            "duration": [12.5, 3.0, 8.25],
            "params_lr": [1e-4, 3e-3, 5e-5],
            "state": ["COMPLETE"] * 3,
        }
    ).to_csv(folder / "trials.csv", index=False)
    (folder / "study.json").write_text(json.dumps({"metric": "val_loss", "direction": "minimize"}))
    t = tuning_section(tmp_path)
    assert t["header"] == ["trial", "val_loss", "state", "duration (s)", "lr"]
    assert [r[0] for r in t["rows"]] == ["1", "2", "0"]  # lowest loss first
    assert t["rows"][0][4] == "0.003" and t["rows"][2][4] == "1.00e-04"
    assert tuning_section(tmp_path / "nothing") is None


def test_tuning_table_as_stylecast_tune_writes_it(tmp_path: Path) -> None:
    """number, value, duration (s), params_*, state, error: the error column is not shown."""
    folder = tmp_path / RunFolder.TUNING
    folder.mkdir()
    pd.DataFrame(
        {
            "number": [0, 1],
            "value": [0.8, None],
            "duration": [4.5, 1.0],
            "params_freeze": ["none", "stage2"],
            "state": ["COMPLETE", "FAIL"],
            "error": [None, "out of memory"],
        }
    ).to_csv(folder / "trials.csv", index=False)
    t = tuning_section(tmp_path)
    assert t["header"] == ["trial", "value", "state", "duration (s)", "freeze"]
    assert t["rows"] == [
        ["0", "0.8000", "COMPLETE", "4.5", "none"],
        ["1", "–", "FAIL", "1", "stage2"],
    ]
    assert (t["n_trials"], t["n_complete"], t["direction"]) == (2, 1, "maximize")


def _evaluation() -> dict:
    return {
        "n": 20,
        "split": "test",
        "accuracy": 0.85,
        "accuracy_ci": [0.7, 0.95],
        "balanced_accuracy": 0.8,
        "log_loss": 0.4,
        "ece": 0.03,
        "class_names": ["FallWinter", "SpringSummer"],
        "per_class": {
            "FallWinter": {"recall": 1.0, "support": 12},
            "SpringSummer": {"recall": 0.625, "support": 8},
        },
        "confusion_matrix": [[12, 0], [3, 5]],
        "calibration": {"source": "val", "n_val": 10},
    }


def test_overview_reads_the_headline() -> None:
    ev = _evaluation()
    text = overview_sentences(ev, Headline.from_metrics(ev))
    assert text[0] == (
        "On 20 held-out test images the model names the right class 85% of the time "
        "(95% interval 70% to 95%); picking the largest class every time would score 60%."
    )
    assert text[1] == (
        "It recognises FallWinter best (100% of those images found) and SpringSummer least "
        "well (62%)."
    )
    assert text[2] == "The most common mistake is reading SpringSummer as FallWinter (3 images)."
    assert text[3].startswith("Its confidence can be taken at face value") and "3.0%" in text[3]
    assert overview_sentences(None, None) == []


@pytest.mark.parametrize(
    ("calibration", "sentence"),
    [
        (
            {"decision": "fitted", "temperature": 1.48},
            "Its probabilities are rescaled by a temperature of 1.48, kept because it made "
            "them better calibrated on validation images it was not fitted on.",
        ),
        (
            {"decision": "kept 1: did not help out of sample", "temperature": 1.0},
            "A temperature fitted on the validation split did not help on validation images "
            "it was not fitted on, so the probabilities are the network's own.",
        ),
        ({"decision": "separable", "temperature": 1.0}, None),
    ],
)
def test_overview_says_which_temperature_was_kept(calibration: dict, sentence: str | None) -> None:
    ev = _evaluation() | {"calibration": calibration, "temperature": calibration["temperature"]}
    text = overview_sentences(ev, Headline.from_metrics(ev))
    assert text[3].startswith("Its confidence can be taken at face value")
    assert text[4:] == ([sentence] if sentence else [])
    external = ev | {"split": "external", "calibration": {"decision": "model.json"}}
    assert overview_sentences(external, Headline.from_metrics(external))[-1] == (
        f"These probabilities use the temperature {calibration['temperature']:.2f} that the "
        "run's own evaluation fitted on its validation split and stored with the model."
        if calibration["temperature"] != 1.0
        else text[3]
    )


def test_reproduce_commands_from_run_info(tmp_path: Path) -> None:
    run = RunFolder(tmp_path / "run")
    info = RunInfo(
        data=Path("/data/looks"),
        command="/venv/bin/stylecast train /data/looks --out run",
        extra={"tuned": {"trial": 3}},
    )
    external = {"split": "external", "data": "/data/other looks"}
    cmds = reproduce_commands(run, info, external)
    assert cmds[0] == {
        "what": "the command that made this run",
        "cmd": "stylecast train /data/looks --out run",
    }
    assert cmds[1]["what"].startswith("train the best configuration again")
    assert cmds[1]["cmd"] == f"stylecast train /data/looks --config {run.config_file} --out NEW_RUN"
    assert cmds[2]["cmd"] == f"stylecast evaluate {run.path} '/data/other looks'"
    # Without run.json: a placeholder for the data, and no "made this run" line.
    bare = reproduce_commands(run, None, None)
    assert bare[0]["cmd"].startswith("stylecast train DATA --config")
    assert [c["cmd"] for c in bare[1:]] == [
        f"stylecast evaluate {run.path}",
        f"stylecast explain {run.path} IMAGE",
        f"stylecast report {run.path}",
    ]


def test_overview_opens_with_a_verdict() -> None:
    ev = _evaluation() | {"majority": {"class": "FallWinter", "share": 0.6, "p_value": 0.012}}
    text = overview_sentences(ev, Headline.from_metrics(ev))
    assert text[0] == (
        "Verdict: Better than guessing: always answering FallWinter scores 60.0% (p = 0.012)."
    )
    weak = ev | {"majority": {"class": "FallWinter", "share": 0.6, "p_value": 0.21}}
    text = overview_sentences(weak, Headline.from_metrics(weak))
    assert text[0].startswith("Verdict: NOT shown to be better than guessing")
    assert "Next: check the data (stylecast data check)" in text[0]
    assert text[1].startswith("On 20 held-out test images")
