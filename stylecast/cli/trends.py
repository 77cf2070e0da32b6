"""``stylecast trends``: shares per period, backtested forecasts and signals of a table."""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

from stylecast.cli.common import (
    add_config_options,
    add_out_option,
    add_quiet_option,
    config_from_args,
)
from stylecast.errors import ConfigError
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
    "no_skill",
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


def _input_file(source: str) -> Path:
    """The table ``source`` names, absolute (a folder means its manifest.csv)."""
    path = Path(source).expanduser().resolve()
    return path / "manifest.csv" if path.is_dir() else path


def _earlier_input(out: Path) -> Path | None:
    """The input whose trends ``out`` holds (from its trends.json), or None."""
    try:
        source = json.loads((out / "trends.json").read_text(encoding="utf-8")).get("source")
    except (OSError, ValueError, AttributeError):
        return None
    return _input_file(source) if isinstance(source, str) and source else None


def default_out(source: str) -> Path:
    """``runs/trends-<input name>`` (a manifest.csv is named by its folder); another input
    of that name gets ``-2``, ``-3``, ...: one input's trends never replace another's."""
    path = _input_file(source)
    name = path.parent.name if path.stem == "manifest" else path.stem
    base = "trends-" + (re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.") or "table")
    for n in range(1, 1000):
        out = Path("runs") / (base if n == 1 else f"{base}-{n}")
        if _earlier_input(out) in (None, path):
            return out
    raise ConfigError(f"runs/ holds too many trend folders named {base!r}; give --out DIR")


def _check_same_input(out: Path, source: str) -> None:
    """Refuse to write the trends of ``source`` over another input's in ``out``."""
    earlier, path = _earlier_input(out), _input_file(source)
    if earlier is not None and earlier != path:
        raise ConfigError(
            f"{out} holds the trends of {earlier}; choose another --out for {path} "
            f"(or delete {out} first)"
        )


def _trends(args: argparse.Namespace) -> int:
    from stylecast.trends import analyse_trends, format_trends

    cfg = config_from_args(TrendsConfig, args)
    out = Path(args.out) if args.out else default_out(args.input)
    _check_same_input(out, args.input)
    result = analyse_trends(args.input, cfg, out, progress=not args.quiet)
    print(format_trends(result))
    print(
        f"\nwrote {out}/: trends.csv, backtest.csv, backtest_summary.csv, signals.csv, trends.json"
    )
    print(f"report: {result.report}")
    return 0
