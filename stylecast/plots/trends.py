"""Figures of a trend analysis: a category's share over time with its forecast fan, a grid
of those, and the mix of categories per period.

Compute, then plot: the numbers come from :func:`stylecast.trends.analyse_trends`; periods are
drawn at equal steps in their real order (labels on the x axis), the forecast continues
after the last period, sparse periods (too few items) are drawn faded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import matplotlib as mpl
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from stylecast.plots.style import BLUE, GREY, ORANGE, STYLE, figure_of, grid, new_axes

__all__ = ["ShareSeries", "plot_share_fan", "plot_share_grid", "plot_share_mix"]

# Categorical colours for the mix (tab10 without its grey, then tab20's light tones).
_MIX = (
    *("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#bcbd22"),
    *("#17becf", "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5", "#c49c94", "#f7b6d2"),
)


@dataclass(frozen=True)
class ShareSeries:
    """One category's shares per period (with interval) and its forecast (with interval)."""

    title: str
    share: Sequence[float]
    low: Sequence[float]
    high: Sequence[float]
    sparse: Sequence[bool] = ()
    forecast: Sequence[float] = ()
    forecast_low: Sequence[float] = ()
    forecast_high: Sequence[float] = ()
    note: str = ""  # e.g. "rising +2.1 pts/year" or "too short to forecast"
    extra: dict[str, str] = field(default_factory=dict)
    colour: str | None = None  # the observed line's colour (a colour family's own); None: blue


def _ticks(ax: Axes, labels: Sequence[str], max_labels: int = 12) -> None:
    step = max(1, int(np.ceil(len(labels) / max_labels)))
    idx = list(range(0, len(labels), step))
    ax.set_xticks(idx)
    ax.set_xticklabels(
        [labels[i] for i in idx],
        rotation=45 if len(labels) > 6 else 0,
        ha="right" if len(labels) > 6 else "center",
    )


@mpl.rc_context(STYLE)
def plot_share_fan(
    periods: Sequence[str],
    series: ShareSeries,
    ax: Axes | None = None,
    *,
    forecast_periods: Sequence[str] = (),
    level: float = 0.95,
    interval: float = 0.8,
) -> Figure:
    """Share per period (line, bootstrap band) and the forecast fan after the last period."""
    if ax is None:
        fig, (ax,) = new_axes((5.0, 2.8))
    else:
        fig = figure_of(ax)
    share = np.asarray(series.share, dtype=float)
    x = np.arange(len(share))
    sparse = np.asarray(series.sparse, dtype=bool) if len(series.sparse) else np.zeros(len(x), bool)
    kept = ~sparse & np.isfinite(share)
    line = series.colour or BLUE
    ax.fill_between(
        x[kept],
        np.asarray(series.low, dtype=float)[kept],
        np.asarray(series.high, dtype=float)[kept],
        color=line,
        alpha=0.15,
        linewidth=0,
        label=f"{level:.0%} interval",
    )
    ax.plot(
        x[kept],
        share[kept],
        color=line,
        marker="o",
        markersize=3,
        label="share",
        markeredgecolor="#555555" if series.colour else line,  # a white family stays visible
        markeredgewidth=0.5,
    )
    if sparse.any():
        ax.plot(
            x[sparse],
            share[sparse],
            "o",
            color=GREY,
            markersize=3,
            alpha=0.6,
            label="sparse period",
        )
    labels = list(periods)
    if len(series.forecast):
        fx = len(share) + np.arange(len(series.forecast))
        last = np.flatnonzero(kept)[-1] if kept.any() else len(share) - 1
        ax.fill_between(
            np.r_[last, fx],
            np.r_[share[last], np.asarray(series.forecast_low, dtype=float)],
            np.r_[share[last], np.asarray(series.forecast_high, dtype=float)],
            color=ORANGE,
            alpha=0.2,
            linewidth=0,
            label=f"{interval:.0%} forecast interval",
        )
        ax.plot(
            np.r_[last, fx],
            np.r_[share[last], np.asarray(series.forecast, dtype=float)],
            color=ORANGE,
            linestyle="--",
            marker="o",
            markersize=3,
            label="forecast",
        )
        labels += list(forecast_periods)
    _ticks(ax, labels)
    ax.set_ylim(bottom=0)
    ax.yaxis.set_major_formatter(mpl.ticker.PercentFormatter(1.0, decimals=0))
    grid(ax, "y")
    ax.set_axisbelow(True)
    ax.set_title(series.title)
    if series.note:
        ax.text(
            0.99,
            0.98,
            series.note,
            transform=ax.transAxes,
            ha="right",
            va="top",
            fontsize=7,
            color="#555555",
        )
    return fig


@mpl.rc_context(STYLE)
def plot_share_grid(
    periods: Sequence[str],
    panels: Sequence[ShareSeries],
    *,
    forecast_periods: Sequence[str] = (),
    ncols: int = 2,
    level: float = 0.95,
    interval: float = 0.8,
) -> Figure:
    """One :func:`plot_share_fan` panel per series, ``ncols`` a row, with one legend."""
    n = max(len(panels), 1)
    ncols = max(1, min(ncols, n))
    nrows = int(np.ceil(n / ncols))
    fig = Figure(figsize=(4.6 * ncols, 2.6 * nrows + 0.4), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax, panel in zip(axes, panels):
        plot_share_fan(
            periods, panel, ax, forecast_periods=forecast_periods, level=level, interval=interval
        )
    for ax in axes[len(panels) :]:
        ax.set_axis_off()
    if panels:
        handles, names = axes[0].get_legend_handles_labels()
        fig.legend(handles, names, loc="outside lower center", ncols=min(4, len(names)))
    return fig


@mpl.rc_context(STYLE)
def plot_share_mix(
    periods: Sequence[str],
    categories: Sequence[str],
    shares: np.ndarray,
    ax: Axes | None = None,
    *,
    sparse: Sequence[bool] = (),
    title: str = "Mix per period",
    colours: Sequence[str] | None = None,
) -> Figure:
    """Stacked bars: each period's shares of ``categories`` (rows of ``shares``: periods).

    ``colours`` gives each category its colour (e.g. the colour it names); a category
    named ``other`` is light grey."""
    shares = np.nan_to_num(np.asarray(shares, dtype=float).reshape(len(periods), len(categories)))
    if ax is None:
        fig, (ax,) = new_axes((max(5.0, 0.35 * len(periods) + 3.0), 3.4))
    else:
        fig = figure_of(ax)
    x = np.arange(len(periods))
    faded = np.asarray(sparse, dtype=bool) if len(sparse) else np.zeros(len(x), bool)
    bottom = np.zeros(len(periods))
    for j, name in enumerate(categories):
        colour = colours[j] if colours is not None else _MIX[j % len(_MIX)]
        if name == "other" and colours is None:
            colour = "#d9d9d9"
        bars = ax.bar(
            x,
            shares[:, j],
            bottom=bottom,
            color=colour,
            width=0.8,
            label=name,
            edgecolor="#ffffff" if colours is None else "#bbbbbb",
            linewidth=0.4,
        )
        for bar, fade in zip(bars, faded):
            if fade:
                bar.set_alpha(0.3)
        bottom += shares[:, j]
    _ticks(ax, [p + (" *" if f else "") for p, f in zip(periods, faded)], max_labels=18)
    ax.set_ylim(0, 1)
    ax.yaxis.set_major_formatter(mpl.ticker.PercentFormatter(1.0, decimals=0))
    ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=7)
    ax.set_title(title + ("  (* sparse: too few items)" if faded.any() else ""))
    return fig
