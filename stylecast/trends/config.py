"""What a trend analysis computes (:class:`TrendsConfig`) and what it returns
(:class:`TrendsResult`), plus the names of the files it writes (:class:`TrendsFolder`)."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stylecast.errors import ConfigError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["MODELS", "TrendsConfig", "TrendsFolder", "TrendsResult", "SeriesStatus"]

# Forecasting models, simplest first: ties in the backtest go to the earlier one.
BASELINES = ("naive", "seasonal_naive", "mean")
MODELS = (*BASELINES, "drift", "ets", "ets_damped", "theta")

# Columns of the tables a result holds and the CSV files it writes.
TRENDS_COLUMNS = [
    "by",
    "kind",
    "period",
    "period_index",
    "category",
    "count",
    "items",
    "total",
    "share",
    "low",
    "high",
    "sparse",
    "model",
]
BACKTEST_COLUMNS = [
    "by",
    "category",
    "model",
    "chosen",
    "role",
    "origin",
    "target",
    "actual",
    "forecast",
    "low",
    "high",
    "error",
]
SUMMARY_COLUMNS = ["by", "category", "model", "chosen", "n", "mae", "wape", "mase", "coverage"]
FORECAST_COLUMNS = ["by", "kind", "period", "period_index", "category", "share", "low", "high"]
FORECAST_COLUMNS += ["sparse", "model"]


@dataclass(frozen=True)
class TrendsConfig:
    """How ``stylecast trends`` reads a table and forecasts its shares.

    ``period_column`` orders the rows in time (numbers, dates, ``2023FW``-like labels, or
    the year when ``season_column`` names the season within it); ``by`` names one or more
    columns whose category shares are tracked; ``value_column`` weighs each row (units
    sold) instead of counting it.
    """

    period_column: str
    by: tuple[str, ...]
    value_column: str | None = None
    season_column: str | None = None
    # Names of the seasons within a year, in order (default: Spring, Summer, Fall, Winter or
    # SS, FW, recognised from the values).
    season_order: tuple[str, ...] | None = None
    # Explicit order of non-numeric period values (first to last).
    period_order: tuple[str, ...] | None = None
    # Periods per year for seasonal-naive; derived from the seasons when not given.
    season_length: int | None = None
    horizon: int = 2  # periods to forecast after the last one
    backtest_origins: int = 4  # K: the last K periods are forecast from what came before
    selection_origins: int = 4  # S: origins before each backtest target that pick its model
    backtest_horizon: int = 1  # steps ahead in the backtest
    min_items: int = 20  # a period with fewer items (or total value) is sparse: not forecast
    min_category_items: int = 20  # a category with fewer items in all periods is too sparse
    interval: float = 0.8  # forecast prediction intervals
    level: float = 0.95  # share bootstrap intervals and trend-slope intervals
    bootstrap: int = 1000
    seed: int = 0
    # --by columns whose colour names are grouped into families first (Navy Blue -> Blue)
    colour_families: tuple[str, ...] = ()
    models: tuple[str, ...] = MODELS
    top: int = 8  # categories drawn per --by column (every category is in the CSVs)

    def __post_init__(self) -> None:
        if isinstance(self.by, str):
            object.__setattr__(self, "by", (self.by,))
        if isinstance(self.colour_families, bool):  # True: every --by column
            object.__setattr__(self, "colour_families", self.by if self.colour_families else ())
        for name in ("season_order", "period_order", "models", "colour_families"):
            value = getattr(self, name)
            if isinstance(value, str):
                object.__setattr__(self, name, tuple(v.strip() for v in value.split(",")))
        if not self.period_column:
            raise ConfigError("--period-column is required: the column that orders rows in time")
        if not self.by:
            raise ConfigError("--by is required: the column whose category shares are tracked")
        ints = {
            "horizon": 1,
            "backtest_origins": 1,
            "selection_origins": 1,
            "backtest_horizon": 1,
            "min_items": 1,
            "min_category_items": 0,
            "bootstrap": 0,
            "top": 1,
        }
        for name, low in ints.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ConfigError(f"{name} must be an integer >= {low}, got {value!r}")
        if self.season_length is not None and (
            not isinstance(self.season_length, int) or not 1 <= self.season_length <= 52
        ):
            raise ConfigError(f"season_length must be 1-52 periods, got {self.season_length!r}")
        for name in ("interval", "level"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not 0.5 <= float(value) < 1:
                raise ConfigError(f"{name} must be between 0.5 and 1 (e.g. 0.8), got {value!r}")
        stray = [c for c in self.colour_families if c not in self.by]
        if stray:
            raise ConfigError(f"--colour-families {stray[0]!r} is not one of the --by columns")
        unknown = [m for m in self.models if m not in MODELS]
        if unknown or not self.models:
            raise ConfigError(
                f"unknown forecasting model {unknown[0] if unknown else '(none)'!r}; "
                f"choose from {', '.join(MODELS)}"
            )

    def to_json(self) -> dict[str, Any]:
        return {
            k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self).items()
        }


@dataclass(frozen=True)
class SeriesStatus:
    """One tracked series (a category of a ``by`` column): forecast, or why not."""

    by: str
    category: str
    status: str  # "forecast", "too short", "too sparse"
    reason: str = ""
    model: str | None = None  # the model chosen on the last backtest origins
    wape: float | None = None  # backtest WAPE of the nested selection (what to expect)
    baseline_wape: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class TrendsResult:
    """Shares, forecasts, backtest and signals of one table (all tables in long form).

    ``shares`` has one row per (by, period, category) with ``count``, ``total``,
    ``share``, ``low``, ``high`` and ``sparse``; ``forecasts`` one row per forecast
    step; ``backtest`` every backtest forecast; ``summary`` WAPE, MASE and coverage per
    series and model; ``signals`` the slope of every series, movers first.
    """

    config: TrendsConfig
    source: str
    periods: tuple[str, ...]
    sparse_periods: tuple[str, ...]
    time_unit: str
    season_length: int
    shares: pd.DataFrame
    forecasts: pd.DataFrame
    backtest: pd.DataFrame
    summary: pd.DataFrame
    signals: pd.DataFrame
    series: tuple[SeriesStatus, ...]
    notes: tuple[str, ...] = ()
    out: Path | None = None
    report: Path | None = None

    @property
    def rising(self) -> list[str]:
        s = self.signals
        return list(s.loc[s["direction"] == "rising", "category"]) if len(s) else []

    @property
    def falling(self) -> list[str]:
        s = self.signals
        return list(s.loc[s["direction"] == "falling", "category"]) if len(s) else []


class TrendsFolder:
    """The files ``stylecast trends`` writes into its output folder."""

    TRENDS = "trends.csv"
    BACKTEST = "backtest.csv"
    BACKTEST_SUMMARY = "backtest_summary.csv"
    SIGNALS = "signals.csv"
    SUMMARY = "trends.json"
    REPORT = "trend_report.html"
    FIGURES = ("trend_shares", "trend_mix")  # PNGs, one per --by column: NAME_<by>.png

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def __truediv__(self, name: str) -> Path:
        return self.path / name

    def ours(self, name: str) -> bool:
        fixed = {self.TRENDS, self.BACKTEST, self.BACKTEST_SUMMARY, self.SIGNALS}
        fixed |= {self.SUMMARY, self.REPORT}
        return name in fixed or (
            name.endswith(".png") and any(name.startswith(f + "_") for f in self.FIGURES)
        )

    def check_writable(self) -> None:
        """Refuse a folder of someone else's files (trends never writes over them)."""
        if self.path.exists() and not self.path.is_dir():
            raise ConfigError(f"--out {self.path} is a file; give a folder for the trend files")
        if not self.path.is_dir():
            return
        foreign = sorted(p.name for p in self.path.iterdir() if not self.ours(p.name))
        if foreign:
            shown = ", ".join(foreign[:3]) + (", ..." if len(foreign) > 3 else "")
            raise ConfigError(
                f"--out {self.path} holds files stylecast trends did not write ({shown}); "
                "choose a new or empty folder"
            )
        if any(self.path.iterdir()) and not (self.path / self.SUMMARY).is_file():
            raise ConfigError(
                f"--out {self.path} holds an unfinished trend analysis without {self.SUMMARY}; "
                "choose a new folder or empty it"
            )
        if not os.access(self.path, os.W_OK):
            raise ConfigError(f"--out {self.path} is not writable")
