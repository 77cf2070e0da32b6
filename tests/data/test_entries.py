"""The decoded cache is verified before use: a damaged entry is rebuilt and the user told."""

from __future__ import annotations

import json
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import stylecast.data.decode as decode_mod
from stylecast.data import ImageCache, discover, prepare_images
from stylecast.data.entries import ENTRY_FORMAT, check_entry, row_checksums


@pytest.fixture
def table(lookbook: Path) -> pd.DataFrame:
    return discover(lookbook).table.iloc[:12].reset_index(drop=True)


def _first(table: pd.DataFrame, cache: ImageCache) -> tuple[np.ndarray, Path, Path]:
    first = prepare_images(table, 32, cache=cache, progress=False, workers=1)
    assert first.cache_file is not None
    return np.array(first.pixels), first.cache_file, first.cache_file.with_suffix(".json")


def _count_decodes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    decoded: list[str] = []
    real = decode_mod.inspect_image

    def counting(job):  # noqa: ANN001, ANN202
        decoded.append(Path(job[0]).name)
        return real(job)

    monkeypatch.setattr(decode_mod, "inspect_image", counting)
    return decoded


def test_an_entry_stores_its_shape_and_a_checksum_per_image(
    table: pd.DataFrame, tmp_path: Path
) -> None:
    pixels, npy, meta_path = _first(table, ImageCache(tmp_path))
    meta = json.loads(meta_path.read_text())
    assert meta["format"] == ENTRY_FORMAT == 2
    assert meta["shape"] == [12, 32, 32, 3]
    assert meta["rows_crc32"] == [zlib.crc32(np.ascontiguousarray(r)) for r in pixels]
    assert row_checksums(pixels) == meta["rows_crc32"]


def test_a_truncated_entry_is_rebuilt_and_said(
    table: pd.DataFrame, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cache = ImageCache(tmp_path)
    pixels, npy, _ = _first(table, cache)
    npy.write_bytes(npy.read_bytes()[: npy.stat().st_size // 2])  # a disk that filled up
    capsys.readouterr()
    again = prepare_images(table, 32, cache=cache, progress=False, workers=1)
    err = capsys.readouterr().err
    assert f"cache entry {npy.stem[:12]} (32 px) was damaged (its pixel file is cut short" in err
    assert err.rstrip().endswith("; rebuilt from the images") and err.count("\n") == 1
    assert again.cache_file == npy and np.array_equal(np.asarray(again.pixels), pixels)
    # Repaired for good: the next run uses it without a word.
    prepare_images(table, 32, cache=cache, progress=False, workers=1)
    assert capsys.readouterr().err == ""


def test_zeroed_images_are_found_and_only_they_are_decoded_again(
    table: pd.DataFrame,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    cache = ImageCache(tmp_path)
    pixels, npy, _ = _first(table, cache)
    on_disk = np.load(npy, mmap_mode="r+")
    on_disk[[2, 7]] = 0  # black images: a model would train on them silently
    on_disk.flush()
    del on_disk
    decoded = _count_decodes(monkeypatch)
    capsys.readouterr()
    again = prepare_images(table, 32, cache=cache, progress=False, workers=1)
    assert "(2 of 12 image(s) do not match their checksums); rebuilt" in capsys.readouterr().err
    assert sorted(decoded) == sorted(Path(table["path"][i]).name for i in (2, 7))
    assert np.array_equal(np.asarray(again.pixels), pixels)
    assert np.asarray(again.pixels[2]).any()


def test_an_entry_from_before_checksums_is_rebuilt_once(
    table: pd.DataFrame, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cache = ImageCache(tmp_path)
    pixels, npy, meta_path = _first(table, cache)
    meta = json.loads(meta_path.read_text())
    old = {k: v for k, v in meta.items() if k not in ("format", "shape", "rows_crc32")}
    meta_path.write_text(json.dumps(old))  # what stylecast wrote before checksums
    assert check_entry(npy, meta_path, meta["digests"], size=32, fill=255).problem == (
        "written by an older stylecast without checksums"
    )
    capsys.readouterr()
    again = prepare_images(table, 32, cache=cache, progress=False, workers=1)
    assert "was damaged (written by an older stylecast without checksums); rebuilt" in (
        capsys.readouterr().err
    )
    assert np.array_equal(np.asarray(again.pixels), pixels)
    assert json.loads(meta_path.read_text())["rows_crc32"] == meta["rows_crc32"]
    prepare_images(table, 32, cache=cache, progress=False, workers=1)
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize(
    ("damage", "problem"),
    [
        ("meta", "its metadata is unreadable"),
        ("missing", "its pixel file is missing"),
        ("longer", "its pixel file is cut short or unreadable: the pixel file is"),
        ("shape", "its pixel file holds uint8 (12, 32, 32, 2), expected uint8 (12, 32, 32, 3)"),
    ],
)
def test_every_kind_of_damage_is_named(
    table: pd.DataFrame, tmp_path: Path, damage: str, problem: str
) -> None:
    cache = ImageCache(tmp_path)
    pixels, npy, meta_path = _first(table, cache)
    digests = json.loads(meta_path.read_text())["digests"]
    if damage == "meta":
        meta_path.write_text('{"ok": [tru')
    elif damage == "missing":
        npy.unlink()
    elif damage == "longer":
        npy.write_bytes(npy.read_bytes() + b"\0" * 10)
    else:
        np.save(npy, pixels[..., :2])
    state = check_entry(npy, meta_path, digests, size=32, fill=255)
    assert state.pixels is None and state.problem is not None
    assert state.problem.startswith(problem)
    again = prepare_images(table, 32, cache=cache, progress=False, workers=1)
    assert np.array_equal(np.asarray(again.pixels), pixels)


def test_rows_shared_from_a_damaged_entry_are_decoded_not_copied(
    table: pd.DataFrame,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    cache = ImageCache(tmp_path)
    pixels, npy, _ = _first(table, cache)
    on_disk = np.load(npy, mmap_mode="r+")
    on_disk[4] = 0
    on_disk.flush()
    del on_disk
    decoded = _count_decodes(monkeypatch)
    capsys.readouterr()
    sub = prepare_images(table.iloc[::2].reset_index(drop=True), 32, cache=cache, progress=False)
    assert sub.cache_file != npy
    assert decoded == [Path(table["path"][4]).name]  # the others are copied, verified
    assert np.array_equal(np.asarray(sub.pixels), pixels[::2])
    err = capsys.readouterr().err
    assert f"cache entry {npy.stem[:12]} (32 px): 1 image(s) did not match their checksums" in err
