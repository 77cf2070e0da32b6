"""Generated images of known colours for the palette tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image


def square_on(
    colour: tuple[int, int, int],
    background: tuple[int, int, int] = (255, 255, 255),
    *,
    size: tuple[int, int] = (60, 80),
    box: float = 0.5,
) -> Image.Image:
    """A ``colour`` rectangle covering ``box`` of each side, centred on ``background``."""
    w, h = size
    arr = np.empty((h, w, 3), dtype=np.uint8)
    arr[:] = background
    bw, bh = max(1, round(w * box)), max(1, round(h * box))
    x0, y0 = (w - bw) // 2, (h - bh) // 2
    arr[y0 : y0 + bh, x0 : x0 + bw] = colour
    return Image.fromarray(arr, "RGB")


@pytest.fixture
def two_colour_data(tmp_path: Path) -> Path:
    """A manifest dataset: 8 red squares (label Hot, brand A) and 8 blue ones (Cold, B)."""
    rng = np.random.default_rng(0)
    rows = ["path,label,brand"]
    for label, colour, brand in (("Hot", (255, 0, 0), "A"), ("Cold", (20, 40, 200), "B")):
        (tmp_path / label).mkdir()
        for i in range(8):
            c = tuple(int(v) for v in np.clip(np.array(colour) + rng.normal(0, 3, 3), 0, 255))
            square_on(c).save(tmp_path / label / f"{i}.png")
            rows.append(f"{label}/{i}.png,{label},{brand}")
    (tmp_path / "manifest.csv").write_text("\n".join(rows) + "\n")
    return tmp_path
