"""stylecast.demo.garments: one garment drawn from a seed, in its season's colours."""

from __future__ import annotations

import numpy as np

from stylecast.demo.garments import FAMILIES, GARMENTS, Look, draw_garment


def _look(garment: str = "coat", pattern: str | None = None) -> Look:
    family = FAMILIES[0]
    base = next(iter(family.palette.values()))
    return Look(
        garment=garment,
        pattern=pattern or family.patterns[0],
        base=base,
        family=family,
        pattern_seed=7,
        framing=np.array([0.5, 0.5, 0.5]),
    )


def test_same_seed_same_pixels_and_requested_size() -> None:
    a = draw_garment(np.random.default_rng(1), (48, 64), _look())
    b = draw_garment(np.random.default_rng(1), (48, 64), _look())
    assert a.size == (48, 64) and a.mode == "RGB"
    assert np.array_equal(np.asarray(a), np.asarray(b))


def test_garment_pixels_carry_the_base_colour() -> None:
    look = _look("dress", "cord")  # cord keeps the base colour on half the stripes
    img = np.asarray(draw_garment(np.random.default_rng(2), (96, 128), look)).astype(float)
    centre = img[50:78, 40:56].reshape(-1, 3)
    # The centre of the shot is garment: its mean colour lies near the base (or its shade).
    base = np.asarray(look.base, dtype=float)
    assert np.linalg.norm(centre.mean(0) - base) < np.linalg.norm(np.array([200.0] * 3) - base)


def test_every_family_draws_every_garment() -> None:
    rng = np.random.default_rng(3)
    for family in FAMILIES:
        for garment in GARMENTS:
            for pattern in family.patterns:
                look = Look(
                    garment,
                    pattern,
                    next(iter(family.palette.values())),
                    family,
                    1,
                    np.array([0.2, 0.8, 0.4]),
                )
                img = draw_garment(rng, (40, 52), look)
                assert img.size == (40, 52)
