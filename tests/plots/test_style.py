"""stylecast.plots.style: every figure saves to a real PNG and honours a caller's ``ax``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from matplotlib.figure import Figure
from PIL import Image

from stylecast.plots import (
    image_grid,
    plot_class_distribution,
    plot_confusion_matrix,
    plot_optimization_history,
    plot_reliability,
    plot_training_curves,
    save_figure,
)
from stylecast.plots.style import STYLE, figure_of, new_axes
from tests.plots._samples import CM, HISTORY, NAMES, sample_metrics


@pytest.fixture(scope="module")
def metrics() -> dict:
    return sample_metrics()


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


def test_shared_helpers():
    fig, axes = new_axes((4.0, 2.0), ncols=2)
    assert len(axes) == 2 and tuple(fig.get_size_inches()) == (4.0, 2.0)
    sub = Figure().subfigures(1, 2)[0]
    assert figure_of(sub.subplots()) is sub.figure  # the root Figure, not the SubFigure
    assert STYLE["axes.titlelocation"] == "left"
