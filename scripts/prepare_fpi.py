"""Make the Fashion Product Images folders that the docs and benchmarks use.

Download "Fashion Product Images (Small)" (Kaggle, paramaggarwal/fashion-product-images-small)
and unzip it into SOURCE (styles.csv and images/), then:

    python scripts/prepare_fpi.py SOURCE --out data

writes data/fpi-season/, data/fpi-trends/ and data/fpi-catalogue.csv (what each holds:
stylecast/data/fpi.py). Train on them as the README does, e.g.
``stylecast train data/fpi-season --group-column group --out runs/season``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from stylecast.data.fpi import prepare_fpi  # noqa: E402
from stylecast.errors import StylecastError  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("source", help="the unzipped data set: styles.csv and images/")
    ap.add_argument("--out", default="data", help="where the folders go (default: data)")
    ap.add_argument("--seed", type=int, default=0, help="the samples' seed (default: 0)")
    args = ap.parse_args(argv)
    try:
        made = prepare_fpi(args.source, args.out, seed=args.seed)
    except StylecastError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(
        f"wrote {made.season} ({made.season_images} images), {made.trends} "
        f"({made.trend_images} images) and {made.catalogue}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
