"""A small synthetic lookbook: garment images in two (or more) seasons, drawn from a seed.

Why this exists: ``stylecast demo`` must show the whole pipeline on a fresh machine with no
dataset, and the test suite needs a labelled image folder with real structure (product groups
for grouped splits, brands, periods for trend work) that is small, fast to make and identical on
every run. Real lookbooks cannot ship with the package, so we draw one.

Each image is one garment (tee, dress, coat, trousers) on a plain or softly graded studio
background. The season shows in the fabric, the way a buyer would see it: FallWinter is knit
chevrons and tartan in deep tones, SpringSummer is florals and stripes in light tones. Every
garment type occurs in every class (coats are only *more* common in FallWinter), so a model
has to look at colour and texture, not just the silhouette; an ImageNet-pretrained backbone
separates the classes easily, and even mean brightness gets far.

Structure a real catalogue has, and the rest of stylecast relies on:

* ``group``: about one product in four comes in two variants (same garment and fabric, a
  slightly different shade and framing). Variants share a group id, so a grouped split must
  keep them on one side.
* ``period``: the share of the later classes (SpringSummer in the two-class case) rises from
  the first period to the last, a trend for forecasting work to find.

Everything is drawn from one ``numpy.random.Generator(seed)``: the same seed gives
byte-identical files, and no global random state is touched.
"""

from __future__ import annotations

import csv
import io
import os
import pathlib

import numpy as np
from PIL import Image

from stylecast.demo.garments import FAMILIES, GARMENTS, Look, draw_garment, jitter
from stylecast.errors import ConfigError
from stylecast.fileio import atomic_path, atomic_write_text

__all__ = ["make_lookbook"]

MANIFEST_COLUMNS = ("path", "label", "group", "brand", "period", "garment", "colour")
BRANDS = ("Maison Aurel", "Kestrel", "Nordvik", "Solenne", "Atelier Ro")
_FORMATS = {"jpg": "JPEG", "jpeg": "JPEG", "png": "PNG"}
_VARIANT_SHARE = 0.25  # share of products that come in two variants
_MIN_SIDE = 32


def make_lookbook(
    out_dir: str | os.PathLike[str],
    n_per_class: int = 60,
    *,
    seed: int = 0,
    image_size: tuple[int, int] = (96, 128),
    classes: tuple[str, ...] = ("FallWinter", "SpringSummer"),
    periods: tuple[str, ...] = ("2021", "2022", "2023", "2024"),
    fmt: str = "jpg",
) -> pathlib.Path:
    """Draw ``n_per_class`` garment images per class into ``out_dir`` and write a manifest.

    Images go to ``out_dir/<label>/<label>_<index:04d>.<fmt>`` (an ImageFolder layout) and
    ``out_dir/manifest.csv`` lists them with columns ``path,label,group,brand,period,garment,
    colour`` (``path`` relative to ``out_dir`` with forward slashes). ``image_size`` is
    ``(width, height)``. Class ``i`` gets season family ``i`` (deep knits/tartan, light
    florals/stripes, earthy cord/dots, bright diagonals/zigzags), so up to four classes work.
    Existing files with the same names are replaced; other files are left alone.

    Returns the path of the manifest. Raises :class:`~stylecast.errors.ConfigError` (a
    ``ValueError``) for arguments that cannot produce a lookbook.
    """
    width, height, fmt_key = _validate(n_per_class, image_size, classes, periods, fmt)
    out = pathlib.Path(out_dir)
    rng = np.random.default_rng(seed)
    n_classes = len(classes)
    # Period weights per class: later classes grow over time, earlier ones shrink, so the
    # class mix drifts (SpringSummer share rises in the two-class case).
    t = np.linspace(-1.0, 1.0, len(periods)) if len(periods) > 1 else np.zeros(1)
    slopes = np.linspace(-1.0, 1.0, n_classes)

    rows: list[dict[str, str]] = []
    product = 0
    for ci, label in enumerate(classes):
        family = FAMILIES[ci]
        period_p = 1.0 + 0.6 * slopes[ci] * t
        period_p = period_p / period_p.sum()
        garment_p = np.asarray(family.garment_weights) / sum(family.garment_weights)
        colour_names = list(family.palette)
        index = 0
        while index < n_per_class:
            product += 1
            n_variants = 2 if (rng.random() < _VARIANT_SHARE and n_per_class - index >= 2) else 1
            garment = GARMENTS[int(rng.choice(len(GARMENTS), p=garment_p))]
            colour = colour_names[int(rng.integers(len(colour_names)))]
            period = periods[int(rng.choice(len(periods), p=period_p))]
            brand = BRANDS[int(rng.integers(len(BRANDS)))]
            pattern = family.patterns[int(rng.integers(len(family.patterns)))]
            base = jitter(family.palette[colour], rng, 8.0)
            pattern_seed = int(rng.integers(2**31))  # same fabric layout for all variants
            frame = rng.uniform(0.0, 1.0, 3)  # size and position of the garment in the shot
            for _ in range(n_variants):
                # A variant is the same product in a slightly different shade and framing.
                shade = jitter(base, rng, 10.0)
                framing = np.clip(frame + rng.normal(0.0, 0.08, 3), 0.0, 1.0)
                look = Look(garment, pattern, shade, family, pattern_seed, framing)
                img = draw_garment(rng, (width, height), look)
                rel = f"{label}/{label}_{index:04d}.{fmt}"
                with atomic_path(out / rel) as tmp:
                    _save(img, tmp, fmt_key)
                rows.append(
                    {
                        "path": rel,
                        "label": label,
                        "group": f"p{product:05d}",
                        "brand": brand,
                        "period": period,
                        "garment": garment,
                        "colour": colour,
                    }
                )
                index += 1

    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=MANIFEST_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    manifest = out / "manifest.csv"
    atomic_write_text(manifest, buf.getvalue())
    return manifest


