"""Sources and files: every image kind is found, converted to RGB, or reported and skipped."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from stylecast.data.pipeline import (
    ImageCache,
    check_data,
    discover,
    file_digest,
    load_image,
    prepare_images,
)
from stylecast.errors import DataError
from tests._data_fixtures import BAD_FILES, write_bad_files, write_good_files

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


@pytest.fixture(scope="module")
def messy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An ImageFolder with nested folders, upper-case extensions, every mode and bad files."""
    root = tmp_path_factory.mktemp("messy")
    write_good_files(root)
    write_bad_files(root)
    (root / "a" / "notes.txt").write_text("not an image by its name: ignored")
    return root


@pytest.fixture(scope="module")
def messy_check(messy: Path, tmp_path_factory: pytest.TempPathFactory):
    cache = ImageCache(tmp_path_factory.mktemp("cache-messy"))
    return check_data(messy, progress=False, cache=cache, workers=1)


def test_folder_finds_nested_upper_case_and_every_format(messy: Path) -> None:
    ds = discover(messy)
    rel = set(ds.table["relpath"])
    assert ds.kind == "folder" and ds.classes == ["a", "b"]
    assert "a/nested/deeper/plain_0.JPG" in rel and "b/nested/deeper/plain_5.JPG" in rel
    assert set(GOOD_EXTRA) <= rel and set(BAD_FILES) <= rel
    assert len(ds) == 12 + len(GOOD_EXTRA) + len(BAD_FILES)
    assert ds.ignored == ["a/notes.txt"]
    assert dict(zip(ds.table["relpath"], ds.table["label"], strict=True))["b/anim.gif"] == "b"


def test_every_bad_file_kind_is_reported_and_skipped(messy_check) -> None:  # noqa: ANN001
    report = messy_check.report
    skipped = {s["path"]: s["kind"] for s in report["skipped"]}
    assert skipped == BAD_FILES
    assert report["n_files"] == 29 and report["n_images"] == 23 and report["n_skipped"] == 6
    assert report["skipped_by_kind"] == {
        "empty": 1,
        "not_image": 2,
        "too_large": 1,
        "too_small": 1,
        "truncated": 1,
    }
    reasons = {s["path"]: s["reason"] for s in report["skipped"]}
    assert "HTML" in reasons["a/page.jpg"]
    assert "89,478,485 pixels" in reasons["b/bomb.png"]
    assert reasons["b/tiny.png"] == "too small (4x4 px)"
    # Readable but named after another format: kept and reported.
    assert report["mismatched"] == {
        "count": 1,
        "files": [{"path": "b/actually_png.jpg", "extension": ".jpg", "format": "PNG"}],
    }
    assert report["classes"] == {"a": 11, "b": 12}
    assert report["imbalance"] == pytest.approx(12 / 11, abs=1e-3)
    assert report["exif_rotated"] == 1 and report["animated"] == 1
    assert report["converted_to_rgb"] == {
        "16-bit": 1,
        "CMYK": 1,
        "alpha": 1,
        "grayscale": 1,
        "palette": 2,  # the PNG palette and the GIF
    }
    assert report["ignored_files"] == {"count": 1, "first": ["a/notes.txt"]}


def test_prepare_images_skips_the_same_files_and_keeps_the_rest(
    messy: Path, tmp_path: Path
) -> None:
    table = discover(messy).table
    prepared = prepare_images(table, 32, cache=ImageCache(tmp_path), progress=False, workers=1)
    assert {s["path"]: s["kind"] for s in prepared.skipped} == BAD_FILES
    assert prepared.pixels.shape == (23, 32, 32, 3)
    assert len(prepared.table) == len(prepared.infos) == 23
    assert not set(BAD_FILES) & set(prepared.table["relpath"])
    # The rotated 60x30 file is portrait after EXIF orientation: padded left and right.
    row = int(np.flatnonzero(prepared.table["relpath"] == "b/rotated.jpg")[0])
    px = np.asarray(prepared.pixels[row])
    assert tuple(px[16, 0]) == (255, 255, 255) and tuple(px[0, 16]) != (255, 255, 255)


@pytest.mark.parametrize(
    ("name", "pixel", "expected"),
    [
        ("a/alpha.png", (30, 5), (255, 255, 255)),  # transparent half composited on white
        ("a/alpha.png", (5, 5), (200, 0, 0)),
        ("a/gray.png", (5, 5), (77, 77, 77)),
        ("a/cmyk.jpg", (5, 5), (255, 0, 0)),  # C=0 M=255 Y=255 K=0 is red
        ("b/deep16.png", (5, 5), (127, 127, 127)),  # 32767 of 65535, not stretched to white
        ("b/anim.gif", (5, 5), (0, 0, 250)),  # the first frame
        ("b/green.bmp", (5, 5), (0, 128, 0)),
        ("b/navy.tiff", (5, 5), (0, 0, 128)),
    ],
)
def test_modes_are_converted_to_rgb(messy: Path, name: str, pixel, expected) -> None:  # noqa: ANN001
    img = load_image(messy / name)
    assert img.mode == "RGB"
    assert img.getpixel(pixel) == pytest.approx(expected, abs=2)


def test_palette_and_exif_rotation(messy: Path) -> None:
    pal = load_image(messy / "a/palette.png")
    ref = Image.open(messy / "a/palette.png").convert("RGB")
    assert pal.mode == "RGB" and pal.getpixel((10, 10)) == ref.getpixel((10, 10))
    assert load_image(messy / "b/rotated.jpg").size == (30, 60)  # stored 60x30, orientation 6


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_load_image_raises_a_data_error_naming_the_file(messy: Path, name: str) -> None:
    with pytest.raises(DataError, match=Path(name).name):
        load_image(messy / name)


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


def test_digests_follow_file_content(tmp_path: Path) -> None:
    from stylecast.data.store import FileIndex

    p = tmp_path / "x.png"
    Image.new("RGB", (20, 20), (1, 2, 3)).save(p)
    index = FileIndex(tmp_path / "cache")
    first = index.digests([str(p)])
    assert first == [file_digest(p)] and index.digests([str(p)]) == first
    Image.new("RGB", (20, 20), (9, 9, 9)).save(p)  # same size on disk, new content
    assert index.digests([str(p)]) == [file_digest(p)] != first
