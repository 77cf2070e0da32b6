"""Splits: stratified over whole groups, seeded, by time; too few groups say how many."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from stylecast.data import discover, split_dataset
from stylecast.data.dupes import find_duplicates
from stylecast.data.split import group_ids
from stylecast.errors import DataError


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


def test_too_few_groups_for_the_split_says_how_many(planted: Path) -> None:
    table = discover(planted).table.assign(group=lambda t: t["label"] + (t.index % 2).astype(str))
    with pytest.raises(DataError, match="class 'FallWinter' has 2 groups but .* at least 3"):
        split_dataset(table, val_fraction=0.2, test_fraction=0.2, seed=0, group_column="group")


def test_time_split_needs_two_periods(planted: Path) -> None:
    with pytest.raises(DataError, match=r"at least 2 distinct 'period' values; .* has 1 \(2024\)"):
        split_dataset(
            discover(planted).table.assign(period="2024"),
            val_fraction=0.1,
            test_fraction=0.1,
            seed=0,
            strategy="time",
        )


def test_group_ids_link_groups_and_duplicates() -> None:
    table = pd.DataFrame({"label": list("aabbc"), "group": ["g1", "g1", "g2", "g3", "g4"]})
    ids, merged = group_ids(table, "group", None)
    assert merged and ids[0] == ids[1] and len(set(ids)) == 4
    dups = find_duplicates(["d0", "d1", "d2", "d3", "d3"], [None] * 5, [None] * 5, threshold=-1)
    ids, merged = group_ids(table, None, dups)  # rows 3 and 4 hold the same file
    assert merged and ids[3] == ids[4] and len(set(ids)) == 4
    ids, merged = group_ids(table, "group", dups)
    assert len(set(ids)) == 3 and ids[3] == ids[4] and ids[0] == ids[1]
    ids, merged = group_ids(table, None, None)
    assert not merged and np.array_equal(np.sort(ids), np.sort(np.unique(ids)))
