"""stylecast.palette.stage: the files of `stylecast palette` from data or a run folder."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from stylecast.errors import ConfigError, DataError
from stylecast.palette import PALETTE_COLUMNS, format_palettes, palette, read_summary
from stylecast.run import RunFolder, RunInfo


def test_files_from_a_manifest(two_colour_data: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    r = palette(two_colour_data, ["label", "brand"], out=out, workers=1, progress=False)
    assert r.n_images == 16 and r.skipped == ()
    table = pd.read_csv(out / RunFolder.PALETTES, keep_default_na=False)
    assert tuple(table.columns) == PALETTE_COLUMNS
    first = table[table["rank"] == 1].set_index("path")
    assert set(first.loc[[f"Hot/{i}.png" for i in range(8)], "family"]) <= {"red", "orange red"}
    assert first.loc["Hot/0.png", "family"] == "red"
    assert first.loc["Hot/0.png", "share"] == pytest.approx(1.0, abs=0.02)
    assert table.groupby("path")["share"].sum().round(3).eq(1.0).all()
    assert (table["fallback"] == "").all()
    assert not (table["family"] == "white").any()

    meta, groupings = read_summary(out / RunFolder.PALETTE_SUMMARY)
    assert meta["images"] == 16 and meta["config"]["n_colours"] == 6
    assert [g.column for g in groupings] == ["label", "brand"]
    hot = next(p for p in groupings[0].groups if p.value == "Hot")
    assert hot.key_colours[0].family == "red" and hot.n_images == 8
    assert {d.family for d in groupings[0].distinguishing} >= {"red"}
    assert (out / "palette_label.png").stat().st_size > 1000
    assert (out / "palette_brand.png").is_file()
    assert set(r.figures) == {"label", "brand"}

    text = format_palettes(r)
    assert "Hot" in text and "key colours" in text and "distinguishing" in text
    # Running again into the same folder replaces its own files.
    palette(two_colour_data, ["label"], out=out, workers=1, progress=False)


def test_parallel_workers_give_the_same_palettes(two_colour_data: Path, tmp_path: Path) -> None:
    from stylecast.palette.stage import extract_clusters

    paths = sorted(str(p) for p in two_colour_data.glob("*/*.png")) * 5  # 80 jobs: parallel
    cfg = __import__("stylecast.palette", fromlist=["PaletteConfig"]).PaletteConfig()
    serial = extract_clusters(paths, cfg, workers=1, progress=False)
    parallel = extract_clusters(paths, cfg, workers=2, progress=False)
    assert all((a[1] == b[1]).all() for a, b in zip(serial, parallel, strict=True))


def test_unreadable_images_are_skipped(two_colour_data: Path, tmp_path: Path) -> None:
    (two_colour_data / "Hot" / "0.png").write_bytes(b"")
    r = palette(two_colour_data, out=tmp_path / "o", workers=1, progress=False)
    assert r.n_images == 15
    assert r.skipped[0][0] == "Hot/0.png" and "empty file" in r.skipped[0][1]
    meta, _ = read_summary(r.summary_json)
    assert meta["skipped"][0]["path"] == "Hot/0.png"


def test_a_run_folder_as_data_writes_into_it(two_colour_data: Path, tmp_path: Path) -> None:
    run = RunFolder(tmp_path / "run")
    run.path.mkdir()
    manifest = pd.read_csv(two_colour_data / "manifest.csv")
    manifest.assign(split="train").to_csv(run.splits_file, index=False)
    run.write_info(RunInfo(data=two_colour_data / "manifest.csv"))
    r = palette(run.path, workers=1, progress=False)
    assert r.out == run.path
    assert run.palettes_file.is_file() and run.palette_summary_file.is_file()
    assert run.palette_figure("label").is_file()
    assert json.loads(run.palette_summary_file.read_text())["images"] == 16


def test_default_out_is_runs_palette_name(two_colour_data: Path, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    r = palette(two_colour_data, workers=1, progress=False)
    assert r.out == Path("runs") / f"palette-{two_colour_data.name}"
    assert (tmp_path / r.palettes_csv).is_file()


def test_bad_requests(two_colour_data: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="--by season: no such column.*label, brand"):
        palette(two_colour_data, ["season"], out=tmp_path / "o", progress=False)
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("mine")
    with pytest.raises(ConfigError, match="holds other files \\(notes.txt\\)"):
        palette(two_colour_data, out=busy, progress=False)
    with pytest.raises(ConfigError, match="is a file"):
        palette(two_colour_data, out=busy / "notes.txt", progress=False)
    with pytest.raises(DataError, match="does not exist"):
        palette(tmp_path / "nowhere", progress=False)
    for p in two_colour_data.glob("*/*.png"):
        p.write_bytes(b"x")
    with pytest.raises(DataError, match="no image of .* could be read"):
        palette(two_colour_data, out=tmp_path / "o2", workers=1, progress=False)


def test_stylecast_palette_is_callable_whichever_was_imported_first(
    two_colour_data: Path, tmp_path: Path
) -> None:
    import stylecast
    import stylecast.palette as package  # binds stylecast.palette to the package

    r = stylecast.palette(two_colour_data, out=tmp_path / "o", workers=1, progress=False)
    assert r.n_images == 16
    assert package(two_colour_data, out=tmp_path / "o", workers=1, progress=False).n_images == 16
    assert "palette" in stylecast.__all__
