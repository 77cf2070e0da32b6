"""Rolling-origin backtest: targets, the nested choice never sees its target, metrics."""

from __future__ import annotations

import numpy as np
import pytest

from stylecast.trends import TrendsConfig, backtest_series
from stylecast.trends.backtest import required_points, score

CFG = TrendsConfig(period_column="t", by=("c",), models=("naive", "mean", "drift"))


def test_required_points() -> None:
    assert required_points(1, 4, 1) == 8
    assert required_points(4, 4, 1) == 12
    assert required_points(2, 4, 1) == 8


def test_rows_roles_and_nested_choice() -> None:
    y = np.array([0.5, 0.1, 0.5, 0.1, 0.5, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7])
    labels = [str(2000 + i) for i in range(len(y))]
    bt = backtest_series(y, np.zeros(len(y), int), labels, cfg=CFG, season_length=1)
    rows = bt.rows
    evaluation = [r for r in rows if r["role"] == "evaluation" and r["model"] != "selected"]
    assert sorted({r["target"] for r in evaluation}) == labels[-4:]
    assert {r["target"] for r in rows if r["role"] == "selection"} == set(labels[4:8])
    naive = [r for r in rows if r["model"] == "naive" and r["target"] == "2011"][0]
    assert naive["origin"] == "2010" and naive["forecast"] == pytest.approx(0.6)
    assert naive["error"] == pytest.approx(-0.1)
    # The model picked for each target is the best on the 4 targets before it, by hand:
    err = {
        (r["model"], r["target_index"]): abs(r["error"]) for r in rows if r["model"] != "selected"
    }
    for r in [r for r in rows if r["model"] == "selected"]:
        j = r["target_index"]
        mae = {m: np.mean([err[(m, i)] for i in range(j - 4, j)]) for m in CFG.models}
        assert r["chosen"] == min(mae, key=mae.get)
    n = len(y)
    mae = {m: np.mean([err[(m, i)] for i in range(n - 4, n)]) for m in CFG.models}
    assert bt.chosen == min(mae, key=mae.get) == "naive"  # the steady climb at the end


def test_score_metrics() -> None:
    rows = [
        {"model": "m", "role": "evaluation", "actual": a, "error": e, "low": lo, "high": hi}
        for a, e, lo, hi in [(0.2, 0.1, 0.1, 0.3), (0.4, -0.1, 0.0, 0.35), (0.2, 0.0, 0.1, 0.3)]
    ]
    s = score(rows, scale=0.1)["m"]
    assert s["wape"] == pytest.approx(0.2 / 0.8)
    assert s["mase"] == pytest.approx((0.2 / 3) / 0.1)
    assert s["coverage"] == pytest.approx(2 / 3)
