"""An ensemble beside its members: test accuracy with 95% intervals, one row each."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib as mpl
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from stylecast.errors import DataError
from stylecast.plots.style import BLUE, GREY, ORANGE, STYLE, figure_of, grid, new_axes

__all__ = ["plot_member_accuracy"]


@mpl.rc_context(STYLE)
def plot_member_accuracy(block: Mapping[str, Any], ax: Axes | None = None) -> Figure:
    """Each member's test accuracy and the ensemble's, with their 95% intervals.

    ``block`` is the ``ensemble`` object of an ensemble's ``evaluation.json``
    (:func:`stylecast.evaluation.members.member_table`); the member kept by validation is
    drawn in orange, the ensemble in blue.
    """
    members: Sequence[Mapping[str, Any]] = block.get("members") or []
    if not members:
        raise DataError("the ensemble block lists no members: nothing to plot")
    best = int(block.get("best_member", 0))
    rows = [(str(m["member"]), m["accuracy"], m.get("accuracy_ci")) for m in members]
    ens = block["ensemble"]
    rows.append(("ensemble", ens["accuracy"], ens.get("accuracy_ci")))
    if ax is None:
        fig, (ax,) = new_axes((5.2, 0.45 * len(rows) + 0.9))
    else:
        fig = figure_of(ax)
    for i, (label, acc, ci) in enumerate(rows):
        y = len(rows) - 1 - i
        color = BLUE if label == "ensemble" else (ORANGE if i == best else GREY)
        if ci:
            ax.plot([ci[0], ci[1]], [y, y], color=color, linewidth=2.2, alpha=0.45)
        ax.plot([acc], [y], "o", color=color, markersize=6)
        ax.annotate(
            f"{acc:.3f}",
            (acc, y),
            xytext=(0, 7),
            textcoords="offset points",
            ha="center",
            fontsize=7.5,
            color="#333333",
        )
    ax.set_yticks(range(len(rows)), [r[0] for r in reversed(rows)])
    ax.set_ylim(-0.7, len(rows) - 0.3)
    ax.set_xlabel("test accuracy (95% Wilson interval)")
    ax.set_title(f"Ensemble of {len(members)} against its members")
    grid(ax, "x")
    return fig
