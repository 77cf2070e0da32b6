"""The demo lookbook's palettes per season come out in the colours it was drawn in."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from skimage.color import deltaE_ciede2000

from stylecast.demo.garments import FAMILIES as SEASONS
from stylecast.palette import FAMILIES, palette
from stylecast.palette.naming import name_colours, rgb_to_lab


def _drawn(season: int) -> np.ndarray:
    """CIELAB of the colours a season's garments are drawn in (bases and pattern accents)."""
    family = SEASONS[season]
    return rgb_to_lab(np.array([*family.palette.values(), *family.accents.values()], float))


def _nearest(lab: tuple[float, float, float], drawn: np.ndarray) -> tuple[float, int]:
    d = deltaE_ciede2000(np.array([lab], float)[:, None, :], drawn[None], channel_axis=-1)[0]
    return float(d.min()), int(d.argmin())


def test_key_colours_per_season_are_the_drawn_ones(lookbook: Path, tmp_path: Path) -> None:
    result = palette(lookbook, ["label"], out=tmp_path / "p", workers=1, progress=False)
    groups = {p.value: p for p in result.groupings[0].groups}
    drawn = {"FallWinter": _drawn(0), "SpringSummer": _drawn(1)}
    for season, other in (("FallWinter", "SpringSummer"), ("SpringSummer", "FallWinter")):
        near_family = 0
        for colour in groups[season].key_colours[:3]:
            own, i = _nearest(colour.lab, drawn[season])
            assert own < _nearest(colour.lab, drawn[other])[0], (season, colour.name)
            assert own < 15, (season, colour.name, own)
            # Its family is the drawn colour's, or the next hue (shading moves hues a bit).
            (named,) = name_colours(drawn[season][i : i + 1])
            near_family += abs(FAMILIES.index(colour.family) - FAMILIES.index(named.family)) <= 1
        assert near_family >= 2, season
    # Deep FallWinter tones are darker than light SpringSummer ones.
    lightness = {s: np.mean([c.lab[0] for c in g.key_colours[:3]]) for s, g in groups.items()}
    assert lightness["FallWinter"] + 25 < lightness["SpringSummer"]
    # The most significant difference: a family drawn in the season that has more of it.
    top = result.groupings[0].distinguishing[0]
    more = top.group if top.difference > 0 else top.other
    drawn_families = {n.family for n in name_colours(drawn[more])}
    assert top.family in drawn_families, top
