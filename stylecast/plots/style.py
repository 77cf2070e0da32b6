"""The one look every stylecast figure shares, and the helpers the figure modules use.

Figures are created as bare ``Figure`` objects, not through ``pyplot``: no display or GUI
backend is needed, nothing is kept alive in pyplot's figure registry, and rendering uses
Agg. :func:`save_figure` writes a PNG atomically and releases the figure.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import matplotlib as mpl
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from stylecast.fileio import atomic_path

__all__ = [
    "BLUE",
    "DPI",
    "GREEN",
    "GREY",
    "ORANGE",
    "STYLE",
    "figure_of",
    "grid",
    "new_axes",
    "save_figure",
]

# One quiet style for every figure, so they sit together in the HTML report.
STYLE: dict[str, Any] = {
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.titlelocation": "left",
    "axes.labelsize": 9,
    "axes.labelcolor": "#333333",
    "axes.edgecolor": "#888888",
    "axes.linewidth": 0.8,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": False,
    "grid.color": "#e5e5e5",
    "grid.linewidth": 0.6,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "xtick.color": "#555555",
    "ytick.color": "#555555",
    "legend.fontsize": 8,
    "legend.frameon": False,
    "lines.linewidth": 1.6,
    "image.cmap": "Blues",
}
BLUE = "#3b75af"
ORANGE = "#e1812c"
GREEN = "#3a923a"
GREY = "#9a9a9a"
DPI = 150


def new_axes(figsize: tuple[float, float], ncols: int = 1) -> tuple[Figure, list[Axes]]:
    """A new constrained-layout figure with one row of ``ncols`` axes."""
    fig = Figure(figsize=figsize, layout="constrained")
    axes = fig.subplots(1, ncols, squeeze=False)[0]
    return fig, list(axes)


def figure_of(ax: Axes) -> Figure:
    """The Figure ``ax`` ends up in (``ax.figure`` may be a SubFigure)."""
    fig = ax.get_figure(root=True) if _mpl_has_root_kw() else ax.figure
    return fig  # type: ignore[return-value]


def _mpl_has_root_kw() -> bool:
    major, minor = (int(x) for x in mpl.__version__.split(".")[:2])
    return (major, minor) >= (3, 10)


def grid(ax: Axes, axis: str) -> None:
    """Light grid lines along ``axis`` ("x" or "y")."""
    # Explicit style: a caller's ax was created outside our rc_context.
    ax.grid(axis=axis, color=STYLE["grid.color"], linewidth=STYLE["grid.linewidth"])


def save_figure(fig: Figure, path: str | os.PathLike[str], *, dpi: int = DPI) -> Path:
    """Write ``fig`` as a PNG to ``path`` atomically, then release the figure.

    The output is PNG whatever ``path``'s suffix says. Returns ``Path(path)``.
    """
    with atomic_path(path) as tmp:
        # The temporary name ends in ".tmp", so the format must be explicit.
        fig.savefig(tmp, format="png", dpi=dpi, facecolor="white")
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is not None:
        # Figures made through pyplot (e.g. a caller's ax) stay registered until closed.
        pyplot.close(fig)
    return Path(path)
