"""Colour names: Stitch Fix's colornamer hierarchy (XKCD name, design name, family, neutral).

colornamer's data is one table of the 949 XKCD survey colours, each with a design name, a
common name, a colour family (26 families), a type and a colour-or-neutral flag; it names a
colour by the nearest XKCD colour in CIEDE2000. :func:`name_colours` reads that table from
colornamer (``get_color_json``) and does the same nearest-colour search, vectorised over many
colours at once (``tests/palette/test_naming.py`` checks it against colornamer's own
``get_color_from_rgb``).

One exception to colornamer: a very light, nearly colourless colour (CIELAB L* at least
:data:`WHITE_MIN_L`, chroma at most :data:`WHITE_MAX_C`) is named white (chroma up to
:data:`PURE_WHITE_C`) or off white, family white, where colornamer's nearest XKCD colour is
often "very light pink" (family red) or "light grey": a white shirt in a catalogue photo is
slightly tinted by the light, and a person still calls it white. The bounds were chosen on
fpi-season's catalogue colours (docs/palette.md); on fpi-trends they take catalogue-White
items named white from 30% to 66% (docs/benchmarks.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from stylecast.errors import MissingDependencyError

__all__ = [
    "FAMILIES",
    "OFF_WHITE",
    "WHITE",
    "ColourName",
    "family_index",
    "hex_to_lab",
    "lab_to_hex",
    "lab_to_rgb",
    "name_colours",
    "rgb_to_lab",
]

# colornamer's 26 families, in hue order with the neutrals last: the axis of every
# family histogram (palette features, summaries), so it never changes order.
FAMILIES: tuple[str, ...] = (
    "red",
    "orange red",
    "red orange",
    "orange",
    "yellow orange",
    "orange yellow",
    "yellow",
    "green yellow",
    "yellow green",
    "green",
    "blue green",
    "green blue",
    "blue",
    "violet blue",
    "blue violet",
    "purple",
    "red violet",
    "violet red",
    "yellow ochre",
    "sienna",
    "brown",
    "khaki",
    "olive",
    "grey",
    "black",
    "white",
)
_CHUNK = 256  # colours per CIEDE2000 call: (256, 949) pairs keep memory small

# Very light and nearly colourless: named white / off white (see the module's docstring).
WHITE_MIN_L = 88.0
WHITE_MAX_C = 9.0
PURE_WHITE_C = 3.0


@dataclass(frozen=True)
class ColourName:
    """colornamer's names for one colour: the nearest XKCD colour and its hierarchy."""

    name: str  # XKCD name, e.g. "navy"
    design: str  # design name, e.g. "navy"
    common: str  # common name, e.g. "navy blue"
    family: str  # one of FAMILIES, e.g. "blue"
    kind: str  # colornamer's colour type, e.g. "dark neutral"
    neutral: bool  # colornamer's colour-or-neutral flag


WHITE = ColourName("white", "white", "white", "white", "light neutral", True)
OFF_WHITE = ColourName("off white", "off white", "off white", "white", "light neutral", True)


@dataclass(frozen=True)
class _Table:
    lab: np.ndarray  # (949, 3)
    names: tuple[ColourName, ...]


@lru_cache(maxsize=1)
def _table() -> _Table:
    try:
        from colornamer import get_color_json
    except ImportError as exc:  # pragma: no cover - a dependency; only a broken install lacks it
        raise MissingDependencyError(
            "colour names need colornamer: pip install 'colornamer==0.2.3'"
        ) from exc
    import warnings

    with warnings.catch_warnings():  # colornamer reads its table with a deprecated call
        warnings.simplefilter("ignore", DeprecationWarning)
        rows = get_color_json()
    names = tuple(
        ColourName(
            name=r["xkcd_color"],
            design=r["design_color"],
            common=r["common_color"],
            family=r["color_family"],
            kind=r["color_type"],
            neutral=r["color_or_neutral"] == "neutral",
        )
        for r in rows
    )
    lab = hex_to_lab([r["xkcd_color_hex"] for r in rows])
    return _Table(lab=lab, names=names)


def rgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """CIELAB (D65) of sRGB values in 0-255, any shape ending in 3."""
    from skimage.color import rgb2lab

    arr = np.asarray(rgb, dtype=np.float64) / 255.0
    return rgb2lab(arr.reshape(-1, 1, 3)).reshape(arr.shape)


def lab_to_rgb(lab: np.ndarray) -> np.ndarray:
    """sRGB 0-255 (uint8, clipped into the gamut) of CIELAB values, any shape ending in 3."""
    import warnings

    from skimage.color import lab2rgb

    arr = np.asarray(lab, dtype=np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # out-of-gamut values are clipped, as intended
        rgb = lab2rgb(arr.reshape(-1, 1, 3)).reshape(arr.shape)
    return np.clip(np.round(rgb * 255.0), 0, 255).astype(np.uint8)


def hex_to_lab(hexes: list[str]) -> np.ndarray:
    rgb = np.array([[int(h[i : i + 2], 16) for i in (1, 3, 5)] for h in hexes], dtype=np.float64)
    return rgb_to_lab(rgb.reshape(-1, 3))


def lab_to_hex(lab: np.ndarray) -> list[str]:
    rgb = lab_to_rgb(np.asarray(lab, dtype=np.float64).reshape(-1, 3))
    return [f"#{r:02x}{g:02x}{b:02x}" for r, g, b in rgb]


def name_colours(lab: np.ndarray) -> list[ColourName]:
    """colornamer's names of each CIELAB colour (rows of ``lab``): nearest XKCD in CIEDE2000,
    except near-whites, named :data:`WHITE` or :data:`OFF_WHITE`."""
    from skimage.color import deltaE_ciede2000

    table = _table()
    lab = np.asarray(lab, dtype=np.float64).reshape(-1, 3)
    out: list[ColourName] = []
    for start in range(0, len(lab), _CHUNK):
        chunk = lab[start : start + _CHUNK]
        dist = deltaE_ciede2000(chunk[:, None, :], table.lab[None, :, :], channel_axis=-1)
        out.extend(table.names[i] for i in dist.argmin(axis=1))
    chroma = np.hypot(lab[:, 1], lab[:, 2])
    for i in np.flatnonzero((lab[:, 0] >= WHITE_MIN_L) & (chroma <= WHITE_MAX_C)):
        out[i] = WHITE if chroma[i] <= PURE_WHITE_C else OFF_WHITE
    return out


def family_index(family: str) -> int:
    """The position of ``family`` on the :data:`FAMILIES` axis (ValueError if unknown)."""
    return FAMILIES.index(family)
