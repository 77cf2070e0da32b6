"""Every colour family stylecast names, drawn in its own colour: one table.

Two naming schemes meet in the figures: colornamer's 26 families (the palette stage's
``family`` and predict's ``palette_family`` column, :data:`stylecast.palette.FAMILIES`) and
the eleven merchandise families ``stylecast trends --colour-families`` groups colour names
into (Black, Navy Blue -> Blue, Pink/Purple, ...). A family that both name (black, white,
grey, blue, brown, red, green) is the same colour in both, and the trend report's charts
draw every family in it, as the run report's palette swatches draw measured colours.

Each colornamer family's colour is one of colornamer's own XKCD colours of that family (the
family's namesake where colornamer files it there, else its member nearest the family's
mean in CIELAB; a few neutrals softened), so colornamer names each of them back into its
family (``tests/test_colours.py`` checks it). No numpy, no matplotlib on import.
"""

from __future__ import annotations

import re

__all__ = ["FAMILY_HEX", "family_hex"]

FAMILY_HEX: dict[str, str] = {
    # colornamer's 26 families (stylecast.palette.FAMILIES), in its hue order
    "red": "#b3262e",
    "orange red": "#fd411e",  # xkcd orange red
    "red orange": "#fc824a",  # xkcd orangish
    "orange": "#f97306",  # xkcd orange
    "yellow orange": "#fcb001",  # xkcd yellow orange
    "orange yellow": "#c69c04",  # xkcd ocre
    "yellow": "#ffff14",  # xkcd yellow
    "green yellow": "#c9ff27",  # xkcd green yellow
    "yellow green": "#9bb53c",  # xkcd booger
    "green": "#3f8a4a",
    "blue green": "#137e6d",  # xkcd blue green
    "green blue": "#13bbaf",  # xkcd topaz
    "blue": "#0343df",  # xkcd blue
    "violet blue": "#436bad",  # xkcd french blue
    "blue violet": "#5d06e9",  # xkcd blue violet
    "purple": "#7e1e9c",  # xkcd purple
    "red violet": "#9e0168",  # xkcd red violet
    "violet red": "#da467d",  # xkcd darkish pink
    "yellow ochre": "#a87900",  # xkcd bronze
    "sienna": "#a9561e",  # xkcd sienna
    "brown": "#7a4b2a",
    "khaki": "#b2996e",  # xkcd dust
    "olive": "#6f7632",  # xkcd olive drab
    "grey": "#9a9a9a",
    "black": "#1b1b1b",
    "white": "#f4f1ea",
    # the merchandise families of stylecast trends that colornamer has not
    "beige": "#d8c3a0",
    "pink/purple": "#c873b0",
    "yellow/orange": "#e8a31c",
    "multi": "#7fb9c9",
    "other": "#cfcfcf",
}
_BY_KEY = {re.sub(r"[^a-z]", "", name): hex_ for name, hex_ in FAMILY_HEX.items()}
_BY_KEY["gray"] = FAMILY_HEX["grey"]


def family_hex(name: object) -> str | None:
    """The colour of family ``name`` (``"Grey"``, ``"grey"``, ``"orange red"``,
    ``"Pink/Purple"``; case, spaces and punctuation ignored); None for other names."""
    return _BY_KEY.get(re.sub(r"[^a-z]", "", str(name).lower()))
