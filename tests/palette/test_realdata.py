"""Palettes of real catalogue thumbnails (../shared/data/fpi-season; skipped when absent)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from stylecast.palette import palette

pytestmark = pytest.mark.realdata


def test_sixty_real_thumbnails(fpi_season: Path, tmp_path: Path) -> None:
    table = pd.read_csv(fpi_season / "manifest.csv", dtype=str, keep_default_na=False)
    sample = table.groupby("label").sample(30, random_state=0)
    sample["path"] = [str(fpi_season / p) for p in sample["path"]]
    sample.to_csv(tmp_path / "manifest.csv", index=False)
    r = palette(
        tmp_path / "manifest.csv",
        ["label", "baseColour"],
        out=tmp_path / "o",
        workers=1,
        progress=False,
    )
    assert r.n_images == 60 and r.skipped == ()
    rows = pd.read_csv(r.palettes_csv, keep_default_na=False)
    assert rows["path"].nunique() == 60
    assert rows.groupby("path")["share"].sum().round(3).eq(1.0).all()
    # Catalogue thumbnails sit on white: the backdrop is found on almost every one.
    first = rows[rows["rank"] == 1]
    assert (first["fallback"] == "").mean() > 0.9
    by_colour = {p.value: p for p in r.groupings[1].groups}
    if "Black" in by_colour:
        assert by_colour["Black"].neutrals[0].family in ("black", "grey", "olive")
