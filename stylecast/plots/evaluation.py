"""Figures of an evaluation: confusion matrix, reliability and calibration, Grad-CAM overlays.

Compute, then plot: each function takes the numbers :func:`stylecast.evaluation.evaluate`
writes into ``evaluation.json`` (its :class:`~stylecast.records.EvaluationRecord`'s
``confusion_matrix``, ``reliability``, ...) and an optional matplotlib ``ax``, and returns
the Figure it drew on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib as mpl
import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from numpy.typing import ArrayLike

from stylecast.errors import DataError
from stylecast.plots.style import BLUE, GREY, STYLE, figure_of, grid, new_axes
from stylecast.records import ReliabilityBin

__all__ = [
    "overlay_heatmap",
    "plot_calibration",
    "plot_confusion_matrix",
    "plot_explanation",
    "plot_reliability",
]


@mpl.rc_context(STYLE)
def plot_confusion_matrix(
    cm: ArrayLike,
    class_names: Sequence[str],
    *,
    normalize: bool = False,
    ax: Axes | None = None,
    title: str | None = None,
) -> Figure:
    """Annotated confusion matrix; rows are the true class, columns the prediction.

    ``cm`` holds counts (the record's ``confusion_matrix``). With ``normalize=True``
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
        fig, (ax,) = new_axes((side, side * 0.92))
    else:
        fig = figure_of(ax)
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


def _text_color_on(rgba: Sequence[float]) -> str:
    r, g, b = to_rgb(rgba)
    luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return "white" if luminance < 0.5 else "#222222"


@mpl.rc_context(STYLE)
def plot_reliability(
    reliability_bins: Sequence[ReliabilityBin | Mapping[str, Any]],
    *,
    ece: float | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Reliability diagram: accuracy per confidence bin against the diagonal.

    ``reliability_bins`` is the record's ``reliability`` (or its JSON: ``{lo, hi, count,
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
        fig = figure_of(ax)
        hist_ax = None

    bins = [
        b if isinstance(b, ReliabilityBin) else ReliabilityBin.from_json(b)
        for b in reliability_bins
    ]
    lo = np.array([b.lo for b in bins])
    hi = np.array([b.hi for b in bins])
    count = np.array([b.count for b in bins])
    acc = np.array([np.nan if b.accuracy is None else b.accuracy for b in bins])
    conf = np.array([np.nan if b.confidence is None else b.confidence for b in bins])
    width = hi - lo
    f = count > 0

    ax.plot(
        [0, 1],
        [0, 1],
        linestyle="--",
        color=GREY,
        linewidth=1.0,
        zorder=1,
        label="perfect calibration",
    )
    ax.bar(
        lo[f],
        acc[f],
        width=width[f],
        align="edge",
        color=BLUE,
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
    grid(ax, "y")
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


@mpl.rc_context(STYLE)
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


@mpl.rc_context(STYLE)
def plot_calibration(
    before: Sequence[ReliabilityBin | Mapping[str, Any]],
    after: Sequence[ReliabilityBin | Mapping[str, Any]],
    *,
    ece_before: float | None = None,
    ece_after: float | None = None,
    temperature: float | None = None,
) -> Figure:
    """Two reliability diagrams side by side: before and after temperature scaling."""
    fig, axes = new_axes((8.0, 3.7), ncols=2)
    plot_reliability(before, ece=ece_before, ax=axes[0])
    plot_reliability(after, ece=ece_after, ax=axes[1])
    axes[0].set_title("Before" + ("" if ece_before is None else f":  ECE {ece_before:.3f}"))
    t = "" if temperature is None else f" (T = {temperature:.2f})"
    axes[1].set_title(f"After{t}" + ("" if ece_after is None else f":  ECE {ece_after:.3f}"))
    axes[1].get_legend().remove()
    return fig
