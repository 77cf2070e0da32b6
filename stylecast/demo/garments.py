"""How the synthetic lookbook draws a garment: season families (palette, fabrics, garment
mix), fabric patterns, silhouettes and the studio backdrop.

Everything here draws from a generator it is given, so a seed gives byte-identical images.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

RGB = tuple[int, int, int]

GARMENTS = ("tee", "dress", "coat", "trousers")
SUPERSAMPLE = 2  # draw at 2x and reduce: smooth edges without per-shape antialiasing


@dataclass(frozen=True)
class Family:
    """A season's look: its palette, its fabrics and how often each garment appears."""

    palette: dict[str, RGB]
    accents: dict[str, RGB]  # second colours used inside patterns
    patterns: tuple[str, ...]
    garment_weights: tuple[float, float, float, float]  # in GARMENTS order


# Class i of the caller's ``classes`` gets family i. The first two are the classic pair
# (FallWinter, SpringSummer); the other two let a four-season setup work too.
FAMILIES: tuple[Family, ...] = (
    Family(  # deep tones, knit and tartan; coats and trousers more common
        palette={
            "burgundy": (118, 22, 42),
            "navy": (24, 34, 82),
            "forest": (30, 82, 52),
            "charcoal": (56, 56, 62),
            "camel": (150, 110, 66),
            "brown": (96, 62, 36),
        },
        accents={
            "black": (22, 22, 26),
            "oxblood": (80, 16, 26),
            "bottle": (18, 56, 36),
            "mustard": (170, 130, 40),
        },
        patterns=("knit", "plaid"),
        garment_weights=(0.15, 0.15, 0.40, 0.30),
    ),
    Family(  # light tones, florals and stripes; tees and dresses more common
        palette={
            "mint": (176, 236, 204),
            "sky": (160, 208, 244),
            "lemon": (248, 236, 150),
            "blush": (244, 200, 206),
            "white": (246, 246, 240),
            "coral": (248, 150, 128),
        },
        accents={
            "white": (252, 252, 248),
            "blush": (250, 210, 216),
            "lemon": (252, 240, 160),
            "sky": (186, 222, 250),
        },
        patterns=("floral", "stripes"),
        garment_weights=(0.38, 0.37, 0.10, 0.15),
    ),
    Family(  # earthy mid tones, corduroy and polka dots
        palette={
            "mustard": (200, 156, 44),
            "rust": (176, 82, 40),
            "olive": (118, 120, 50),
            "terracotta": (196, 108, 78),
            "ochre": (190, 130, 40),
            "sage": (148, 166, 126),
        },
        accents={
            "cream": (234, 222, 196),
            "chocolate": (80, 50, 30),
            "khaki": (170, 160, 110),
        },
        patterns=("cord", "dots"),
        garment_weights=(0.20, 0.20, 0.30, 0.30),
    ),
    Family(  # saturated brights, diagonal stripes and zigzags
        palette={
            "cobalt": (20, 72, 196),
            "scarlet": (214, 32, 42),
            "emerald": (0, 148, 92),
            "fuchsia": (214, 40, 140),
            "orange": (244, 120, 20),
            "turquoise": (20, 184, 190),
        },
        accents={
            "white": (250, 250, 250),
            "yellow": (250, 220, 30),
            "black": (20, 20, 24),
        },
        patterns=("diagonal", "zigzag"),
        garment_weights=(0.30, 0.30, 0.15, 0.25),
    ),
)

