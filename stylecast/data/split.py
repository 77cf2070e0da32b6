"""Splitting without leakage: stratified over whole groups, or by time.

Images sharing a ``group_column`` value, and near-duplicate images, always land in the
same split (:func:`group_ids` links them into one group). A split given by the source is
kept as it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from stylecast.data.dupes import Duplicates, components, edges_from_groups
from stylecast.data.sources import SPLITS
from stylecast.errors import DataError

__all__ = ["group_ids", "split_dataset"]


def group_ids(
    table: pd.DataFrame, group_column: str | None, dups: Duplicates | None
) -> tuple[np.ndarray, bool]:
    """Component id per row linking rows of one group and near-duplicates; merged anything?"""
    n = len(table)
    edges = []
    if group_column:
        edges.append(edges_from_groups(table[group_column].astype(str).tolist()))
    if dups is not None and len(dups.pairs):
        edges.append(dups.pairs)
    ids = components(n, *edges)
    return ids, bool(len(np.unique(ids)) < n)


def split_dataset(
    table: pd.DataFrame,
    *,
    val_fraction: float,
    test_fraction: float,
    seed: int,
    group_column: str | None = None,
    groups: Sequence[Any] | None = None,
    strategy: str = "stratified",
    time_column: str = "period",
) -> pd.Series:
    """Assign ``train``/``val``/``test`` per row.

    ``stratified`` (default): each class is split by the fractions; rows sharing a
    ``group_column`` value, or a ``groups`` id (e.g. near-duplicate clusters), never
    straddle two splits. ``time``: rows of the latest ``time_column`` values test, the
    ones before validate, the earlier ones train. A source that was pre-split keeps its
    own ``split`` column.
    """
    if "split" in table.columns and set(table["split"]) <= set(SPLITS):
        return table["split"].astype(str)
    if group_column is not None and group_column not in table.columns:
        raise DataError(
            f"group column {group_column!r} is not in the data; columns are "
            f"{', '.join(c for c in table.columns if c not in ('path',))}"
        )
    if groups is not None:
        ids = np.asarray([str(g) for g in groups], dtype=object)
        grouped = len(set(ids)) < len(ids)
    elif group_column:
        ids = table[group_column].astype(str).to_numpy(dtype=object)
        grouped = True
    else:
        ids = np.arange(len(table)).astype(str).astype(object)
        grouped = False
    labels = table["label"].astype(str).to_numpy(dtype=object)
    if strategy == "time":
        return pd.Series(
            _time_split(
                table,
                time_column,
                labels,
                ids,
                val_fraction=val_fraction,
                test_fraction=test_fraction,
                seed=seed,
            ),
            index=table.index,
            name="split",
        )
    if strategy != "stratified":
        raise DataError(f"split strategy must be 'stratified' or 'time', got {strategy!r}")
    out = _grouped_split(labels, ids, {"test": test_fraction, "val": val_fraction}, seed, grouped)
    return pd.Series(out, index=table.index, name="split")


def _grouped_split(
    labels: np.ndarray,
    ids: np.ndarray,
    fractions: dict[str, float],
    seed: int,
    grouped: bool,
) -> np.ndarray:
    """Stratified split of whole groups; a group's label is its most common one."""
    frame = pd.DataFrame({"group": ids, "label": labels})
    counts = frame.groupby(["group", "label"]).size().reset_index(name="n")
    counts = counts.sort_values(["group", "n", "label"], ascending=[True, False, True])
    group_label = counts.drop_duplicates("group").set_index("group")["label"].sort_index()
    group_size = frame.groupby("group", sort=True).size()
    names = [n for n in ("test", "val") if fractions[n] > 0]
    needed = 1 + len(names)
    rng = np.random.default_rng(seed)
    assignment: dict[Any, str] = {}
    for label in sorted(group_label.unique()):
        members = group_label.index[group_label == label].to_numpy()
        if len(members) < needed:
            what = "groups" if grouped else "images"
            raise DataError(
                f"class {label!r} has {len(members)} {what} but the train/val/test split "
                f"needs at least {needed}; add images or lower --val-fraction/--test-fraction"
            )
        members = members[rng.permutation(len(members))]
        sizes = group_size[members].to_numpy()
        total = int(sizes.sum())
        free = np.ones(len(members), dtype=bool)
        for k, name in enumerate(names):
            target = total * fractions[name]
            reserve = len(names) - k  # groups to leave: later splits and train
            taken = 0
            for i in range(len(members)):
                if taken >= target or int(free.sum()) <= reserve:
                    break
                if not free[i]:
                    continue
                s = int(sizes[i])
                # Skip a group that would overshoot by more than it fills (one always goes).
                if taken > 0 and taken + s - target > target - taken:
                    continue
                free[i] = False
                assignment[members[i]] = name
                taken += s
        for g in members[free]:
            assignment[g] = "train"
    return np.array([assignment[g] for g in ids], dtype=object)


def _period_order(values: np.ndarray) -> list[Any]:
    unique = sorted(set(values))
    try:
        return sorted(unique, key=float)
    except ValueError:
        return unique


def _time_split(
    table: pd.DataFrame,
    column: str,
    labels: np.ndarray,
    ids: np.ndarray,
    *,
    val_fraction: float,
    test_fraction: float,
    seed: int,
) -> np.ndarray:
    if column not in table.columns:
        raise DataError(
            f"a time split needs a {column!r} column (set --time-column); columns are "
            f"{', '.join(c for c in table.columns if c not in ('path',))}"
        )
    values = table[column].astype(str).str.strip().to_numpy(dtype=object)
    empty = int(sum(v in ("", "nan", "None") for v in values))
    if empty:
        raise DataError(
            f"{empty} of {len(values)} images have no {column!r} value; a time split needs "
            "one for every image"
        )
    order = _period_order(values)
    names = [(n, f) for n, f in (("test", test_fraction), ("val", val_fraction)) if f > 0]
    if len(order) < 2:
        raise DataError(
            f"a time split needs at least 2 distinct {column!r} values; the data has "
            f"{len(order)} ({', '.join(map(str, order))})"
        )
    counts = pd.Series(values).value_counts()
    n = len(values)
    out = np.full(n, "train", dtype=object)
    remaining = list(order)
    for name, frac in names:
        if len(remaining) < 2:
            break
        taken, chosen, target = 0, [], frac * n
        # Whole periods from the latest back; one more only if it brings the share closer.
        while len(remaining) > 1 and taken < target:
            c = int(counts[remaining[-1]])
            if chosen and taken + c - target > target - taken:
                break
            chosen.append(remaining.pop())
            taken += c
        out[np.isin(values, chosen)] = name
    if val_fraction > 0 and not (out == "val").any():
        # Too few periods for a later validation block: validate on a grouped sample of
        # the training periods instead.
        tr = np.flatnonzero(out == "train")
        share = val_fraction / max(1e-9, 1.0 - float((out == "test").mean()))
        sub = _grouped_split(labels[tr], ids[tr], {"test": 0.0, "val": min(share, 0.5)}, seed, True)
        out[tr] = sub
    return out
