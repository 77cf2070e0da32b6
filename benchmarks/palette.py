"""Palettes against the catalogue's own colour labels, beside a naive baseline (issue #12).

Every image of ../shared/data/fpi-season (and fpi-trends, which was not used to choose the
settings) gets its palette with stylecast's defaults. The catalogue's ``baseColour`` (the
product's main colour, e.g. "Navy Blue") is mapped to colornamer families by the table
``BASE_FAMILIES`` below; an image *agrees* when the family of its palette's first colour
(the largest share of the garment) is one of them. The naive baseline, measured in the
same run with the same naming and table: the mean colour of the whole image, backdrop and
all. Also printed: the rule "first non-neutral colour, else the first", and images/s of
the whole extraction (decode, backdrop, clusters, names) in one process and with workers.
Targets: at least 20 points above the naive baseline, at least 200 images/s on 2 cores.

Usage:  python benchmarks/palette.py [--data DIR ...] [--workers N] [--limit N] [--write-doc]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from _doc import require, shared_data  # noqa: E402

from stylecast.palette import PaletteConfig  # noqa: E402
from stylecast.palette.extract import image_palettes  # noqa: E402
from stylecast.palette.naming import name_colours, rgb_to_lab  # noqa: E402
from stylecast.palette.pixels import read_pixels  # noqa: E402
from stylecast.palette.stage import extract_clusters  # noqa: E402

# The catalogue's colour names as colornamer families (for this benchmark only). Hue names
# take the families of that hue; colornamer files its darkest greys ("charcoal") under
# olive and shows catalogue pinks as red, violet red or red violet (it has no pink family);
# "Multi", "Skin", "Nude", "Silver", "Metallic" and the like are left out.
BASE_FAMILIES: dict[str, set[str]] = {
    "Black": {"black", "grey", "olive"},
    "Charcoal": {"black", "grey", "olive"},
    "Grey": {"grey", "black", "olive", "white"},
    "Grey Melange": {"grey", "white"},
    "White": {"white"},
    "Off White": {"white", "yellow"},
    "Cream": {"yellow", "white", "khaki"},
    "Beige": {"khaki", "yellow", "yellow ochre"},
    "Blue": {"blue", "violet blue", "green blue"},
    "Navy Blue": {"blue", "violet blue"},
    "Turquoise Blue": {"green blue", "blue green"},
    "Teal": {"green blue", "blue green"},
    "Red": {"red", "orange red", "violet red"},
    "Maroon": {"red", "red violet", "violet red"},
    "Burgundy": {"red", "red violet", "violet red"},
    "Pink": {"red", "violet red", "red violet"},
    "Rose": {"red", "violet red"},
    "Magenta": {"red violet", "violet red"},
    "Mauve": {"violet red", "red violet"},
    "Purple": {"purple", "blue violet", "red violet"},
    "Lavender": {"purple", "blue violet", "violet blue"},
    "Green": {"green", "blue green", "yellow green"},
    "Sea Green": {"blue green", "green"},
    "Lime Green": {"green", "green yellow"},
    "Olive": {"olive", "yellow green"},
    "Yellow": {"yellow", "green yellow", "orange yellow"},
    "Mustard": {"orange yellow", "yellow orange", "yellow ochre"},
    "Gold": {"yellow", "orange yellow", "yellow ochre"},
    "Orange": {"orange", "yellow orange", "red orange"},
    "Peach": {"red orange", "orange"},
    "Rust": {"sienna", "red orange", "orange red"},
    "Brown": {"brown", "sienna", "khaki"},
    "Coffee Brown": {"brown", "sienna"},
    "Mushroom Brown": {"brown", "khaki"},
    "Tan": {"khaki", "orange yellow", "yellow ochre"},
    "Khaki": {"khaki", "olive"},
    "Taupe": {"khaki", "brown"},
}


def naive_families(paths: list[str], cfg: PaletteConfig) -> list[str]:
    """The family of each whole image's mean colour (the baseline)."""
    means = np.array([read_pixels(p, cfg.max_side).rgb.reshape(-1, 3).mean(0) for p in paths])
    return [n.family for n in name_colours(rgb_to_lab(means))]


