"""The trend report: one self-contained HTML file (figures embedded as data URIs)."""

from __future__ import annotations

import datetime as dt
import math
from typing import TYPE_CHECKING, Any

from stylecast.trends.models import baseline_names, display_name

if TYPE_CHECKING:
    from stylecast.trends.config import TrendsResult

__all__ = ["render_report", "pct"]


def pct(value: Any, digits: int = 1) -> str:
    """0.1234 -> "12.3%"; missing -> "–"."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        return "–"
    return "–" if math.isnan(v) else f"{100 * v:.{digits}f}%"


def _num(value: Any, digits: int = 2) -> str:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return "–"
    return "–" if math.isnan(v) else f"{v:.{digits}f}"


def _section(res: TrendsResult, by: str, figures: dict[str, str]) -> dict[str, Any]:
    from stylecast.trends.shares import category_colours

    series = [s for s in res.series if s.by == by]
    cats = [s.category for s in series]
    chips = dict(zip(cats, category_colours(cats) or [])) if cats else {}
    skill = next((k for k in res.skill if k.by == by), None)
    sig = res.signals[res.signals["by"] == by] if len(res.signals) else res.signals
    movers = []
    for r in sig.to_dict("records")[:20]:
        movers.append(
            {
                "rank": r["rank"],
                "category": r["category"],
                "chip": chips.get(r["category"]),
                "direction": r["direction"],
                "slope": f"{100 * r['slope']:+.2f}" if math.isfinite(r["slope"]) else "–",
                "interval": (
                    f"[{100 * r['low']:+.2f}, {100 * r['high']:+.2f}]"
                    if math.isfinite(r["low"])
                    else ""
                ),
                "change": f"{pct(r['first_share'])} → {pct(r['last_share'])}",
                "p": _num(r["p_value"], 3),
            }
        )
    fc = res.forecasts[res.forecasts["by"] == by] if len(res.forecasts) else res.forecasts
    next_periods = list(dict.fromkeys(fc["period"])) if len(fc) else []
    forecasts = []
    for s in series:
        if s.status != "forecast":
            continue
        rows = fc[fc["category"] == s.category]
        cells = [
            f"{pct(r['share'])} [{pct(r['low'])}, {pct(r['high'])}]"
            for r in rows.to_dict("records")
        ]
        model = display_name(s.model, long=True) if s.model else "–"
        if s.selected and s.selected != s.model:
            model += f" (fallback; the backtest chose {display_name(s.selected, long=True)})"
        elif s.selected:
            model += " (fallback)"
        forecasts.append(
            {"category": s.category, "chip": chips.get(s.category), "model": model, "cells": cells}
        )
    summary = res.summary[res.summary["by"] == by] if len(res.summary) else res.summary
    pooled = summary[summary["category"] == "(all)"] if len(summary) else summary
    reference = "seasonal_naive" if res.season_length > 1 else "naive"
    found = pooled.loc[pooled["model"] == reference, "wape"]
    ref = float(found.iloc[0]) if len(found) else float("nan")
    most = int(pooled["n"].max()) if len(pooled) else 0
    # Models fitted at fewer targets (too few points at early origins) go last, marked.
    pooled = pooled.assign(partial=pooled["n"] < most).sort_values(["partial", "wape"])
    backtest = [
        {
            "model": display_name(r["model"], long=True) + (" †" if r["partial"] else ""),
            "wape": pct(r["wape"]),
            "ratio": _num(r["wape"] / ref) if ref and math.isfinite(ref) else "–",
            "mase": _num(r["mase"]),
            "coverage": pct(r["coverage"], 0),
            "n": int(r["n"]),
        }
        for r in pooled.to_dict("records")
    ]
    per_series = [
        {
            "category": s.category,
            "model": display_name(s.model, long=True) if s.model else s.model,
            "wape": pct(s.wape),
            "baselines": [pct(s.baseline_wape.get(b)) for b in baseline_names()],
        }
        for s in series
        if s.status == "forecast"
    ]
    return {
        "by": by,
        "figures": figures,
        "skill": skill.sentence()
        if skill is not None and skill.verdict in ("skill", "fallback", "no forecast")
        else "",
        "lost": bool(skill is not None and skill.lost),
        "unjudged": skill.sentence() if skill is not None and skill.verdict == "unjudged" else "",
        "movers": movers,
        "n_flagged": int(sig["direction"].isin(["rising", "falling"]).sum()) if len(sig) else 0,
        "next_periods": next_periods,
        "forecasts": forecasts,
        "backtest": backtest,
        "reference": display_name(reference, long=True),
        "partial": bool(pooled["partial"].any()) if len(pooled) else False,
        "targets": most,
        "per_series": per_series,
        "baselines": [b.replace("_", " ") for b in baseline_names()],
        "not_forecast": [s for s in series if s.status != "forecast"],
        "n_series": len(series),
    }


def render_report(res: TrendsResult, figures: dict[str, dict[str, str]]) -> str:
    """The HTML page of ``res``; ``figures[by]`` maps a figure name to its data URI."""
    from jinja2 import Environment, PackageLoader, select_autoescape

    env = Environment(
        loader=PackageLoader("stylecast.trends", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    from stylecast.trends.config import TrendsConfig

    cfg = res.config
    command = ["stylecast trends", str(res.source), f"--period-column {cfg.period_column}"]
    if cfg.season_column:
        command.append(f"--season-column {cfg.season_column}")
    command += [f"--by {b}" for b in cfg.by]
    if cfg.value_column:
        command.append(f"--value {cfg.value_column}")
    command += [f"--colour-families {c}" for c in cfg.colour_families]
    defaults = TrendsConfig(period_column="p", by=("b",))
    if cfg.no_skill != defaults.no_skill:
        command.append(f"--no-skill {cfg.no_skill}")
    for name in ("season_order", "period_order", "models"):
        value = getattr(cfg, name)
        if value and value != getattr(defaults, name):
            command.append(f"--{name.replace('_', '-')} {','.join(value)}")
    for name in ("season_length", "horizon", "backtest_origins", "selection_origins"):
        if getattr(cfg, name) != getattr(defaults, name):
            command.append(f"--{name.replace('_', '-')} {getattr(cfg, name)}")
    for name in ("backtest_horizon", "min_items", "min_category_items", "interval", "level"):
        if getattr(cfg, name) != getattr(defaults, name):
            command.append(f"--{name.replace('_', '-')} {getattr(cfg, name)}")
    return env.get_template("trend_report.html.j2").render(
        res=res,
        cfg=cfg,
        sections=[_section(res, by, figures.get(by, {})) for by in cfg.by],
        sparse=", ".join(res.sparse_periods),
        generated=dt.datetime.now().strftime("%Y-%m-%d %H:%M"),
        command=" ".join(command),
        unit=res.time_unit,
    )
