"""Near-duplicates, leakage-free splits (stratified, grouped, time) and the decoded cache."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

import stylecast.data.pipeline as data_mod
from stylecast.config import TrainConfig
from stylecast.data.pipeline import (
    ImageCache,
    check_data,
    discover,
    prepare_images,
    prepare_run_data,
)
from stylecast.errors import ConfigError, DataError

# Planted copies: (source image, copy name, how it was made).
PLANTED = [
    ("FallWinter/FallWinter_0003.jpg", "FallWinter/copy_resized.png", "resized"),
    ("FallWinter/FallWinter_0010.jpg", "FallWinter/copy_reencoded.jpg", "reencoded"),
    ("SpringSummer/SpringSummer_0005.jpg", "SpringSummer/copy_cropped.jpg", "cropped"),
    ("SpringSummer/SpringSummer_0012.jpg", "SpringSummer/copy_exact.jpg", "exact"),
    # A copy filed under the other season: a duplicate with a conflicting label.
    ("SpringSummer/SpringSummer_0020.jpg", "FallWinter/copy_mislabelled.jpg", "exact"),
]


def _copy(src: Path, dst: Path, how: str) -> None:
    im = Image.open(src).convert("RGB")
    w, h = im.size
    if how == "resized":
        im.resize((w * 3 // 2, h * 3 // 2), Image.BICUBIC).save(dst)
    elif how == "reencoded":
        buf = io.BytesIO()
        im.save(buf, "JPEG", quality=40)
        dst.write_bytes(buf.getvalue())
    elif how == "cropped":
        im.crop((1, 1, w - 1, h - 1)).save(dst, quality=92)  # about 1.4% off each side
    else:
        shutil.copyfile(src, dst)


@pytest.fixture(scope="module")
def planted(lookbook: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The lookbook plus near-duplicate copies, each in a product group of its own."""
    root = tmp_path_factory.mktemp("planted")
    for label in ("FallWinter", "SpringSummer"):
        shutil.copytree(lookbook / label, root / label)
    m = pd.read_csv(lookbook / "manifest.csv", dtype=str)
    rows = []
    for k, (src, dst, how) in enumerate(PLANTED):
        _copy(root / src, root / dst, how)
        row = m[m["path"] == src].iloc[0].copy()
        row["path"], row["label"], row["group"] = dst, dst.split("/")[0], f"copy{k}"
        rows.append(row)
    pd.concat([m, pd.DataFrame(rows)], ignore_index=True).to_csv(root / "manifest.csv", index=False)
    return root


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> ImageCache:
    return ImageCache(tmp_path_factory.mktemp("cache-split"))


def _cfg(**kw) -> TrainConfig:  # noqa: ANN003
    return TrainConfig(**{"img_size": 32, "val_fraction": 0.2, "test_fraction": 0.2, **kw})


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


@pytest.mark.parametrize("group_column", [None, "group"])
def test_planted_near_duplicates_land_in_one_split(
    planted: Path, cache: ImageCache, group_column: str | None
) -> None:
    for seed in range(3):
        rd = prepare_run_data(
            planted, _cfg(group_column=group_column, seed=seed), cache=cache, progress=False
        )
        where = dict(zip(rd.table["relpath"], rd.table["split"], strict=True))
        for src, dst, _ in PLANTED:
            assert where[src] == where[dst], (seed, src, dst)
        sp = rd.check["split"]
        assert sp["pairs_across_splits"] == 0
        if group_column:
            assert rd.table.groupby("group")["split"].nunique().max() == 1
            assert sp["groups_straddling"] == 0
        assert rd.prepared.pixels.shape[0] == len(rd.table) == 53
        assert set(rd.table["split"]) == {"train", "val", "test"}


def test_splits_repeat_for_a_seed_and_change_with_it(planted: Path, cache: ImageCache) -> None:
    a = prepare_run_data(planted, _cfg(seed=3), cache=cache, progress=False).table["split"]
    b = prepare_run_data(planted, _cfg(seed=3), cache=cache, progress=False).table["split"]
    c = prepare_run_data(planted, _cfg(seed=4), cache=cache, progress=False).table["split"]
    assert list(a) == list(b) and list(a) != list(c)
    counts = pd.Series(list(a)).value_counts()
    assert counts["test"] in range(9, 13) and counts["val"] in range(9, 13)  # 20% of 53


def test_drop_duplicates_in_training_data(planted: Path, cache: ImageCache) -> None:
    rd = prepare_run_data(planted, _cfg(drop_duplicates=True), cache=cache, progress=False)
    assert len(rd.table) == rd.prepared.pixels.shape[0] == 48
    dropped = {d["path"] for d in rd.dropped}
    assert len(dropped) == 5 and rd.check["dropped_duplicates"] == rd.dropped
    assert not dropped & set(rd.table["relpath"])
    # The memmap rows are the kept images' own pixels.
    full = prepare_images(discover(planted).table, 32, cache=cache, progress=False)
    for i in (0, 17, 47):
        j = int(np.flatnonzero(full.table["relpath"] == rd.table["relpath"].iloc[i])[0])
        assert np.array_equal(np.asarray(rd.prepared.pixels[i]), np.asarray(full.pixels[j]))


