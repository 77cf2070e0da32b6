"""stylecast.plots.trends: share lines with their forecast fan, grids of them, stacked mixes."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402

from stylecast.plots import (  # noqa: E402
    ShareSeries,
    plot_share_fan,
    plot_share_grid,
    plot_share_mix,
)

PERIODS = ["2021", "2022", "2023", "2024"]
SERIES = ShareSeries(
    title="Summer",
    share=[0.2, 0.3, 0.4, 0.5],
    low=[0.15, 0.25, 0.35, 0.45],
    high=[0.25, 0.35, 0.45, 0.55],
    forecast=[0.6],
    forecast_low=[0.5],
    forecast_high=[0.7],
    note="rising",
)


def test_fan_draws_the_shares_and_the_forecast_after_them() -> None:
    fig = plot_share_fan(PERIODS, SERIES, forecast_periods=["2025"])
    (ax,) = fig.axes
    ys = np.concatenate([line.get_ydata() for line in ax.get_lines()]).astype(float)
    assert 0.6 in np.round(ys, 6)  # the forecast is drawn
    assert {0.2, 0.5} <= set(np.round(ys, 6))
    xs = np.concatenate([line.get_xdata() for line in ax.get_lines()]).astype(float)
    assert xs.max() >= len(PERIODS)  # the forecast sits after the last period


def test_grid_has_one_panel_per_series_and_hides_the_spare_axes() -> None:
    fig = plot_share_grid(PERIODS, [SERIES, SERIES, SERIES], ncols=2)
    visible = [ax for ax in fig.axes if ax.axison]
    assert len(fig.axes) == 4 and len(visible) == 3


def test_mix_stacks_to_each_periods_total() -> None:
    shares = np.array([[0.25, 0.75], [0.5, 0.5], [1.0, 0.0], [0.1, 0.9]])
    fig = plot_share_mix(PERIODS, ["Summer", "Winter"], shares)
    (ax,) = fig.axes
    tops = {}
    for bar in ax.patches:
        x = round(bar.get_x() + bar.get_width() / 2)
        tops[x] = max(tops.get(x, 0.0), bar.get_y() + bar.get_height())
    assert np.allclose([tops[i] for i in range(4)], 1.0)


def test_a_colour_familys_panel_is_drawn_in_its_colour() -> None:
    """A family's share line is drawn in the family's own colour (grey in grey), not blue."""
    from dataclasses import replace

    from matplotlib.colors import to_hex

    fig = plot_share_fan(PERIODS, replace(SERIES, colour="#9a9a9a"))
    (ax,) = fig.axes
    observed = [line for line in ax.get_lines() if line.get_label() == "share"]
    assert [to_hex(line.get_color()) for line in observed] == ["#9a9a9a"]
    plain = plot_share_fan(PERIODS, SERIES).axes[0]
    assert [
        to_hex(line.get_color()) for line in plain.get_lines() if line.get_label() == "share"
    ] != ["#9a9a9a"]
