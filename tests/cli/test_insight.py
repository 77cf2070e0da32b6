"""``stylecast evaluate`` as a user runs it, on a trained run of the lookbook."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from tests._runs import evaluated_run
from tests.conftest import run_cli


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory, lookbook: Path) -> Path:
    """A trained run of this module's own (evaluating other data rewrites its files)."""
    return evaluated_run(tmp_path_factory, lookbook)


def test_evaluate_prints_accuracy_and_confusion(run: Path) -> None:
    res = run_cli("evaluate", str(run), "--quiet")
    assert res.returncode == 0, res.stderr
    assert "accuracy:" in res.stdout
    assert "confusion matrix" in res.stdout
    assert "FallWinter" in res.stdout
    preds = pd.read_csv(run / "predictions.csv")
    splits = pd.read_csv(run / "splits.csv")
    assert sorted(preds["path"]) == sorted(splits.loc[splits["split"] == "test", "path"])
    assert {"p_FallWinter", "p_SpringSummer", "correct", "brand"} <= set(preds.columns)


def test_evaluate_on_other_data_scores_every_image(run: Path, lookbook_folder: Path) -> None:
    res = run_cli("evaluate", str(run), str(lookbook_folder), "--quiet")
    assert res.returncode == 0, res.stderr
    out = run / "evaluations" / lookbook_folder.name
    ev = json.loads((out / "evaluation.json").read_text())
    assert ev["split"] == "external" and ev["n"] == 48
    assert f"wrote {out / 'evaluation.json'}" in res.stdout
    assert json.loads((run / "evaluation.json").read_text())["split"] == "test"


def test_evaluate_of_a_missing_run(tmp_path: Path) -> None:
    res = run_cli("evaluate", str(tmp_path / "nope"))
    assert res.returncode == 1
    assert "does not exist" in res.stderr and "Traceback" not in res.stderr
