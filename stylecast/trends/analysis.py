"""``stylecast trends``: shares per period, backtested forecasts and signals of a table.

:func:`analyse_trends` reads a predictions file, manifest or catalogue (or takes a DataFrame),
orders its periods, and for every ``by`` column computes the share of each category per
period (bootstrap intervals), a rolling-origin backtest of every forecasting model, the
chosen model's forecast of the next periods, and a trend slope per category. With ``out``
it writes ``trends.csv``, ``backtest.csv``, ``backtest_summary.csv``, ``signals.csv``,
``trends.json`` and ``trend_report.html`` there. :func:`trend_report` is the short form
the demo uses.
"""

from __future__ import annotations

import contextlib
import os
import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from stylecast.errors import DataError
from stylecast.trends.backtest import backtest_series, required_points, score
from stylecast.trends.config import (
    BACKTEST_COLUMNS,
    FORECAST_COLUMNS,
    SUMMARY_COLUMNS,
    SeriesStatus,
    TrendsConfig,
    TrendsResult,
)
from stylecast.trends.models import baseline_names, forecast_series, forecaster
from stylecast.trends.periods import PeriodAxis, order_periods, read_table
from stylecast.trends.shares import PeriodShares, period_shares
from stylecast.trends.signals import rank_signals, slope_signal
from stylecast.trends.skill import coherent_shares, judge_skill, shift_warning

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["analyse_trends", "trend_report"]


def _load(data: Any) -> tuple[pd.DataFrame, str]:
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        if data.empty:
            raise DataError("the table has no rows; give one row per item")
        return data.copy(), "the table"
    return read_table(data), str(data)


def _check_columns(table: pd.DataFrame, cfg: TrendsConfig, source: str) -> None:
    shown = ", ".join(map(str, table.columns[:20])) + (", ..." if table.shape[1] > 20 else "")
    for flag, column in [("--by", b) for b in cfg.by] + [("--value", cfg.value_column)]:
        if column is not None and column not in table.columns:
            raise DataError(
                f"{flag} {column!r} is not a column of {source}; its columns are: {shown}"
            )
    if cfg.period_column in cfg.by:
        raise DataError(f"--by {cfg.period_column!r} is the period column; choose another --by")


def analyse_trends(
    data: pd.DataFrame | str | os.PathLike[str],
    cfg: TrendsConfig,
    out: str | os.PathLike[str] | None = None,
    *,
    progress: bool = False,
) -> TrendsResult:
    """Shares, forecasts, backtest and signals of ``data`` (see the module doc)."""

    from stylecast.trends.config import TrendsFolder

    folder = TrendsFolder(out) if out is not None else None
    if folder is not None:
        folder.check_writable()
    table, source = _load(data)
    _check_columns(table, cfg, source)
    table, axis, notes = order_periods(table, cfg, source)
    parts: dict[str, list[Any]] = {"shares": [], "forecasts": [], "backtest": [], "summary": []}
    signals: list[dict[str, Any]] = []
    series: list[SeriesStatus] = []
    skill: list[Any] = []
    sparse_periods: set[str] = set()
    warning, shift_notes = shift_warning(data)
    notes += shift_notes
    for by in cfg.by:
        shares, by_notes = period_shares(table, axis, by, cfg)
        notes += by_notes
        sparse_periods |= {axis.labels[i] for i in np.flatnonzero(shares.sparse)}
        with _one_blas_thread():
            result = _analyse_by(shares, axis, cfg, progress=progress)
        parts["shares"].append(shares.table)
        for key in ("forecasts", "backtest", "summary"):
            parts[key].append(result[key])
        signals += result["signals"]
        series += result["series"]
        skill.append(result["skill"])
    frames = {k: _concat(v) for k, v in parts.items()}
    res = TrendsResult(
        config=cfg,
        source=source,
        periods=axis.labels,
        sparse_periods=tuple(p for p in axis.labels if p in sparse_periods),
        time_unit=axis.time_unit,
        season_length=axis.season_length,
        shares=frames["shares"],
        forecasts=frames["forecasts"],
        backtest=frames["backtest"],
        summary=frames["summary"],
        signals=_signal_frame(signals),
        series=tuple(series),
        notes=tuple(notes),
        skill=tuple(skill),
        shift_warning=warning,
    )
    if folder is None:
        return res
    from stylecast.trends.output import write_outputs

    return write_outputs(res, folder)


