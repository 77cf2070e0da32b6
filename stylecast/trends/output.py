"""Writing a trend analysis: the CSV tables, ``trends.json``, figures and the HTML report."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from stylecast import __version__
from stylecast.fileio import atomic_path, atomic_write_json, atomic_write_text
from stylecast.trends.config import BACKTEST_COLUMNS, SUMMARY_COLUMNS, TRENDS_COLUMNS

if TYPE_CHECKING:
    import pandas as pd

    from stylecast.trends.config import TrendsFolder, TrendsResult

__all__ = ["write_outputs"]


def _csv(frame: pd.DataFrame, columns: list[str], path: Path) -> None:
    import pandas as pd

    frame = frame.reindex(columns=columns) if len(frame) else pd.DataFrame(columns=columns)
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False, float_format="%.6g")


def trends_table(res: TrendsResult) -> pd.DataFrame:
    """Observed shares and forecasts in one long table (``kind`` tells them apart)."""
    import pandas as pd

    parts = [f for f in (res.shares, res.forecasts) if len(f)]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=TRENDS_COLUMNS)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.") or "by"


def summary_json(res: TrendsResult, status: str = "complete") -> dict[str, Any]:
    """What ``trends.json`` holds: the configuration, periods, statuses and pooled backtest."""
    pooled = res.summary[res.summary["category"] == "(all)"] if len(res.summary) else None
    by_column: dict[str, Any] = {}
    for by in res.config.by:
        mine = [s for s in res.series if s.by == by]
        sig = res.signals[res.signals["by"] == by] if len(res.signals) else res.signals
        skill = next((k for k in res.skill if k.by == by), None)
        by_column[by] = {
            "forecast_skill": skill.to_json() if skill is not None else None,
            "categories": len(mine),
            "forecast": [s.category for s in mine if s.status == "forecast"],
            "not_forecast": {s.category: f"{s.status}: {s.reason}" for s in mine if s.reason},
            "chosen_models": {s.category: s.model for s in mine if s.model},
            "rising": list(sig.loc[sig["direction"] == "rising", "category"]) if len(sig) else [],
            "falling": list(sig.loc[sig["direction"] == "falling", "category"]) if len(sig) else [],
            "backtest_wape": {
                r["model"]: r["wape"]
                for r in (
                    pooled[pooled["by"] == by].to_dict("records") if pooled is not None else []
                )
            },
        }
    return {
        "status": status,
        "stylecast_version": __version__,
        "created": dt.datetime.now().isoformat(timespec="seconds"),
        "source": res.source,
        "config": res.config.to_json(),
        "periods": list(res.periods),
        "sparse_periods": list(res.sparse_periods),
        "time_unit": res.time_unit,
        "season_length": res.season_length,
        "notes": list(res.notes),
        "shift_warning": res.shift_warning,
        "by": by_column,
    }


def _png_uri(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def _figures(res: TrendsResult, folder: TrendsFolder) -> dict[str, dict[str, str]]:
    """Draw the mix and the share fans of every ``by`` column; their data URIs by name."""
    import pandas as pd

    from stylecast.plots import ShareSeries, plot_share_grid, plot_share_mix, save_figure
    from stylecast.trends.shares import category_colours

    out: dict[str, dict[str, str]] = {}
    cfg = res.config
    for by in cfg.by:
        sh = res.shares[res.shares["by"] == by]
        wide = sh.pivot(index="period_index", columns="category", values="share")
        cats = list(dict.fromkeys(sh["category"]))
        sparse = sh.groupby("period_index")["sparse"].first().to_numpy()
        shown = cats[: max(cfg.top, 1)]
        mix = wide.reindex(columns=cats).to_numpy()
        if len(cats) > len(shown):  # the rest as one block, so bars still add to 100%
            mix = np.c_[mix[:, : len(shown)], np.nansum(mix[:, len(shown) :], axis=1)]
            shown_mix = [*shown, "other"]
        else:
            shown_mix = shown
        fig = plot_share_mix(
            list(res.periods),
            shown_mix,
            mix,
            sparse=sparse,
            title=f"{by}: mix per period",
            colours=category_colours(shown_mix),
        )
        names = {"trend_mix": folder / f"trend_mix_{_slug(by)}.png"}
        save_figure(fig, names["trend_mix"])
        status = {s.category: s for s in res.series if s.by == by}
        sig = (
            res.signals[res.signals["by"] == by].set_index("category") if len(res.signals) else None
        )
        fc = res.forecasts[res.forecasts["by"] == by] if len(res.forecasts) else pd.DataFrame()
        panels = []
        drawn = [c for c in cats if status.get(c) and status[c].status != "too sparse"][: cfg.top]
        own = category_colours(drawn) or [None] * len(drawn)
        for cat, colour in zip(drawn, own, strict=True):
            rows = sh[sh["category"] == cat].sort_values("period_index")
            f = fc[fc["category"] == cat] if len(fc) else fc
            panels.append(
                ShareSeries(
                    title=str(cat),
                    share=rows["share"].to_numpy(),
                    low=rows["low"].to_numpy(),
                    high=rows["high"].to_numpy(),
                    sparse=rows["sparse"].to_numpy(),
                    forecast=f["share"].to_numpy() if len(f) else (),
                    forecast_low=f["low"].to_numpy() if len(f) else (),
                    forecast_high=f["high"].to_numpy() if len(f) else (),
                    note=_panel_note(status[cat], sig, cat, res.time_unit),
                    colour=colour,
                )
            )
        if panels:
            fig = plot_share_grid(
                list(res.periods),
                panels,
                forecast_periods=_next_labels(res, by),
                level=cfg.level,
                interval=cfg.interval,
            )
            names["trend_shares"] = folder / f"trend_shares_{_slug(by)}.png"
            save_figure(fig, names["trend_shares"])
        out[by] = {k: _png_uri(p) for k, p in names.items()}
    return out


def _next_labels(res: TrendsResult, by: str) -> list[str]:
    fc = res.forecasts
    if not len(fc):
        return []
    return list(dict.fromkeys(fc.loc[fc["by"] == by, "period"]))


def _panel_note(status: Any, sig: Any, cat: str, unit: str) -> str:
    parts = []
    if sig is not None and cat in sig.index:
        row = sig.loc[cat]
        if row["direction"] in ("rising", "falling"):
            parts.append(f"{row['direction']} {100 * row['slope']:+.1f} pts/{unit}")
    if status.status == "forecast" and status.selected:
        parts.append(f"baseline: {status.model} (the chosen models lost to it)")
    else:
        parts.append(f"model: {status.model}" if status.status == "forecast" else status.status)
    return ", ".join(parts)


def write_outputs(res: TrendsResult, folder: TrendsFolder) -> TrendsResult:
    """Write every file of ``res`` into ``folder``; returns ``res`` with its paths."""
    from stylecast.trends.report import render_report

    folder.path.mkdir(parents=True, exist_ok=True)
    # Marks the folder as ours first, so a rerun after a crash may write here again.
    atomic_write_json(folder / folder.SUMMARY, summary_json(res, status="running"))
    _csv(trends_table(res), TRENDS_COLUMNS, folder / folder.TRENDS)
    _csv(res.backtest, BACKTEST_COLUMNS, folder / folder.BACKTEST)
    _csv(res.summary, SUMMARY_COLUMNS, folder / folder.BACKTEST_SUMMARY)
    _csv(res.signals, list(res.signals.columns), folder / folder.SIGNALS)
    figures = _figures(res, folder)
    report = folder / folder.REPORT
    atomic_write_text(report, render_report(res, figures))
    atomic_write_json(folder / folder.SUMMARY, summary_json(res))
    return dataclasses.replace(res, out=folder.path, report=report)
