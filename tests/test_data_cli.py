"""`stylecast data check` and the data side of a run, as a user meets them (subprocesses)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from tests._data_fixtures import BAD_FILES, write_bad_files, write_good_files
from tests.conftest import run_cli


@pytest.fixture(scope="module")
def messy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("messy-cli")
    write_good_files(root)
    write_bad_files(root)
    return root


def test_data_check_prints_counts_and_writes_json(messy: Path, tmp_path: Path) -> None:
    res = run_cli("data", "check", str(messy), "--quiet", "--workers", "2", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    out = res.stdout
    assert f"checked 29 files in {messy}" in out
    assert "readable: 23, skipped: 6" in out
    assert "classes: a 11, b 12 (imbalance 1.09x" in out
    assert "skipped files (empty 1, not_image 2, too_large 1, too_small 1, truncated 1):" in out
    assert "b/actually_png.jpg is PNG" in out
    assert "rotated by EXIF orientation: 1" in out
    assert "converted to RGB: 1 16-bit, 1 CMYK, 1 alpha, 1 grayscale, 2 palette" in out
    assert "a/page.jpg: the file holds HTML, not an image" in out
    report = json.loads((tmp_path / "data_check.json").read_text())  # the default --out
    assert "report: data_check.json" in out
    assert {s["path"]: s["kind"] for s in report["skipped"]} == BAD_FILES
    assert report["n_images"] == 23 and report["classes"] == {"a": 11, "b": 12}
    assert report["duplicates"]["clusters"] == 0 and report["kind"] == "folder"
    assert not (messy / "data_check.json").exists()  # the data folder is never written to


def test_data_check_help_and_errors(tmp_path: Path) -> None:
    res = run_cli("data", "check", "--help")
    for flag in ("--out", "--dup-threshold", "--group-column", "--drop-duplicates", "--manifest"):
        assert flag in res.stdout
    res = run_cli("data", "check", str(tmp_path / "nope"))
    lines = res.stderr.strip().splitlines()
    assert res.returncode == 1 and len(lines) == 1
    assert lines[0].startswith("error: data path") and "does not exist" in lines[0]
    (tmp_path / "x.png").write_bytes(b"")
    pd.DataFrame({"path": ["x.png", "gone1.jpg", "gone2.jpg"], "label": ["a", "b", "b"]}).to_csv(
        tmp_path / "m.csv", index=False
    )
    res = run_cli("data", "check", str(tmp_path / "m.csv"))
    assert res.returncode == 1 and "Traceback" not in res.stderr
    assert "error: 2 of 3 paths" in res.stderr and "first: gone1.jpg, gone2.jpg" in res.stderr


@pytest.fixture(scope="module")
def dirty_lookbook(lookbook: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The lookbook with an exact copy (own group), a broken file and an extra column."""
    root = tmp_path_factory.mktemp("dirty")
    for label in ("FallWinter", "SpringSummer"):
        shutil.copytree(lookbook / label, root / label)
    shutil.copyfile(root / "FallWinter/FallWinter_0001.jpg", root / "FallWinter/dup.jpg")
    (root / "SpringSummer/broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 cut short")
    m = pd.read_csv(lookbook / "manifest.csv", dtype=str)
    extra = pd.DataFrame(
        [
            {"path": "FallWinter/dup.jpg", "label": "FallWinter", "group": "dup"},
            {"path": "SpringSummer/broken.jpg", "label": "SpringSummer", "group": "broken"},
        ]
    )
    m = pd.concat([m, extra], ignore_index=True).fillna("x")
    m["shoot"] = [f"shoot-{i % 5}" for i in range(len(m))]
    m.to_csv(root / "manifest.csv", index=False)
    return root


def test_data_check_writes_a_clean_manifest(dirty_lookbook: Path, tmp_path: Path) -> None:
    clean = tmp_path / "clean" / "manifest.csv"
    res = run_cli(
        "data",
        "check",
        str(dirty_lookbook),
        "--out",
        str(tmp_path / "check.json"),
        "--manifest",
        str(clean),
        "--drop-duplicates",
        "--quiet",
    )
    assert res.returncode == 0, res.stderr
    assert "1 clusters of 2 images (1 exact copies" in res.stdout
    assert f"manifest: {clean} (48 images)" in res.stdout
    m = pd.read_csv(clean, dtype=str)
    assert len(m) == 48 and {"group", "brand", "period", "shoot"} <= set(m.columns)
    assert m["path"].iloc[0].startswith("../../")  # relative to the new manifest
    assert not m["path"].str.endswith(("dup.jpg", "broken.jpg")).any()
    from stylecast.data.pipeline import discover

    assert len(discover(clean)) == 48