# Silhouettes in box coordinates (0..1 across the garment's bounding box) and the box's
# width/height ratio. Detail lines (seams, lapels) make the shapes read as clothes.
# fmt: off
_SHAPES: dict[str, tuple[float, list[tuple[float, float]]]] = {
    "tee": (
        0.92,
        [
            (0.37, 0.0), (0.5, 0.07), (0.63, 0.0), (0.84, 0.05), (1.0, 0.30), (0.84, 0.40),
            (0.77, 0.30), (0.78, 1.0), (0.22, 1.0), (0.23, 0.30), (0.16, 0.40), (0.0, 0.30),
            (0.16, 0.05),
        ],
    ),
    "dress": (
        0.62,
        [
            (0.31, 0.0), (0.39, 0.0), (0.5, 0.11), (0.61, 0.0), (0.69, 0.0), (0.71, 0.17),
            (0.64, 0.38), (1.0, 1.0), (0.0, 1.0), (0.36, 0.38), (0.29, 0.17),
        ],
    ),
    "coat": (
        0.70,
        [
            (0.40, 0.0), (0.5, 0.12), (0.60, 0.0), (0.80, 0.04), (1.0, 0.64), (0.87, 0.68),
            (0.78, 0.27), (0.84, 1.0), (0.16, 1.0), (0.22, 0.27), (0.13, 0.68), (0.0, 0.64),
            (0.20, 0.04),
        ],
    ),
    "trousers": (
        0.48,
        [(0.06, 0.0), (0.94, 0.0), (1.0, 1.0), (0.57, 1.0), (0.5, 0.27), (0.43, 1.0), (0.0, 1.0)],
    ),
}
# fmt: on

_DETAILS: dict[str, list[list[tuple[float, float]]]] = {
    "tee": [[(0.37, 0.0), (0.5, 0.10), (0.63, 0.0)]],  # ribbed neckline
    "dress": [[(0.36, 0.38), (0.64, 0.38)]],  # waist seam
    "coat": [
        [(0.5, 0.12), (0.5, 1.0)],  # front opening
        [(0.40, 0.0), (0.44, 0.30), (0.5, 0.34)],  # lapels
        [(0.60, 0.0), (0.56, 0.30), (0.5, 0.34)],
        [(0.22, 0.62), (0.40, 0.62)],  # pocket flaps
        [(0.60, 0.62), (0.78, 0.62)],
    ],
    "trousers": [
        [(0.045, 0.07), (0.955, 0.07)],  # waistband
        [(0.5, 0.07), (0.5, 0.24)],  # fly
        [(0.25, 0.10), (0.22, 0.98)],  # creases
        [(0.75, 0.10), (0.78, 0.98)],
    ],
}


@dataclass(frozen=True)
class Look:
    """One product as drawn: garment, fabric, base colour and framing in the shot."""

    garment: str
    pattern: str
    base: RGB
    family: Family
    pattern_seed: int  # the same fabric layout for every variant of a product
    framing: np.ndarray  # size, x and y position of the garment, each in [0, 1]


def jitter(colour: RGB, rng: np.random.Generator, sd: float) -> RGB:
    c = np.clip(np.asarray(colour, dtype=float) + rng.normal(0.0, sd, 3), 0, 255)
    return (int(c[0]), int(c[1]), int(c[2]))


def _scale(colour: RGB, factor: float) -> RGB:
    c = np.clip(np.asarray(colour, dtype=float) * factor, 0, 255)
    return (int(c[0]), int(c[1]), int(c[2]))


def _mix(a: RGB, b: RGB, w: float) -> RGB:
    return (
        int(a[0] * (1 - w) + b[0] * w),
        int(a[1] * (1 - w) + b[1] * w),
        int(a[2] * (1 - w) + b[2] * w),
    )


def _luma(c: RGB) -> float:
    return 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2]


def _background(rng: np.random.Generator, w: int, h: int) -> np.ndarray:
    # Light-to-mid studio backdrops, drawn the same way for every class so the backdrop
    # carries no label information.
    level = rng.uniform(150.0, 236.0)
    top = np.clip(level + rng.normal(0.0, 8.0, 3), 0, 255)
    if rng.random() < 0.5:
        bottom = top
    else:
        bottom = np.clip(top + rng.uniform(-40.0, 25.0) + rng.normal(0.0, 5.0, 3), 0, 255)
    ramp = np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None, None]
    bg = top[None, None, :] * (1 - ramp) + bottom[None, None, :] * ramp
    return np.broadcast_to(bg, (h, w, 3)).astype(np.float32)


