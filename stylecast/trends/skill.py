"""Is the forecast any good? The backtest's verdict per ``by`` column, shares that add up,
and the shift warning of the predictions a table came from.

A forecast is shown as the chosen models' only when their backtest WAPE (the nested choice,
pooled over the series of a ``by`` column) is no worse than every baseline's. When a
baseline (naive, seasonal naive, mean) did better, the forecast is that baseline's, said so
in the text and the report (``no_skill="none"``: no forecast at all). The baseline's WAPE
was seen when falling back to it, so it is a little optimistic; the text says which it is.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from stylecast.trends.models import display_name, forecaster, forecaster_names

__all__ = ["ForecastSkill", "coherent_shares", "judge_skill", "model_rank", "shift_warning"]

# What the verdict says: the chosen models beat (or tie) every baseline; lost and the best
# baseline forecasts instead; lost and nothing is forecast; no baseline to compare with; no
# series long enough to backtest.
VERDICTS = ("skill", "fallback", "no forecast", "unjudged", "not backtested")


@dataclass(frozen=True)
class ForecastSkill:
    """The backtest's verdict on one ``by`` column's forecasts."""

    by: str
    verdict: str  # one of VERDICTS
    chosen_wape: float | None = None  # the nested choice, pooled over series
    baseline_wape: dict[str, float] = field(default_factory=dict)
    baseline: str | None = None  # the best baseline
    model: str | None = None  # what forecasts: None = each series' chosen model

    @property
    def lost(self) -> bool:
        return self.verdict in ("fallback", "no forecast")

    def sentence(self) -> str:
        """One line for the text and the report."""
        if self.verdict == "not backtested":
            return "no series is long enough to backtest"
        if self.verdict == "unjudged":
            why = (
                "the chosen models were not scored at every backtest target"
                if self.baseline_wape
                else "no baseline was backtested (--models)"
            )
            return f"{why}: whether these forecasts beat a naive one is unknown"
        if self.chosen_wape is None or self.baseline is None:
            return "no series could be backtested"
        chosen, best = _pct(self.chosen_wape), _pct(self.baseline_wape[self.baseline])
        others = ", ".join(
            f"{display_name(b)} {_pct(w)}"
            for b, w in self.baseline_wape.items()
            if b != self.baseline
        )
        versus = f"{display_name(self.baseline)} {best}" + (f", {others}" if others else "")
        if self.verdict == "skill":
            verb = (
                "beat" if self.chosen_wape < self.baseline_wape[self.baseline] - 1e-12 else "tied"
            )
            return (
                f"the chosen models {verb} the baselines in the backtest "
                f"(WAPE {chosen} vs {versus})"
            )
        head = (
            f"the chosen models lost to the {display_name(self.baseline)} baseline in the "
            f"backtest (WAPE {chosen} vs {versus})"
        )
        if self.verdict == "no forecast":
            return head + ": no forecast is shown"
        return (
            f"{head}: the forecasts shown are {self.baseline}'s, the best baseline (its WAPE was "
            "seen when choosing it), not a model's"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict,
            "chosen_wape": self.chosen_wape,
            "baseline_wape": self.baseline_wape,
            "best_baseline": self.baseline,
            "model": self.model,
            "sentence": self.sentence(),
        }


def _pct(value: float) -> str:
    return f"{100 * value:.1f}%" if np.isfinite(value) else "–"


def model_rank(season_length: int) -> dict[str, int]:
    """Tie order of the models: simplest first, and with seasons the seasonal ones first
    (a share that is 0% in every other season is its season's, not the last period's)."""
    names = forecaster_names()
    if season_length > 1:
        names = tuple(sorted(names, key=lambda n: not forecaster(n).seasonal))
    return {m: i for i, m in enumerate(names)}


def judge_skill(
    by: str, pooled: list[dict[str, Any]], *, no_skill: str, season_length: int
) -> ForecastSkill:
    """The verdict from the pooled backtest rows of one ``by`` column (models fitted at
    every target only)."""
    rows = [r for r in pooled if r["category"] == "(all)"]
    if not rows:
        return ForecastSkill(by, "not backtested")
    most = max(r["n"] for r in rows)
    wape = {r["model"]: r["wape"] for r in rows if r["n"] == most and np.isfinite(r["wape"])}
    rank = model_rank(season_length)
    baselines = {m: w for m, w in wape.items() if m in rank and forecaster(m).baseline}
    chosen = wape.get("selected")
    if not baselines or chosen is None:
        return ForecastSkill(by, "unjudged", chosen, baselines)
    # best first: the lowest WAPE (differences under 1e-12 are ties), then the simplest
    ordered = dict(sorted(baselines.items(), key=lambda kv: (round(kv[1], 12), rank[kv[0]])))
    best = next(iter(ordered))
    if chosen <= baselines[best] + 1e-12:
        return ForecastSkill(by, "skill", chosen, ordered, best)
    if no_skill == "none":
        return ForecastSkill(by, "no forecast", chosen, ordered, best)
    return ForecastSkill(by, "fallback", chosen, ordered, best, model=best)


def coherent_shares(rows: list[dict[str, Any]], rest: float) -> list[dict[str, Any]]:
    """Scale each period's forecast shares (and their intervals) so that they add up to
    ``1 - rest`` (``rest``: the share of the series not forecast); a period whose
    forecasts are all zero is left as it is."""
    target = max(0.0, 1.0 - rest)
    for period in dict.fromkeys(r["period"] for r in rows):
        mine = [r for r in rows if r["period"] == period]
        total = sum(r["share"] for r in mine)
        if total <= 0:
            continue
        factor = target / total
        for r in mine:
            for key in ("share", "low", "high"):
                r[key] = round(float(np.clip(r[key] * factor, 0.0, 1.0)), 6)
    return rows


def shift_warning(source: Any) -> tuple[str | None, list[str]]:
    """The warning of the shift check ``stylecast predict`` wrote beside ``source``
    (``preds.csv`` -> ``preds.shift.json``), and notes; None when there is none."""
    if not isinstance(source, (str, Path)) or not Path(source).is_file():
        return None, []
    from stylecast.inference import shift_file_for

    side = shift_file_for(source)
    if not side.is_file():
        return None, []
    try:
        found = json.loads(side.read_text())
    except (OSError, ValueError):
        return None, [f"the shift check {side.name} beside the table could not be read"]
    if not isinstance(found, dict) or not found.get("shifted"):
        return None, []
    return str(found.get("warning") or "warning: distribution shift (see " + side.name + ")"), []
