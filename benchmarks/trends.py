"""Colour-family share forecasts on fpi-catalogue, backtested on its last four periods (issue 13).

Reads ../shared/data/fpi-catalogue.csv (44,446 products with year, season, baseColour), groups
baseColour into 11 colour families (``stylecast.trends.colour_family``), orders the periods by
year, then season (Spring < Summer < Fall < Winter: seasonal naive looks four periods back),
and keeps the periods with at least 100 products (a share from 100 items has a standard error
of at most 5 points; the rule was fixed before any forecast was scored). Then, exactly as
``stylecast trends`` does:

* rolling origin: each of the last four kept periods is forecast one step ahead from the
  periods before it, by every model; the model a target gets ("chosen") is the one with the
  lowest error on the four targets before its origin, so the choice never sees the final
  periods;
* fixed origin (how Heuritech evaluates: hide the last four seasons): one origin before the
  last four periods, forecasts 1-4 steps ahead; the chosen model is picked on the periods
  before that origin in the same way.

It prints WAPE pooled over the 11 series for the chosen models and every baseline (naive,
seasonal naive, mean) and every candidate, the ratio to seasonal naive (target: 0.8 or
less), what the last periods are made of (why the target is or is not reachable), and the
same figures for every cell of a small grid (product scope x minimum items), all printed.

Usage:  python benchmarks/trends.py [--catalogue FILE]

Its output, with a reading, is in docs/benchmarks.md ("Trends (fpi-catalogue)").
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from _doc import require, shared_data  # noqa: E402

from stylecast.trends import (  # noqa: E402
    MODELS,
    TrendsConfig,
    analyse_trends,
    backtest_series,
    forecast_series,
    order_periods,
    period_shares,
)

BASELINES = ("naive", "seasonal_naive", "mean")


def _cfg(min_items: int) -> TrendsConfig:
    return TrendsConfig(
        period_column="year",
        season_column="season",
        by=("baseColour",),
        colour_families=("baseColour",),
        min_items=min_items,
        bootstrap=0,
    )


def rolling(table: pd.DataFrame, min_items: int) -> dict[str, float] | None:
    """Pooled WAPE per model of `stylecast trends`' own backtest; None when too short."""
    res = analyse_trends(table, _cfg(min_items))
    pooled = res.summary[res.summary["category"] == "(all)"]
    return dict(zip(pooled["model"], pooled["wape"])) if len(pooled) else None


def fixed_origin(table: pd.DataFrame, min_items: int, hide: int = 4) -> dict[str, float]:
    """Pooled WAPE per model forecasting the last ``hide`` kept periods from one origin."""
    cfg = _cfg(min_items)
    rows, axis, _ = order_periods(table, cfg, "catalogue")
    shares, _ = period_shares(rows, axis, "baseColour", cfg)
    kept = np.flatnonzero(~shares.sparse)
    pos = axis.positions[kept]
    labels = [axis.labels[i] for i in kept]
    origin = len(kept) - hide
    err: dict[str, float] = {}
    act = 0.0
    for c in range(len(shares.categories)):
        if shares.items[kept, c].sum() < cfg.min_category_items:
            continue
        y = shares.share[kept, c]
        chosen = backtest_series(
            y[:origin], pos[:origin], labels[:origin], cfg=cfg, season_length=4
        ).chosen
        act += float(np.abs(y[origin:]).sum())
        for model in (*MODELS, "selected"):
            fc = forecast_series(
                chosen if model == "selected" else model,
                y[:origin],
                pos[:origin],
                pos[origin:],
                interval=cfg.interval,
                season_length=4,
            )
            if fc is not None:
                err[model] = err.get(model, 0.0) + float(np.abs(fc.mean - y[origin:]).sum())
    return {m: e / act for m, e in err.items()}


def line(scores: dict[str, float] | None) -> str:
    if scores is None:
        return "too short to backtest"
    ref = scores["seasonal_naive"]
    order = ["selected", *BASELINES] + [m for m in MODELS if m not in BASELINES]
    text = ", ".join(
        f"{'chosen' if m == 'selected' else m} {scores[m]:.3f}" for m in order if m in scores
    )
    return f"{text}; chosen/seasonal-naive {scores['selected'] / ref:.2f}"


def composition(table: pd.DataFrame, min_items: int) -> list[str]:
    """What each of the last four kept periods is made of (master category shares)."""
    cfg = _cfg(min_items)
    rows, axis, _ = order_periods(table, cfg, "catalogue")
    counts = rows.groupby("period", observed=True).size()
    kept = [p for p in axis.labels if counts.get(p, 0) >= min_items][-6:]
    out = []
    for p in kept:
        mix = rows.loc[rows["period"] == p, "masterCategory"].value_counts(normalize=True)
        top = ", ".join(f"{k} {v:.0%}" for k, v in mix.head(3).items())
        out.append(f"  {p:<12} {counts[p]:>6} items: {top}")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--catalogue", default=shared_data("fpi-catalogue.csv"))
    args = ap.parse_args()
    require(args.catalogue)
    t0 = time.perf_counter()
    table = pd.read_csv(args.catalogue)
    out = [f"catalogue: {args.catalogue} ({len(table)} rows); colour families per year+season"]
    res = analyse_trends(table, _cfg(100))
    kept = [p for p in res.periods if p not in res.sparse_periods]
    out.append(
        f"periods: {len(res.periods)}, {len(kept)} with >= 100 items; backtest targets "
        f"{', '.join(kept[-4:])}"
    )
    pooled = res.summary[res.summary["category"] == "(all)"]
    out.append("rolling origin, 1 step ahead, WAPE pooled over 11 series:")
    out.append("  " + line(dict(zip(pooled["model"], pooled["wape"]))))
    chosen = pd.Series([s.model for s in res.series if s.model]).value_counts()
    out.append(
        "  models chosen for the next periods: " + ", ".join(f"{k} {v}" for k, v in chosen.items())
    )
    out.append("fixed origin (hide the last 4 periods, forecast 1-4 steps ahead):")
    out.append("  " + line(fixed_origin(table, 100)))
    out.append("what the last periods hold (masterCategory):")
    out += composition(table, 100)
    out.append("grid (rolling origin; every cell printed):")
    scopes = {
        "all": table,
        "Apparel": table[table["masterCategory"] == "Apparel"],
        "Footwear": table[table["masterCategory"] == "Footwear"],
        "Accessories": table[table["masterCategory"] == "Accessories"],
    }
    for name, part in scopes.items():
        for min_items in (50, 100):
            out.append(f"  {name:<11} min {min_items:>3}: {line(rolling(part, min_items))}")
    out.append(f"wall time {time.perf_counter() - t0:.0f}s")
    text = "\n".join(out)
    print(text)


if __name__ == "__main__":
    main()
