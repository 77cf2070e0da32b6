"""The decoded-image cache: decode once, skip broken files, copy shared rows, never re-decode."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import stylecast.data.decode as decode_mod
from stylecast.data import ImageCache, default_cache_dir, discover, prepare_images
from stylecast.data.cache import subset_images
from stylecast.errors import DataError
from tests._data_fixtures import BAD_FILES


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


def test_a_subset_is_copied_from_the_cache_not_decoded(
    planted: Path, cache: ImageCache, monkeypatch: pytest.MonkeyPatch
) -> None:
    table = discover(planted).table
    full = prepare_images(table, 32, cache=cache, progress=False)

    def no_decoding(job):  # noqa: ANN001, ANN202
        raise AssertionError(f"decoded {job[0]} again")

    monkeypatch.setattr(decode_mod, "inspect_image", no_decoding)
    sub = prepare_images(table.iloc[::3].reset_index(drop=True), 32, cache=cache, progress=False)
    assert sub.cache_file != full.cache_file and isinstance(sub.pixels, np.memmap)
    assert np.array_equal(np.asarray(sub.pixels), np.asarray(full.pixels[::3]))
    assert sub.infos == full.infos[::3]


def test_cache_key_changes_with_size_fill_and_content(cache: ImageCache) -> None:
    k = cache.key(["a", "b"], 32, 255)
    assert k == cache.key(["a", "b"], 32, 255)
    assert len({k, cache.key(["a", "b"], 64, 255), cache.key(["a", "b"], 32, 0)}) == 3
    assert k not in (cache.key(["b", "a"], 32, 255), cache.key(["a", "c"], 32, 255))


def test_subset_images_keeps_the_rows_pixels_and_the_skipped_list(
    messy: Path, tmp_path: Path
) -> None:
    cache = ImageCache(tmp_path)
    prepared = prepare_images(discover(messy).table, 32, cache=cache, progress=False, workers=1)
    everything = np.ones(23, dtype=bool)
    assert subset_images(prepared, everything, img_size=32, fill=255, cache=cache) is prepared
    keep = np.arange(23) % 2 == 0
    sub = subset_images(prepared, keep, img_size=32, fill=255, cache=cache)
    assert sub.pixels.shape == (12, 32, 32, 3) and sub.cache_file != prepared.cache_file
    assert list(sub.table["relpath"]) == list(prepared.table["relpath"][keep])
    assert np.array_equal(np.asarray(sub.pixels), np.asarray(prepared.pixels)[keep])
    assert sub.digests == [d for d, k in zip(prepared.digests, keep, strict=True) if k]
    assert sub.skipped == prepared.skipped  # the unreadable files of the whole table


def test_digests_of_a_vanished_file_say_so(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"cannot read .*gone\.jpg: .*is it still there\?"):
        ImageCache(tmp_path / "cache").digests([str(tmp_path / "gone.jpg")])


def test_default_cache_dir_precedence(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("STYLECAST_CACHE", str(tmp_path / "mine"))
    assert default_cache_dir() == tmp_path / "mine"
    assert ImageCache().root == tmp_path / "mine"
    monkeypatch.delenv("STYLECAST_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "stylecast"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert default_cache_dir() == Path.home() / ".cache" / "stylecast"
