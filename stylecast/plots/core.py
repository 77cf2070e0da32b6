"""Figures drawn from numbers (compute, then plot).

Every function takes plain numbers (the dicts :mod:`stylecast.evaluation.metrics` returns,
lists, arrays) and an optional matplotlib ``ax``; it returns the
:class:`matplotlib.figure.Figure` it drew on. New figures are created as bare
``Figure`` objects, not through ``pyplot``: no display or GUI backend is needed,
nothing is kept alive in pyplot's figure registry, and rendering uses Agg.
:func:`save_figure` writes a PNG atomically and releases the figure.
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib as mpl
import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from numpy.typing import ArrayLike

from stylecast.errors import DataError
from stylecast.fileio import atomic_path

__all__ = [
    "image_grid",
    "overlay_heatmap",
    "plot_calibration",
    "plot_explanation",
    "plot_class_distribution",
    "plot_confusion_matrix",
    "plot_optimization_history",
    "plot_reliability",
    "plot_training_curves",
    "save_figure",
]

# One quiet style for every figure, so they sit together in the HTML report.
_STYLE: dict[str, Any] = {
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
_BLUE = "#3b75af"
_ORANGE = "#e1812c"
_GREEN = "#3a923a"
_GREY = "#9a9a9a"
_DPI = 150


def _new_axes(figsize: tuple[float, float], ncols: int = 1) -> tuple[Figure, list[Axes]]:
    fig = Figure(figsize=figsize, layout="constrained")
    axes = fig.subplots(1, ncols, squeeze=False)[0]
    return fig, list(axes)


def _figure_of(ax: Axes) -> Figure:
    # ax.figure may be a SubFigure; the caller wants the Figure it ends up in.
    fig = ax.get_figure(root=True) if _mpl_has_root_kw() else ax.figure
    return fig  # type: ignore[return-value]


def _mpl_has_root_kw() -> bool:
    major, minor = (int(x) for x in mpl.__version__.split(".")[:2])
    return (major, minor) >= (3, 10)


def _text_color_on(rgba: Sequence[float]) -> str:
    r, g, b = to_rgb(rgba)
    luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return "white" if luminance < 0.5 else "#222222"


def _grid(ax: Axes, axis: str) -> None:
    # Explicit style: a caller's ax was created outside our rc_context.
    ax.grid(axis=axis, color=_STYLE["grid.color"], linewidth=_STYLE["grid.linewidth"])


def _as_series(history: Sequence[Mapping[str, Any]], key: str) -> np.ndarray:
    return np.array([np.nan if h.get(key) is None else float(h[key]) for h in history], dtype=float)


# --------------------------------------------------------------------------- figures


@mpl.rc_context(_STYLE)
def plot_confusion_matrix(
    cm: ArrayLike,
    class_names: Sequence[str],
    *,
    normalize: bool = False,
    ax: Axes | None = None,
    title: str | None = None,
) -> Figure:
    """Annotated confusion matrix; rows are the true class, columns the prediction.

    ``cm`` holds counts (``metrics["confusion_matrix"]``). With ``normalize=True``
    the colours show each row's share and every cell reads ``share`` over ``count``;
    a row with no samples stays 0. A matrix of non-integer values (already
    normalised) is shown with two decimals.
    """
    m = np.asarray(cm, dtype=float)
    if m.ndim != 2 or m.shape[0] != m.shape[1]:
        raise DataError(f"cm must be a square 2-D matrix, got shape {m.shape}")
    n = m.shape[0]
    if len(class_names) != n:
        raise DataError(f"class_names has {len(class_names)} names but cm is {n}x{n}")
    integer = bool(np.all(m == np.round(m)))
    if normalize:
        rows = m.sum(axis=1, keepdims=True)
        shown = np.divide(m, rows, out=np.zeros_like(m), where=rows > 0)
        vmax = 1.0
    else:
        shown = m
        vmax = float(m.max()) if m.size and m.max() > 0 else 1.0

    if ax is None:
        side = min(9.0, max(3.6, 0.75 * n + 1.9))
        fig, (ax,) = _new_axes((side, side * 0.92))
    else:
        fig = _figure_of(ax)
    im = ax.imshow(shown, cmap="Blues", vmin=0.0, vmax=vmax, interpolation="nearest")

    big = n <= 8
    fontsize = 9 if big else 7
    for i in range(n):
        for j in range(n):
            count = f"{int(m[i, j]):d}" if integer else f"{m[i, j]:.2f}"
            label = f"{shown[i, j]:.0%}\n{count}" if normalize else count
            ax.text(
                j,
                i,
                label,
                ha="center",
                va="center",
                fontsize=fontsize,
                color=_text_color_on(im.cmap(im.norm(shown[i, j]))),
            )

    names = [str(c) for c in class_names]
    ax.set_xticks(range(n), labels=names)
    ax.set_yticks(range(n), labels=names)
    if max((len(s) for s in names), default=0) * n > 40:
        for t in ax.get_xticklabels():
            t.set_rotation(35)
            t.set_ha("right")
            t.set_rotation_mode("anchor")
    ax.set_xlabel("Predicted")
    ax.set_ylabel("True")
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    if title is None:
        title = "Confusion matrix (share of true class)" if normalize else "Confusion matrix"
    ax.set_title(title)
    return fig


@mpl.rc_context(_STYLE)
def plot_reliability(
    reliability_bins: Sequence[Mapping[str, Any]],
    *,
    ece: float | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Reliability diagram: accuracy per confidence bin against the diagonal.

    ``reliability_bins`` is ``metrics["reliability"]`` (``{lo, hi, count,
    confidence, accuracy}`` per bin). Hatched red gaps run from each bin's accuracy
    to its mean confidence: a gap above the bar means over-confidence. Without
    ``ax`` a small histogram of samples per bin sits underneath; with ``ax`` the
    counts are written faintly above the bars.
    """
    if not reliability_bins:
        raise DataError("reliability_bins is empty; pass metrics['reliability']")
    if ax is None:
        fig = Figure(figsize=(4.2, 4.6), layout="constrained")
        ax, hist_ax = fig.subplots(
            2, 1, sharex=True, gridspec_kw={"height_ratios": [4, 1], "hspace": 0.02}
        )
    else:
        fig = _figure_of(ax)
        hist_ax = None

    lo = np.array([float(b["lo"]) for b in reliability_bins])
    hi = np.array([float(b["hi"]) for b in reliability_bins])
    count = np.array([int(b["count"]) for b in reliability_bins])
    acc = np.array(
        [np.nan if b.get("accuracy") is None else b["accuracy"] for b in reliability_bins]
    )
    conf = np.array(
        [np.nan if b.get("confidence") is None else b["confidence"] for b in reliability_bins]
    )
    width = hi - lo
    f = count > 0

    ax.plot(
        [0, 1],
        [0, 1],
        linestyle="--",
        color=_GREY,
        linewidth=1.0,
        zorder=1,
        label="perfect calibration",
    )
    ax.bar(
        lo[f],
        acc[f],
        width=width[f],
        align="edge",
        color=_BLUE,
        alpha=0.85,
        edgecolor="white",
        linewidth=0.8,
        zorder=2,
        label="accuracy",
    )
    ax.bar(
        lo[f],
        conf[f] - acc[f],
        bottom=acc[f],
        width=width[f],
        align="edge",
        color="#d9534f",
        alpha=0.18,
        edgecolor="#d9534f",
        linewidth=0.6,
        hatch="////",
        zorder=3,
        label="gap to confidence",
    )
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.0)
    ax.set_ylabel("Accuracy")
    _grid(ax, "y")
    ax.set_axisbelow(True)
    ax.legend(loc="upper left")
    title = "Reliability diagram"
    ax.set_title(title if ece is None else f"{title}  (ECE = {ece:.3f})")

    if hist_ax is not None:
        hist_ax.bar(
            lo, count, width=width, align="edge", color="#c8c8c8", edgecolor="white", linewidth=0.8
        )
        hist_ax.set_ylabel("Samples", fontsize=8)
        hist_ax.set_xlabel("Confidence (top class)")
        hist_ax.yaxis.get_major_locator().set_params(nbins=2, integer=True)
        hist_ax.tick_params(axis="y", labelsize=7)
        ax.tick_params(axis="x", labelbottom=False)
    else:
        ax.set_ylim(0, 1.08)
        ax.set_xlabel("Confidence (top class)")
        top = np.fmax(acc, conf)
        for x, h, c in zip((lo + hi)[f] / 2, top[f], count[f], strict=True):
            ax.text(
                x,
                h + 0.01,
                _short_count(int(c)),
                ha="center",
                va="bottom",
                fontsize=6,
                color="#9a9a9a",
                zorder=5,
            )
    return fig


