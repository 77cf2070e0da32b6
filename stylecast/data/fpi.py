"""The Fashion Product Images folders of the docs and benchmarks, made from the public data set.

The data: "Fashion Product Images (Small)", Param Aggarwal's Kaggle data set of an Indian
fashion retailer's catalogue (44,446 products, 60x80 JPEG thumbnails; its licence is on its
Kaggle page, https://www.kaggle.com/datasets/paramaggarwal/fashion-product-images-small).
Download and unzip it: a folder with ``styles.csv`` and ``images/<id>.jpg``. Then
``python scripts/prepare_fpi.py SOURCE --out data`` writes:

- ``fpi-season/``: apparel of catalogue year 2011 only, ``FallWinter/`` (Fall and Winter tags)
  and ``SpringSummer/`` (Spring and Summer), balanced within each article type (as many
  FallWinter T-shirts as SpringSummer T-shirts, and so on), so that the category alone
  predicts nothing. ``manifest.csv``: ``path,label,id,gender,articleType,baseColour,season,
  year,usage,brand_guess,productDisplayName,group``; ``group`` is the product name, shared by
  a product's colour variants (keep a group on one side of a split).
- ``fpi-trends/``: apparel per (year, season) period from 2010 to 2017, up to 200 a period,
  in folders of the four season tags, with the same manifest columns.
- ``fpi-catalogue.csv``: every product's metadata (no images), for trend work.

The samples are drawn with a seed, so two runs give the same folders; they are the same
kind of folders as the project's own development copy, not the same images.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from stylecast.errors import DataError
from stylecast.fileio import atomic_write_text

__all__ = ["FpiFolders", "brand_guess", "prepare_fpi", "read_styles"]

COLUMNS = (
    "id",
    "gender",
    "masterCategory",
    "subCategory",
    "articleType",
    "baseColour",
    "season",
    "year",
    "usage",
    "productDisplayName",
)
TWO_SEASONS = {"Fall": "FallWinter", "Winter": "FallWinter", "Spring": "SpringSummer"}
TWO_SEASONS["Summer"] = "SpringSummer"
SEASON_YEAR = 2011
TREND_YEARS = range(2010, 2018)
PER_PERIOD = 200
MANIFEST = [
    "path",
    "label",
    "id",
    "gender",
    "articleType",
    "baseColour",
    "season",
    "year",
    "usage",
    "brand_guess",
    "productDisplayName",
    "group",
]
# The first gender word of a product name ends its brand ("Gini and Jony Kids Girls ...").
_GENDER = re.compile(r"\b(Men|Women|Boys?|Girls?|Kids|Unisex)(?:'s)?\b")


@dataclass(frozen=True)
class FpiFolders:
    """What :func:`prepare_fpi` wrote, and how many images each set holds."""

    season: Path
    trends: Path
    catalogue: Path
    season_images: int
    trend_images: int


def brand_guess(name: str) -> str:
    """The words of a product name before its first gender word ("" when none)."""
    match = _GENDER.search(name)
    return name[: match.start()].strip() if match else ""


def read_styles(source: str | os.PathLike[str]) -> pd.DataFrame:
    """``SOURCE/styles.csv`` with an image on disk for each row (DataError if it is not the
    data set's folder)."""
    root = Path(source)
    styles = root / "styles.csv"
    if not styles.is_file() or not (root / "images").is_dir():
        raise DataError(
            f"{root} is not the Fashion Product Images folder: it needs styles.csv and "
            "images/ (unzip the Kaggle download there)"
        )
    # A few product names hold commas without quotes: those rows are skipped.
    table = pd.read_csv(styles, on_bad_lines="skip", dtype={"id": str})
    missing = [c for c in COLUMNS if c not in table.columns]
    if missing:
        raise DataError(f"{styles} lacks the columns {', '.join(missing)}")
    table = table[list(COLUMNS)].dropna(subset=["id", "season", "year", "articleType"])
    table["year"] = table["year"].astype(int)
    table["productDisplayName"] = table["productDisplayName"].fillna("").astype(str)
    on_disk = table["id"].map(lambda i: (root / "images" / f"{i}.jpg").is_file())
    return table[on_disk].reset_index(drop=True)


def _balanced(apparel: pd.DataFrame, seed: int) -> pd.DataFrame:
    """As many of each label as the rarer one within each article type."""
    parts = []
    for _, rows in apparel.groupby("articleType", sort=True):
        counts = rows["label"].value_counts()
        if len(counts) < 2:
            continue
        n = int(counts.min())
        for label in sorted(counts.index):
            parts.append(rows[rows["label"] == label].sample(n=n, random_state=seed))
    if not parts:
        raise DataError(f"no article type of year {SEASON_YEAR} has both seasons")
    return pd.concat(parts, ignore_index=True)


def _write_set(rows: pd.DataFrame, source: Path, out: Path) -> int:
    rows = rows.sort_values(["label", "id"]).reset_index(drop=True)
    rows["path"] = rows["label"] + "/" + rows["id"] + ".jpg"
    rows["brand_guess"] = rows["productDisplayName"].map(brand_guess)
    rows["group"] = rows["productDisplayName"]
    for label in rows["label"].unique():
        (out / label).mkdir(parents=True, exist_ok=True)
    for image_id, path in zip(rows["id"], rows["path"], strict=True):
        shutil.copyfile(source / "images" / f"{image_id}.jpg", out / path)
    atomic_write_text(out / "manifest.csv", rows[MANIFEST].to_csv(index=False))
    return len(rows)


def prepare_fpi(
    source: str | os.PathLike[str], out: str | os.PathLike[str], *, seed: int = 0
) -> FpiFolders:
    """Write ``OUT/fpi-season``, ``OUT/fpi-trends`` and ``OUT/fpi-catalogue.csv`` from the
    data set's folder ``source`` (see the module's docstring). An existing target is a
    DataError: nothing is replaced."""
    root, dest = Path(source), Path(out)
    targets = (dest / "fpi-season", dest / "fpi-trends", dest / "fpi-catalogue.csv")
    taken = [str(t) for t in targets if t.exists()]
    if taken:
        raise DataError(f"{', '.join(taken)} exist already; choose another --out")
    table = read_styles(root)
    apparel = table[table["masterCategory"] == "Apparel"]
    season = apparel[(apparel["year"] == SEASON_YEAR) & apparel["season"].isin(TWO_SEASONS)]
    season = _balanced(season.assign(label=season["season"].map(TWO_SEASONS)), seed)
    trends = apparel[apparel["year"].isin(TREND_YEARS) & apparel["season"].isin(TWO_SEASONS)]
    periods = [
        rows.sample(n=min(PER_PERIOD, len(rows)), random_state=seed)
        for _, rows in trends.groupby(["year", "season"], sort=True)
    ]
    if not periods:
        raise DataError(f"{root}: no apparel of the years 2010-2017")
    trends = pd.concat(periods, ignore_index=True)
    trends = trends.assign(label=trends["season"])
    dest.mkdir(parents=True, exist_ok=True)
    n_season = _write_set(season, root, targets[0])
    n_trends = _write_set(trends, root, targets[1])
    atomic_write_text(targets[2], table[list(COLUMNS)].to_csv(index=False))
    return FpiFolders(*targets, n_season, n_trends)
