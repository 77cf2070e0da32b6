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


def test_warmup_phases_follow_each_other_and_the_kept_epoch_is_marked() -> None:
    from stylecast.plots.training import kept_row

    rows = [
        {"phase": "head", "epoch": e, "train_loss": 1.0 / e, "val_loss": 0.9 / e, "val_accuracy": a}
        for e, a in ((1, 0.60), (2, 0.70), (3, 0.72))
    ] + [
        {
            "phase": "finetune",
            "epoch": e,
            "train_loss": 0.5 / e,
            "val_loss": loss,
            "val_accuracy": a,
        }
        for e, a, loss in ((1, 0.80, 0.35), (2, 0.85, 0.40), (3, 0.85, 0.35))
    ]
    # Tie at 0.85: training keeps the lower validation loss (finetune epoch 3, row 5).
    assert kept_row(rows) == 5
    fig = plot_training_curves(rows)
    acc_ax = fig.axes[-1]
    xs = sorted({float(x) for line in acc_ax.get_lines() for x in line.get_xdata()})
    assert xs == [1.0, 2.0, 3.0, 3.5, 4.0, 5.0, 6.0]  # no jump back to epoch 1
    val_lines = [ln for ln in acc_ax.get_lines() if len(ln.get_xdata()) == 3]
    assert [list(ln.get_xdata()) for ln in val_lines] == [[1, 2, 3], [4, 5, 6]]
    vertical = [ln.get_xdata()[0] for ln in acc_ax.get_lines() if len(set(ln.get_xdata())) == 1]
    assert 6.0 in vertical  # the kept epoch
    assert 3.5 in vertical  # the boundary between the phases
    texts = {t.get_text() for t in acc_ax.texts}
    assert {"head", "finetune", "best val 0.850"} <= texts
    assert acc_ax.get_xlabel() == "Epoch, in training order"
