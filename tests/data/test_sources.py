"""Sources: ImageFolders, manifests (CSV, Parquet) and given splits are found as they are."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from stylecast.data import IMAGE_EXTENSIONS, SPLITS, discover, split_dataset
from stylecast.errors import DataError
from tests._data_fixtures import BAD_FILES

GOOD_EXTRA = [
    "a/palette.png",
    "a/alpha.png",
    "a/gray.png",
    "a/photo.webp",
    "a/cmyk.jpg",
    "b/deep16.png",
    "b/anim.gif",
    "b/green.bmp",
    "b/navy.tiff",
    "b/actually_png.jpg",
    "b/rotated.jpg",
]


def test_manifest_folder_keeps_extra_columns(lookbook: Path) -> None:
    ds = discover(lookbook)
    assert ds.kind == "manifest" and len(ds) == 48
    assert ds.classes == ["FallWinter", "SpringSummer"]
    assert {"group", "brand", "period"} <= set(ds.table.columns)
    assert all(Path(p).is_absolute() and Path(p).is_file() for p in ds.table["path"])


def test_image_folder_and_presplit(lookbook_folder: Path, tmp_path: Path) -> None:
    ds = discover(lookbook_folder)
    assert ds.kind == "folder" and len(ds) == 48
    for split in ("train", "test"):
        for label in ("a", "b"):
            (tmp_path / split / label).mkdir(parents=True)
            Image.new("RGB", (20, 20)).save(tmp_path / split / label / "x.png")
    ds = discover(tmp_path)
    assert ds.kind == "presplit"
    assert sorted(ds.table["split"].unique()) == ["test", "train"]
    assert list(split_dataset(ds.table, val_fraction=0.1, test_fraction=0.1, seed=0)) == list(
        ds.table["split"]
    )


def test_manifest_with_missing_paths_lists_first_and_count(tmp_path: Path) -> None:
    (tmp_path / "a.png").write_bytes(b"")
    pd.DataFrame({"path": ["a.png", "gone1.jpg", "gone2.jpg"], "label": ["x", "y", "y"]}).to_csv(
        tmp_path / "m.csv", index=False
    )
    with pytest.raises(
        DataError, match=r"2 of 3 paths .* do not exist, first: gone1.jpg, gone2.jpg"
    ):
        discover(tmp_path / "m.csv")


def test_folder_finds_nested_upper_case_and_every_format(messy: Path) -> None:
    ds = discover(messy)
    rel = set(ds.table["relpath"])
    assert ds.kind == "folder" and ds.classes == ["a", "b"]
    assert "a/nested/deeper/plain_0.JPG" in rel and "b/nested/deeper/plain_5.JPG" in rel
    assert set(GOOD_EXTRA) <= rel and set(BAD_FILES) <= rel
    assert len(ds) == 12 + len(GOOD_EXTRA) + len(BAD_FILES)
    assert ds.ignored == ["a/notes.txt"]
    assert dict(zip(ds.table["relpath"], ds.table["label"], strict=True))["b/anim.gif"] == "b"


def test_parquet_manifest_keeps_extra_columns(lookbook: Path, tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    manifest = pd.read_csv(lookbook / "manifest.csv")
    manifest["year"] = 2020 + np.arange(len(manifest)) % 3  # a non-string column
    shutil.copytree(lookbook / "FallWinter", tmp_path / "imgs" / "FallWinter")
    shutil.copytree(lookbook / "SpringSummer", tmp_path / "imgs" / "SpringSummer")
    manifest["path"] = "imgs/" + manifest["path"]
    manifest.to_parquet(tmp_path / "looks.parquet")
    ds = discover(tmp_path / "looks.parquet")
    assert ds.kind == "manifest" and len(ds) == 48 and ds.source == tmp_path.resolve()
    assert {"group", "brand", "period", "garment", "colour", "year"} <= set(ds.table.columns)
    assert ds.table["relpath"].iloc[0].startswith("imgs/")
    assert all(Path(p).is_file() for p in ds.table["path"])


def test_manifest_with_a_split_column_is_presplit(lookbook: Path, tmp_path: Path) -> None:
    m = pd.read_csv(lookbook / "manifest.csv")
    m["path"] = [str(lookbook / p) for p in m["path"]]  # absolute paths work too
    m["split"] = np.where(np.arange(len(m)) % 4 == 0, "test", "train")
    m.to_csv(tmp_path / "m.csv", index=False)
    ds = discover(tmp_path / "m.csv")
    assert ds.kind == "presplit" and (ds.table["split"] == "test").sum() == 12
    m.loc[0, "split"] = "holdout"
    m.to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(DataError, match=r"values \['holdout'\]; use train/val/test"):
        discover(tmp_path / "bad.csv")


def test_manifest_needs_path_and_label(tmp_path: Path) -> None:
    pd.DataFrame({"file": ["a.jpg"], "season": ["x"]}).to_csv(tmp_path / "m.csv", index=False)
    with pytest.raises(DataError, match="needs columns 'path' and 'label'; missing path, label"):
        discover(tmp_path / "m.csv")


def test_public_constants() -> None:
    assert SPLITS == ("train", "val", "test")
    assert IMAGE_EXTENSIONS == (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff", ".gif")


def test_one_class_and_no_images_are_errors(tmp_path: Path) -> None:
    (tmp_path / "only").mkdir()
    Image.new("RGB", (20, 20)).save(tmp_path / "only" / "x.png")
    with pytest.raises(DataError, match=r"holds only one class \('only'\)"):
        discover(tmp_path)
    with pytest.raises(DataError, match="neither a folder nor a .csv/.parquet manifest"):
        discover(tmp_path / "only" / "x.png")
