from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from stylecast.data.pipeline import (
    ImageCache,
    discover,
    letterbox,
    load_image,
    prepare_images,
    split_dataset,
)
from stylecast.errors import DataError


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


def test_split_is_stratified_grouped_and_seeded(lookbook: Path) -> None:
    table = discover(lookbook).table
    a = split_dataset(table, val_fraction=0.2, test_fraction=0.2, seed=0, group_column="group")
    b = split_dataset(table, val_fraction=0.2, test_fraction=0.2, seed=0, group_column="group")
    c = split_dataset(table, val_fraction=0.2, test_fraction=0.2, seed=1, group_column="group")
    assert list(a) == list(b)
    assert list(a) != list(c)
    frame = table.assign(split=a.to_numpy())
    assert frame.groupby("group")["split"].nunique().max() == 1
    counts = pd.crosstab(frame["label"], frame["split"])
    assert (counts > 0).all().all()  # every class in every split


def test_too_few_images_for_the_split_says_how_many(tmp_path: Path) -> None:
    table = pd.DataFrame({"path": list("abcd"), "relpath": list("abcd"), "label": list("xxyy")})
    with pytest.raises(DataError, match="class 'x' has 2 images but .* needs at least 3"):
        split_dataset(table, val_fraction=0.2, test_fraction=0.2, seed=0)


def test_letterbox_keeps_the_whole_image() -> None:
    img = Image.new("RGB", (60, 80), (200, 0, 0))
    arr = letterbox(img, 64)
    assert arr.shape == (64, 64, 3) and arr.dtype == np.uint8
    assert tuple(arr[32, 32]) == (200, 0, 0)  # centre is the image
    assert tuple(arr[32, 0]) == (255, 255, 255)  # sides are padding, nothing cropped
    assert (arr[:, :, 1] == 0).sum() == 48 * 64  # 60x80 scaled to 48x64


def test_load_image_converts_modes(tmp_path: Path) -> None:
    Image.new("RGBA", (20, 20), (0, 0, 0, 0)).save(tmp_path / "t.png")
    assert load_image(tmp_path / "t.png").getpixel((5, 5)) == (255, 255, 255)
    Image.new("L", (20, 20), 7).save(tmp_path / "g.png")
    assert load_image(tmp_path / "g.png").getpixel((5, 5)) == (7, 7, 7)
    (tmp_path / "z.jpg").write_bytes(b"")
    with pytest.raises(DataError, match="empty file"):
        load_image(tmp_path / "z.jpg")


def test_cache_decodes_once_and_skips_broken_files(tmp_path: Path, lookbook: Path) -> None:
    table = discover(lookbook).table.iloc[:10].copy()
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff not really a jpeg")
    table = pd.concat(
        [table, pd.DataFrame({"path": [str(broken)], "relpath": ["broken.jpg"], "label": ["x"]})],
        ignore_index=True,
    )
    cache = ImageCache(tmp_path / "cache")
    first = prepare_images(table, 32, cache=cache, progress=False)
    assert first.pixels.shape == (10, 32, 32, 3)
    assert [s["path"] for s in first.skipped] == ["broken.jpg"]
    second = prepare_images(table, 32, cache=cache, progress=False)
    assert second.cache_file == first.cache_file
    assert isinstance(second.pixels, np.memmap)
    assert np.array_equal(np.asarray(first.pixels), np.asarray(second.pixels))
