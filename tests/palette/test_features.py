"""stylecast.palette.features: a fixed 26-family histogram per image."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from stylecast.palette import FAMILIES, family_histogram, palette_features
from tests.palette.conftest import square_on


def test_histogram_of_images(tmp_path: Path) -> None:
    paths = []
    for name, colour in (("r", (255, 0, 0)), ("b", (20, 40, 200))):
        square_on(colour).save(tmp_path / f"{name}.png")
        paths.append(tmp_path / f"{name}.png")
    (tmp_path / "bad.png").write_bytes(b"nope")
    x = palette_features([*paths, tmp_path / "bad.png"], workers=1)
    assert x.shape == (3, len(FAMILIES))
    assert x[0, FAMILIES.index("red")] == pytest.approx(1.0, abs=0.02)
    assert x[1, FAMILIES.index("blue")] + x[1, FAMILIES.index("violet blue")] > 0.98
    np.testing.assert_allclose(x[:2].sum(axis=1), 1.0)
    assert not x[2].any()  # unreadable: zeros


def test_histogram_of_no_palettes() -> None:
    assert family_histogram([]).shape == (0, 26)
