"""``stylecast trends``: shares per period, backtested forecasts and signals of a table."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

__all__ = ["register"]


def _csv_list(text: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in text.split(",") if v.strip())


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
    p.add_argument("--period-column", required=True, metavar="COL", help="the column of periods")
    p.add_argument(
        "--season-column",
        metavar="COL",
        help="the season within the year; then --period-column holds the year",
    )
    p.add_argument(
        "--by",
        required=True,
        action="append",
        metavar="COL",
        help="column whose category shares are tracked (repeat for several, e.g. --by "
        "predicted --by baseColour)",
    )
    p.add_argument("--value", metavar="COL", help="weigh rows by this column (e.g. units sold)")
    p.add_argument("--out", metavar="DIR", help="output folder (default runs/trends-INPUT)")
    p.add_argument(
        "--colour-families",
        action="append",
        metavar="COL",
        help="group the colour names of this --by column into families (Navy Blue -> Blue; "
        "see docs/trends.md)",
    )
    g = p.add_argument_group("periods")
    g.add_argument(
        "--season-order",
        metavar="A,B,..",
        type=_csv_list,
        help="seasons within a year, in order (default Spring,Summer,Fall,Winter or SS,FW)",
    )
    g.add_argument(
        "--period-order",
        metavar="A,B,..",
        type=_csv_list,
        help="order of non-numeric period values, first to last",
    )
    g.add_argument(
        "--season-length",
        type=int,
        metavar="N",
        help="periods per year for seasonal-naive (default: from the seasons, else 1)",
    )
    g.add_argument(
        "--min-items",
        type=int,
        default=20,
        metavar="N",
        help="a period with fewer items is sparse: shown, not forecast (default: 20)",
    )
    g.add_argument(
        "--min-category-items",
        type=int,
        default=20,
        metavar="N",
        help="a category with fewer items is too sparse to forecast (default: 20)",
    )
    g = p.add_argument_group("forecasts and backtest")
    g.add_argument(
        "--horizon", type=int, default=2, metavar="N", help="periods to forecast (default: 2)"
    )
    g.add_argument(
        "--backtest-origins",
        type=int,
        default=4,
        metavar="K",
        help="the last K periods are backtest targets (default: 4)",
    )
    g.add_argument(
        "--selection-origins",
        type=int,
        default=4,
        metavar="S",
        help="targets before each origin that choose its model (default: 4)",
    )
    g.add_argument(
        "--backtest-horizon",
        type=int,
        default=1,
        metavar="H",
        help="steps ahead in the backtest (default: 1)",
    )
    g.add_argument(
        "--models",
        type=_csv_list,
        metavar="M,..",
        help="candidate models (default: naive,seasonal_naive,mean,drift,ets,ets_damped,theta)",
    )
    g.add_argument(
        "--interval",
        type=float,
        default=0.8,
        help="prediction interval of forecasts (default: 0.8)",
    )
    g.add_argument(
        "--level",
        type=float,
        default=0.95,
        help="level of share and slope intervals (default: 0.95)",
    )
    g.add_argument(
        "--bootstrap",
        type=int,
        default=1000,
        metavar="N",
        help="bootstrap resamples per period (default: 1000)",
    )
    g.add_argument("--seed", type=int, default=0)
    g.add_argument(
        "--top",
        type=int,
        default=8,
        metavar="N",
        help="categories drawn per --by column (default: 8)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=_trends)


def default_out(source: str) -> Path:
    """``runs/trends-<input name>``."""
    path = Path(source)
    name = path.name if path.is_dir() else path.stem
    return Path("runs") / (
        "trends-" + (re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.") or "table")
    )


def _trends(args: argparse.Namespace) -> int:
    from stylecast.trends import MODELS, TrendsConfig, analyse_trends, format_trends

    cfg = TrendsConfig(
        period_column=args.period_column,
        by=tuple(dict.fromkeys(args.by)),
        value_column=args.value,
        season_column=args.season_column,
        season_order=args.season_order or None,
        period_order=args.period_order or None,
        season_length=args.season_length,
        horizon=args.horizon,
        backtest_origins=args.backtest_origins,
        selection_origins=args.selection_origins,
        backtest_horizon=args.backtest_horizon,
        min_items=args.min_items,
        min_category_items=args.min_category_items,
        interval=args.interval,
        level=args.level,
        bootstrap=args.bootstrap,
        seed=args.seed,
        colour_families=tuple(args.colour_families or ()),
        models=args.models or MODELS,
        top=args.top,
    )
    out = Path(args.out) if args.out else default_out(args.input)
    result = analyse_trends(args.input, cfg, out, progress=not args.quiet)
    print(format_trends(result))
    print(
        f"\nwrote {out}/: trends.csv, backtest.csv, backtest_summary.csv, signals.csv, trends.json"
    )
    print(f"report: {result.report}")
    return 0