def _short_count(c: int) -> str:
    return f"{c / 1000:.1f}k" if c >= 1000 else str(c)


@mpl.rc_context(_STYLE)
def plot_training_curves(history: Sequence[Mapping[str, Any]], ax: Axes | None = None) -> Figure:
    """Loss and accuracy per epoch.

    ``history`` is a list of per-epoch dicts with keys ``epoch``, ``train_loss``,
    ``val_loss``, ``val_accuracy`` (and optionally ``train_accuracy``); missing or
    ``None`` values leave gaps. With ``ax`` the accuracy goes on a right-hand twin
    axis; without, loss and accuracy get side-by-side panels.
    """
    if not history:
        raise DataError("history is empty: nothing to plot")
    epochs = np.array(
        [h["epoch"] if h.get("epoch") is not None else i + 1 for i, h in enumerate(history)],
        dtype=float,
    )
    losses = {k: _as_series(history, k) for k in ("train_loss", "val_loss")}
    accs = {k: _as_series(history, k) for k in ("train_accuracy", "val_accuracy")}
    losses = {k: v for k, v in losses.items() if not np.all(np.isnan(v))}
    accs = {k: v for k, v in accs.items() if not np.all(np.isnan(v))}
    if not losses and not accs:
        raise DataError("history has no train_loss, val_loss or val_accuracy values")

    if ax is None:
        panels = int(bool(losses)) + int(bool(accs))
        fig, axes = _new_axes((4.0 * panels, 3.2), ncols=panels)
        loss_ax = axes[0] if losses else None
        acc_ax = axes[-1] if accs else None
        twin = False
    else:
        fig = _figure_of(ax)
        loss_ax = ax if losses else None
        acc_ax = (ax.twinx() if losses else ax) if accs else None
        twin = bool(losses and accs)

    style = {
        "train_loss": (_BLUE, "-", "train loss"),
        "val_loss": (_ORANGE, "-", "val loss"),
        "train_accuracy": (_BLUE, ":", "train accuracy"),
        "val_accuracy": (_GREEN, "-", "val accuracy"),
    }
    marker = "o" if len(epochs) <= 30 else None
    handles = []
    for target, series in ((loss_ax, losses), (acc_ax, accs)):
        if target is None:
            continue
        for key, values in series.items():
            color, ls, label = style[key]
            ok = ~np.isnan(values)
            (line,) = target.plot(
                epochs[ok],
                values[ok],
                color=color,
                linestyle=ls,
                marker=marker,
                markersize=3,
                label=label,
            )
            handles.append(line)
        _grid(target, "y")
        target.set_xlabel("Epoch")
    if loss_ax is not None:
        loss_ax.set_ylabel("Loss")
    if acc_ax is not None:
        acc_ax.set_ylabel("Accuracy")
        if "val_accuracy" in accs:
            best = int(np.nanargmax(accs["val_accuracy"]))
            acc_ax.axvline(epochs[best], color=_GREY, linestyle=":", linewidth=1.0)
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


