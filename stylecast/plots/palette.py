"""Palette swatches: one row per group, each colour a block as wide as its share."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib as mpl
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from stylecast.plots.style import STYLE, figure_of, new_axes

__all__ = ["Swatch", "SwatchRow", "plot_palettes"]

_GAP = 0.03  # between a row's key colours and its neutrals, in share units


@dataclass(frozen=True)
class Swatch:
    """One colour block: its hex colour, its share (the block's width) and its name."""

    hex: str
    share: float
    name: str


@dataclass(frozen=True)
class SwatchRow:
    """One group's palette: key colours, then neutrals after a small gap."""

    label: str
    key: Sequence[Swatch]
    neutrals: Sequence[Swatch]


def _ink(hex_colour: str) -> str:
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return "#111111" if 0.299 * r + 0.587 * g + 0.114 * b > 140 else "#ffffff"


def plot_palettes(rows: Sequence[SwatchRow], *, title: str = "", ax: Axes | None = None) -> Figure:
    """Horizontal swatch bars, one per row; a block's width is the colour's share.

    Names are written inside blocks wide enough to hold them. Returns the Figure.
    """
    with mpl.rc_context(STYLE):
        if ax is None:
            fig, (ax,) = new_axes((9.0, 0.9 + 0.62 * max(1, len(rows))))
        else:
            fig = figure_of(ax)
        widest = max(
            [sum(s.share for s in r.key) + sum(s.share for s in r.neutrals) for r in rows] or [1]
        )
        for i, row in enumerate(rows):
            y = len(rows) - 1 - i
            x = 0.0
            for j, swatch in enumerate([*row.key, *row.neutrals]):
                if j == len(row.key) and row.key:
                    x += _GAP * widest
                ax.add_patch(
                    Rectangle(
                        (x, y - 0.38),
                        swatch.share,
                        0.76,
                        facecolor=swatch.hex,
                        edgecolor="#ffffff",
                        linewidth=0.8,
                    )
                )
                # A name is written only where it fits (about 0.7% of the width per letter).
                fraction = swatch.share / widest
                text = (
                    f"{swatch.name}\n{swatch.share:.0%}"
                    if fraction >= 0.0075 * (len(swatch.name) + 1)
                    else (f"{swatch.share:.0%}" if fraction >= 0.035 else "")
                )
                if text:
                    ax.text(
                        x + swatch.share / 2,
                        y,
                        text,
                        ha="center",
                        va="center",
                        fontsize=6.5,
                        color=_ink(swatch.hex),
                    )
                x += swatch.share
        ax.set_xlim(0, widest * (1 + _GAP) + 1e-9)
        ax.set_ylim(-0.6, len(rows) - 0.4)
        ax.set_yticks(range(len(rows)), [r.label for r in reversed(rows)])
        ax.xaxis.set_major_formatter(mpl.ticker.PercentFormatter(1.0, decimals=0))
        ax.set_xlabel("mean share of the garment (key colours | neutrals)")
        ax.spines["left"].set_visible(False)
        ax.tick_params(axis="y", length=0)
        if title:
            ax.set_title(title)
    return fig
