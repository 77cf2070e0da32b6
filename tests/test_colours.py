"""The one family -> colour table: every family either scheme names has its own colour."""

from __future__ import annotations

from stylecast.colours import FAMILY_HEX, family_hex


def test_every_colornamer_family_is_drawn_in_a_colour_colornamer_files_under_it() -> None:
    from stylecast.palette import FAMILIES, name_colours
    from stylecast.palette.naming import hex_to_lab

    assert set(FAMILIES) <= set(FAMILY_HEX)
    named = name_colours(hex_to_lab([FAMILY_HEX[f] for f in FAMILIES]))
    assert [n.family for n in named] == list(FAMILIES)


def test_merchandise_families_and_spellings() -> None:
    assert family_hex("Grey") == family_hex("gray") == FAMILY_HEX["grey"]
    assert family_hex("Pink/Purple") == FAMILY_HEX["pink/purple"]
    assert family_hex("ORANGE-RED") == FAMILY_HEX["orange red"]
    assert family_hex("Plaid") is None
    assert len(set(FAMILY_HEX.values())) == len(FAMILY_HEX)  # no two families alike