@mpl.rc_context(_STYLE)
def plot_class_distribution(counts: Mapping[str, int], ax: Axes | None = None) -> Figure:
    """Horizontal bars of images per class, labelled with count and share."""
    if not counts:
        raise DataError("counts is empty: no classes to plot")
    names = [str(k) for k in counts]
    values = np.array([int(v) for v in counts.values()])
    if np.any(values < 0):
        raise DataError("class counts must be non-negative")
    if ax is None:
        fig, (ax,) = _new_axes((4.8, max(1.6, 0.38 * len(names) + 0.9)))
    else:
        fig = _figure_of(ax)
    y = np.arange(len(names))
    ax.barh(y, values, color=_BLUE, alpha=0.85, height=0.65)
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
    _grid(ax, "x")
    ax.set_axisbelow(True)
    ax.set_title(f"Class distribution (n = {int(values.sum()):,})")
    return fig


@mpl.rc_context(_STYLE)
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


@mpl.rc_context(_STYLE)
def plot_optimization_history(
    values: Sequence[float | None],
    ax: Axes | None = None,
    *,
    direction: str = "maximize",
) -> Figure:
    """Objective value per trial (dots) and the best so far (step line).

    ``values[i]`` is trial ``i``'s value; ``None`` (pruned or failed trials) is
    skipped. ``direction`` is ``"maximize"`` or ``"minimize"``.
    """
    if direction not in ("maximize", "minimize"):
        raise DataError(f"direction must be 'maximize' or 'minimize', got {direction!r}")
    v = np.array([np.nan if x is None else float(x) for x in values], dtype=float)
    if ax is None:
        fig, (ax,) = _new_axes((5.0, 3.2))
    else:
        fig = _figure_of(ax)
    trials = np.arange(len(v))
    ok = ~np.isnan(v)
    ax.scatter(trials[ok], v[ok], s=16, color=_BLUE, alpha=0.8, zorder=3, label="trial value")
    if ok.any():
        fill = -np.inf if direction == "maximize" else np.inf
        acc = np.maximum.accumulate if direction == "maximize" else np.minimum.accumulate
        best = acc(np.where(ok, v, fill))
        first = int(np.argmax(ok))
        ax.step(
            trials[first:], best[first:], where="post", color=_ORANGE, zorder=2, label="best so far"
        )
    n_skipped = int((~ok).sum())
    if n_skipped:
        ax.text(
            0.99,
            0.02,
            f"{n_skipped} pruned/failed",
            transform=ax.transAxes,
            ha="right",
            va="bottom",
            fontsize=7,
            color="#777777",
        )
    ax.set_xlabel("Trial")
    ax.set_ylabel("Objective value")
    ax.xaxis.get_major_locator().set_params(integer=True)
    _grid(ax, "y")
    ax.set_axisbelow(True)
    ax.legend(loc="best")
    ax.set_title("Optimization history")
    return fig


