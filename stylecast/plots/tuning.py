"""Figures of a hyperparameter study: optimization history and parameter importances.

Compute, then plot: values come from the study's trials and importances from
``optuna.importance.get_param_importances`` (a mapping name -> share); these functions
only draw them, on a new figure or a caller's ``ax``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib as mpl
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from stylecast.errors import DataError
from stylecast.plots.style import BLUE, ORANGE, STYLE, figure_of, grid, new_axes

__all__ = ["plot_optimization_history", "plot_param_importances"]


@mpl.rc_context(STYLE)
def plot_param_importances(
    importances: Mapping[str, float], ax: Axes | None = None, *, note: str | None = None
) -> Figure:
    """Horizontal bars, most important on top; ``note`` replaces the bars when empty."""
    items = sorted(importances.items(), key=lambda kv: kv[1])
    if ax is None:
        fig, (ax,) = new_axes((5.0, max(1.8, 0.45 * len(items) + 1.0)))
    else:
        fig = figure_of(ax)
    if items:
        names = [k for k, _ in items]
        values = [float(v) for _, v in items]
        bars = ax.barh(names, values, color=BLUE, height=0.6)
        for bar, v in zip(bars, values, strict=True):
            ax.text(
                bar.get_width(),
                bar.get_y() + bar.get_height() / 2,
                f" {v:.2f}",
                va="center",
                fontsize=7,
                color="#333333",
            )
        ax.set_xlim(0, max(values) * 1.2 if max(values) > 0 else 1)
        ax.set_xlabel("Importance (share of objective variance, fANOVA)")
        grid(ax, "x")
        ax.set_axisbelow(True)
    else:
        ax.set_axis_off()
    if note:
        ax.text(
            0.5 if not items else 0.99,
            0.5 if not items else 0.02,
            note,
            transform=ax.transAxes,
            ha="center" if not items else "right",
            va="center" if not items else "bottom",
            fontsize=8,
            color="#777777",
        )
    ax.set_title("Hyperparameter importance")
    return fig


@mpl.rc_context(STYLE)
def plot_optimization_history(
    values: Sequence[float | None],
    ax: Axes | None = None,
    *,
    direction: str = "maximize",
) -> Figure:
    """Objective value per trial (dots) and the best so far (step line).

    ``values[i]`` is trial ``i``'s value; ``None`` (pruned or failed trials) is
    skipped. ``direction`` is ``"maximize"`` or ``"minimize"``.
    """
    if direction not in ("maximize", "minimize"):
        raise DataError(f"direction must be 'maximize' or 'minimize', got {direction!r}")
    v = np.array([np.nan if x is None else float(x) for x in values], dtype=float)
    if ax is None:
        fig, (ax,) = new_axes((5.0, 3.2))
    else:
        fig = figure_of(ax)
    trials = np.arange(len(v))
    ok = ~np.isnan(v)
    ax.scatter(trials[ok], v[ok], s=16, color=BLUE, alpha=0.8, zorder=3, label="trial value")
    if ok.any():
        fill = -np.inf if direction == "maximize" else np.inf
        acc = np.maximum.accumulate if direction == "maximize" else np.minimum.accumulate
        best = acc(np.where(ok, v, fill))
        first = int(np.argmax(ok))
        ax.step(
            trials[first:], best[first:], where="post", color=ORANGE, zorder=2, label="best so far"
        )
    n_skipped = int((~ok).sum())
    if n_skipped:
        ax.text(
            0.99,
            0.02,
            f"{n_skipped} pruned/failed",
            transform=ax.transAxes,
            ha="right",
            va="bottom",
            fontsize=7,
            color="#777777",
        )
    ax.set_xlabel("Trial")
    ax.set_ylabel("Objective value")
    ax.xaxis.get_major_locator().set_params(integer=True)
    grid(ax, "y")
    ax.set_axisbelow(True)
    ax.legend(loc="best")
    ax.set_title("Optimization history")
    return fig
