"""What a run needs of its data: discovered, decoded (cached), de-duplicated and split.

:func:`prepare_run_data` is the data stage's entry for training and tuning. A new split
is checked for leakage: near-duplicate pairs across splits are counted and more than
``max_leakage`` raise :class:`DataError`. The run's ``data_check.json`` is the data
check's report plus ``split`` (and ``dropped_duplicates``).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from stylecast.data.cache import ImageCache, PreparedImages, prepare_images, subset_images
from stylecast.data.check_report import build_report
from stylecast.data.dupes import (
    Duplicates,
    cross_split_pairs,
    find_near_duplicates,
    keep_one_per_cluster,
    restrict,
)
from stylecast.data.sources import SPLITS, Dataset, discover, resolve_group_column
from stylecast.data.split import group_ids, split_dataset
from stylecast.errors import DataError

if TYPE_CHECKING:
    from stylecast.config import TrainConfig

__all__ = ["RunData", "prepare_run_data"]

# The letterbox border of a run's cached pixels: white suits catalogue and lookbook photos.
_FILL = 255


@dataclass(frozen=True)
class RunData:
    """A dataset decoded at the run's size and split: everything a stage needs of the data."""

    dataset: Dataset
    prepared: PreparedImages
    table: pd.DataFrame  # readable rows with a 'split' column, aligned with prepared.pixels
    classes: list[str]
    y: np.ndarray
    check: dict[str, Any] = field(default_factory=dict)  # written to the run's data_check.json
    dropped: list[dict[str, str]] = field(default_factory=list)  # duplicates left out

    def indices(self, split: str) -> np.ndarray:
        """Row numbers (into :attr:`table` and ``prepared.pixels``) of one split."""
        return np.flatnonzero(self.table["split"].to_numpy() == split)


def _read_splits_file(path: Path) -> pd.DataFrame:
    """A splits.csv given by the user: columns path and split, values train/val/test."""
    if not path.is_file():
        raise DataError(f"splits file {path} does not exist")
    try:
        saved = pd.read_csv(path, dtype=str, keep_default_na=False)
    except Exception as exc:  # noqa: BLE001 - pandas raises many parser errors
        raise DataError(f"cannot read splits file {path}: {exc}") from None
    missing = [c for c in ("path", "split") if c not in saved.columns]
    if missing:
        raise DataError(f"splits file {path} needs columns path and split; missing {missing}")
    bad = sorted(set(saved["split"]) - set(SPLITS))
    if bad:
        raise DataError(f"splits file {path} has split values {bad}; use train, val or test")
    return saved


