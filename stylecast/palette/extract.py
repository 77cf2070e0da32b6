"""One image's palette: garment pixels apart from the backdrop, clustered and named in CIELAB.

The method, step by step (each a function below):

1. **Decode** (:func:`read_pixels`): any image Pillow opens, EXIF orientation applied; a
   transparent pixel is backdrop; photos larger than ``max_side`` are reduced first (JPEGs
   already while decoding). Tiny images (even 1x1) are used as they are.
2. **Backdrop** (:func:`backdrop_mask`): catalogue and lookbook photos sit on a white or
   near-uniform backdrop. The border's colours are clustered; the dominant one, and border
   colours close to it (a graded backdrop), are the backdrop colours. A pixel is backdrop
   when it is within ``backdrop_delta_e`` of one of them *and* connected to the border through
   such pixels (a flood fill from the border): a white shirt inside its outline, or white
   pixels the backdrop does not reach, stay garment. Without a dominant border colour (a
   photo filling the frame) every pixel counts. When the backdrop leaves almost nothing
   (a white garment on white without an outline) the central half of the image is used.
3. **Weights**: pixels on the rim of the garment (mixed with the backdrop) are left out
   when enough remain; pixels count more towards the centre of the frame
   (``centre_sigma``), where a product photo puts its product.
4. **Clusters** (:func:`cluster_colours`): weighted k-means in CIELAB (k-means++ seeding from
   a fixed seed, so a palette never changes between runs), then clusters closer than
   ``merge_delta_e`` (CIEDE2000) are merged, and slivers under ``min_share`` go to their
   nearest cluster. Shares sum to 1 over the garment.
5. **Skin**: a cluster whose colour is skin-like (CIELAB hue 20-80 degrees, chroma 8-45,
   lightness 30-92) is dropped when the other clusters hold at least ``skin_keep_above`` of
   the garment (a model's face and arms are not the garment); shares are renormalised. A
   skin-toned garment with nothing else in the picture keeps its colour.
6. **Names** (:mod:`stylecast.palette.naming`): colornamer's XKCD name, family and neutral
   flag of each cluster's centre.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from stylecast.palette.config import PaletteConfig
from stylecast.palette.naming import ColourName, lab_to_hex, name_colours, rgb_to_lab
from stylecast.palette.pixels import Pixels, read_pixels

__all__ = [
    "Colour",
    "ImagePalette",
    "PaletteConfig",
    "backdrop_mask",
    "cluster_colours",
    "extract_palette",
    "image_palette",
    "image_palettes",
    "garment_clusters",
    "merge_clusters",
]

FALLBACKS = ("", "all", "centre")  # palettes.csv's fallback column: none, no backdrop, centre


@dataclass(frozen=True)
class Colour:
    """One colour of a palette: its CIELAB centre, its share of the garment and its names."""

    lab: tuple[float, float, float]
    share: float
    hex: str
    name: ColourName


@dataclass(frozen=True)
class ImagePalette:
    """An image's colours, largest share first; ``fallback`` says how the garment was found."""

    colours: tuple[Colour, ...]
    fallback: str = ""  # "" backdrop removed; "all": no backdrop found; "centre": see module
    garment_share: float = 1.0  # share of the image's pixels taken as garment

    @property
    def first(self) -> Colour | None:
        return self.colours[0] if self.colours else None

    @property
    def first_colour(self) -> Colour | None:
        """The largest non-neutral colour, or the largest colour when all are neutral."""
        return next((c for c in self.colours if not c.name.neutral), self.first)


def _border(a: np.ndarray) -> np.ndarray:
    """The outermost ring of pixels of ``a`` (h, w, ...), each pixel once."""
    h, w = a.shape[:2]
    if h <= 2 or w <= 2:
        return a.reshape(h * w, *a.shape[2:])
    return np.concatenate([a[0], a[-1], a[1:-1, 0], a[1:-1, -1]])