def overlay_heatmap(
    image: ArrayLike,
    heatmap: ArrayLike,
    *,
    alpha: float = 0.6,
    cmap: str = "jet",
    gamma: float = 1.5,
) -> np.ndarray:
    """Blend a ``[0, 1]`` heatmap onto an ``HxWx3`` uint8 image; returns uint8 ``HxWx3``.

    The heatmap's colour is weighted by ``alpha * heatmap ** gamma``, so where the model
    does not look the photo shows through unchanged and the garment stays recognisable.
    """
    img = np.asarray(image)
    h = np.asarray(heatmap, dtype=np.float64)
    if img.ndim != 3 or img.shape[2] != 3:
        raise DataError(f"image must be HxWx3, got shape {img.shape}")
    if h.shape != img.shape[:2]:
        raise DataError(f"heatmap shape {h.shape} differs from the image's {img.shape[:2]}")
    if not 0.0 <= alpha <= 1.0:
        raise DataError(f"alpha must lie in [0, 1], got {alpha}")
    h = np.clip(np.nan_to_num(h), 0.0, 1.0)
    colours = mpl.colormaps[cmap](h)[..., :3] * 255.0
    w = (alpha * h**gamma)[..., None]
    out = img.astype(np.float64) * (1.0 - w) + colours * w
    return np.clip(np.round(out), 0, 255).astype(np.uint8)


@mpl.rc_context(_STYLE)
def plot_explanation(
    image: ArrayLike,
    heatmap: ArrayLike,
    *,
    title: str | None = None,
    heatmap_label: str = "Grad-CAM",
) -> Figure:
    """The image, and the same image with its heatmap overlaid (with a colour bar)."""
    img = np.asarray(image)
    fig = Figure(figsize=(6.4, 3.55), layout="constrained")
    ax_img, ax_cam = fig.subplots(1, 2)
    ax_img.imshow(img)
    ax_img.set_title("Image", loc="center")
    ax_cam.imshow(overlay_heatmap(img, heatmap))
    ax_cam.set_title(heatmap_label, loc="center")
    for ax in (ax_img, ax_cam):
        ax.set_axis_off()
    sm = mpl.cm.ScalarMappable(norm=mpl.colors.Normalize(0, 1), cmap="jet")
    bar = fig.colorbar(sm, ax=ax_cam, fraction=0.046, pad=0.03)
    bar.set_ticks([0, 1], labels=["low", "high"])
    bar.ax.tick_params(labelsize=7, length=0)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


@mpl.rc_context(_STYLE)
def plot_calibration(
    before: Sequence[Mapping[str, Any]],
    after: Sequence[Mapping[str, Any]],
    *,
    ece_before: float | None = None,
    ece_after: float | None = None,
    temperature: float | None = None,
) -> Figure:
    """Two reliability diagrams side by side: before and after temperature scaling."""
    fig, axes = _new_axes((8.0, 3.7), ncols=2)
    plot_reliability(before, ece=ece_before, ax=axes[0])
    plot_reliability(after, ece=ece_after, ax=axes[1])
    axes[0].set_title("Before" + ("" if ece_before is None else f":  ECE {ece_before:.3f}"))
    t = "" if temperature is None else f" (T = {temperature:.2f})"
    axes[1].set_title(f"After{t}" + ("" if ece_after is None else f":  ECE {ece_after:.3f}"))
    axes[1].get_legend().remove()
    return fig


def save_figure(fig: Figure, path: str | os.PathLike[str], *, dpi: int = _DPI) -> Path:
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
