"""scripts/prepare_fpi.py and stylecast.data.fpi: the data set's folders from its download."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from stylecast.data import fpi
from stylecast.errors import DataError

ROOT = Path(__file__).resolve().parents[2]


def _download(root: Path) -> Path:
    """A small stand-in for the Kaggle folder: styles.csv (with a bad line) and images/."""
    rows, n = [], 0
    rng = np.random.default_rng(0)
    plan = [  # (masterCategory, articleType, season, year, how many)
        ("Apparel", "Tshirts", "Fall", 2011, 5),
        ("Apparel", "Tshirts", "Summer", 2011, 3),
        ("Apparel", "Tshirts", "Winter", 2011, 1),
        ("Apparel", "Shirts", "Spring", 2011, 4),  # no FallWinter shirts: left out
        ("Apparel", "Jeans", "Summer", 2012, 6),
        ("Apparel", "Jeans", "Fall", 2016, 2),
        ("Footwear", "Shoes", "Fall", 2011, 4),  # not apparel
        ("Apparel", "Tshirts", "Fall", 2018, 2),  # outside 2010-2017
    ]
    (root / "images").mkdir(parents=True)
    for master, kind, season, year, count in plan:
        for _ in range(count):
            n += 1
            name = f"Roadster Men Solid {kind} {n}" if n % 2 else f"Gini and Jony Girls {kind}"
            rows.append(f"{n},Men,{master},Topwear,{kind},Blue,{season},{year},Casual,{name}")
            pixels = rng.integers(0, 255, (80, 60, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(root / "images" / f"{n}.jpg")
    header = "id,gender,masterCategory,subCategory,articleType,baseColour,season,year,usage,"
    bad = "999,Men,Apparel,Topwear,Tshirts,Blue,Fall,2011,Casual,Name, with, commas"
    text = header + "productDisplayName\n" + "\n".join([*rows, bad]) + "\n"
    (root / "styles.csv").write_text(text)
    return root


def test_the_folders_follow_the_rules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = _download(tmp_path / "download")
    monkeypatch.setattr(fpi, "PER_PERIOD", 4)
    made = fpi.prepare_fpi(source, tmp_path / "data")
    season = pd.read_csv(made.season / "manifest.csv", dtype={"id": str})
    assert list(season.columns) == fpi.MANIFEST
    # 2011 apparel, two seasons, balanced within the article type: 3 T-shirts a side.
    assert set(season["year"]) == {2011} and set(season["articleType"]) == {"Tshirts"}
    assert season["label"].value_counts().to_dict() == {"FallWinter": 3, "SpringSummer": 3}
    assert all((made.season / p).is_file() for p in season["path"])
    assert set(season["brand_guess"]) <= {"Roadster", "Gini and Jony"}
    assert (season["group"] == season["productDisplayName"]).all()
    trends = pd.read_csv(made.trends / "manifest.csv", dtype={"id": str})
    per_period = trends.groupby(["year", "season"]).size().to_dict()
    assert per_period == {
        (2011, "Fall"): 4,
        (2011, "Summer"): 3,
        (2011, "Winter"): 1,
        (2011, "Spring"): 4,
        (2012, "Summer"): 4,
        (2016, "Fall"): 2,
    }
    assert set(trends["label"]) == {"Fall", "Spring", "Summer", "Winter"}
    assert all((made.trends / p).is_file() for p in trends["path"])
    catalogue = pd.read_csv(made.catalogue)
    assert len(catalogue) == 27 and list(catalogue.columns) == list(fpi.COLUMNS)
    # The same seed makes the same folders; an existing target is never replaced.
    with pytest.raises(DataError, match="exist already"):
        fpi.prepare_fpi(source, tmp_path / "data")
    again = fpi.prepare_fpi(source, tmp_path / "again")
    assert (again.season / "manifest.csv").read_text() == (made.season / "manifest.csv").read_text()


def test_brand_guess() -> None:
    assert fpi.brand_guess("Gini and Jony Kids Girls Solid Purple Capris") == "Gini and Jony"
    assert fpi.brand_guess("Status Quo Men's Concerts Mulberry T-shirt") == "Status Quo"
    assert fpi.brand_guess("Plain White Shirt") == ""


def test_the_script_says_what_is_wrong_in_one_line(tmp_path: Path) -> None:
    script = ROOT / "scripts" / "prepare_fpi.py"
    res = subprocess.run(
        [sys.executable, str(script), str(tmp_path), "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
    )
    assert res.returncode == 1 and res.stderr.count("\n") == 1
    assert "is not the Fashion Product Images folder: it needs styles.csv and images/" in res.stderr
    source = _download(tmp_path / "download")
    res = subprocess.run(
        [sys.executable, str(script), str(source), "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
    )
    assert res.returncode == 0, res.stderr
    assert "fpi-season (6 images)" in res.stdout