def prepare_run_data(
    data: str | os.PathLike[str],
    cfg: TrainConfig,
    *,
    splits_csv: str | os.PathLike[str] | None = None,
    cache: ImageCache | None = None,
    progress: bool = True,
) -> RunData:
    """Discover, decode (cached), de-duplicate and split ``data``; reuse ``splits_csv`` if given.

    Near-duplicates (``cfg.dup_threshold``) are kept in one split with their group, or
    left out but one with ``cfg.drop_duplicates``. A new split is checked for leakage:
    more than ``cfg.max_leakage`` near-duplicate pairs across splits raise ``DataError``.
    Without ``cfg.group_column``, a manifest's ``group`` column groups the split (as in
    ``data check``; with ``progress``, one line on stderr says so).
    """
    cache = cache or ImageCache()
    ds = discover(data, path_column=cfg.path_column, label_column=cfg.label_column)
    if progress:
        for line in ds.warnings:
            print(f"warning: {line}", file=sys.stderr, flush=True)
    group_column = resolve_group_column(ds, cfg.group_column)
    new_split = splits_csv is None and "split" not in ds.table.columns
    if cfg.group_column is None and group_column is not None and new_split and progress:
        print(
            f"grouping by the manifest's {group_column!r} column; --group-column to choose another",
            file=sys.stderr,
            flush=True,
        )
    prepared = prepare_images(ds.table, cfg.img_size, cache=cache, fill=_FILL, progress=progress)
    table = prepared.table.copy()
    dups = find_near_duplicates(prepared.digests, prepared.infos, cfg.dup_threshold)
    pixels_of = [int(i.get("width", 0)) * int(i.get("height", 0)) for i in prepared.infos]
    presplit_train = (table["split"] == "train").to_numpy() if "split" in table else None
    dup_keep = (
        keep_one_per_cluster(dups, table["label"].tolist(), pixels_of, prefer=presplit_train)
        if cfg.drop_duplicates
        else np.ones(len(table), dtype=bool)
    )
    keep = dup_keep.copy()
    leakage: dict[str, Any] = {}
    if splits_csv is not None:
        saved = _read_splits_file(Path(splits_csv))
        lookup = dict(zip(saved["path"], saved["split"], strict=True))
        split = np.array([lookup.get(p, "") for p in table["relpath"]], dtype=object)
        keep &= split != ""
        how = f"reused {Path(splits_csv).name}"
    else:
        split = np.full(len(table), "", dtype=object)
        kept = table[keep].reset_index(drop=True)
        kept_dups = restrict(dups, keep)
        ids, merged = group_ids(kept, group_column, kept_dups)
        split[keep] = split_dataset(
            kept,
            val_fraction=cfg.val_fraction,
            test_fraction=cfg.test_fraction,
            seed=cfg.seed,
            group_column=group_column,
            groups=ids if (merged or group_column) else None,
            strategy=cfg.split_strategy,
            time_column=cfg.time_column,
        ).to_numpy()
        how = "given by the source" if "split" in table.columns else cfg.split_strategy
        leakage = _leakage(kept_dups, split[keep], kept, cfg.max_leakage)
    dropped = [
        {"path": str(table["relpath"].iloc[i]), "reason": "near-duplicate (one kept per cluster)"}
        for i in np.flatnonzero(~dup_keep)
    ]
    final = table[keep].reset_index(drop=True)
    final["split"] = split[keep]
    prepared_final = subset_images(prepared, keep, img_size=cfg.img_size, fill=_FILL, cache=cache)
    # The run's skipped list: inputs the source left out, then files that are not images.
    prepared_final = replace(prepared_final, skipped=[*ds.skipped, *prepared.skipped])
    classes = list(ds.classes)
    missing = [
        c for c in classes if not ((final["label"] == c) & (final["split"] == "train")).any()
    ]
    if missing:
        raise DataError(f"no readable training images for class(es) {', '.join(missing)}")
    y = np.array([classes.index(lbl) for lbl in final["label"]], dtype=np.int64)
    check = build_report(
        ds,
        readable=table,
        infos=prepared.infos,
        digests=prepared.digests,
        skipped=prepared.skipped,
        dups=dups,
        keep=dup_keep if cfg.drop_duplicates else None,
        group_column=group_column,
    )
    check["split"] = _split_summary(final, how, cfg, leakage, group_column=group_column)
    if dropped:
        check["dropped_duplicates"] = dropped
    return RunData(ds, prepared_final, final, classes, y, check, dropped)


def _leakage(
    dups: Duplicates, split: np.ndarray, table: pd.DataFrame, max_leakage: int
) -> dict[str, Any]:
    """Near-duplicate pairs across splits; raise over ``max_leakage``."""
    cross = cross_split_pairs(dups, split)
    rel = table["relpath"].to_numpy()
    examples = [
        {
            "a": str(rel[i]),
            "a_split": str(split[i]),
            "b": str(rel[j]),
            "b_split": str(split[j]),
            "distance": int(dups.distances[k]),
        }
        for k in cross[:20]
        for i, j in [dups.pairs[k]]
    ]
    if len(cross) > max_leakage:
        first = examples[0]
        raise DataError(
            f"leakage: {len(cross)} near-duplicate pair(s) straddle splits (more than "
            f"--max-leakage {max_leakage}), e.g. {first['a']} [{first['a_split']}] ~ "
            f"{first['b']} [{first['b_split']}]; use --drop-duplicates, fix the split, or "
            "raise --max-leakage"
        )
    return {"pairs_across_splits": int(len(cross)), "examples": examples}


def _split_summary(
    final: pd.DataFrame,
    how: str,
    cfg: TrainConfig,
    leakage: dict[str, Any],
    *,
    group_column: str | None,
) -> dict[str, Any]:
    """The ``split`` part of the run's ``data_check.json`` (``group_column``: the one used)."""
    counts = pd.crosstab(final["label"], final["split"])
    out: dict[str, Any] = {
        "strategy": how,
        "seed": int(cfg.seed),
        "val_fraction": float(cfg.val_fraction),
        "test_fraction": float(cfg.test_fraction),
        "group_column": group_column,
        # Given (--group-column), or the manifest's 'group' column used by default.
        "group_column_from": "config" if cfg.group_column else "default" if group_column else None,
        "grouped_by": [*([group_column] if group_column else []), "near-duplicates"],
        "dup_threshold": int(cfg.dup_threshold),
        "counts": {
            s: {str(k): int(v) for k, v in counts[s].items()} for s in SPLITS if s in counts
        },
        "sizes": {s: int((final["split"] == s).sum()) for s in SPLITS},
    }
    if how == "time":
        col = cfg.time_column
        out["time_column"] = col
        out["periods"] = {
            s: sorted(map(str, final.loc[final["split"] == s, col].unique())) for s in SPLITS
        }
    if group_column:
        per = final.groupby(group_column)["split"].nunique()
        out["groups_straddling"] = int((per > 1).sum())
    out.update(leakage)
    return out
