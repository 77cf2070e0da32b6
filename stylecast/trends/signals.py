"""Rising and falling series, with their evidence.

A series' trend is the ordinary least-squares slope of its share on time (share per year
for year-and-season periods, per unit of a numeric period column, per period otherwise),
over the periods with enough items. Its interval is the t interval at ``level``, widened
for the number of series tested at once (Bonferroni): among 40 article types, the chance
that any flat one is flagged stays below ``1 - level``. A series is flagged rising or
falling only when that interval excludes zero; movers are ranked by the size of the slope.
The p-value reported is the one that decision used (Bonferroni-adjusted: the one series'
p-value times the number of series tested, at most 1), so a series is flagged exactly when
it is below ``1 - level``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["slope_signal", "rank_signals"]


def slope_signal(times: np.ndarray, shares: np.ndarray, *, level: float, tests: int) -> dict:
    """Slope, interval, p-value, fitted change and direction of one share series."""
    x = np.asarray(times, dtype=float)
    y = np.asarray(shares, dtype=float)
    n = len(y)
    out: dict[str, Any] = {
        "n_periods": n,
        "first_share": float(y[0]) if n else float("nan"),
        "last_share": float(y[-1]) if n else float("nan"),
        "slope": float("nan"),
        "low": float("nan"),
        "high": float("nan"),
        "p_value": float("nan"),
        "p_raw": float("nan"),
        "change": float("nan"),
        "direction": "too short",
    }
    if n < 3:
        return out
    from scipy import stats

    xc = x - x.mean()
    sxx = float((xc**2).sum())
    slope = float((xc * (y - y.mean())).sum() / sxx)
    resid = y - (y.mean() + slope * xc)
    se = float(np.sqrt((resid**2).sum() / (n - 2) / sxx))
    alpha = (1 - level) / max(tests, 1)
    half = float(stats.t.ppf(1 - alpha / 2, n - 2)) * se
    # A perfect line has no residual: its slope is certain (p 0), or it is flat (p 1).
    p = float(2 * stats.t.sf(abs(slope) / se, n - 2)) if se > 0 else float(slope == 0)
    low, high = slope - half, slope + half
    direction = "rising" if low > 0 else "falling" if high < 0 else "flat"
    out.update(
        slope=slope,
        low=low,
        high=high,
        # The p-value of the decision: Bonferroni-adjusted like the interval, so a series
        # is flagged exactly when p_value < 1 - level; p_raw is the one test's alone.
        p_value=min(p * max(tests, 1), 1.0),
        p_raw=min(p, 1.0),
        change=slope * float(x[-1] - x[0]),
        direction=direction,
    )
    return out


def rank_signals(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Flagged movers first (largest slope first), then the rest by the size of the slope."""

    def key(r: dict[str, Any]) -> tuple[int, float]:
        slope = r.get("slope", float("nan"))
        size = abs(slope) if np.isfinite(slope) else -1.0
        return (0 if r["direction"] in ("rising", "falling") else 1, -size)

    ranked = sorted(rows, key=key)
    for i, r in enumerate(ranked, 1):
        r["rank"] = i
    return ranked
