"""stylecast.plots.evaluation: confusion matrix, reliability, calibration and Grad-CAM figures."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from stylecast.errors import DataError
from stylecast.plots import (
    overlay_heatmap,
    plot_calibration,
    plot_confusion_matrix,
    plot_explanation,
    save_figure,
)
from tests.plots._samples import CM, NAMES, sample_metrics


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


def test_bad_confusion_input():
    with pytest.raises(DataError, match="square"):
        plot_confusion_matrix([[1, 2, 3]], ["a"])
    with pytest.raises(DataError, match="class_names has 2 names"):
        plot_confusion_matrix(CM, ["a", "b"])


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


def test_explanation_and_calibration_figures(tmp_path: Path):
    metrics = sample_metrics()
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