def _validate(
    n_per_class: int,
    image_size: tuple[int, int],
    classes: tuple[str, ...],
    periods: tuple[str, ...],
    fmt: str,
) -> tuple[int, int, str]:
    if isinstance(n_per_class, bool) or not isinstance(n_per_class, (int, np.integer)):
        raise ConfigError(f"n_per_class must be an integer, got {n_per_class!r}")
    if n_per_class < 1:
        raise ConfigError(f"n_per_class must be at least 1, got {n_per_class}")
    classes = tuple(classes)
    if len(classes) < 2:
        raise ConfigError(f"need at least 2 classes, got {classes!r}")
    if len(classes) > len(FAMILIES):
        raise ConfigError(
            f"make_lookbook can draw at most {len(FAMILIES)} classes (one palette and pattern "
            f"family each), got {len(classes)}: {classes!r}; pass fewer classes"
        )
    if len(set(classes)) != len(classes):
        raise ConfigError(f"class names must be unique, got {classes!r}")
    for name in classes:
        if (
            not isinstance(name, str)
            or not name.strip()
            or name in (".", "..")
            or "/" in name
            or "\\" in name
        ):
            raise ConfigError(
                f"class name {name!r} cannot be a folder name; use plain names like 'FallWinter'"
            )
    periods = tuple(periods)
    if not periods:
        raise ConfigError("periods must name at least one period, e.g. ('2023', '2024')")
    try:
        width, height = (int(v) for v in image_size)
    except (TypeError, ValueError):
        raise ConfigError(f"image_size must be (width, height), got {image_size!r}") from None
    if width < _MIN_SIDE or height < _MIN_SIDE:
        raise ConfigError(
            f"image_size must be at least {_MIN_SIDE}x{_MIN_SIDE} pixels, got {width}x{height}"
        )
    fmt_key = _FORMATS.get(str(fmt).lower())
    if fmt_key is None:
        raise ConfigError(f"fmt must be one of {sorted(_FORMATS)}, got {fmt!r}")
    return width, height, fmt_key


def _save(img: Image.Image, path: pathlib.Path, fmt_key: str) -> None:
    # The temporary file ends in '.tmp', so name the format explicitly.
    if fmt_key == "JPEG":
        img.save(path, format="JPEG", quality=92)
    else:
        img.save(path, format=fmt_key)
