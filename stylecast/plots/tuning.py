"""The tuning figure plots.py lacks: hyperparameter importances as a bar chart.

Compute, then plot: importances come from ``optuna.importance.get_param_importances``
(a mapping name -> share); this only draws them, on a new figure or a caller's ``ax``.
"""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib as mpl
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from stylecast.plots.core import _BLUE, _STYLE, _figure_of, _grid, _new_axes

__all__ = ["plot_param_importances"]


@mpl.rc_context(_STYLE)
def plot_param_importances(
    importances: Mapping[str, float], ax: Axes | None = None, *, note: str | None = None
) -> Figure:
    """Horizontal bars, most important on top; ``note`` replaces the bars when empty."""
    items = sorted(importances.items(), key=lambda kv: kv[1])
    if ax is None:
        fig, (ax,) = _new_axes((5.0, max(1.8, 0.45 * len(items) + 1.0)))
    else:
        fig = _figure_of(ax)
    if items:
        names = [k for k, _ in items]
        values = [float(v) for _, v in items]
        bars = ax.barh(names, values, color=_BLUE, height=0.6)
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
        _grid(ax, "x")
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
