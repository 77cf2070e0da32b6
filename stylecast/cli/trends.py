"""``stylecast trends``: shares per period, backtested forecasts and signals of a table."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from stylecast.cli.common import (
    add_config_options,
    add_out_option,
    add_quiet_option,
    config_from_args,
)
from stylecast.trends.config import TrendsConfig

__all__ = ["register"]

# TrendsConfig's fields by where --help lists them (each field is one flag).
_INPUT = ("period_column", "season_column", "by", "value_column")
_PERIODS = ("season_order", "period_order", "season_length", "min_items", "min_category_items")
_FORECASTS = (
    "horizon",
    "backtest_origins",
    "selection_origins",
    "backtest_horizon",
    "models",
    "interval",
    "level",
    "bootstrap",
    "seed",
    "top",
)


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``trends`` to the subcommands."""
    p = sub.add_parser(
        "trends",
        help="shares per period, backtested forecasts and rising/falling signals of a table",
        description="Read INPUT (a predictions file, a manifest or any catalogue table, CSV or "
        "Parquet; a folder means its manifest.csv), order its periods, and for every --by column "
        "write the share of each category per period with bootstrap intervals, forecasts of the "
        "next periods by the model a rolling-origin backtest chose (against naive, seasonal-naive "
        "and mean baselines), and the rising and falling series: trends.csv, backtest.csv, "
        "backtest_summary.csv, signals.csv, trends.json and trend_report.html in --out.",
        epilog="Periods: numbers (2023), year-and-season labels (2023FW, 2011 Fall), ISO dates, "
        "or --period-column YEAR --season-column SEASON. Seasons order Spring < Summer < Fall < "
        "Winter within a year (or SS < FW); --season-order names another scheme. "
        "Example: stylecast trends catalogue.csv --period-column year --season-column season "
        "--by baseColour --colour-families baseColour",
    )
    p.add_argument("input", help="CSV or Parquet table (predictions, manifest or catalogue)")
    add_config_options(p, TrendsConfig, only=_INPUT)
    add_out_option(p, "output folder (default runs/trends-INPUT)", "DIR")
    add_config_options(p, TrendsConfig, only=("colour_families",))
    add_config_options(p.add_argument_group("periods"), TrendsConfig, only=_PERIODS)
    g = p.add_argument_group("forecasts and backtest")
    add_config_options(g, TrendsConfig, only=_FORECASTS)
    add_quiet_option(p, "no progress bars")
    p.set_defaults(func=_trends)


def default_out(source: str) -> Path:
    """``runs/trends-<input name>``."""
    path = Path(source)
    name = path.name if path.is_dir() else path.stem
    return Path("runs") / (
        "trends-" + (re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.") or "table")
    )


def _trends(args: argparse.Namespace) -> int:
    from stylecast.trends import analyse_trends, format_trends

    cfg = config_from_args(TrendsConfig, args)
    out = Path(args.out) if args.out else default_out(args.input)
    result = analyse_trends(args.input, cfg, out, progress=not args.quiet)
    print(format_trends(result))
    print(
        f"\nwrote {out}/: trends.csv, backtest.csv, backtest_summary.csv, signals.csv, trends.json"
    )
    print(f"report: {result.report}")
    return 0