@dataclass(frozen=True)
class _Bins:
    """An image's colours binned (6 bits per channel): CIELAB per bin, the bin of each pixel."""

    lab: np.ndarray  # (n_bins, 3): the CIELAB colour of each bin's mean RGB
    of_pixel: np.ndarray  # (h, w): the bin of every pixel


def _bins(rgb: np.ndarray) -> _Bins:
    # Binning makes k-means see hundreds of colours instead of thousands of pixels; a bin
    # spans 4 RGB levels, and its colour is the mean of its pixels.
    h, w = rgb.shape[:2]
    flat = rgb.reshape(-1, 3).astype(np.int64)
    key = ((flat[:, 0] >> 2) << 12) | ((flat[:, 1] >> 2) << 6) | (flat[:, 2] >> 2)
    _, inverse, counts = np.unique(key, return_inverse=True, return_counts=True)
    inverse = inverse.reshape(-1)
    mean = (
        np.stack(
            [np.bincount(inverse, weights=flat[:, j], minlength=len(counts)) for j in range(3)], 1
        )
        / counts[:, None]
    )
    return _Bins(rgb_to_lab(mean), inverse.reshape(h, w))


def backdrop_mask(lab: np.ndarray, delta_e: float = 3.0) -> np.ndarray | None:
    """Backdrop pixels of a CIELAB image (h, w, 3), see the module; None when the border has
    no dominant colour (the photo fills the frame)."""
    flat = lab.reshape(-1, 3)
    return _backdrop(_Bins(flat, np.arange(len(flat)).reshape(lab.shape[:2])), delta_e)


def _backdrop(bins: _Bins, delta_e: float) -> np.ndarray | None:
    from scipy import ndimage

    border = np.bincount(_border(bins.of_pixel), minlength=len(bins.lab)).astype(np.float64)
    used = border > 0
    centres, mass, labels = cluster_colours(bins.lab[used], border[used], k=4, seed=0)
    # The backdrop's colours: the largest border colour, and border colours chained to it
    # by small steps (a graded or vignetted backdrop spreads over several).
    order = np.argsort(-mass)
    refs_i = [int(order[0])]
    for i in order[1:]:
        step = np.linalg.norm(centres[refs_i] - centres[i], axis=1).min()
        if mass[i] >= 0.1 * mass.sum() and step < 5 * delta_e:
            refs_i.append(int(i))
    if mass[refs_i].sum() < 0.5 * mass.sum():
        return None
    refs = centres[refs_i]
    # A noisy backdrop needs a wider tolerance than a flat white one: the spread of its
    # border pixels (90th percentile of their distance to the nearest backdrop colour).
    members = np.isin(labels, refs_i)
    spread = _weighted_quantile(
        np.linalg.norm(bins.lab[used][members][:, None, :] - refs[None], axis=-1).min(axis=1),
        border[used][members],
        0.9,
    )
    tolerance = min(max(delta_e, 1.5 * spread), 3 * delta_e)
    dist = np.linalg.norm(bins.lab[:, None, :] - refs[None, :, :], axis=-1).min(axis=1)
    candidate = (dist < tolerance)[bins.of_pixel]
    labels, _ = ndimage.label(candidate)
    touching = np.unique(_border(labels))
    backdrop = np.isin(labels, touching[touching > 0])
    # JPEG ringing leaves a light halo of near-backdrop pixels around the garment: those
    # within 2 px of the backdrop and close to its colour go with it. A white garment's
    # inside is farther than 2 px from the backdrop, so it stays.
    near_colour = (dist < 4 * tolerance)[bins.of_pixel]
    halo = near_colour & ndimage.binary_dilation(backdrop, iterations=2) & ~backdrop
    return backdrop | halo


def _weighted_quantile(x: np.ndarray, w: np.ndarray, q: float) -> float:
    order = np.argsort(x)
    cum = np.cumsum(w[order])
    return float(x[order][min(len(x) - 1, int(np.searchsorted(cum, q * cum[-1])))])