def _pick_accent(family: Family, base: RGB, rng: np.random.Generator) -> RGB:
    # Choose the accent that contrasts most with the base, among two random candidates,
    # so patterns stay visible (white stripes on a white tee would vanish).
    names = list(family.accents)
    cands = [family.accents[names[int(rng.integers(len(names)))]] for _ in range(2)]
    return max(cands, key=lambda c: sum(abs(a - b) for a, b in zip(c, base, strict=True)))


def _fabric(look: Look, w: int, h: int, unit: float) -> np.ndarray:
    """Return an (h, w, 3) float array of the fabric, drawn from its own generator."""
    pattern, base, family = look.pattern, look.base, look.family
    rng = np.random.default_rng(look.pattern_seed)
    yy, xx = np.mgrid[0:h, 0:w]
    out = np.empty((h, w, 3), dtype=np.float32)
    out[:] = base
    accent = np.asarray(_pick_accent(family, base, rng), dtype=np.float32)
    b = np.asarray(base, dtype=np.float32)
    ox, oy = (int(v) for v in rng.integers(0, 64, 2))
    if pattern == "knit":
        # Rows of small chevrons (stocking stitch) with faint vertical ribbing.
        period = max(3, round(rng.uniform(5.0, 7.0) * unit))
        xs = (xx + ox) % period
        ys = (yy + oy) % period
        v = np.abs(xs - period / 2)
        stroke = np.abs(ys - (period / 2 - v)) < max(1.0, 0.6 * unit)
        lighter = 1.35 if _luma(base) < 110 else 0.75
        out[stroke] = np.clip(b * lighter, 0, 255)
        rib = ((xx + ox) // period) % 2 == 0
        out[rib] *= 0.93
    elif pattern == "plaid":
        # Tartan: broad bands of a second deep tone crossing, with a thin bright overcheck.
        period = max(6, round(rng.uniform(14.0, 22.0) * unit))
        band = max(2, round(period * rng.uniform(0.3, 0.45)))
        hx = (xx + ox) % period < band
        hy = (yy + oy) % period < band
        second = np.asarray(family.accents["black" if rng.random() < 0.5 else "oxblood"])
        out[hx | hy] = 0.5 * b + 0.5 * second
        out[hx & hy] = second
        line = max(1, round(0.8 * unit))
        lx = (xx + ox + period // 2) % period < line
        ly = (yy + oy + period // 2) % period < line
        out[lx | ly] = 0.4 * out[lx | ly] + 0.6 * np.asarray(family.accents["mustard"])
    elif pattern == "stripes":
        period = max(4, round(rng.uniform(8.0, 14.0) * unit))
        coord = yy if rng.random() < 0.7 else xx  # mostly Breton-style horizontal
        out[(coord + oy) % period < period * rng.uniform(0.35, 0.5)] = accent
    elif pattern == "floral":
        # Scattered five-petal flowers with a yellow or coral heart.
        img = Image.fromarray(out.astype(np.uint8))
        draw = ImageDraw.Draw(img)
        r = 1.8 * unit
        n = int(w * h / (11.0 * unit) ** 2)
        centre_colour = (250, 200, 60) if rng.random() < 0.5 else (240, 120, 100)
        petal = tuple(int(v) for v in accent)
        for cx, cy in rng.uniform(0, 1, (n, 2)) * (w, h):
            turn = rng.uniform(0, 2 * np.pi / 5)
            for k in range(5):
                a = turn + 2 * np.pi * k / 5
                px, py = cx + 1.15 * r * np.cos(a), cy + 1.15 * r * np.sin(a)
                draw.ellipse((px - r, py - r, px + r, py + r), fill=petal)
            draw.ellipse(
                (cx - 0.8 * r, cy - 0.8 * r, cx + 0.8 * r, cy + 0.8 * r), fill=centre_colour
            )
        out = np.asarray(img, dtype=np.float32).copy()
    elif pattern == "cord":
        period = max(3, round(rng.uniform(3.0, 5.0) * unit))
        out[(xx + ox) % period < period / 2] *= 0.8
    elif pattern == "dots":
        period = max(4, round(rng.uniform(9.0, 13.0) * unit))
        dx = (xx + ox) % period - period / 2
        dy = (yy + oy) % period - period / 2
        out[dx * dx + dy * dy < (0.22 * period) ** 2] = accent
    elif pattern == "diagonal":
        period = max(4, round(rng.uniform(10.0, 16.0) * unit))
        out[(xx + yy + ox) % period < period / 2] = accent
    elif pattern == "zigzag":
        period = max(4, round(rng.uniform(10.0, 14.0) * unit))
        zig = yy + np.abs((xx + ox) % period - period / 2)
        out[(zig + oy) % period < period * 0.4] = accent
    else:  # pragma: no cover - families only name the patterns above
        raise AssertionError(pattern)
    return out


def draw_garment(rng: np.random.Generator, size: tuple[int, int], look: Look) -> Image.Image:
    """One garment of ``look`` on a studio backdrop, ``size`` = (width, height)."""
    width, height = size
    garment, base = look.garment, look.base
    s = SUPERSAMPLE
    w, h = width * s, height * s
    unit = h / 128.0  # pattern sizes are tuned for a 128-pixel-high image
    canvas = _background(rng, w, h)

    aspect, outline = _SHAPES[garment]
    size_f, fx, fy = (float(v) for v in look.framing)
    gh = (0.60 + 0.30 * size_f) * h
    gw = aspect * gh
    if gw > 0.96 * w:  # wide garments (tees) shrink to fit rather than being cropped
        gw = 0.96 * w
        gh = gw / aspect
    x0 = 0.02 * w + fx * max(0.0, 0.96 * w - gw)
    y0 = 0.03 * h + fy * max(0.0, 0.94 * h - gh)

    def to_px(pts: list[tuple[float, float]]) -> list[tuple[float, float]]:
        return [(x0 + px * gw, y0 + py * gh) for px, py in pts]

    poly = to_px(outline)
    mask_img = Image.new("L", (w, h), 0)
    ImageDraw.Draw(mask_img).polygon(poly, fill=255)
    mask = np.asarray(mask_img) > 0

    # A soft drop shadow grounds the garment on the backdrop.
    off = 3.0 * unit
    shadow_img = Image.new("L", (w, h), 0)
    ImageDraw.Draw(shadow_img).polygon([(x + off, y + off) for x, y in poly], fill=255)
    shadow = np.asarray(shadow_img) > 0
    canvas[shadow & ~mask] *= 0.82

    fabric = _fabric(look, w, h, unit)
    # Cylindrical shading: the fabric darkens towards the sides, giving the flat shape volume.
    xs = (np.arange(w, dtype=np.float32) - (x0 + gw / 2)) / (gw / 2)
    shade = np.clip(1.04 - 0.16 * xs * xs, 0.8, 1.04)[None, :, None]
    canvas = np.where(mask[:, :, None], np.clip(fabric * shade, 0, 255), canvas)

    img = Image.fromarray(canvas.astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(img)
    line_w = max(1, round(1.2 * unit))
    edge = _scale(base, 0.55) if _luma(base) > 60 else _mix(base, (255, 255, 255), 0.25)
    draw.line([*poly, poly[0]], fill=edge, width=line_w, joint="curve")
    for detail in _DETAILS[garment]:
        draw.line(to_px(detail), fill=edge, width=line_w, joint="curve")
    if garment == "coat":
        r = 1.6 * unit
        for py in (0.40, 0.55, 0.70):
            cx, cy = x0 + 0.545 * gw, y0 + py * gh
            draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=edge)
    return img.reduce(s)
