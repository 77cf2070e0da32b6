"""What ``stylecast trends`` prints: shares per period, forecasts, backtest, movers."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from stylecast.trends.models import baseline_names, display_name
from stylecast.trends.report import pct

if TYPE_CHECKING:
    from stylecast.trends.config import TrendsResult

__all__ = ["format_trends"]


def _share_table(res: TrendsResult, by: str, columns: int, rows: int) -> list[str]:
    sh = res.shares[res.shares["by"] == by]
    cats = list(dict.fromkeys(sh["category"]))[:columns]
    width = max(8, *(len(c) + 1 for c in cats))
    pw = max(len("period"), *(len(p) for p in res.periods)) + 1
    lines = ["period".ljust(pw) + "items".rjust(7) + "".join(c.rjust(width) for c in cats)]
    shown = res.periods[-rows:]
    if len(res.periods) > rows:
        lines.append(f"... {len(res.periods) - rows} earlier periods in trends.csv")
    fc = res.forecasts[res.forecasts["by"] == by] if len(res.forecasts) else None
    for period in shown:
        part = sh[sh["period"] == period].set_index("category")
        items = int(part["items"].sum())
        mark = " *" if bool(part["sparse"].iloc[0]) else ""
        cells = "".join(pct(part.at[c, "share"]).rjust(width) for c in cats)
        lines.append((period + mark).ljust(pw) + str(items).rjust(7) + cells)
    if fc is not None and len(fc):
        for period in dict.fromkeys(fc["period"]):
            part = fc[fc["period"] == period].set_index("category")
            cells = "".join(
                (pct(part.at[c, "share"]) if c in part.index else "–").rjust(width) for c in cats
            )
            lines.append(f"{period} (fc)".ljust(pw) + "".rjust(7) + cells)
    return lines


def format_trends(res: TrendsResult, *, columns: int = 6, rows: int = 12) -> str:
    """A plain-text summary of ``res`` for the terminal."""
    cfg = res.config
    what = cfg.period_column + (f" + {cfg.season_column}" if cfg.season_column else "")
    out = [
        f"{len(res.periods)} periods by {what}: {res.periods[0]} ... {res.periods[-1]}"
        + (f" (season length {res.season_length})" if res.season_length > 1 else "")
    ]
    if res.sparse_periods:
        out.append(
            f"{len(res.sparse_periods)} sparse periods (fewer than {cfg.min_items} items; "
            "marked *, not forecast)"
        )
    if res.shift_warning:
        out.append(f"{res.shift_warning} (the shift check of the predictions in this table)")
    out += [f"note: {n}" for n in res.notes]
    skills = {k.by: k for k in res.skill}
    for by in cfg.by:
        series = [s for s in res.series if s.by == by]
        out += ["", f"== {by}: share per period ({len(series)} categories) =="]
        out += _share_table(res, by, columns, rows)
        pooled = res.summary
        if len(pooled):
            pooled = pooled[(pooled["by"] == by) & (pooled["category"] == "(all)")]
        if len(pooled):
            most = pooled["n"].max()
            partial = list(pooled.loc[pooled["n"] < most, "model"])
            pooled = pooled[pooled["n"] == most]  # models fitted at every target only
            scores = dict(zip(pooled["model"], pooled["wape"]))
            order = ["selected", *baseline_names()]
            order += [m for m in scores if m not in order]
            text = ", ".join(f"{display_name(m)} {pct(scores[m])}" for m in order if m in scores)
            n = sum(1 for s in series if s.status == "forecast")
            out.append(
                f"backtest, last {cfg.backtest_origins} periods, WAPE over {n} series: {text}"
            )
            if partial:
                out.append(f"  (not fitted at every target, left out: {', '.join(partial)})")
            snaive = scores.get("seasonal_naive", float("nan"))
            chosen = scores.get("selected", float("nan"))
            if snaive and math.isfinite(snaive) and math.isfinite(chosen) and res.season_length > 1:
                out.append(f"  chosen models vs seasonal-naive: {chosen / snaive - 1:+.0%} WAPE")
        skill = skills.get(by)
        if skill is not None and skill.verdict != "not backtested":
            out.append(("WARNING: " if skill.lost else "  ") + skill.sentence())
        models = {}
        for s in series:
            if s.status == "forecast":
                models[s.model] = models.get(s.model, 0) + 1
        if skill is not None and skill.model and models:
            out.append(
                f"forecast by the {display_name(skill.model)} baseline: "
                f"{sum(models.values())} series"
            )
        elif models:
            out.append(
                "models chosen for the forecast: "
                + ", ".join(f"{m} {k}" for m, k in sorted(models.items(), key=lambda kv: -kv[1]))
            )
        skipped = [s for s in series if s.status != "forecast"]
        if skipped:
            first = skipped[0]
            out.append(
                f"not forecast: {len(skipped)} series ({first.category}: {first.status}, "
                f"{first.reason}{'; ...' if len(skipped) > 1 else ''})"
            )
        out += _movers(res, by)
    return "\n".join(out)


def _movers(res: TrendsResult, by: str) -> list[str]:
    sig = res.signals[res.signals["by"] == by] if len(res.signals) else res.signals
    if not len(sig):
        return ["signals: no series has enough periods and items for a slope"]
    unit = res.time_unit
    lines = []
    for direction in ("rising", "falling"):
        part = sig[sig["direction"] == direction]
        if len(part):
            lines.append(f"{direction}:")
            for r in part.to_dict("records"):
                lines.append(
                    f"  {r['category']}: {100 * r['slope']:+.2f} pts/{unit} "
                    f"[{100 * r['low']:+.2f}, {100 * r['high']:+.2f}], "
                    f"{pct(r['first_share'])} -> {pct(r['last_share'])}, p={r['p_value']:.3g}"
                )
    if lines:
        lines.append(
            f"  (p: Bonferroni-adjusted over the {len(sig)} series tested; flagged below "
            f"{1 - res.config.level:.2g})"
        )
    flat = sig[sig["direction"] == "flat"]
    if len(flat):
        lines.append(f"no clear trend: {', '.join(map(str, flat['category']))}")
    if not lines:
        lines.append("signals: too few periods for a slope interval")
    return lines
