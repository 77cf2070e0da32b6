"""``check_data`` and ``stylecast data check``: bad files, duplicates, a clean manifest."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from stylecast.config import TrainConfig
from stylecast.data import DataCheck, ImageCache, check_data, discover, prepare_run_data
from stylecast.data.check_report import format_report
from stylecast.errors import DataError
from tests._data_fixtures import BAD_FILES
from tests.conftest import run_cli
from tests.data.conftest import PLANTED


@pytest.fixture(scope="module")
def messy_check(messy: Path, tmp_path_factory: pytest.TempPathFactory) -> DataCheck:
    cache = ImageCache(tmp_path_factory.mktemp("cache-messy"))
    return check_data(messy, progress=False, cache=cache, workers=1)


def test_every_bad_file_kind_is_reported_and_skipped(messy_check: DataCheck) -> None:
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


def test_check_finds_every_planted_copy(planted: Path, cache: ImageCache) -> None:
    result = check_data(planted, progress=False, cache=cache, workers=1)
    clusters = [set(c["paths"]) for c in result.report["duplicates"]["examples"]]
    for src, dst, _ in PLANTED:
        assert {src, dst} in clusters or any({src, dst} <= c for c in clusters), dst
    d = result.report["duplicates"]
    assert d["exact_copies"] == 2 and d["conflicting_labels"] >= 1
    conflict = next(c for c in d["examples"] if c["conflict"])
    assert set(conflict["paths"]) == {
        "SpringSummer/SpringSummer_0020.jpg",
        "FallWinter/copy_mislabelled.jpg",
    }
    assert d["examples"][0]["conflict"]  # conflicting clusters are listed first
    assert result.report["groups"]["column"] == "group"
    assert d["clusters_across_groups"] >= len(PLANTED)
    # --drop-duplicates keeps one per cluster: the copy with the most pixels (the upscaled
    # one), else the first; the mislabelled copy ties 1:1 and goes as the later row.
    kept = set(result.table[result.table["ok"]]["relpath"][result.keep])
    assert {dst for _, dst, _ in PLANTED} & kept == {"FallWinter/copy_resized.png"}
    assert {src for src, _, _ in PLANTED} - kept == {"FallWinter/FallWinter_0003.jpg"}
    assert int((~result.keep).sum()) == d["would_drop"]


def test_exact_only_threshold_finds_just_the_identical_files(
    planted: Path, cache: ImageCache
) -> None:
    d = check_data(planted, progress=False, cache=cache, dup_threshold=-1).report["duplicates"]
    assert d["clusters"] == 2 and d["exact_copies"] == 2 and d["method"] == "exact file hash"


def test_a_folder_of_only_broken_files(tmp_path: Path, cache: ImageCache) -> None:
    for label in ("a", "b"):
        (tmp_path / label).mkdir()
        (tmp_path / label / "x.jpg").write_text("not an image")
    report = check_data(tmp_path, progress=False, cache=cache).report
    assert report["n_images"] == 0 and report["skipped_by_kind"] == {"not_image": 2}
    assert "classes: none readable" in format_report(report)
    cfg = TrainConfig(img_size=32, val_fraction=0.2, test_fraction=0.2)
    with pytest.raises(DataError, match="none of the 2 images could be read; first: .*x.jpg"):
        prepare_run_data(tmp_path, cfg, cache=cache, progress=False)


def test_check_data_validates_its_arguments(planted: Path, cache: ImageCache) -> None:
    with pytest.raises(DataError, match="dup_threshold must be between -1 and 64, got 65"):
        check_data(planted, dup_threshold=65, progress=False, cache=cache)
    with pytest.raises(DataError, match="workers must be at least 1, got 0"):
        check_data(planted, workers=0, progress=False, cache=cache)
    with pytest.raises(DataError, match="group column 'shop' is not in the data"):
        check_data(planted, group_column="shop", progress=False, cache=cache)


def test_write_clean_manifest_lists_readable_images_relative_to_it(
    planted: Path, cache: ImageCache, tmp_path: Path
) -> None:
    result = check_data(planted, progress=False, cache=cache, workers=1)
    everything = tmp_path / "all" / "manifest.csv"
    assert result.write_clean_manifest(everything) == 53
    m = pd.read_csv(everything, dtype=str)
    assert list(m.columns[:2]) == ["path", "label"] and "relpath" not in m.columns
    assert {"group", "brand", "period", "garment", "colour"} <= set(m.columns)
    assert (m["path"].str.startswith("../../")).all()
    assert sorted(discover(everything).table["path"]) == sorted(result.dataset.table["path"])
    one_each = tmp_path / "one_each.csv"
    n = result.write_clean_manifest(one_each, drop_duplicates=True)
    assert n == 53 - result.report["duplicates"]["would_drop"] == 48
    names = {Path(p).name for p in pd.read_csv(one_each, dtype=str)["path"]}
    assert "copy_resized.png" in names and "FallWinter_0003.jpg" not in names


# --------------------------------------------------------------------------- the command


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
    # The wording changed with issue #11 (never echo a file's bytes): "not an image (HTML...".
    assert "a/page.jpg: not an image (HTML: a web page saved under an image name?)" in out
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
    assert len(discover(clean)) == 48


def test_check_counts_and_lists_every_input_the_source_left_out(
    leaky: Path, cache: ImageCache
) -> None:
    report = check_data(leaky, progress=False, cache=cache, workers=1).report
    assert report["n_files"] == 51 and report["n_images"] == 48 and report["n_skipped"] == 3
    assert report["skipped_by_kind"] == {"dangling_symlink": 1, "no_label": 1, "unreadable_name": 1}
    assert [s["path"] for s in report["skipped"]] == [
        "stray.jpg",
        "FallWinter/caf\\xe9.jpg",
        "SpringSummer/gone.jpg",
    ]
    assert report["ignored_files"] == {"count": 1, "first": ["SpringSummer/gone.txt"]}
    text = format_report(report)
    assert "readable: 48, skipped: 3" in text
    assert "skipped files (dangling_symlink 1, no_label 1, unreadable_name 1):" in text
    assert "  FallWinter/caf\\xe9.jpg: unreadable name: not valid UTF-8" in text


def test_data_check_of_a_folder_with_an_unreadable_name_goes_on(
    leaky: Path, tmp_path: Path
) -> None:
    clean = tmp_path / "clean.csv"
    res = run_cli("data", "check", str(leaky), "--quiet", "--manifest", str(clean), cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert "readable: 48, skipped: 3" in res.stdout
    assert "FallWinter/caf\\xe9.jpg: unreadable name" in res.stdout
    report = json.loads((tmp_path / "data_check.json").read_text(encoding="utf-8"))
    assert report["skipped"][1] == {
        "path": "FallWinter/caf\\xe9.jpg",
        "kind": "unreadable_name",
        "reason": "unreadable name: not valid UTF-8 (its bytes shown as \\xNN); rename the file",
    }
    assert len(pd.read_csv(clean, dtype=str)) == 48


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


# ------------------------------------------------------------------------ issue 25.9 / 25.10


def test_data_check_never_replaces_another_datas_report(
    lookbook: Path, lookbook_folder: Path, tmp_path: Path
) -> None:
    res = run_cli("data", "check", str(lookbook), "--quiet", "--workers", "1", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    first = (tmp_path / "data_check.json").read_text()
    res = run_cli("data", "check", str(lookbook_folder), "--quiet", "--workers", "1", cwd=tmp_path)
    assert res.returncode == 1 and len(res.stderr.splitlines()) == 1, res.stderr
    assert "data_check.json holds the data check of" in res.stderr
    assert "--out FILE" in res.stderr and "--force" in res.stderr
    assert (tmp_path / "data_check.json").read_text() == first
    res = run_cli("data", "check", str(lookbook), "--quiet", "--workers", "1", cwd=tmp_path)
    assert res.returncode == 0 and "replaced the earlier report of this data" in res.stdout
    res = run_cli(
        "data", "check", str(lookbook_folder), "--quiet", "--force", "--workers", "1", cwd=tmp_path
    )
    assert res.returncode == 0, res.stderr
    assert "replaced the data check of" in res.stdout
    report = json.loads((tmp_path / "data_check.json").read_text())
    assert report["source"] == str(lookbook_folder.resolve())


def test_data_check_warns_on_a_folder_of_data_sets(lookbook: Path, tmp_path: Path) -> None:
    import shutil

    sets = tmp_path / "sets"
    for name in ("ss", "fw"):
        shutil.copytree(lookbook, sets / name)
    res = run_cli("data", "check", str(sets), "--quiet", "--workers", "1", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    warning = [x for x in res.stderr.splitlines() if x.startswith("warning:")]
    assert len(warning) == 1 and "data sets" in warning[0] and "fw/manifest.csv" in warning[0]


def test_data_check_label_column(lookbook: Path, tmp_path: Path) -> None:
    res = run_cli(
        "data", "check", str(lookbook), "--label-column", "garment", "--quiet", cwd=tmp_path
    )
    assert res.returncode == 0, res.stderr
    report = json.loads((tmp_path / "data_check.json").read_text())
    garments = sorted(pd.read_csv(lookbook / "manifest.csv")["garment"].unique())
    assert sorted(report["classes"]) == garments
    res = run_cli("data", "check", "--help")
    assert "--label-column" in res.stdout and "--path-column" in res.stdout