@pytest.fixture(scope="module")
def dirty_run(dirty_lookbook: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    run = tmp_path_factory.mktemp("dirty-run") / "run"
    res = run_cli(
        "train",
        str(dirty_lookbook / "manifest.csv"),  # a manifest file: images sit beside it
        "--out",
        str(run),
        "--mode",
        "head",
        "--head-epochs",
        "2",
        "--img-size",
        "32",
        "--no-pretrained",
        "--group-column",
        "group",
        "--drop-duplicates",
        "--no-evaluate",
        "--quiet",
    )
    assert res.returncode == 0, res.stderr
    assert "skipped 1 unreadable file(s)" in res.stdout
    return run


def test_run_keeps_manifest_columns_and_records_the_data_check(dirty_run: Path) -> None:
    splits = pd.read_csv(dirty_run / "splits.csv", dtype=str)
    assert list(splits.columns[:3]) == ["path", "label", "split"]
    assert {"group", "brand", "period", "garment", "colour", "shoot"} <= set(splits.columns)
    assert len(splits) == 48  # 50 rows - 1 broken - 1 dropped duplicate
    assert not splits["path"].isin(["FallWinter/dup.jpg", "SpringSummer/broken.jpg"]).any()
    assert splits.groupby("group")["split"].nunique().max() == 1
    skipped = json.loads((dirty_run / "skipped.json").read_text())
    assert [(s["path"], s["kind"]) for s in skipped] == [("SpringSummer/broken.jpg", "truncated")]
    check = json.loads((dirty_run / "data_check.json").read_text())
    assert check["n_files"] == 50 and check["n_images"] == 49
    assert check["dropped_duplicates"][0]["path"] == "FallWinter/dup.jpg"
    sp = check["split"]
    assert sp["strategy"] == "stratified" and sp["grouped_by"] == ["group", "near-duplicates"]
    assert sp["pairs_across_splits"] == 0 and sp["groups_straddling"] == 0
    assert sum(sp["sizes"].values()) == 48


def test_render_data_section_is_self_contained(dirty_run: Path) -> None:
    from stylecast.data.report import render_data_section

    frag = render_data_section(dirty_run)
    assert frag.startswith('<div class="stylecast-data">') and frag.endswith("</div>")
    for heading in (
        "Data summary",
        "Class distribution",
        "Random samples per class",
        "Near-duplicate clusters",
        "Skipped files",
    ):
        assert f"<h3>{heading}</h3>" in frag
    # chart + one sample grid per class + the duplicate cluster (dup.jpg still exists)
    assert frag.count("data:image/png;base64,") == 4
    assert 'src="http' not in frag and "<script" not in frag
    assert "SpringSummer/broken.jpg" in frag and "truncated" in frag
    assert "duplicates left out (--drop-duplicates): 1" in frag
    assert "<td>FallWinter</td><td>" in frag  # the per-split table
    for name in (
        "data_classes.png",
        "data_samples_0.png",
        "data_samples_1.png",
        "data_duplicates.png",
    ):
        assert (dirty_run / name).stat().st_size > 1000


@pytest.mark.realdata
def test_real_data_check_counts_every_image(fpi_season: Path, tmp_path: Path) -> None:
    res = run_cli("data", "check", str(fpi_season), "--out", str(tmp_path / "c.json"), "--quiet")
    assert res.returncode == 0, res.stderr
    assert "checked 3582 files" in res.stdout and "readable: 3582, skipped: 0" in res.stdout
    assert "groups (group): 3147 groups" in res.stdout
    report = json.loads((tmp_path / "c.json").read_text())
    assert report["n_images"] == 3582 and sum(report["classes"].values()) == 3582
    assert report["duplicates"]["clusters"] > 0  # look-alike product shots exist
    assert report["groups"]["largest"] == 13


@pytest.mark.realdata
def test_real_data_grouped_split_keeps_products_together(fpi_season: Path) -> None:
    from stylecast.config import TrainConfig
    from stylecast.data.pipeline import prepare_run_data

    rd = prepare_run_data(
        fpi_season, TrainConfig(img_size=32, group_column="group"), progress=False
    )
    assert len(rd.table) == 3582
    assert rd.table.groupby("group")["split"].nunique().max() == 1
    sizes = rd.check["split"]["sizes"]
    assert sizes["test"] == pytest.approx(0.15 * 3582, rel=0.05)
    assert rd.check["split"]["pairs_across_splits"] == 0