_SIGNAL_COLUMNS = [
    "rank",
    "by",
    "category",
    "direction",
    "slope",
    "low",
    "high",
    "p_value",
    "p_raw",
    "change",
    "first_share",
    "last_share",
    "n_periods",
    "unit",
]


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Stack the tables of every ``by`` column (empty ones keep their columns)."""
    import pandas as pd

    full = [f for f in frames if len(f)]
    if not full:
        return frames[0] if frames else pd.DataFrame()
    return pd.concat(full, ignore_index=True)


def _one_blas_thread() -> contextlib.AbstractContextManager[Any]:
    """Thousands of tiny model fits: threaded BLAS only spins on them (25-80x slower on a
    busy machine, measured), so the fits run on one BLAS thread."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - installed with scikit-learn
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def _signal_frame(signals: list[dict[str, Any]]) -> pd.DataFrame:
    import pandas as pd

    frames = [pd.DataFrame(columns=_SIGNAL_COLUMNS)]
    for by in dict.fromkeys(s["by"] for s in signals):
        frames.append(pd.DataFrame(rank_signals([s for s in signals if s["by"] == by])))
    if len(frames) == 1:
        return frames[0]
    return pd.concat(frames[1:], ignore_index=True)[_SIGNAL_COLUMNS]


def _analyse_by(
    shares: PeriodShares, axis: PeriodAxis, cfg: TrendsConfig, *, progress: bool
) -> dict[str, Any]:
    """Backtest, forecast and slope of every category of one ``by`` column."""
    import pandas as pd

    kept = np.flatnonzero(~shares.sparse)
    m = axis.season_length
    need = required_points(m, cfg.backtest_origins, cfg.backtest_horizon)
    labels = [axis.labels[i] for i in kept]
    # Without seasons, seasonal naive is naive: a seasonal model is left out rather than
    # shown twice.
    models = tuple(x for x in cfg.models if m > 1 or not forecaster(x).seasonal) or cfg.models
    forecasts, backtest, signals, series, fits = [], [], [], [], []
    n_tests = sum(
        1 for c in range(len(shares.categories)) if _enough(shares, kept, c, cfg) and len(kept) >= 3
    )
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(
            total=len(shares.categories), desc=f"trends {shares.by}", unit="series", file=sys.stderr
        )
    for c, category in enumerate(shares.categories):
        if bar is not None:
            bar.update(1)
        y = shares.share[kept, c]
        base = {"by": shares.by, "category": category}
        if not _enough(shares, kept, c, cfg):
            items = int(shares.items[kept, c].sum())
            reason = f"{items} items in the periods kept (fewer than {cfg.min_category_items})"
            series.append(SeriesStatus(shares.by, category, "too sparse", reason))
            continue
        signals.append(
            {
                **base,
                **slope_signal(axis.times[kept], y, level=cfg.level, tests=n_tests),
                "unit": axis.time_unit,
            }
        )
        if len(kept) < need:
            reason = (
                f"{len(kept)} periods with at least {cfg.min_items} items; a backtested forecast "
                f"needs {need} (season length {m}, {cfg.backtest_origins} backtest origins)"
            )
            series.append(SeriesStatus(shares.by, category, "too short", reason))
            continue
        bt = backtest_series(
            y, axis.positions[kept], labels, cfg=cfg, season_length=m, models=models
        )
        backtest += [{**base, **r} for r in bt.rows]
        fits.append((category, y, bt, score(bt.rows, bt.scale)))
    if bar is not None:
        bar.close()
    summary = _pooled(
        [
            {"by": shares.by, "category": c, "model": model, **s, "chosen": False}
            for c, _, _, scores in fits
            for model, s in scores.items()
        ],
        shares.by,
    )
    skill = judge_skill(shares.by, summary, no_skill=cfg.no_skill, season_length=m)
    for category, y, bt, scores in fits:
        used = skill.model or bt.chosen
        for r in summary:
            if r["category"] == category:
                r["chosen"] = r["model"] == used
        sel = scores.get("selected", {})
        status = SeriesStatus(
            shares.by,
            category,
            "forecast",
            model=used,
            wape=sel.get("wape"),
            baseline_wape={b: scores[b]["wape"] for b in baseline_names() if b in scores},
            selected=bt.chosen if skill.model else None,  # a fallback replaced the choice
        )
        if skill.verdict == "no forecast":
            reason = f"lost to the {skill.baseline} baseline in the backtest (--no-skill none)"
            series.append(replace(status, status="no skill", reason=reason, model=None))
            continue
        fc = None
        if used is not None:
            fc = forecast_series(
                used,
                y,
                axis.positions[kept],
                axis.next_positions,
                interval=cfg.interval,
                season_length=m,
            )
        if fc is None:
            series.append(
                SeriesStatus(shares.by, category, "too short", "no model could be fitted")
            )
            continue
        series.append(status)
        for k, label in enumerate(axis.next_labels):
            forecasts.append(
                {
                    "by": shares.by,
                    "category": category,
                    "kind": "forecast",
                    "period": label,
                    "period_index": len(axis.labels) + k,
                    "share": round(float(fc.mean[k]), 6),
                    "low": round(float(fc.low[k]), 6),
                    "high": round(float(fc.high[k]), 6),
                    "sparse": False,
                    "model": used,
                }
            )
    forecast_cats = {r["category"] for r in forecasts}
    rest = [c for c, name in enumerate(shares.categories) if name not in forecast_cats]
    rest_share = float(np.nanmean(shares.share[np.ix_(kept, rest)].sum(axis=1))) if rest else 0.0
    forecasts = coherent_shares(forecasts, rest_share)
    order = {c: i for i, c in enumerate(shares.categories)}
    series.sort(key=lambda s: order[s.category])
    return {
        "forecasts": pd.DataFrame(forecasts, columns=FORECAST_COLUMNS),
        "backtest": pd.DataFrame(backtest, columns=[*BACKTEST_COLUMNS, "target_index"]),
        "summary": pd.DataFrame(summary, columns=[*SUMMARY_COLUMNS, "abs_error", "abs_actual"]),
        "signals": signals,
        "series": series,
        "skill": skill,
    }