def _skin_like(lab: np.ndarray) -> np.ndarray:
    lightness, a, b = lab[:, 0], lab[:, 1], lab[:, 2]
    chroma = np.hypot(a, b)
    hue = np.degrees(np.arctan2(b, a))
    return (
        (lightness >= 30)
        & (lightness <= 92)
        & (chroma >= 8)
        & (chroma <= 45)
        & (hue >= 20)
        & (hue <= 80)
    )


def _sq_dist(x: np.ndarray, c: np.ndarray) -> np.ndarray:
    return (x * x).sum(axis=1)[:, None] - 2.0 * (x @ c.T) + (c * c).sum(axis=1)[None, :]


def cluster_colours(
    x: np.ndarray, w: np.ndarray, *, k: int, seed: int, iters: int = 15
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weighted k-means of rows of ``x``: (centres, mass per centre, label per row).

    k-means++ seeding from ``seed``; empty clusters are dropped.
    """
    x = np.asarray(x, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    n = len(x)
    rng = np.random.default_rng(seed)
    total = w.sum()
    if n == 0 or total <= 0:
        return np.zeros((0, x.shape[1])), np.zeros(0), np.zeros(n, dtype=int)
    centres = [x[rng.choice(n, p=w / total)]]
    d2 = ((x - centres[0]) ** 2).sum(axis=1)
    for _ in range(1, min(k, n)):
        p = d2 * w
        s = p.sum()
        if s <= 1e-9:  # fewer distinct colours than k
            break
        c = x[rng.choice(n, p=p / s)]
        centres.append(c)
        d2 = np.minimum(d2, ((x - c) ** 2).sum(axis=1))
    c = np.array(centres)
    for _ in range(iters):
        labels = _sq_dist(x, c).argmin(axis=1)
        mass = np.bincount(labels, weights=w, minlength=len(c))
        sums = np.stack(
            [np.bincount(labels, weights=w * x[:, j], minlength=len(c)) for j in range(3)], 1
        )
        new = np.where(mass[:, None] > 0, sums / np.maximum(mass, 1e-12)[:, None], c)
        moved = np.abs(new - c).max()
        c = new
        if moved < 0.05:
            break
    labels = _sq_dist(x, c).argmin(axis=1)
    mass = np.bincount(labels, weights=w, minlength=len(c))
    keep = mass > 0
    remap = np.cumsum(keep) - 1
    return c[keep], mass[keep], remap[labels]


def merge_clusters(
    centres: np.ndarray, mass: np.ndarray, cfg: PaletteConfig
) -> tuple[np.ndarray, np.ndarray]:
    """Merge clusters closer than ``merge_delta_e`` (CIEDE2000), then slivers into neighbours."""
    from skimage.color import deltaE_ciede2000

    centres, mass = centres.copy(), mass.copy()
    while len(centres) > 1:
        d = deltaE_ciede2000(centres[:, None, :], centres[None, :, :], channel_axis=-1)
        np.fill_diagonal(d, np.inf)
        i, j = np.unravel_index(np.argmin(d), d.shape)
        small = int(np.argmin(mass))
        if d[i, j] >= cfg.merge_delta_e:
            if mass[small] >= cfg.min_share * mass.sum():
                break
            i, j = small, int(np.argmin(d[small]))
        total = mass[i] + mass[j]
        centres[i] = (centres[i] * mass[i] + centres[j] * mass[j]) / total
        mass[i] = total
        centres = np.delete(centres, j, axis=0)
        mass = np.delete(mass, j)
    return centres, mass


def _weights(shape: tuple[int, int], sigma: float) -> np.ndarray:
    h, w = shape
    if sigma <= 0:
        return np.ones((h, w))
    yy, xx = np.mgrid[0:h, 0:w]
    r2 = ((yy - (h - 1) / 2) ** 2 + (xx - (w - 1) / 2) ** 2) / max(1.0, (h / 2) ** 2 + (w / 2) ** 2)
    return np.exp(-r2 / (2 * sigma**2))


def garment_clusters(
    pixels: Pixels, cfg: PaletteConfig
) -> tuple[np.ndarray, np.ndarray, str, float]:
    """(CIELAB centres, shares summing to 1, fallback, garment share) of ``pixels``, unnamed."""
    from scipy import ndimage

    bins = _bins(pixels.rgb)
    h, w = bins.of_pixel.shape
    fallback = ""
    if pixels.opaque is not None and not pixels.opaque.all():
        garment = pixels.opaque
    else:
        backdrop = _backdrop(bins, cfg.backdrop_delta_e)
        if backdrop is None:
            garment, fallback = np.ones((h, w), dtype=bool), "all"
        else:
            garment = ~backdrop
    garment_share = float(garment.mean())
    if garment_share < cfg.min_garment or not garment.any():
        garment = np.zeros((h, w), dtype=bool)
        garment[h // 4 : max(h // 4 + 1, 3 * h // 4), w // 4 : max(w // 4 + 1, 3 * w // 4)] = True
        fallback, garment_share = "centre", float(garment.mean())
    core = garment & ~ndimage.binary_dilation(~garment, border_value=0)
    if core.sum() >= 0.5 * garment.sum():
        garment = core  # anti-aliased rim pixels mix garment and backdrop colours
    pixel_w = _weights((h, w), cfg.centre_sigma)
    weight = np.bincount(bins.of_pixel[garment], weights=pixel_w[garment], minlength=len(bins.lab))
    used = weight > 0
    centres, mass, _ = cluster_colours(bins.lab[used], weight[used], k=cfg.n_colours, seed=cfg.seed)
    centres, mass = merge_clusters(centres, mass, cfg)
    skin = _skin_like(centres)
    if skin.any() and mass[~skin].sum() >= cfg.skin_keep_above * mass.sum():
        centres, mass = centres[~skin], mass[~skin]
    order = np.argsort(-mass, kind="stable")
    return centres[order], mass[order] / mass.sum(), fallback, garment_share


def image_palette(
    centres: np.ndarray, shares: np.ndarray, fallback: str = "", garment_share: float = 1.0
) -> ImagePalette:
    """Name clustered colours (largest share first) into an :class:`ImagePalette`."""
    return image_palettes([(centres, shares, fallback, garment_share)])[0]


def image_palettes(
    clusters: list[tuple[np.ndarray, np.ndarray, str, float]],
) -> list[ImagePalette]:
    """:func:`image_palette` of many images' :func:`garment_clusters`, named in one batch."""
    sizes = [len(c[0]) for c in clusters]
    every = np.concatenate([c[0] for c in clusters]) if sum(sizes) else np.zeros((0, 3))
    names = name_colours(every) if len(every) else []
    hexes = lab_to_hex(every) if len(every) else []
    out, start = [], 0
    for (centres, shares, fallback, garment_share), n in zip(clusters, sizes, strict=True):
        colours = tuple(
            Colour(
                lab=(round(float(c[0]), 2), round(float(c[1]), 2), round(float(c[2]), 2)),
                share=float(s),
                hex=hexes[start + i],
                name=names[start + i],
            )
            for i, (c, s) in enumerate(zip(centres, shares, strict=True))
        )
        out.append(ImagePalette(colours, fallback, garment_share))
        start += n
    return out


def extract_palette(
    image: str | os.PathLike[str] | Pixels, cfg: PaletteConfig | None = None
) -> ImagePalette:
    """The palette of one image (a path or decoded :class:`Pixels`); DataError if unreadable."""
    cfg = cfg or PaletteConfig()
    pixels = image if isinstance(image, Pixels) else read_pixels(image, cfg.max_side)
    return image_palette(*garment_clusters(pixels, cfg))
