"""stylecast.plots.data: the class distribution and image grids."""

from __future__ import annotations

import numpy as np
import pytest

from stylecast.errors import DataError
from stylecast.plots import image_grid, plot_class_distribution


def test_class_distribution_labels():
    fig = plot_class_distribution({"FW": 300, "SS": 100})
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert texts == ["300  (75%)", "100  (25%)"]


def test_bad_image_grid_input():
    with pytest.raises(DataError, match="at least one image"):
        image_grid([])
    with pytest.raises(DataError, match="titles has 1 entries"):
        image_grid([np.zeros((4, 4, 3), np.uint8)] * 2, titles=["x"])


def test_image_grid_cells_follow_the_tiles_aspect():
    wide = [np.zeros((10, 20, 3), np.uint8)] * 3
    fig = image_grid(wide, ncols=3, cell=1.0)
    w, h = fig.get_size_inches()
    assert w == pytest.approx(6.0)  # 3 cells, each twice as wide as high
    fig = image_grid(wide, ["a\nb"] * 3, ncols=3, cell=1.0, title_size=10)
    assert fig.get_size_inches()[1] == pytest.approx(1.0 + 2 * 10 / 50 + 0.08)