def _enough(shares: PeriodShares, kept: np.ndarray, c: int, cfg: TrendsConfig) -> bool:
    return int(shares.items[kept, c].sum()) >= max(cfg.min_category_items, 1)


def _pooled(summary: list[dict[str, Any]], by: str) -> list[dict[str, Any]]:
    """Per-series rows, then one ``(all)`` row per model: WAPE pooled over series."""
    pooled = []
    for model in dict.fromkeys(r["model"] for r in summary):
        rows = [r for r in summary if r["model"] == model]
        err = sum(r["abs_error"] for r in rows)
        act = sum(r["abs_actual"] for r in rows)
        n = sum(r["n"] for r in rows)
        mase = [r["mase"] for r in rows if np.isfinite(r["mase"])]
        cov = [(r["coverage"], r["n"]) for r in rows if np.isfinite(r["coverage"])]
        pooled.append(
            {
                "by": by,
                "category": "(all)",
                "model": model,
                "n": n,
                "abs_error": err,
                "abs_actual": act,
                "mae": err / n if n else float("nan"),
                "wape": err / act if act > 0 else float("nan"),
                "mase": float(np.mean(mase)) if mase else float("nan"),
                "coverage": sum(c * k for c, k in cov) / sum(k for _, k in cov)
                if cov
                else float("nan"),
                "chosen": False,
            }
        )
    return summary + pooled


def trend_report(
    data: pd.DataFrame | str | os.PathLike[str],
    *,
    period_column: str,
    by: str | tuple[str, ...] | list[str],
    out: str | os.PathLike[str] | None = None,
    **options: Any,
) -> TrendsResult:
    """Shares, signals and (where the series allow) forecasts of ``data``, written to ``out``.

    ``by`` is one column or several; ``options`` are further :class:`TrendsConfig` fields.
    The demo calls it on its lookbook: four periods are too few to forecast, so those
    series are reported as too short, while shares, signals and the HTML report remain.
    """
    cfg = TrendsConfig(
        period_column=period_column, by=(by,) if isinstance(by, str) else tuple(by), **options
    )
    return analyse_trends(data, cfg, Path(out) if out is not None else None)
