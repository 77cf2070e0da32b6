"""stylecast.palette.aggregate: group palettes with intervals, and the families that differ."""

from __future__ import annotations

import numpy as np
import pytest

from stylecast.palette import PaletteConfig, Pixels, extract_palette
from stylecast.palette.aggregate import ImageColours, family_shares, summarise_grouping
from stylecast.palette.naming import family_index
from tests.palette.conftest import square_on


def _colours(palettes) -> ImageColours:
    rows = [(i, c) for i, p in enumerate(palettes) for c in p.colours]
    return ImageColours(
        image=np.array([i for i, _ in rows]),
        lab=np.array([c.lab for _, c in rows], dtype=float),
        share=np.array([c.share for _, c in rows]),
        family=np.array([family_index(c.name.family) for _, c in rows]),
        common=np.array([c.name.common for _, c in rows]),
        neutral=np.array([c.name.neutral for _, c in rows]),
        n_images=len(palettes),
    )


@pytest.fixture(scope="module")
def hot_and_cold():
    rng = np.random.default_rng(0)
    palettes, labels = [], []
    for label, colour in (("Hot", (255, 0, 0)), ("Cold", (20, 40, 200))):
        for _ in range(10):
            c = tuple(int(v) for v in np.clip(np.array(colour) + rng.normal(0, 5, 3), 0, 255))
            arr = np.asarray(square_on(c)).copy()
            arr[35:45, 25:35] = (30, 30, 30)  # a black logo on every garment
            palettes.append(extract_palette(Pixels(arr)))
            labels.append(label)
    return palettes, labels


def test_family_shares_rows_sum_to_one(hot_and_cold) -> None:
    palettes, _ = hot_and_cold
    shares = family_shares(_colours(palettes))
    assert shares.shape == (20, 26)
    np.testing.assert_allclose(shares.sum(axis=1), 1.0)


def test_group_palettes_key_colours_and_neutrals(hot_and_cold) -> None:
    palettes, labels = hot_and_cold
    g = summarise_grouping("label", labels, _colours(palettes), PaletteConfig())
    assert g.column == "label"
    assert [p.value for p in g.groups] == ["Cold", "Hot"]  # equal sizes: by name
    hot = g.groups[1]
    assert hot.n_images == 10
    assert hot.key_colours[0].family == "red"
    assert hot.key_colours[0].share == pytest.approx(0.92, abs=0.05)
    lo, hi = hot.key_colours[0].share_ci
    assert lo <= hot.key_colours[0].share <= hi
    assert hot.key_colours[0].presence == 1.0
    assert hot.neutrals[0].family in ("black", "grey", "olive")
    assert all(not c.neutral for c in hot.key_colours)
    assert all(c.neutral for c in hot.neutrals)


def test_distinguishing_families_are_the_two_hues(hot_and_cold) -> None:
    palettes, labels = hot_and_cold
    g = summarise_grouping("label", labels, _colours(palettes), PaletteConfig())
    top = {d.family for d in g.distinguishing}
    assert "red" in top and "blue" in top
    red = next(d for d in g.distinguishing if d.family == "red")
    assert {red.group, red.other} == {"Hot", "Cold"}
    assert red.q < 0.001
    # The black logo is on every garment: never a difference.
    assert not any(d.family in ("black", "grey", "olive") for d in g.distinguishing)


def test_one_group_has_no_differences(hot_and_cold) -> None:
    palettes, _ = hot_and_cold
    g = summarise_grouping("brand", ["X"] * 20, _colours(palettes), PaletteConfig())
    assert len(g.groups) == 1 and g.differences == ()
