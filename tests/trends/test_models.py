"""The forecaster registry: a model registered in one place is selectable, backtested, shown."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from stylecast.errors import ConfigError
from stylecast.trends import MODELS, Forecast, TrendsConfig, analyse_trends, forecast_series
from stylecast.trends.models import (
    baseline_names,
    display_name,
    forecaster,
    forecaster_names,
    register_forecaster,
    unregister_forecaster,
)
from stylecast.trends.text import format_trends


def _toy(y, positions, ahead, *, interval: float, season_length: int) -> Forecast:
    """The last value, nudged up, with a fixed +-5 point interval."""
    mean = np.full(len(ahead), y[-1] + 0.01)
    return Forecast(mean, mean - 0.05, mean + 0.05)


@pytest.fixture
def toy() -> Iterator[str]:
    register_forecaster("toy", _toy, "Toy (last value + 1 pt)", min_points=4, short="toy-model")
    try:
        yield "toy"
    finally:
        unregister_forecaster("toy")
    assert "toy" not in forecaster_names()


def test_builtin_registry_matches_the_config() -> None:
    assert forecaster_names() == MODELS
    assert MODELS == ("naive", "seasonal_naive", "mean", "drift", "ets", "ets_damped", "theta")
    assert baseline_names() == ("naive", "seasonal_naive", "mean")
    assert forecaster("ets_damped").min_points == 6 and forecaster("seasonal_naive").seasonal
    assert display_name("seasonal_naive") == "seasonal-naive"
    assert display_name("ets", long=True) == "ETS(A,N,N)"
    assert display_name("selected", long=True) == "chosen per origin (nested)"


def test_a_registered_model_is_selectable_backtested_and_shown(
    toy: str, rising_table: pd.DataFrame, tmp_path: Path
) -> None:
    y = np.array([0.1, 0.2, 0.3, 0.4])
    fc = forecast_series(toy, y, np.zeros(4), np.zeros(2))
    assert fc is not None and fc.mean.tolist() == pytest.approx([0.41, 0.41])
    assert forecast_series(toy, y[:3], np.zeros(3), np.zeros(1)) is None  # min_points 4
    cfg = TrendsConfig(period_column="year", by=("colour",), models=("naive", toy), bootstrap=20)
    res = analyse_trends(rising_table, cfg, tmp_path / "out")
    assert set(res.backtest["model"]) == {"naive", toy, "selected"}
    assert toy in set(res.summary["model"])
    text = format_trends(res)
    assert "toy-model " in text
    html = (tmp_path / "out" / "trend_report.html").read_text()
    assert "Toy (last value + 1 pt)" in html
    assert "--models naive,toy" in html  # the command that reproduces the report


def test_the_command_line_selects_a_registered_model(
    toy: str, rising_table: pd.DataFrame, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from stylecast.cli import main

    table = tmp_path / "table.csv"
    rising_table.to_csv(table, index=False)
    args = ["trends", str(table), "--period-column", "year", "--by", "colour", "--quiet"]
    args += ["--models", "naive,toy", "--bootstrap", "20", "--out", str(tmp_path / "out")]
    assert main(args) == 0
    assert "toy-model " in capsys.readouterr().out
    assert "Toy (last value + 1 pt)" in (tmp_path / "out" / "trend_report.html").read_text()


def test_seasonal_and_baseline_flags(rising_table: pd.DataFrame, tmp_path: Path) -> None:
    register_forecaster("toy_seasonal", _toy, "seasonal toy", seasonal=True)
    register_forecaster("toy_base", _toy, "base toy", baseline=True)
    try:
        assert baseline_names() == ("naive", "seasonal_naive", "mean", "toy_base")
        cfg = TrendsConfig(
            period_column="year",
            by=("colour",),
            models=("naive", "toy_seasonal", "toy_base"),
            bootstrap=20,
        )
        res = analyse_trends(rising_table, cfg, tmp_path / "out")
        # No seasons in yearly data: the seasonal model is left out, like seasonal naive.
        assert set(res.backtest["model"]) == {"naive", "toy_base", "selected"}
        assert all("toy_base" in s.baseline_wape for s in res.series if s.status == "forecast")
        html = (tmp_path / "out" / "trend_report.html").read_text()
        assert "<th>toy base</th>" in html  # a baseline gets its per-series column
    finally:
        unregister_forecaster("toy_seasonal")
        unregister_forecaster("toy_base")


def test_unknown_and_duplicate_models_are_refused(toy: str) -> None:
    with pytest.raises(ConfigError, match="unknown forecasting model 'nope'; choose from .*toy"):
        TrendsConfig(period_column="p", by=("b",), models=("nope",))
    with pytest.raises(ConfigError, match="already registered"):
        register_forecaster("naive", _toy, "again")
    with pytest.raises(ConfigError, match="plain name"):
        register_forecaster("selected", _toy, "reserved")
    with pytest.raises(ConfigError, match="unknown forecasting model 'gone'"):
        forecast_series("gone", np.ones(5), np.zeros(5), np.zeros(1))
