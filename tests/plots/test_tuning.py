"""stylecast.plots.tuning: optimization history (best so far) and parameter importances."""

from __future__ import annotations

import pytest

from stylecast.errors import DataError
from stylecast.plots import plot_optimization_history, plot_param_importances


def test_optimization_history_best_so_far():
    fig = plot_optimization_history([0.6, None, 0.7, 0.65, 0.72])
    (best,) = fig.axes[0].get_lines()
    assert list(best.get_ydata()) == [0.6, 0.6, 0.7, 0.7, 0.72]
    fig = plot_optimization_history([3.0, 1.0, 2.0], direction="minimize")
    assert list(fig.axes[0].get_lines()[0].get_ydata()) == [3.0, 1.0, 1.0]
    with pytest.raises(DataError, match="direction must be"):
        plot_optimization_history([1.0], direction="up")


def test_param_importances_most_important_on_top():
    fig = plot_param_importances({"lr": 0.7, "batch_size": 0.2, "freeze": 0.1})
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["freeze", "batch_size", "lr"]
    assert [t.get_text() for t in ax.texts] == [" 0.10", " 0.20", " 0.70"]
    empty = plot_param_importances({}, note="too few trials").axes[0]
    assert [t.get_text() for t in empty.texts] == ["too few trials"]
