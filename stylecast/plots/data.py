"""Figures of a dataset: images per class, and grids of images with small titles."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import matplotlib as mpl
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from numpy.typing import ArrayLike

from stylecast.errors import DataError
from stylecast.plots.style import BLUE, STYLE, figure_of, grid, new_axes

__all__ = ["image_grid", "plot_class_distribution"]


@mpl.rc_context(STYLE)
def plot_class_distribution(counts: Mapping[str, int], ax: Axes | None = None) -> Figure:
    """Horizontal bars of images per class, labelled with count and share."""
    if not counts:
        raise DataError("counts is empty: no classes to plot")
    names = [str(k) for k in counts]
    values = np.array([int(v) for v in counts.values()])
    if np.any(values < 0):
        raise DataError("class counts must be non-negative")
    if ax is None:
        fig, (ax,) = new_axes((4.8, max(1.6, 0.38 * len(names) + 0.9)))
    else:
        fig = figure_of(ax)
    y = np.arange(len(names))
    ax.barh(y, values, color=BLUE, alpha=0.85, height=0.65)
    total = max(int(values.sum()), 1)
    vmax = max(int(values.max()), 1)
    for yi, v in zip(y, values, strict=True):
        ax.text(
            v + vmax * 0.01,
            yi,
            f"{v:,}  ({v / total:.0%})",
            va="center",
            fontsize=8,
            color="#333333",
        )
    ax.set_yticks(y, labels=names)
    ax.invert_yaxis()  # first class on top, in the given order
    ax.set_xlim(0, vmax * 1.25)
    ax.set_xlabel("Images")
    ax.tick_params(axis="y", length=0)
    ax.spines["left"].set_visible(False)
    grid(ax, "x")
    ax.set_axisbelow(True)
    ax.set_title(f"Class distribution (n = {int(values.sum()):,})")
    return fig


@mpl.rc_context(STYLE)
def image_grid(
    images: Sequence[ArrayLike],
    titles: Sequence[str] | None = None,
    ncols: int = 6,
    *,
    cell: float = 1.6,
    title_colors: Sequence[str] | None = None,
    suptitle: str | None = None,
    cell_aspect: float | None = None,
    title_size: float = 7,
) -> Figure:
    """A grid of images (``HxWx3`` uint8, also ``HxW`` grey or ``HxWx4``) with small titles.

    Each cell is ``cell`` inches high and ``cell * cell_aspect`` wide; ``cell_aspect``
    defaults to the first image's width / height, so wide tiles (an image beside its
    heatmap) are not shrunk into square cells.

    ``title_colors`` colours each title (e.g. green for right, red for wrong).
    """
    n = len(images)
    if n == 0:
        raise DataError("image_grid needs at least one image")
    if ncols < 1:
        raise DataError(f"ncols must be >= 1, got {ncols}")
    for name, seq in (("titles", titles), ("title_colors", title_colors)):
        if seq is not None and len(seq) != n:
            raise DataError(f"{name} has {len(seq)} entries but there are {n} images")
    cols = min(ncols, n)
    rows = math.ceil(n / cols)
    if cell_aspect is None:
        first = np.asarray(images[0])
        cell_aspect = first.shape[1] / first.shape[0] if first.ndim >= 2 else 1.0
    if not cell_aspect > 0:
        raise DataError(f"cell_aspect must be positive, got {cell_aspect}")
    lines = max((str(t).count("\n") + 1 for t in titles), default=1) if titles is not None else 0
    title_h = (title_size / 50) * lines + 0.08 if titles is not None else 0.0
    extra = 0.35 if suptitle else 0.0
    fig = Figure(
        figsize=(cols * cell * cell_aspect, rows * (cell + title_h) + extra), layout="constrained"
    )
    axes = fig.subplots(rows, cols, squeeze=False)
    for k, ax in enumerate(axes.flat):
        ax.set_axis_off()
        if k >= n:
            continue
        img = np.asarray(images[k])
        if img.ndim not in (2, 3) or (img.ndim == 3 and img.shape[2] not in (3, 4)):
            raise DataError(f"image {k} must be HxW, HxWx3 or HxWx4, got shape {img.shape}")
        ax.imshow(img, cmap="gray" if img.ndim == 2 else None, interpolation="antialiased")
        if titles is not None:
            color = title_colors[k] if title_colors is not None else "#222222"
            ax.set_title(str(titles[k]), fontsize=title_size, color=color, loc="center", pad=2)
    if suptitle:
        fig.suptitle(suptitle, fontsize=10)
    return fig
