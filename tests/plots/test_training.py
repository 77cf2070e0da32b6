"""stylecast.plots.training: loss and accuracy curves, gaps for missing values."""

from __future__ import annotations

import pytest
from matplotlib.figure import Figure

from stylecast.errors import DataError
from stylecast.plots import plot_training_curves
from tests.plots._samples import HISTORY


def test_training_curves_twin_axis_and_gaps():
    fig = Figure()
    ax = fig.subplots()
    plot_training_curves(HISTORY, ax=ax)
    assert len(fig.axes) == 2  # loss + twinned accuracy axis
    labels = {line.get_label(): line for a in fig.axes for line in a.get_lines()}
    # The None at epoch 3 is skipped, not plotted as 0.
    assert list(labels["val loss"].get_xdata()) == [1, 2, 4]
    assert list(labels["train loss"].get_ydata()) == [1.10, 0.80, 0.62, 0.51]
    # Without ax: two panels.
    assert len(plot_training_curves(HISTORY).axes) == 2
    # Only losses: one panel.
    assert len(plot_training_curves([{"epoch": 1, "train_loss": 1.0}]).axes) == 1


def test_empty_history():
    with pytest.raises(DataError, match="history is empty"):
        plot_training_curves([])