def test_a_subset_is_copied_from_the_cache_not_decoded(
    planted: Path, cache: ImageCache, monkeypatch: pytest.MonkeyPatch
) -> None:
    table = discover(planted).table
    full = prepare_images(table, 32, cache=cache, progress=False)

    def no_decoding(job):  # noqa: ANN001, ANN202
        raise AssertionError(f"decoded {job[0]} again")

    monkeypatch.setattr(data_mod, "_inspect", no_decoding)
    sub = prepare_images(table.iloc[::3].reset_index(drop=True), 32, cache=cache, progress=False)
    assert sub.cache_file != full.cache_file and isinstance(sub.pixels, np.memmap)
    assert np.array_equal(np.asarray(sub.pixels), np.asarray(full.pixels[::3]))
    assert sub.infos == full.infos[::3]


def test_cache_key_changes_with_size_fill_and_content(cache: ImageCache) -> None:
    k = cache.key(["a", "b"], 32, 255)
    assert k == cache.key(["a", "b"], 32, 255)
    assert len({k, cache.key(["a", "b"], 64, 255), cache.key(["a", "b"], 32, 0)}) == 3
    assert k not in (cache.key(["b", "a"], 32, 255), cache.key(["a", "c"], 32, 255))


def test_time_split_tests_on_the_latest_period(planted: Path, cache: ImageCache) -> None:
    rd = prepare_run_data(
        planted, _cfg(split_strategy="time", group_column="group"), cache=cache, progress=False
    )
    t = rd.table
    assert set(t.loc[t["split"] == "test", "period"]) == {"2024"}
    assert set(t.loc[t["split"] == "val", "period"]) == {"2023"}
    assert set(t.loc[t["split"] == "train", "period"]) == {"2021", "2022"}
    assert rd.check["split"]["periods"]["test"] == ["2024"]


def test_time_split_needs_two_periods_and_the_column(planted: Path, cache: ImageCache) -> None:
    with pytest.raises(DataError, match="needs a 'season' column .*columns are .*period"):
        prepare_run_data(
            planted, _cfg(split_strategy="time", time_column="season"), cache=cache, progress=False
        )
    with pytest.raises(DataError, match=r"at least 2 distinct 'period' values; .* has 1 \(2024\)"):
        data_mod.split_dataset(
            discover(planted).table.assign(period="2024"),
            val_fraction=0.1,
            test_fraction=0.1,
            seed=0,
            strategy="time",
        )


def _presplit(root: Path, leak: bool) -> Path:
    from tests._data_fixtures import noise_image

    for split in ("train", "test"):
        for label in ("a", "b"):
            d = root / split / label
            d.mkdir(parents=True)
            for i in range(4):
                noise_image(hash((split, label, i)) % 10_000).save(d / f"{i}.png")
    if leak:
        shutil.copyfile(root / "train/a/0.png", root / "test/a/leaked.png")
    return root


def test_leakage_in_a_given_split_fails_loudly(tmp_path: Path, cache: ImageCache) -> None:
    data = _presplit(tmp_path / "d", leak=True)
    leak = check_data(data, progress=False, cache=cache).report["given_split_leakage"]
    assert leak["pairs_across_splits"] == 1
    assert (leak["examples"][0]["a_split"], leak["examples"][0]["b_split"]) == ("train", "test")
    with pytest.raises(DataError, match=r"leakage: 1 near-duplicate pair\(s\) straddle splits"):
        prepare_run_data(data, _cfg(), cache=cache, progress=False)
    ok = prepare_run_data(data, _cfg(max_leakage=1), cache=cache, progress=False)
    assert ok.check["split"]["pairs_across_splits"] == 1
    assert ok.check["split"]["examples"][0]["b"] == "test/a/leaked.png"
    # Dropping duplicates keeps the copy that is already in train.
    dropped = prepare_run_data(data, _cfg(drop_duplicates=True), cache=cache, progress=False)
    assert [d["path"] for d in dropped.dropped] == ["test/a/leaked.png"]
    assert dropped.check["split"]["pairs_across_splits"] == 0


def test_too_few_groups_for_the_split_says_how_many(planted: Path, cache: ImageCache) -> None:
    table = discover(planted).table.assign(group=lambda t: t["label"] + (t.index % 2).astype(str))
    with pytest.raises(DataError, match="class 'FallWinter' has 2 groups but .* at least 3"):
        data_mod.split_dataset(
            table, val_fraction=0.2, test_fraction=0.2, seed=0, group_column="group"
        )


def test_new_config_keys_are_validated() -> None:
    with pytest.raises(ConfigError, match="split_strategy must be one of stratified, time"):
        TrainConfig(split_strategy="random")
    with pytest.raises(ConfigError, match="dup_threshold must be between -1 and 64"):
        TrainConfig(dup_threshold=65)
    with pytest.raises(ConfigError, match="max_leakage must not be negative"):
        TrainConfig(max_leakage=-1)


def test_a_folder_of_only_broken_files(tmp_path: Path, cache: ImageCache) -> None:
    from stylecast.data.check import format_report

    for label in ("a", "b"):
        (tmp_path / label).mkdir()
        (tmp_path / label / "x.jpg").write_text("not an image")
    report = check_data(tmp_path, progress=False, cache=cache).report
    assert report["n_images"] == 0 and report["skipped_by_kind"] == {"not_image": 2}
    assert "classes: none readable" in format_report(report)
    with pytest.raises(DataError, match="none of the 2 images could be read; first: .*x.jpg"):
        prepare_run_data(tmp_path, _cfg(), cache=cache, progress=False)