def measure(data: Path, workers: int, limit: int) -> dict:
    table = pd.read_csv(data / "manifest.csv", dtype=str, keep_default_na=False)
    if limit:
        table = table.sample(min(limit, len(table)), random_state=0)
    paths = [str(data / p) for p in table["path"]]
    cfg = PaletteConfig()
    speed = {}
    for n in sorted({1, workers}):
        t0 = time.perf_counter()
        clusters = extract_clusters(paths, cfg, workers=n, progress=False)
        palettes = image_palettes([c for c in clusters if not isinstance(c, str)])
        speed[n] = len(paths) / (time.perf_counter() - t0)
    skipped = sum(isinstance(c, str) for c in clusters)
    assert skipped == 0, f"{skipped} images unreadable"
    naive = naive_families(paths, cfg)
    wanted = [BASE_FAMILIES.get(c) for c in table["baseColour"]]
    scored = [i for i, w in enumerate(wanted) if w is not None]
    first = np.mean([palettes[i].first.name.family in wanted[i] for i in scored])
    colour = np.mean([palettes[i].first_colour.name.family in wanted[i] for i in scored])
    base = np.mean([naive[i] in wanted[i] for i in scored])
    by_colour = (
        pd.DataFrame(
            {
                "baseColour": [table["baseColour"].iloc[i] for i in scored],
                "palette": [palettes[i].first.name.family in wanted[i] for i in scored],
                "naive": [naive[i] in wanted[i] for i in scored],
            }
        )
        .groupby("baseColour")
        .agg(images=("palette", "size"), palette=("palette", "mean"), naive=("naive", "mean"))
        .sort_values("images", ascending=False)
    )
    fallbacks = pd.Series([p.fallback or "-" for p in palettes]).value_counts().to_dict()
    return {
        "data": data.name,
        "images": len(paths),
        "scored": len(scored),
        "first": float(first),
        "first_colour": float(colour),
        "naive": float(base),
        "speed": speed,
        "by_colour": by_colour,
        "fallbacks": fallbacks,
    }


def report(r: dict) -> str:
    speeds = ", ".join(
        f"{n} process{'es' if n > 1 else ''} {v:,.0f}" for n, v in r["speed"].items()
    )
    lines = [
        f"{r['data']}: {r['images']:,} images, {r['scored']:,} with a mapped baseColour",
        f"  agreement, first colour's family:        {r['first']:.3f}",
        f"  agreement, first non-neutral (or first): {r['first_colour']:.3f}",
        f"  naive baseline (mean colour of the image): {r['naive']:.3f}",
        f"  first colour vs naive: {100 * (r['first'] - r['naive']):+.1f} points",
        f"  images/s: {speeds}",
        f"  fallbacks: {r['fallbacks']}",
        "  by baseColour (10 largest): "
        + "; ".join(
            f"{k} {int(v.images)}: {v.palette:.2f} vs {v.naive:.2f}"
            for k, v in r["by_colour"].head(10).iterrows()
        ),
    ]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--data", nargs="+", default=[shared_data("fpi-season"), shared_data("fpi-trends")]
    )
    ap.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    ap.add_argument("--limit", type=int, default=0, help="a random sample of N images per set")
    ap.add_argument("--write-doc", action="store_true", help="write into docs/benchmarks.md")
    args = ap.parse_args()
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    texts = []
    for d in args.data:
        require(d)
        texts.append(report(measure(Path(d), args.workers, args.limit)))
        print(texts[-1], flush=True)
    if args.write_doc:
        from _doc import write_section

        body = (
            "Command: `python benchmarks/palette.py` (defaults of `stylecast palette`; the "
            "settings were chosen on a random 800-image sample of fpi-season, fpi-trends "
            "was not looked at). An image agrees when its palette's first colour (largest "
            "share of the garment) has a colornamer family that the catalogue's `baseColour` "
            "maps to (table in the script); the naive baseline names the mean colour of the "
            "whole image.\n\n```text\n" + "\n".join(texts) + "\n```\n"
        )
        print(f"wrote {write_section('Palettes against baseColour', body)}")


if __name__ == "__main__":
    main()
