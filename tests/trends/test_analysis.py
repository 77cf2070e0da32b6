"""End to end: shares, forecasts, backtest, signals and every file of the output folder."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from stylecast.errors import ConfigError, DataError
from stylecast.trends import TrendsConfig, analyse_trends, trend_report

FAST = ("naive", "mean", "drift", "ets")


@pytest.fixture(scope="module")
def analysed(rising_table: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("trends") / "out"
    cfg = TrendsConfig(period_column="year", by=("colour",), models=FAST, bootstrap=200)
    return analyse_trends(rising_table, cfg, out), out


def test_signals_flag_the_known_trend_only(analysed) -> None:
    res, _ = analysed
    sig = res.signals.set_index("category")
    assert sig.at["rising", "direction"] == "rising"
    assert sig.at["rising", "slope"] == pytest.approx(0.03, abs=0.01)
    assert sig.at["flat", "direction"] == "flat"
    assert sig.at["rest", "direction"] == "falling"
    assert res.rising == ["rising"] and res.falling == ["rest"]
    assert list(res.signals["rank"]) == [1, 2, 3]


def test_forecasts_backtest_and_statuses(analysed) -> None:
    res, _ = analysed
    assert res.periods == tuple(str(y) for y in range(2010, 2022))
    assert {s.status for s in res.series} == {"forecast"}
    fc = res.forecasts[res.forecasts["category"] == "rising"]
    assert list(fc["period"]) == ["2022", "2023"]
    assert (fc["low"] <= fc["share"]).all() and (fc["share"] <= fc["high"]).all()
    assert fc["share"].iloc[0] > 0.35  # the climb continues (43% in 2021)
    bt = res.backtest
    assert set(bt["model"]) == {*FAST, "selected"}  # no seasonal naive without seasons
    assert sorted(set(bt.loc[bt["role"] == "evaluation", "target"])) == [
        "2018",
        "2019",
        "2020",
        "2021",
    ]
    pooled = res.summary[res.summary["category"] == "(all)"].set_index("model")
    assert set(pooled.index) == {*FAST, "selected"}
    assert pooled.at["selected", "n"] == 12  # 3 series x 4 targets
    assert 0 <= pooled.at["naive", "coverage"] <= 1
    series = {s.category: s for s in res.series}
    assert series["rising"].model in FAST and series["rising"].wape is not None
    assert set(series["rising"].baseline_wape) == {"naive", "mean"}


def test_files(analysed) -> None:
    res, out = analysed
    names = {p.name for p in out.iterdir()}
    assert names == {
        "trends.csv",
        "backtest.csv",
        "backtest_summary.csv",
        "signals.csv",
        "trends.json",
        "trend_report.html",
        "trend_mix_colour.png",
        "trend_shares_colour.png",
    }
    trends = pd.read_csv(out / "trends.csv")
    assert list(trends.columns) == [
        "by", "kind", "period", "period_index", "category", "count", "items", "total",
        "share", "low", "high", "sparse", "model",
    ]  # fmt: skip
    observed = trends[trends["kind"] == "observed"]
    assert len(observed) == 12 * 3
    sums = observed.groupby("period")["share"].sum()
    np.testing.assert_allclose(sums, 1.0, atol=1e-5)
    assert len(trends[trends["kind"] == "forecast"]) == 2 * 3
    backtest = pd.read_csv(out / "backtest.csv")
    assert list(backtest.columns) == [
        "by", "category", "model", "chosen", "role", "origin", "target", "actual", "forecast",
        "low", "high", "error",
    ]  # fmt: skip
    selected = backtest[backtest["model"] == "selected"]
    assert len(selected) == 12 and set(selected["chosen"]) <= set(FAST)
    summary = json.loads((out / "trends.json").read_text())
    assert summary["status"] == "complete"
    assert summary["by"]["colour"]["rising"] == ["rising"]
    assert summary["periods"][0] == "2010" and summary["time_unit"] == "year"
    html = (out / "trend_report.html").read_text()
    assert html.count("data:image/png;base64,") == 2
    assert "http://" not in html and "https://" not in html and "<script" not in html
    for text in ("Movers", "Backtest", "Forecast", "rising", "2022", "stylecast trends"):
        assert text in html
    assert res.report == out / "trend_report.html"


def test_rerun_into_own_folder_but_not_a_foreign_one(rising_table, tmp_path: Path) -> None:
    cfg = TrendsConfig(period_column="year", by=("colour",), models=("naive",), bootstrap=0)
    out = tmp_path / "t"
    analyse_trends(rising_table, cfg, out)
    analyse_trends(rising_table, cfg, out)  # its own files: replaced
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    with pytest.raises(ConfigError, match="holds files stylecast trends did not write"):
        analyse_trends(rising_table, cfg, tmp_path / "mine")
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"


def test_short_and_sparse_series_are_reported_not_forecast() -> None:
    table = pd.DataFrame(
        {
            "year": np.repeat([2020, 2021, 2022, 2023, 2024], 40),
            "colour": (["red"] * 39 + ["rare"]) * 5,
        }
    )
    res = analyse_trends(table, TrendsConfig(period_column="year", by=("colour",), bootstrap=0))
    status = {s.category: s for s in res.series}
    assert status["rare"].status == "too sparse"
    assert status["rare"].reason == "5 items in the periods kept (fewer than 20)"
    assert status["red"].status == "too short"
    assert "5 periods with at least 20 items; a backtested forecast needs 8" in status["red"].reason
    assert res.forecasts.empty and res.backtest.empty
    assert list(res.signals["category"]) == ["red"]


def test_bad_columns() -> None:
    table = pd.DataFrame({"year": [1, 2], "colour": ["a", "b"]})
    with pytest.raises(DataError, match=r"--by 'brand' is not a column of the table; its columns"):
        analyse_trends(table, TrendsConfig(period_column="year", by=("brand",)))
    with pytest.raises(DataError, match="--value 'units' is not a column"):
        analyse_trends(
            table, TrendsConfig(period_column="year", by=("colour",), value_column="units")
        )
    with pytest.raises(ConfigError, match="interval must be between 0.5 and 1"):
        TrendsConfig(period_column="year", by=("colour",), interval=80)
    with pytest.raises(ConfigError, match="unknown forecasting model 'prophet'"):
        TrendsConfig(period_column="year", by=("colour",), models=("prophet",))


def test_predictions_table(tmp_path: Path) -> None:
    """What `stylecast predict` writes: path, predicted, confidence, p_<class>, manifest columns."""
    rng = np.random.default_rng(0)
    n = 600
    year = np.repeat(np.arange(2010, 2020), n // 10)
    p_summer = np.clip(0.3 + 0.04 * (year - 2010) + rng.normal(0, 0.1, n), 0, 1)
    table = pd.DataFrame(
        {
            "path": [f"img/{i}.jpg" for i in range(n)],
            "predicted": np.where(rng.random(n) < p_summer, "Summer", "Fall"),
            "p_Fall": 1 - p_summer,
            "p_Summer": p_summer,
            "year": year,
            "season": "Summer",
        }
    )
    table["confidence"] = table[["p_Fall", "p_Summer"]].max(axis=1)
    path = tmp_path / "preds.parquet"
    table.to_parquet(path)
    cfg = TrendsConfig(
        period_column="year", by=("predicted",), models=("naive", "mean"), bootstrap=0
    )
    res = analyse_trends(path, cfg)
    assert res.rising == ["Summer"] and res.falling == ["Fall"]
    assert res.source == str(path)


def test_demo_lookbook_trend_report(lookbook: Path, tmp_path: Path) -> None:
    """What `stylecast demo` calls: four periods are too short to forecast, yet shares,
    signals and the report are there."""
    out = tmp_path / "demo-trends"
    res = trend_report(
        lookbook / "manifest.csv",
        period_column="period",
        by=("label", "colour"),
        out=out,
        colour_families=("colour",),
        min_items=5,
        min_category_items=5,
    )
    assert res.periods == ("2021", "2022", "2023", "2024")
    label = res.shares[res.shares["by"] == "label"]
    assert set(label["category"]) == {"FallWinter", "SpringSummer"}
    np.testing.assert_allclose(label.groupby("period")["share"].sum(), 1.0, atol=1e-5)
    assert {s.status for s in res.series if s.by == "label"} == {"too short"}
    assert res.forecasts.empty
    assert set(res.signals["by"]) == {"label", "colour"}
    colours = set(res.shares.loc[res.shares["by"] == "colour", "category"])
    assert colours <= {"Red", "Blue", "Green", "Brown", "Black", "Grey", "White", "Beige",
                       "Pink/Purple", "Yellow/Orange", "Multi", "Other"}  # fmt: skip
    html = (out / "trend_report.html").read_text()
    assert "too short" in html and html.count("data:image/png;base64,") >= 3


@pytest.mark.realdata
def test_fpi_trends_catalogue_tags(shared_data: Path) -> None:
    """The README's example: the catalogue's own season tags per year of fpi-trends."""
    manifest = shared_data / "fpi-trends" / "manifest.csv"
    cfg = TrendsConfig(period_column="year", by=("label",), models=("naive", "mean"), bootstrap=0)
    res = analyse_trends(manifest, cfg)
    assert res.periods == tuple(str(y) for y in range(2010, 2018))
    table = pd.read_csv(manifest)
    expected = pd.crosstab(table["year"], table["label"], normalize="index")
    got = res.shares.pivot(index="period", columns="category", values="share")
    np.testing.assert_allclose(got.loc["2012", "Fall"], expected.loc[2012, "Fall"], atol=1e-6)
    assert "Fall" in res.falling  # 77% of 2010's images, none after 2012


@pytest.mark.realdata
def test_catalogue_year_and_season(shared_data: Path) -> None:
    cfg = TrendsConfig(
        period_column="year",
        season_column="season",
        by=("baseColour",),
        colour_families=("baseColour",),
        min_items=100,
        models=("naive", "seasonal_naive", "mean"),
        bootstrap=0,
    )
    res = analyse_trends(shared_data / "fpi-catalogue.csv", cfg)
    assert res.season_length == 4
    assert res.periods[:3] == ("2007 Spring", "2008 Spring", "2008 Summer")
    assert len(res.periods) - len(res.sparse_periods) == 19  # periods with >= 100 items
    assert res.notes[0] == "21 rows without a year or season value were left out"
    pooled = res.summary[res.summary["category"] == "(all)"].set_index("model")
    assert set(pooled.index) == {"naive", "seasonal_naive", "mean", "selected"}
    assert pooled.at["selected", "n"] == 4 * 11  # 11 colour families x the last 4 periods
