"""An ensemble evaluated: its members side by side, their calibration, the gain over the best."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from stylecast.evaluation.members import best_member, member_table, paired_gain_interval
from stylecast.evaluation.summary import FITTED, NO_GAIN, SEPARABLE
from stylecast.run import RunFolder
from tests._runs import evaluated_ensemble
from tests.conftest import run_cli


def _onehot(pred: list[int], p: float = 0.9) -> np.ndarray:
    out = np.full((len(pred), 2), 1 - p)
    out[np.arange(len(pred)), pred] = p
    return out


def test_member_table_counts_what_the_ensemble_gains() -> None:
    y = np.array([0, 0, 0, 0, 1, 1, 1, 1, 1, 1])
    m0 = _onehot([0, 0, 1, 1, 1, 1, 1, 1, 0, 0])  # 6 right
    m1 = _onehot([0, 1, 0, 1, 1, 1, 1, 1, 1, 0])  # 7 right
    ens = _onehot([0, 0, 0, 1, 1, 1, 1, 1, 1, 1])  # 9 right
    block = member_table(
        np.stack([m0, m1], axis=1),
        ens,
        y,
        paths=["members/0", "members/1"],
        val_accuracy=[0.80, 0.75],
        temperatures=[1.0, 1.5],
        n_boot=500,
    )
    assert [r["accuracy"] for r in block["members"]] == [0.6, 0.7]
    assert block["ensemble"]["accuracy"] == 0.9
    # The best member is chosen by validation (member 0), not by test (member 1).
    assert block["best_member"] == 0 and block["gain"]["over"] == "members/0"
    assert block["gain"]["points"] == pytest.approx(30.0)
    assert block["gain"]["ensemble_only_right"] == 3 and block["gain"]["member_only_right"] == 0
    assert block["members"][1]["ensemble_only_right"] == 2
    assert block["members"][1]["member_only_right"] == 0
    lo, hi = block["gain"]["ci_points"]
    assert 0.0 <= lo < 30.0 < hi <= 60.0
    assert block["mean_member_accuracy"] == pytest.approx(0.65)
    assert block["members"][1]["temperature"] == 1.5


def test_best_member_and_the_paired_interval() -> None:
    assert best_member([0.7, 0.9, 0.9]) == 1  # a tie keeps the earlier
    assert best_member([None, None]) == 0
    assert paired_gain_interval(np.ones(5), np.ones(5)) == [0.0, 0.0]
    assert paired_gain_interval(np.array([]), np.array([])) is None


def test_evaluating_an_ensemble_scores_every_member(
    tmp_path_factory: pytest.TempPathFactory, lookbook: Path
) -> None:
    ens = RunFolder(evaluated_ensemble(tmp_path_factory, lookbook))
    ev = json.loads(ens.evaluation_file.read_text())
    block = ev["ensemble"]
    assert block["n_members"] == 3 and len(block["members"]) == 3
    assert block["n"] == ev["n"]
    # Separable synthetic seasons: every member and the ensemble beat chance clearly.
    assert ev["accuracy"] >= 0.75
    assert all(r["accuracy"] >= 0.6 for r in block["members"])
    assert block["ensemble"]["accuracy"] == pytest.approx(ev["accuracy"])
    info = ens.model_info()
    assert [m.temperature for m in info.members] == [r["temperature"] for r in block["members"]]
    assert {r["temperature_decision"] for r in block["members"]} <= {FITTED, NO_GAIN, SEPARABLE}
    preds = pd.read_csv(ens.predictions_file)
    assert preds["disagreement"].between(0, 2 / 3 + 1e-9).all()
    assert (preds["member_std"] >= 0).all()
    p = preds[["p_FallWinter", "p_SpringSummer"]].to_numpy()
    np.testing.assert_allclose(p.sum(1), 1.0, atol=1e-5)


def test_evaluate_prints_the_members_beside_the_ensemble(
    tmp_path_factory: pytest.TempPathFactory, lookbook: Path
) -> None:
    ens = evaluated_ensemble(tmp_path_factory, lookbook)
    res = run_cli("evaluate", str(ens), "--gallery-size", "0", "--quiet")
    assert res.returncode == 0, res.stderr
    out = res.stdout
    assert "ensemble of 3 members on the same" in out
    assert "(best on validation)" in out and "gain over members/" in out
    for k in range(3):
        assert f"members/{k}" in out
