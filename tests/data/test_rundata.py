"""``prepare_run_data``: near-duplicates share a split, leakage fails loudly, the run records it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from stylecast.config import TrainConfig
from stylecast.data import ImageCache, check_data, discover, prepare_images, prepare_run_data
from stylecast.errors import ConfigError, DataError
from tests.conftest import run_cli
from tests.data.conftest import PLANTED


def _cfg(**kw) -> TrainConfig:  # noqa: ANN003
    return TrainConfig(**{"img_size": 32, "val_fraction": 0.2, "test_fraction": 0.2, **kw})


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


def test_time_split_tests_on_the_latest_period(planted: Path, cache: ImageCache) -> None:
    rd = prepare_run_data(
        planted, _cfg(split_strategy="time", group_column="group"), cache=cache, progress=False
    )
    t = rd.table
    assert set(t.loc[t["split"] == "test", "period"]) == {"2024"}
    assert set(t.loc[t["split"] == "val", "period"]) == {"2023"}
    assert set(t.loc[t["split"] == "train", "period"]) == {"2021", "2022"}
    assert rd.check["split"]["periods"]["test"] == ["2024"]


def test_time_split_needs_the_column(planted: Path, cache: ImageCache) -> None:
    with pytest.raises(DataError, match="needs a 'season' column .*columns are .*period"):
        prepare_run_data(
            planted, _cfg(split_strategy="time", time_column="season"), cache=cache, progress=False
        )


def test_split_summary_records_the_config(planted: Path, cache: ImageCache) -> None:
    cfg = _cfg(seed=2, dup_threshold=4, group_column="group", split_strategy="time")
    sp = prepare_run_data(planted, cfg, cache=cache, progress=False).check["split"]
    assert (sp["strategy"], sp["seed"], sp["dup_threshold"]) == ("time", 2, 4)
    assert (sp["val_fraction"], sp["test_fraction"]) == (0.2, 0.2)
    assert sp["group_column"] == "group" and sp["grouped_by"] == ["group", "near-duplicates"]
    assert sp["time_column"] == "period" and sum(sp["sizes"].values()) == 53
    per_split = {s: sum(c.values()) for s, c in sp["counts"].items()}
    assert per_split == {s: n for s, n in sp["sizes"].items() if n}


def test_a_saved_split_is_reused_as_written(
    planted: Path, cache: ImageCache, tmp_path: Path
) -> None:
    first = prepare_run_data(planted, _cfg(seed=5), cache=cache, progress=False)
    saved = first.table[["relpath", "split"]].rename(columns={"relpath": "path"})
    saved = saved.iloc[:-3]  # rows the file does not list are left out
    saved.to_csv(tmp_path / "splits.csv", index=False)
    again = prepare_run_data(
        planted, _cfg(seed=9), splits_csv=tmp_path / "splits.csv", cache=cache, progress=False
    )
    assert list(again.table["relpath"]) == list(saved["path"])
    assert list(again.table["split"]) == list(saved["split"])
    assert again.check["split"]["strategy"] == "reused splits.csv"
    assert again.prepared.pixels.shape[0] == 50 and len(again.y) == 50
    saved.assign(split="holdout").to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(DataError, match=r"split values \['holdout'\]; use train, val or test"):
        prepare_run_data(
            planted, _cfg(), splits_csv=tmp_path / "bad.csv", cache=cache, progress=False
        )


def _presplit(root: Path, leak: bool) -> Path:
    from tests._data_fixtures import noise_image

    for split in ("train", "test"):
        for label in ("a", "b"):
            d = root / split / label
            d.mkdir(parents=True)
            for i in range(4):
                # Distinct fixed seeds (a str hash changes with every interpreter: two seeds
                # could meet, and their images would be one more duplicate pair).
                seed = 100 + 8 * ("train", "test").index(split) + 4 * ("a", "b").index(label) + i
                noise_image(seed).save(d / f"{i}.png")
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


def test_new_config_keys_are_validated() -> None:
    with pytest.raises(ConfigError, match="split_strategy must be one of stratified, time"):
        TrainConfig(split_strategy="random")
    with pytest.raises(ConfigError, match="dup_threshold must be between -1 and 64"):
        TrainConfig(dup_threshold=65)
    with pytest.raises(ConfigError, match="max_leakage must not be negative"):
        TrainConfig(max_leakage=-1)


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


@pytest.mark.realdata
def test_real_data_grouped_split_keeps_products_together(fpi_season: Path) -> None:
    rd = prepare_run_data(
        fpi_season, TrainConfig(img_size=32, group_column="group"), progress=False
    )
    assert len(rd.table) == 3582
    assert rd.table.groupby("group")["split"].nunique().max() == 1
    sizes = rd.check["split"]["sizes"]
    assert sizes["test"] == pytest.approx(0.15 * 3582, rel=0.05)
    assert rd.check["split"]["pairs_across_splits"] == 0


# --------------------------------------------------------------------------- issue #11


def test_a_manifest_group_column_is_used_by_default_and_said(
    planted: Path, cache: ImageCache, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    rd = prepare_run_data(planted, _cfg(), cache=cache, progress=True)
    err = capsys.readouterr().err
    line = "grouping by the manifest's 'group' column; --group-column to choose another"
    assert err.count(line) == 1
    sp = rd.check["split"]
    assert sp["group_column"] == "group" and sp["group_column_from"] == "default"
    assert sp["grouped_by"] == ["group", "near-duplicates"] and sp["groups_straddling"] == 0
    assert rd.check["groups"]["column"] == "group"
    # Given explicitly, a column wins and nothing is said; quiet says nothing either.
    rd = prepare_run_data(planted, _cfg(group_column="colour"), cache=cache, progress=True)
    assert line not in capsys.readouterr().err
    assert rd.check["split"]["group_column"] == "colour"
    assert rd.check["split"]["group_column_from"] == "config"
    assert rd.table.groupby("colour")["split"].nunique().max() == 1
    rd = prepare_run_data(planted, _cfg(), cache=cache, progress=False)
    assert capsys.readouterr().err == "" and rd.check["split"]["group_column"] == "group"


def test_a_folder_without_groups_records_none(leaky: Path, cache: ImageCache) -> None:
    rd = prepare_run_data(leaky, _cfg(), cache=cache, progress=False)
    sp = rd.check["split"]
    assert sp["group_column"] is None and sp["group_column_from"] is None
    # Every input the source left out is in the run's skipped list and its data check.
    kinds = [(s["path"], s["kind"]) for s in rd.prepared.skipped]
    assert kinds == [
        ("stray.jpg", "no_label"),
        ("FallWinter/caf\\xe9.jpg", "unreadable_name"),
        ("SpringSummer/gone.jpg", "dangling_symlink"),
    ]
    assert rd.check["n_files"] == 51 and rd.check["n_skipped"] == 3
    assert len(rd.table) == 48


def test_train_and_predict_go_on_past_an_unreadable_name_and_a_damaged_cache(
    leaky: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STYLECAST_CACHE", str(tmp_path / "cache"))
    table = discover(leaky).table
    entry = prepare_images(table, 32, cache=ImageCache(tmp_path / "cache"), progress=False)
    assert entry.cache_file is not None
    entry.cache_file.write_bytes(entry.cache_file.read_bytes()[:1000])  # a disk that filled up
    run = tmp_path / "run"
    res = run_cli(
        "train", str(leaky), "--out", str(run), "--mode", "head", "--head-epochs", "1",
        "--img-size", "32", "--no-pretrained", "--no-evaluate", "--quiet",
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert "internal error" not in res.stderr and "Traceback" not in res.stderr
    assert f"cache entry {entry.cache_file.stem[:12]} (32 px) was damaged (its pixel file" in (
        res.stderr
    )
    assert "rebuilt from the images" in res.stderr
    skipped = json.loads((run / "skipped.json").read_text(encoding="utf-8"))
    assert [s["kind"] for s in skipped] == ["no_label", "unreadable_name", "dangling_symlink"]
    splits = pd.read_csv(run / "splits.csv", dtype=str)
    assert len(splits) == 48
    out = tmp_path / "p.csv"
    res = run_cli("predict", str(run), str(leaky / "FallWinter"), "--out", str(out))
    assert res.returncode == 0, res.stderr
    assert "FallWinter/caf\\xe9.jpg: unreadable name: not valid UTF-8" in res.stderr
    assert len(pd.read_csv(out)) == 24


def test_label_column_chooses_what_a_run_learns(lookbook: Path, cache: ImageCache) -> None:
    # Issue 25.9: a manifest's other columns (a catalogue's season) can be the labels.
    cfg = _cfg(label_column="brand", group_column="group")
    rd = prepare_run_data(lookbook, cfg, cache=cache, progress=False)
    brands = sorted(pd.read_csv(lookbook / "manifest.csv")["brand"].unique())
    assert rd.classes == brands
    assert list(rd.table["label"]) == list(rd.table["brand"])
