"""What a trend analysis computes (:class:`TrendsConfig`) and what it returns
(:class:`TrendsResult`), plus the names of the files it writes (:class:`TrendsFolder`)."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stylecast.config_fields import check_fields, option
from stylecast.errors import ConfigError
from stylecast.trends.models import baseline_names, forecaster, forecaster_names

if TYPE_CHECKING:
    import pandas as pd

    from stylecast.trends.skill import ForecastSkill

__all__ = ["MODELS", "TrendsConfig", "TrendsFolder", "TrendsResult", "SeriesStatus"]

# Forecasting models, simplest first: ties in the backtest go to the earlier one. The
# registry (stylecast/trends/models.py) holds them; these are the ones at import time.
BASELINES = baseline_names()
MODELS = forecaster_names()
_SHARE_LEVEL = "{label} must be between 0.5 and 1 (e.g. 0.8), got {value}"

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
    sold) instead of counting it. Every field is a flag of ``stylecast trends``.
    """

    period_column: str = option(help="the column of periods", metavar="COL")
    by: tuple[str, ...] = option(
        help="column whose category shares are tracked (repeat for several, e.g. --by "
        "predicted --by baseColour)",
        metavar="COL",
        repeat=True,
    )
    value_column: str | None = option(
        None, "weigh rows by this column (e.g. units sold)", flag="--value", metavar="COL"
    )
    season_column: str | None = option(
        None, "the season within the year; then --period-column holds the year", metavar="COL"
    )
    season_order: tuple[str, ...] | None = option(
        None,
        "seasons within a year, in order (default Spring,Summer,Fall,Winter or SS,FW)",
        metavar="A,B,..",
    )
    period_order: tuple[str, ...] | None = option(
        None, "order of non-numeric period values, first to last", metavar="A,B,.."
    )
    season_length: int | None = option(
        None,
        "periods per year for seasonal-naive (default: from the seasons, else 1)",
        metavar="N",
        low=1,
        high=52,
        error="{label} must be 1-52 periods, got {value}",
    )
    horizon: int = option(2, "periods to forecast", metavar="N", low=1)
    backtest_origins: int = option(4, "the last K periods are backtest targets", metavar="K", low=1)
    selection_origins: int = option(
        4, "targets before each origin that choose its model", metavar="S", low=1
    )
    backtest_horizon: int = option(1, "steps ahead in the backtest", metavar="H", low=1)
    min_items: int = option(
        20,
        "a period with fewer items (or total value) is sparse: shown, not forecast",
        metavar="N",
        low=1,
    )
    min_category_items: int = option(
        20, "a category with fewer items is too sparse to forecast", metavar="N", low=0
    )
    interval: float = option(
        0.8, "prediction interval of forecasts", low=0.5, below=1, error=_SHARE_LEVEL
    )
    level: float = option(
        0.95, "level of share and slope intervals", low=0.5, below=1, error=_SHARE_LEVEL
    )
    bootstrap: int = option(1000, "bootstrap resamples per period", metavar="N", low=0)
    seed: int = option(0, "seed of the bootstrap resamples", low=0)
    colour_families: tuple[str, ...] = option(
        (),
        "group the colour names of this --by column into families (Navy Blue -> Blue; "
        "see docs/trends.md)",
        metavar="COL",
        repeat=True,
    )
    # The registered forecasters (stylecast.trends.models), simplest first: ties in the
    # backtest go to the earlier one.
    models: tuple[str, ...] = option(MODELS, "candidate models", metavar="M,..")
    no_skill: str = option(
        "baseline",
        "when the backtest's chosen models lose to a baseline: forecast with the best "
        "baseline (said so), or show no forecast",
        choices=("baseline", "none"),
    )
    top: int = option(
        8, "categories drawn per --by column (every category is in the CSVs)", metavar="N", low=1
    )

    def __post_init__(self) -> None:
        if isinstance(self.by, str):
            object.__setattr__(self, "by", (self.by,))
        if isinstance(self.colour_families, bool):  # True: every --by column
            object.__setattr__(self, "colour_families", self.by if self.colour_families else ())
        for name in ("by", "season_order", "period_order", "models", "colour_families"):
            value = getattr(self, name)
            if isinstance(value, str):
                object.__setattr__(self, name, tuple(v.strip() for v in value.split(",")))
            elif isinstance(value, list):  # a list from Python or YAML: the same values
                object.__setattr__(self, name, tuple(value))
        if not self.period_column:
            raise ConfigError("--period-column is required: the column that orders rows in time")
        if not self.by:
            raise ConfigError("--by is required: the column whose category shares are tracked")
        check_fields(self, template="{label} must be an integer >= {low}, got {value}")
        stray = [c for c in self.colour_families if c not in self.by]
        if stray:
            raise ConfigError(f"--colour-families {stray[0]!r} is not one of the --by columns")
        if not self.models:
            raise ConfigError(
                f"unknown forecasting model '(none)'; choose from {', '.join(forecaster_names())}"
            )
        for model in self.models:
            forecaster(model)  # an unknown one: "unknown forecasting model ...; choose from"

    def to_json(self) -> dict[str, Any]:
        return {
            k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self).items()
        }


@dataclass(frozen=True)
class SeriesStatus:
    """One tracked series (a category of a ``by`` column): forecast, or why not."""

    by: str
    category: str
    status: str  # "forecast", "too short", "too sparse", "no skill"
    reason: str = ""
    model: str | None = None  # the model that forecasts (chosen, or the fallback baseline)
    wape: float | None = None  # backtest WAPE of the nested selection (what to expect)
    baseline_wape: dict[str, float] = field(default_factory=dict)
    selected: str | None = None  # the backtest's choice, when a fallback baseline forecasts


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
    skill: tuple[ForecastSkill, ...] = ()  # the backtest's verdict per by column
    shift_warning: str | None = None  # of the predictions the table came from
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
