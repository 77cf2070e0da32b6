"""Training curves: loss and accuracy per epoch, from the rows of ``metrics.csv``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib as mpl
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from stylecast.errors import DataError
from stylecast.plots.style import BLUE, GREEN, GREY, ORANGE, STYLE, figure_of, grid, new_axes

__all__ = ["plot_training_curves"]


@mpl.rc_context(STYLE)
def plot_training_curves(history: Sequence[Mapping[str, Any]], ax: Axes | None = None) -> Figure:
    """Loss and accuracy per epoch.

    ``history`` is a list of per-epoch dicts with keys ``epoch``, ``train_loss``,
    ``val_loss``, ``val_accuracy`` (and optionally ``train_accuracy``); missing or
    ``None`` values leave gaps. With ``ax`` the accuracy goes on a right-hand twin
    axis; without, loss and accuracy get side-by-side panels.
    """
    if not history:
        raise DataError("history is empty: nothing to plot")
    phases = [str(h.get("phase") or "") for h in history]
    multi_phase = len(set(phases)) > 1
    # A warmup run restarts its epoch count in the fine-tune phase: plot the rows in the
    # order they were trained, so the phases follow each other instead of overlapping.
    epochs = np.array(
        [
            i + 1 if multi_phase or h.get("epoch") is None else h["epoch"]
            for i, h in enumerate(history)
        ],
        dtype=float,
    )
    segments = _phase_segments(phases)
    losses = {k: _as_series(history, k) for k in ("train_loss", "val_loss")}
    accs = {k: _as_series(history, k) for k in ("train_accuracy", "val_accuracy")}
    losses = {k: v for k, v in losses.items() if not np.all(np.isnan(v))}
    accs = {k: v for k, v in accs.items() if not np.all(np.isnan(v))}
    if not losses and not accs:
        raise DataError("history has no train_loss, val_loss or val_accuracy values")

    if ax is None:
        panels = int(bool(losses)) + int(bool(accs))
        fig, axes = new_axes((4.0 * panels, 3.2), ncols=panels)
        loss_ax = axes[0] if losses else None
        acc_ax = axes[-1] if accs else None
        twin = False
    else:
        fig = figure_of(ax)
        loss_ax = ax if losses else None
        acc_ax = (ax.twinx() if losses else ax) if accs else None
        twin = bool(losses and accs)

    style = {
        "train_loss": (BLUE, "-", "train loss"),
        "val_loss": (ORANGE, "-", "val loss"),
        "train_accuracy": (BLUE, ":", "train accuracy"),
        "val_accuracy": (GREEN, "-", "val accuracy"),
    }
    marker = "o" if len(epochs) <= 30 else None
    handles = []
    for target, series in ((loss_ax, losses), (acc_ax, accs)):
        if target is None:
            continue
        for key, values in series.items():
            color, ls, label = style[key]
            for n, (lo, hi) in enumerate(segments):
                ok = ~np.isnan(values[lo:hi])
                (line,) = target.plot(
                    epochs[lo:hi][ok],
                    values[lo:hi][ok],
                    color=color,
                    linestyle=ls,
                    marker=marker,
                    markersize=3,
                    label=label if n == 0 else "_nolegend_",
                )
                if n == 0:
                    handles.append(line)
        grid(target, "y")
        target.set_xlabel("Epoch, in training order" if multi_phase else "Epoch")
        for lo, hi in segments if multi_phase else ():
            if lo > 0:
                target.axvline(epochs[lo] - 0.5, color=GREY, linewidth=0.8)
            target.annotate(
                phases[lo],
                ((epochs[lo] + epochs[hi - 1]) / 2, 0.97),
                xycoords=("data", "axes fraction"),
                ha="center",
                va="top",
                fontsize=7,
                color="#666666",
            )
    if loss_ax is not None:
        loss_ax.set_ylabel("Loss")
    if acc_ax is not None:
        acc_ax.set_ylabel("Accuracy")
        if "val_accuracy" in accs:
            best = kept_row(history)
            acc_ax.axvline(epochs[best], color=GREY, linestyle=":", linewidth=1.0)
            # Label on the inner side of the line so it never leaves the axes.
            right_half = epochs[best] > (epochs.min() + epochs.max()) / 2
            acc_ax.annotate(
                f"best val {accs['val_accuracy'][best]:.3f}",
                (epochs[best], 0.03),
                xycoords=("data", "axes fraction"),
                xytext=(-3 if right_half else 3, 0),
                textcoords="offset points",
                ha="right" if right_half else "left",
                fontsize=7,
                color="#666666",
            )
    if twin and acc_ax is not None and loss_ax is not None:
        acc_ax.spines["right"].set_visible(True)
        acc_ax.grid(False)
        # Above the axes: inside, it would hide curves drawn on either y scale.
        loss_ax.legend(
            handles=handles,
            loc="lower left",
            bbox_to_anchor=(0, 1.01),
            ncols=len(handles),
            borderaxespad=0,
            handlelength=1.5,
            columnspacing=1.2,
        )
    else:
        for target, name in ((loss_ax, "Loss"), (acc_ax, "Accuracy")):
            if target is not None:
                target.legend(loc="best")
                target.set_title(name)
    # Whole epochs only: fractional ticks on a short run look like a bug.
    for target in (loss_ax, acc_ax):
        if target is not None:
            target.xaxis.get_major_locator().set_params(integer=True)
    return fig


def kept_row(history: Sequence[Mapping[str, Any]]) -> int:
    """The row whose weights training keeps: highest val accuracy, ties by lower val loss
    (within the head phase by the earlier row), the earliest among equals: the rule of
    :func:`stylecast.training.state.is_better`."""
    best = None
    for i, h in enumerate(history):
        acc = h.get("val_accuracy")
        if acc is None or np.isnan(float(acc)):
            continue
        if best is None:
            best = i
            continue
        b = history[best]
        if float(acc) != float(b["val_accuracy"]):
            better = float(acc) > float(b["val_accuracy"])
        elif h.get("phase") == "head" and b.get("phase") == "head":
            better = False  # the head's grid: a tie keeps the stronger regularisation
        else:
            better = float(h.get("val_loss", np.inf)) < float(b.get("val_loss", np.inf))
        if better:
            best = i
    return 0 if best is None else best


def _phase_segments(phases: list[str]) -> list[tuple[int, int]]:
    """[start, end) row ranges of consecutive rows of one phase."""
    bounds = [0, *[i for i in range(1, len(phases)) if phases[i] != phases[i - 1]], len(phases)]
    return list(zip(bounds[:-1], bounds[1:], strict=False))


def _as_series(history: Sequence[Mapping[str, Any]], key: str) -> np.ndarray:
    return np.array([np.nan if h.get(key) is None else float(h[key]) for h in history], dtype=float)
