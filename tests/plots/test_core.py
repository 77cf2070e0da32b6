"""stylecast.plots.core: every figure renders to a real PNG, honours ``ax`` and shows its numbers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from matplotlib.figure import Figure
from PIL import Image

from stylecast.errors import DataError
from stylecast.evaluation.metrics import classification_metrics, softmax
from stylecast.plots.core import (
    image_grid,
    overlay_heatmap,
    plot_calibration,
    plot_class_distribution,
    plot_confusion_matrix,
    plot_explanation,
    plot_optimization_history,
    plot_reliability,
    plot_training_curves,
    save_figure,
)

CM = [[50, 3, 7], [4, 41, 0], [9, 1, 35]]
NAMES = ["FallWinter", "SpringSummer", "Resort"]
HISTORY = [
    {"epoch": 1, "train_loss": 1.10, "val_loss": 0.95, "val_accuracy": 0.55},
    {"epoch": 2, "train_loss": 0.80, "val_loss": 0.82, "val_accuracy": 0.63},
    {"epoch": 3, "train_loss": 0.62, "val_loss": None, "val_accuracy": None},
    {"epoch": 4, "train_loss": 0.51, "val_loss": 0.79, "val_accuracy": 0.68},
]


@pytest.fixture(scope="module")
def metrics() -> dict:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, size=300)
    logits = rng.normal(size=(300, 3))
    logits[np.arange(300), y] += 1.5
    return classification_metrics(y, softmax(logits * 2), NAMES, n_bootstrap=50)


def _figures(metrics: dict) -> dict[str, Figure]:
    rng = np.random.default_rng(1)
    images = [rng.integers(0, 256, size=(32, 24, 3), dtype=np.uint8) for _ in range(8)]
    return {
        "confusion": plot_confusion_matrix(metrics["confusion_matrix"], NAMES),
        "confusion_norm": plot_confusion_matrix(CM, NAMES, normalize=True),
        "reliability": plot_reliability(metrics["reliability"], ece=metrics["ece"]),
        "curves": plot_training_curves(HISTORY),
        "distribution": plot_class_distribution({"FallWinter": 120, "SpringSummer": 95}),
        "grid": image_grid(
            images,
            titles=[f"img {i}" for i in range(8)],
            ncols=3,
            title_colors=["green", "red"] * 4,
            suptitle="Mistakes",
        ),
        "optimization": plot_optimization_history([0.6, None, 0.7, 0.65, 0.72]),
    }


def test_every_figure_saves_a_png(tmp_path: Path, metrics: dict):
    for name, fig in _figures(metrics).items():
        w_in, h_in = fig.get_size_inches()
        out = save_figure(fig, tmp_path / "figs" / f"{name}.png", dpi=100)
        assert out == tmp_path / "figs" / f"{name}.png"
        with Image.open(out) as img:
            assert img.format == "PNG"
            # matplotlib truncates inches x dpi to whole pixels
            assert img.size == pytest.approx((w_in * 100, h_in * 100), abs=1), name
            assert img.size[0] > 100 and img.size[1] > 100
            # Something was drawn: not a blank white canvas.
            assert len(img.convert("L").getcolors(maxcolors=1 << 16) or range(2)) > 1, name
    # Atomic write: no temporary files left behind.
    assert sorted(p.name for p in (tmp_path / "figs").iterdir()) == sorted(
        f"{n}.png" for n in _figures(metrics)
    )


def test_save_figure_writes_png_whatever_the_suffix(tmp_path: Path):
    out = save_figure(plot_class_distribution({"a": 1, "b": 2}), tmp_path / "dist.img")
    with Image.open(out) as img:
        assert img.format == "PNG"


def test_ax_is_honoured():
    fig = Figure(figsize=(12, 8))
    axes = fig.subplots(2, 3).flat
    metrics_bins = [
        {"lo": 0.0, "hi": 0.5, "count": 0, "confidence": None, "accuracy": None},
        {"lo": 0.5, "hi": 1.0, "count": 10, "confidence": 0.8, "accuracy": 0.7},
    ]
    calls = [
        lambda ax: plot_confusion_matrix(CM, NAMES, ax=ax),
        lambda ax: plot_reliability(metrics_bins, ax=ax),
        lambda ax: plot_training_curves(HISTORY, ax=ax),
        lambda ax: plot_class_distribution({"a": 3, "b": 4}, ax=ax),
        lambda ax: plot_optimization_history([1.0, 0.5], ax=ax, direction="minimize"),
    ]
    for ax, call in zip(axes, calls, strict=False):
        assert call(ax) is fig
        assert ax.has_data() or ax.texts or ax.images


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


def test_confusion_annotations_show_counts():
    fig = plot_confusion_matrix(CM, NAMES)
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert texts == [str(v) for row in CM for v in row]
    assert fig.axes[0].get_xlabel() == "Predicted"
    assert fig.axes[0].get_ylabel() == "True"

    fig_n = plot_confusion_matrix(CM, NAMES, normalize=True)
    texts_n = [t.get_text() for t in fig_n.axes[0].texts]
    assert texts_n[0] == "83%\n50"  # 50 / 60
    assert texts_n[5] == "0%\n0"


def test_optimization_history_best_so_far():
    fig = plot_optimization_history([0.6, None, 0.7, 0.65, 0.72])
    (best,) = fig.axes[0].get_lines()
    assert list(best.get_ydata()) == [0.6, 0.6, 0.7, 0.7, 0.72]
    fig = plot_optimization_history([3.0, 1.0, 2.0], direction="minimize")
    assert list(fig.axes[0].get_lines()[0].get_ydata()) == [3.0, 1.0, 1.0]


def test_class_distribution_labels():
    fig = plot_class_distribution({"FW": 300, "SS": 100})
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert texts == ["300  (75%)", "100  (25%)"]


def test_bad_input():
    with pytest.raises(DataError, match="square"):
        plot_confusion_matrix([[1, 2, 3]], ["a"])
    with pytest.raises(DataError, match="class_names has 2 names"):
        plot_confusion_matrix(CM, ["a", "b"])
    with pytest.raises(DataError, match="at least one image"):
        image_grid([])
    with pytest.raises(DataError, match="titles has 1 entries"):
        image_grid([np.zeros((4, 4, 3), np.uint8)] * 2, titles=["x"])
    with pytest.raises(DataError, match="history is empty"):
        plot_training_curves([])


# --------------------------------------------------------------------------- explanations


def test_overlay_heatmap_keeps_cold_pixels_and_colours_hot_ones():
    img = np.full((20, 30, 3), 200, np.uint8)
    heat = np.zeros((20, 30))
    heat[5:10, 5:10] = 1.0
    out = overlay_heatmap(img, heat)
    assert out.shape == img.shape and out.dtype == np.uint8
    assert (out[heat == 0] == 200).all()  # where the model does not look: the photo
    hot = out[7, 7].astype(int)
    assert hot[0] > hot[2] + 50  # jet at 1.0 is red
    with pytest.raises(DataError, match="heatmap shape"):
        overlay_heatmap(img, heat[:10])
    with pytest.raises(DataError, match="HxWx3"):
        overlay_heatmap(img[..., 0], heat)


def test_explanation_and_calibration_figures(tmp_path: Path, metrics: dict):
    img = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    heat = np.linspace(0, 1, 64 * 64).reshape(64, 64)
    save_figure(
        plot_explanation(img, heat, title="look.jpg: predicted FallWinter (81%)"),
        tmp_path / "e.png",
    )
    save_figure(
        plot_calibration(
            metrics["reliability"],
            metrics["reliability"],
            ece_before=0.1,
            ece_after=0.02,
            temperature=1.7,
        ),
        tmp_path / "c.png",
    )
    for name in ("e.png", "c.png"):
        with Image.open(tmp_path / name) as im:
            assert im.format == "PNG" and im.width > im.height > 300


def test_image_grid_cells_follow_the_tiles_aspect():
    wide = [np.zeros((10, 20, 3), np.uint8)] * 3
    fig = image_grid(wide, ncols=3, cell=1.0)
    w, h = fig.get_size_inches()
    assert w == pytest.approx(6.0)  # 3 cells, each twice as wide as high
    fig = image_grid(wide, ["a\nb"] * 3, ncols=3, cell=1.0, title_size=10)
    assert fig.get_size_inches()[1] == pytest.approx(1.0 + 2 * 10 / 50 + 0.08)
