"""Accuracy by manifest column, with Wilson intervals."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from stylecast.evaluation import accuracy_by
from stylecast.evaluation.breakdown import breakdown_columns
from tests._runs import evaluated_run


def _predictions() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "path": [f"{i}.jpg" for i in range(10)],
            "true": ["a"] * 10,
            "predicted": ["a"] * 10,
            "correct": [True] * 6 + [False] * 4,
            "p_a": [0.9] * 10,
            "brand": ["X"] * 6 + ["Y"] * 4,
            "colour": ["red", "blue"] * 5,
            "id": [str(i) for i in range(10)],  # one value per image: not a grouping
            "name": [""] * 10,
        }
    )


def test_columns_that_group_images() -> None:
    assert breakdown_columns(_predictions()) == ["brand", "colour"]


def test_accuracy_per_value_with_wilson_intervals() -> None:
    table = accuracy_by(_predictions())
    assert table["brand"] == [
        {"value": "X", "n": 6, "accuracy": 1.0, "ci": [pytest.approx(0.6097, abs=1e-4), 1.0]},
        {"value": "Y", "n": 4, "accuracy": 0.0, "ci": [0.0, pytest.approx(0.4899, abs=1e-4)]},
    ]
    assert [(r["value"], r["n"], r["accuracy"]) for r in table["colour"]] == [
        ("blue", 5, 0.6),
        ("red", 5, 0.6),
    ]


def test_evaluation_json_and_report_carry_the_breakdown(
    tmp_path_factory: pytest.TempPathFactory, lookbook: Path
) -> None:
    from stylecast.report import build_report

    run = evaluated_run(tmp_path_factory, lookbook)
    ev = json.loads((run / "evaluation.json").read_text())
    assert {"brand", "period", "garment", "colour"} <= set(ev["breakdown"])
    pred = pd.read_csv(run / "predictions.csv")
    for row in ev["breakdown"]["garment"]:
        mine = pred[pred["garment"] == row["value"]]
        assert row["n"] == len(mine) and row["accuracy"] == pytest.approx(mine["correct"].mean())
    html = build_report(run, galleries=False).path.read_text()
    assert "Accuracy by manifest column" in html and "<summary>garment (" in html
