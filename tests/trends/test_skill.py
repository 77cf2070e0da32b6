"""Honest forecasts (issue 25): a forecast that lost to a baseline in the backtest is not
shown as the forecast; the shift warning of the predictions travels into the trend report;
forecast shares add up; seasonal naive finds its season across missing ones."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from stylecast.trends import TrendsConfig, analyse_trends, format_trends

MODELS = ("naive", "mean", "drift", "ets")


def exact_table(shares: dict[str, list[float]], periods: list[tuple], n: int = 100) -> pd.DataFrame:
    """``n`` items per period, exactly ``round(share * n)`` of each category (no noise)."""
    rows = []
    for i, period in enumerate(periods):
        key = dict(zip(("year", "season"), period))
        for cat, share in shares.items():
            rows += [{**key, "colour": cat}] * round(share[i] * n)
    return pd.DataFrame(rows)


# A climbs for eight years, then swings around its mean: the models that followed the climb
# lose the last four years to the mean of the series.
A = [0.10, 0.15, 0.20, 0.25, 0.30, 0.35, 0.40, 0.45, 0.20, 0.30, 0.20, 0.30]
YEARS = [(y,) for y in range(2010, 2022)]


@pytest.fixture(scope="module")
def lost(tmp_path_factory: pytest.TempPathFactory):
    table = exact_table({"A": A, "B": [1 - a for a in A]}, YEARS)
    out = tmp_path_factory.mktemp("skill") / "out"
    cfg = TrendsConfig(period_column="year", by=("colour",), models=MODELS, bootstrap=0)
    return analyse_trends(table, cfg, out), out


def test_a_forecast_that_lost_to_a_baseline_falls_back_to_the_best_baseline(lost) -> None:
    res, out = lost
    (skill,) = res.skill
    assert skill.by == "colour" and skill.verdict == "fallback"
    assert skill.chosen_wape == pytest.approx(0.273, abs=0.001)
    assert skill.baseline == "mean" and skill.baseline_wape["mean"] == pytest.approx(
        0.107, abs=1e-3
    )
    assert skill.model == "mean"
    assert set(res.forecasts["model"]) == {"mean"}
    assert {s.model for s in res.series} == {"mean"}
    text = format_trends(res)
    assert "lost to the mean baseline" in text and "the forecasts shown are mean's" in text
    html = (out / "trend_report.html").read_text()
    assert "lost to the mean baseline" in html
    saved = json.loads((out / "trends.json").read_text())["by"]["colour"]["forecast_skill"]
    assert saved["verdict"] == "fallback" and saved["model"] == "mean"


def test_no_forecast_when_asked_instead_of_the_baseline() -> None:
    table = exact_table({"A": A, "B": [1 - a for a in A]}, YEARS)
    cfg = TrendsConfig(
        period_column="year", by=("colour",), models=MODELS, bootstrap=0, no_skill="none"
    )
    res = analyse_trends(table, cfg)
    assert len(res.forecasts) == 0 and res.skill[0].verdict == "no forecast"
    assert {s.status for s in res.series} == {"no skill"}
    assert "no forecast" in format_trends(res)


def test_a_forecast_that_beats_the_baselines_is_kept(rising_table: pd.DataFrame) -> None:
    cfg = TrendsConfig(period_column="year", by=("colour",), models=MODELS, bootstrap=0)
    res = analyse_trends(rising_table, cfg)
    (skill,) = res.skill
    assert skill.verdict == "skill" and skill.chosen_wape < min(skill.baseline_wape.values())
    assert "beat" in format_trends(res)


def test_the_shift_warning_of_the_predictions_travels_into_the_trends(tmp_path: Path) -> None:
    table = exact_table({"A": A, "B": [1 - a for a in A]}, YEARS)
    preds = tmp_path / "preds.csv"
    table.to_csv(preds, index=False)
    warning = "warning: distribution shift: a classifier tells these images apart (AUC 0.80)"
    shift = {"shifted": True, "warning": warning, "summary": warning, "predictions": "preds.csv"}
    (tmp_path / "preds.shift.json").write_text(json.dumps(shift))
    cfg = TrendsConfig(period_column="year", by=("colour",), models=("naive", "mean"))
    res = analyse_trends(preds, cfg, tmp_path / "out")
    assert res.shift_warning == warning
    assert warning in format_trends(res)
    assert "AUC 0.80" in (tmp_path / "out" / "trend_report.html").read_text()
    # a shift check that found nothing, or none at all: no warning
    (tmp_path / "preds.shift.json").write_text(json.dumps({**shift, "shifted": False}))
    assert analyse_trends(preds, cfg).shift_warning is None


# fpi-trends' periods: seasons come and go (no Fall after 2012, Spring once).
FPI = [
    (2010, "Fall"), (2010, "Winter"), (2011, "Summer"), (2011, "Fall"), (2011, "Winter"),
    (2012, "Summer"), (2012, "Fall"), (2013, "Spring"), (2013, "Summer"), (2014, "Summer"),
    (2015, "Summer"), (2015, "Winter"), (2016, "Summer"), (2016, "Winter"), (2017, "Summer"),
]  # fmt: skip


def test_forecast_shares_add_up_and_each_season_forecasts_itself() -> None:
    """The catalogue's own season tag by year + season: each period is 100% its season, so
    the forecast of 2017 Fall is 100% Fall (was 0.0% for all four)."""
    seasons = ["Summer", "Fall", "Winter", "Spring"]
    shares = {s: [1.0 if season == s else 0.0 for _, season in FPI] for s in seasons}
    table = exact_table(shares, FPI)
    cfg = TrendsConfig(
        period_column="year",
        season_column="season",
        by=("colour",),
        models=("naive", "seasonal_naive", "mean", "drift"),
        bootstrap=0,
        min_category_items=0,
    )
    res = analyse_trends(table, cfg)
    fc = res.forecasts
    assert set(fc["period"]) == {"2017 Fall", "2017 Winter"}
    for _, row in fc.groupby("period"):
        assert row["share"].sum() == pytest.approx(1.0, abs=0.005)
    fall = fc[fc["period"] == "2017 Fall"].set_index("category")["share"]
    assert fall["Fall"] == pytest.approx(1.0)
    winter = fc[fc["period"] == "2017 Winter"].set_index("category")["share"]
    assert winter["Winter"] == pytest.approx(1.0)


def test_without_a_baseline_the_skill_is_unknown_and_said_so() -> None:
    table = exact_table({"A": A, "B": [1 - a for a in A]}, YEARS)
    cfg = TrendsConfig(period_column="year", by=("colour",), models=("drift", "ets"), bootstrap=0)
    res = analyse_trends(table, cfg)
    assert res.skill[0].verdict == "unjudged" and len(res.forecasts)
    assert "whether these forecasts beat a naive one is unknown" in format_trends(res)
