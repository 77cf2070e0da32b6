"""stylecast.palette.naming: colornamer's names and families, vectorised."""

from __future__ import annotations

import numpy as np
import pytest

from stylecast.palette.naming import (
    FAMILIES,
    family_index,
    lab_to_hex,
    name_colours,
    rgb_to_lab,
)


# What colornamer's own get_color_from_rgb returns for these colours.
@pytest.mark.parametrize(
    ("rgb", "name", "family", "neutral"),
    [
        ((255, 0, 0), "fire engine red", "red", False),
        ((255, 255, 255), "white", "white", True),
        ((24, 34, 82), "navy", "blue", True),
        ((118, 22, 42), "wine red", "red violet", False),
        ((128, 128, 128), "medium grey", "grey", True),
        ((200, 180, 160), "mushroom", "khaki", True),
    ],
)
def test_names_match_colornamer(rgb, name, family, neutral) -> None:
    (got,) = name_colours(rgb_to_lab(np.array([rgb], dtype=float)))
    assert (got.name, got.family, got.neutral) == (name, family, neutral)


def test_many_colours_are_named_in_order() -> None:
    labs = rgb_to_lab(np.array([[255, 0, 0], [0, 0, 255], [0, 128, 0]] * 100, dtype=float))
    names = name_colours(labs)
    assert len(names) == 300
    assert [n.family for n in names[:3]] == ["red", "blue", "green"]
    assert names[297:] == names[:3]


def test_families_are_a_fixed_axis_of_26() -> None:
    assert len(FAMILIES) == len(set(FAMILIES)) == 26
    assert family_index("red") == 0
    assert family_index("white") == 25
    with pytest.raises(ValueError):
        family_index("chartreuse")


def test_hex_round_trip() -> None:
    lab = rgb_to_lab(np.array([[18, 52, 86], [255, 255, 255]], dtype=float))
    assert lab_to_hex(lab) == ["#123456", "#ffffff"]


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # colornamer's own reading
def test_vectorised_search_agrees_with_colornamer() -> None:
    from colornamer import get_color_from_rgb

    rng = np.random.default_rng(0)
    rgbs = rng.integers(0, 256, size=(40, 3))
    ours = name_colours(rgb_to_lab(rgbs.astype(float)))
    theirs = [get_color_from_rgb([float(v) for v in rgb]) for rgb in rgbs]
    assert [n.name for n in ours] == [t["xkcd_color"] for t in theirs]
    assert [n.family for n in ours] == [t["color_family"] for t in theirs]


@pytest.mark.parametrize(
    ("hexcode", "name", "family"),
    [
        ("#f1ebfa", "off white", "white"),  # colornamer: very light pink (family red)
        ("#f2eae8", "off white", "white"),  # colornamer: very light pink
        ("#f7f7f5", "white", "white"),
        ("#faf0f0", "off white", "white"),
        ("#e6e6e6", "white", "white"),  # colornamer: light grey
        ("#ffe4e1", "very light pink", "red"),  # misty rose: light, but a colour (chroma 10)
        ("#dcdcdc", "light grey", "grey"),  # below L* 88: a grey
    ],
)
def test_near_whites_are_named_white(hexcode: str, name: str, family: str) -> None:
    from stylecast.palette.naming import hex_to_lab

    (got,) = name_colours(hex_to_lab([hexcode]))
    assert (got.name, got.family) == (name, family)
    assert got.neutral is (family in ("white", "grey"))
