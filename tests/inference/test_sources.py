"""stylecast.inference.sources: what predict reads (files, folders, manifests)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from stylecast.errors import DataError
from stylecast.inference import read_prediction_input


@pytest.fixture
def looks(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    (tmp_path / "imgs").mkdir()
    for name in ("a.png", "b.jpg"):
        Image.fromarray(rng.integers(0, 255, (40, 30, 3), dtype=np.uint8)).save(
            tmp_path / "imgs" / name
        )
    return tmp_path


def test_a_manifest_keeps_its_columns_and_order(looks: Path) -> None:
    manifest = looks / "list.csv"
    manifest.write_text(
        "id,path,period,brand\n7,imgs/b.jpg,2021,Kestrel\n8,imgs/a.png,2022,\n9,imgs/gone.jpg,2023,X\n"
    )
    inp = read_prediction_input([manifest])
    assert inp.source == "manifest"
    assert inp.columns == ["id", "period", "brand"]
    t = inp.table
    assert list(t.columns) == ["path", "relpath", "id", "period", "brand"]
    assert t["relpath"].tolist() == ["imgs/b.jpg", "imgs/a.png"]
    assert t["path"].tolist() == [str(looks / "imgs/b.jpg"), str(looks / "imgs/a.png")]
    assert t["id"].tolist() == ["7", "8"] and t["brand"].tolist() == ["Kestrel", ""]
    assert inp.skipped == [{"path": "imgs/gone.jpg", "kind": "missing", "reason": "does not exist"}]


def test_a_folder_with_manifest_csv_and_a_parquet_manifest(looks: Path) -> None:
    pd.DataFrame({"path": ["a.png"], "label": ["FallWinter"]}).to_csv(
        looks / "imgs" / "manifest.csv", index=False
    )
    inp = read_prediction_input([looks / "imgs"])
    assert inp.columns == ["label"] and inp.table["relpath"].tolist() == ["a.png"]
    pd.DataFrame({"path": ["imgs/a.png"], "year": [2011]}).to_parquet(looks / "m.parquet")
    inp = read_prediction_input([looks / "m.parquet"])
    assert inp.columns == ["year"] and inp.table["year"].tolist() == [2011]


def test_files_and_folders(looks: Path) -> None:
    inp = read_prediction_input([looks / "imgs"])
    assert inp.source == "files" and inp.columns == []
    assert inp.table["relpath"].tolist() == [str(looks / "imgs/a.png"), str(looks / "imgs/b.jpg")]
    (looks / "empty").mkdir()
    with pytest.raises(DataError, match="no images to predict"):
        read_prediction_input([looks / "empty"])
    with pytest.raises(DataError, match="does not exist"):
        read_prediction_input([looks / "nope.jpg"])


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("file,label\nimgs/a.png,x\n", "needs a 'path' column"),
        ("path,predicted\nimgs/a.png,x\n", "already has column\\(s\\) predicted"),
        ("path,p_FallWinter\nimgs/a.png,1\n", "already has column\\(s\\) p_FallWinter"),
        ("path\nimgs/gone.jpg\n\n", "no images to predict in"),
    ],
)
def test_bad_manifests_get_one_line(looks: Path, text: str, match: str) -> None:
    (looks / "bad.csv").write_text(text)
    with pytest.raises(DataError, match=match):
        read_prediction_input([looks / "bad.csv"])


@pytest.mark.realdata
def test_the_fpi_season_manifest_is_carried_whole(fpi_season: Path) -> None:
    inp = read_prediction_input([fpi_season])
    assert inp.source == "manifest" and len(inp.table) == 3582 and not inp.skipped
    assert inp.columns[:3] == ["label", "id", "gender"] and "baseColour" in inp.columns
