"""Rolling-origin backtest of every model on one share series, and the nested model choice.

The last ``K`` periods (``backtest_origins``) are the evaluation targets: each is forecast
``h`` steps ahead (``backtest_horizon``) from the periods before it, by every model. The
model a target gets (``selected``) is the one with the lowest mean absolute error on the
``S`` targets (``selection_origins``) just before its origin, so the choice never sees the
value it is judged on. The model used for the real forecast is chosen the same way on the
``S`` latest targets (ties go to the simpler model; with seasons, to the seasonal one).
WAPE, MASE and the interval coverage are taken over the ``K``
evaluation targets only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from stylecast.trends.forecast import seasonal_naive_errors
from stylecast.trends.models import forecast_series
from stylecast.trends.skill import model_rank

__all__ = ["SeriesBacktest", "backtest_series", "required_points", "score"]


def min_train(season_length: int) -> int:
    """The fewest points a backtest origin may hold: a season's history, at least three."""
    return max(3, season_length + 1)


def required_points(season_length: int, origins: int, horizon: int) -> int:
    """Periods a series needs to be backtested with at least one selection target."""
    return max(2 * season_length + origins, origins + 2 * horizon - 1 + min_train(season_length))


@dataclass(frozen=True)
class SeriesBacktest:
    """Every backtest forecast of one series, the model chosen for the future, MASE's scale."""

    rows: list[dict[str, Any]]
    chosen: str | None
    scale: float
    evaluation_targets: tuple[int, ...] = field(default_factory=tuple)


def _mase_scale(y: np.ndarray, positions: np.ndarray, season_length: int) -> float:
    errors = seasonal_naive_errors(y, positions) if season_length > 1 else np.diff(y)
    errors = np.abs(errors[np.isfinite(errors)])
    return float(errors.mean()) if errors.size else float("nan")


def backtest_series(
    y: np.ndarray,
    positions: np.ndarray,
    labels: list[str],
    *,
    cfg: Any,
    season_length: int,
    models: tuple[str, ...] | None = None,
) -> SeriesBacktest:
    """Backtest ``models`` (default ``cfg.models``) on ``y`` (``labels`` name its periods)."""
    models = tuple(models or cfg.models)
    n, h = len(y), cfg.backtest_horizon
    k, s = cfg.backtest_origins, cfg.selection_origins
    first = min_train(season_length) + h - 1
    start = max(first, n - k - s - h + 1)
    found: dict[str, dict[int, tuple[float, float, float]]] = {m: {} for m in models}
    rank = model_rank(season_length)  # ties go to the simpler (with seasons: seasonal) model
    for j in range(start, n):
        origin = j - h + 1
        for model in models:
            fc = forecast_series(
                model,
                y[:origin],
                positions[:origin],
                positions[origin : j + 1],
                interval=cfg.interval,
                season_length=season_length,
            )
            if fc is not None:
                found[model][j] = (float(fc.mean[-1]), float(fc.low[-1]), float(fc.high[-1]))

    def select(origin: int) -> str | None:
        inner = [i for i in range(max(start, origin - s), origin)]
        best: tuple[float, int, str] | None = None
        for model in models:
            if not inner or any(i not in found[model] for i in inner):
                continue
            mae = float(np.mean([abs(y[i] - found[model][i][0]) for i in inner]))
            key = (round(mae, 12), rank[model], model)
            best = key if best is None or key < best else best
        return best[2] if best else None

    rows: list[dict[str, Any]] = []

    def row(model: str, j: int, role: str, chosen: str = "") -> dict[str, Any]:
        mean, low, high = found[chosen or model][j]
        return {
            "model": model,
            "origin": labels[j - h],
            "target": labels[j],
            "target_index": j,
            "role": role,
            "actual": float(y[j]),
            "forecast": mean,
            "low": low,
            "high": high,
            "error": mean - float(y[j]),
            "chosen": chosen or model,
        }

    for j in range(start, n):
        role = "evaluation" if j >= n - k else "selection"
        rows += [row(m, j, role) for m in models if j in found[m]]
        if role == "evaluation":
            picked = select(j - h + 1)
            if picked is not None and j in found[picked]:
                rows.append(row("selected", j, role, picked))
    scale = _mase_scale(y[: n - k], positions[: n - k], season_length)
    return SeriesBacktest(rows, select(n), scale, tuple(range(max(start, n - k), n)))


def score(rows: list[dict[str, Any]], scale: float) -> dict[str, dict[str, float]]:
    """WAPE, MASE, MAE and 80%-interval coverage per model over the evaluation rows."""
    out: dict[str, dict[str, float]] = {}
    models = dict.fromkeys(r["model"] for r in rows if r["role"] == "evaluation")
    for model in models:
        sel = [r for r in rows if r["role"] == "evaluation" and r["model"] == model]
        actual = np.array([r["actual"] for r in sel])
        err = np.abs(np.array([r["error"] for r in sel]))
        low = np.array([r["low"] for r in sel])
        high = np.array([r["high"] for r in sel])
        ok = np.isfinite(low) & np.isfinite(high)
        covered = (low[ok] <= actual[ok] + 1e-12) & (actual[ok] <= high[ok] + 1e-12)
        total = float(np.abs(actual).sum())
        out[model] = {
            "n": float(len(sel)),
            "abs_error": float(err.sum()),
            "abs_actual": total,
            "mae": float(err.mean()),
            "wape": float(err.sum() / total) if total > 0 else float("nan"),
            "mase": float(err.mean() / scale) if scale > 0 else float("nan"),
            "coverage": float(covered.mean()) if ok.any() else float("nan"),
        }
    return out
