"""Palette features for a classifier: a fixed family-share histogram per image.

The talk's idea ("a colour palette for each season to help it become more precise") as
numbers a model can use beside its image features: each image becomes 26 shares, one per
colornamer family (:data:`~stylecast.palette.naming.FAMILIES`, always in that order),
summing to 1 over the garment. ``benchmarks/palette_features.py`` measures whether they
help a logistic regression on frozen backbone features.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from stylecast.palette.extract import ImagePalette, PaletteConfig, image_palettes
from stylecast.palette.naming import FAMILIES, family_index
from stylecast.palette.stage import extract_clusters

__all__ = ["family_histogram", "palette_features"]


def family_histogram(palettes: Sequence[ImagePalette]) -> np.ndarray:
    """(n_images, 26) garment share per colornamer family; a row of zeros for no palette."""
    out = np.zeros((len(palettes), len(FAMILIES)))
    for i, pal in enumerate(palettes):
        for c in pal.colours:
            out[i, family_index(c.name.family)] += c.share
    return out


def palette_features(
    paths: Sequence[str | os.PathLike[str]],
    config: PaletteConfig | None = None,
    *,
    workers: int | None = None,
    progress: bool = False,
) -> np.ndarray:
    """:func:`family_histogram` of the images at ``paths`` (zeros for an unreadable one)."""
    cfg = config or PaletteConfig()
    results = extract_clusters([str(p) for p in paths], cfg, workers=workers, progress=progress)
    empty = (np.zeros((0, 3)), np.zeros(0), "", 0.0)
    palettes = image_palettes([empty if isinstance(r, str) else r for r in results])
    return family_histogram(palettes)
