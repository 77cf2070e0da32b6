"""Sources: ImageFolders, manifests (CSV, Parquet) and given splits are found as they are."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from stylecast.data import IMAGE_EXTENSIONS, SPLITS, discover, printable_path, split_dataset
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


# Issue #11: nothing found at a source is lost without being counted and said.
LEAKY_SKIPPED = [
    ("stray.jpg", "no_label", "not in a class folder, so it has no label"),
    ("FallWinter/caf\\xe9.jpg", "unreadable_name", "unreadable name: not valid UTF-8"),
    ("SpringSummer/gone.jpg", "dangling_symlink", "dangling symlink: its target "),
]


def test_a_folder_reports_unreadable_names_dangling_links_and_stray_images(leaky: Path) -> None:
    ds = discover(leaky)
    assert len(ds) == 48 and ds.classes == ["FallWinter", "SpringSummer"]
    got = [(s["path"], s["kind"], s["reason"]) for s in ds.skipped]
    assert [g[:2] for g in got] == [e[:2] for e in LEAKY_SKIPPED]
    for (_, _, reason), (_, _, start) in zip(got, LEAKY_SKIPPED, strict=True):
        assert reason.startswith(start)
    assert got[2][2] == f"dangling symlink: its target {leaky / 'nowhere.jpg'} does not exist"
    assert ds.ignored == ["SpringSummer/gone.txt"]  # not an image by its name: ignored, counted
    for s in ds.skipped:
        s["path"].encode("utf-8")  # shown safely: every encoder accepts it


def test_presplit_folders_prefix_their_skips_with_the_split(tmp_path: Path) -> None:
    for split in ("train", "test"):
        for label in ("a", "b"):
            (tmp_path / split / label).mkdir(parents=True)
            Image.new("RGB", (20, 20)).save(tmp_path / split / label / "x.png")
    (tmp_path / "train" / "a" / "gone.png").symlink_to(tmp_path / "nothing.png")
    ds = discover(tmp_path)
    assert ds.kind == "presplit" and len(ds) == 4
    skipped = [(s["path"], s["kind"]) for s in ds.skipped]
    assert skipped == [("train/a/gone.png", "dangling_symlink")]


def test_a_manifest_reports_blank_labels_paths_folders_and_dangling_links(
    lookbook: Path, tmp_path: Path
) -> None:
    m = pd.read_csv(lookbook / "manifest.csv", dtype=str)
    m["path"] = [str(lookbook / p) for p in m["path"]]
    (tmp_path / "shoot").mkdir()
    (tmp_path / "dead.jpg").symlink_to(tmp_path / "nowhere.jpg")
    extra = pd.DataFrame(
        {
            "path": [m["path"][0], "", "shoot", "dead.jpg"],
            "label": ["  ", "FallWinter", "FallWinter", "SpringSummer"],
        }
    )
    pd.concat([m, extra], ignore_index=True).to_csv(tmp_path / "m.csv", index=False)
    ds = discover(tmp_path / "m.csv")
    assert len(ds) == 48 and ds.kind == "manifest"
    assert ds.skipped == [
        {"path": m["path"][0], "kind": "blank_label", "reason": "blank label (m.csv line 50)"},
        {"path": "m.csv line 51", "kind": "blank_path", "reason": "blank path (line 51)"},
        {"path": "shoot", "kind": "folder", "reason": "is a folder, not an image"},
        {
            "path": "dead.jpg",
            "kind": "dangling_symlink",
            "reason": f"dangling symlink: its target {tmp_path / 'nowhere.jpg'} does not exist",
        },
    ]


def test_a_manifest_path_that_is_a_folder_is_not_called_missing(tmp_path: Path) -> None:
    for label in ("a", "b"):
        Image.new("RGB", (20, 20)).save(tmp_path / f"{label}.png")
    (tmp_path / "sub").mkdir()
    pd.DataFrame({"path": ["a.png", "b.png", "sub", "gone.jpg"], "label": list("abab")}).to_csv(
        tmp_path / "m.csv", index=False
    )
    with pytest.raises(DataError, match=r"^1 of 4 paths in .* do not exist, first: gone.jpg;"):
        discover(tmp_path / "m.csv")


def test_a_symlink_to_an_unreadable_name_is_skipped(tmp_path: Path) -> None:
    from tests.data.conftest import write_unreadable_name

    root = tmp_path / "data"
    for label in ("a", "b"):
        (root / label).mkdir(parents=True)
        Image.new("RGB", (20, 20)).save(root / label / "x.png")
    target = write_unreadable_name(tmp_path, b"", b"t\xff.png")  # outside the data folder
    (root / "a" / "link.png").symlink_to(target)
    ds = discover(root)
    assert [(s["path"], s["kind"]) for s in ds.skipped] == [("a/link.png", "unreadable_name")]
    assert len(ds) == 2


def test_only_skipped_inputs_is_an_error_that_names_the_first(tmp_path: Path) -> None:
    from tests.data.conftest import write_unreadable_name

    for label in ("a", "b"):
        (tmp_path / label).mkdir()
        write_unreadable_name(tmp_path / label, b"x")
    with pytest.raises(
        DataError, match=r"no images found in .* \(2 skipped, first: a/caf\\xe9.jpg: unreadable"
    ):
        discover(tmp_path)


def test_a_data_path_that_is_not_utf8_is_one_clear_error(tmp_path: Path) -> None:
    bad = os.fsdecode(os.path.join(os.fsencode(tmp_path), b"caf\xe9"))
    os.mkdir(bad)
    with pytest.raises(DataError, match=r"the data path .*caf\\xe9 is not valid UTF-8"):
        discover(bad)


def test_printable_path_escapes_only_what_utf8_cannot_write() -> None:
    assert printable_path("FallWinter/café.jpg") == "FallWinter/café.jpg"
    assert printable_path(os.fsdecode(b"caf\xe9.jpg")) == "caf\\xe9.jpg"
    assert printable_path(Path(os.fsdecode(b"a/\xff\xfe.png"))) == "a/\\xff\\xfe.png"
    assert printable_path(b"caf\xe9.jpg") == "caf\\xe9.jpg"
    assert printable_path("lone\ud800") == "lone\\ud800"


# --------------------------------------------------------------- issue 25.9: manifest columns


def test_label_column_chooses_the_labels_and_keeps_the_column(lookbook: Path) -> None:
    ds = discover(lookbook, label_column="garment")
    assert ds.classes == sorted(pd.read_csv(lookbook / "manifest.csv")["garment"].unique())
    assert list(ds.table["label"]) == list(ds.table["garment"])
    assert len(ds) == 48 and "garment" in ds.table.columns


def test_path_and_label_columns_of_a_catalogue_style_manifest(
    lookbook: Path, tmp_path: Path
) -> None:
    table = pd.read_csv(lookbook / "manifest.csv")
    table["file"] = [str((lookbook / p).resolve()) for p in table["path"]]
    table = table.rename(columns={"label": "season"}).drop(columns=["path"])
    table.to_csv(tmp_path / "catalogue.csv", index=False)
    with pytest.raises(DataError, match=r"--path-column"):
        discover(tmp_path / "catalogue.csv")  # the message says which flags choose columns
    ds = discover(tmp_path / "catalogue.csv", path_column="file", label_column="season")
    assert ds.classes == ["FallWinter", "SpringSummer"] and len(ds) == 48
    assert list(ds.table["relpath"]) == list(table["file"])


def test_a_missing_column_or_a_folder_without_manifest_is_one_clear_error(
    lookbook: Path, lookbook_folder: Path
) -> None:
    with pytest.raises(DataError, match=r"--label-column 'seasn' is not a column of .*garment"):
        discover(lookbook, label_column="seasn")
    with pytest.raises(DataError, match=r"--label-column needs a manifest"):
        discover(lookbook_folder, label_column="garment")


def test_a_folder_of_data_sets_is_noticed(lookbook: Path, tmp_path: Path) -> None:
    sets = tmp_path / "sets"
    for name in ("ss", "fw"):
        shutil.copytree(lookbook, sets / name)
    ds = discover(sets)
    assert ds.warnings and "fw/manifest.csv" in ds.warnings[0]
    assert "data sets" in ds.warnings[0]
    assert discover(lookbook).warnings == []
