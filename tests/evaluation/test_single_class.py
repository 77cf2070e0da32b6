"""Scoring a collection of one class (an all-FallWinter drop) is a normal request."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests._runs import evaluated_run
from tests.conftest import run_cli


def test_evaluate_a_folder_of_one_class(
    tmp_path_factory: pytest.TempPathFactory, lookbook: Path, tmp_path: Path
) -> None:
    run = evaluated_run(tmp_path_factory, lookbook)
    drop = tmp_path / "fw-drop"
    shutil.copytree(lookbook / "FallWinter", drop / "FallWinter")
    res = run_cli("evaluate", str(run), str(drop), "--quiet", "--gallery-size", "0")
    assert res.returncode == 0, res.stderr
    ev = json.loads((run / "evaluations" / "fw-drop" / "evaluation.json").read_text())
    assert ev["n"] == 24 and ev["per_class"]["FallWinter"]["support"] == 24
    assert ev["per_class"]["SpringSummer"]["support"] == 0
    recall = ev["per_class"]["FallWinter"]["recall"]
    assert ev["accuracy"] == pytest.approx(recall)  # one class: accuracy is its recall
    assert "accuracy:" in res.stdout
    # Training still needs two classes.
    res = run_cli("train", str(drop), "--out", str(tmp_path / "r"))
    assert res.returncode == 1 and "holds only one class" in res.stderr
