"""``stylecast data check``: open every image once and report what a run needs to know.

:func:`check_data` returns a :class:`DataCheck`; its ``record`` is what
``data_check.json`` holds (a :class:`~stylecast.records.DataCheckRecord`, counted by
:mod:`stylecast.data.check_report`), and it can write a clean manifest of the readable
images.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from stylecast.data.cache import ImageCache, inspect_files
from stylecast.data.check_report import build_report
from stylecast.data.dupes import (
    DEFAULT_DUP_THRESHOLD,
    Duplicates,
    find_near_duplicates,
    keep_one_per_cluster,
)
from stylecast.data.sources import Dataset, discover, resolve_group_column
from stylecast.errors import DataError
from stylecast.fileio import atomic_write_json, atomic_write_text
from stylecast.records import DataCheckRecord

__all__ = ["DataCheck", "check_data"]


@dataclass(frozen=True)
class DataCheck:
    """What ``stylecast data check`` found: ``record`` is what ``data_check.json`` holds."""

    record: DataCheckRecord
    dataset: Dataset
    table: pd.DataFrame  # every image found, with columns ok, kind, reason, format, ...
    duplicates: Duplicates  # over the readable rows (``table[table.ok]``, in order)
    keep: np.ndarray  # per readable row: kept by --drop-duplicates

    @property
    def report(self) -> dict[str, Any]:
        """:attr:`record` as the JSON ``data_check.json`` holds."""
        return self.record.to_json()

    def write(self, path: str | os.PathLike[str]) -> Path:
        """Write :attr:`record` as JSON (atomically); returns the path."""
        return atomic_write_json(path, self.record.to_json())

    def write_clean_manifest(
        self, path: str | os.PathLike[str], *, drop_duplicates: bool = False
    ) -> int:
        """Write a manifest of the readable images to ``path``; returns how many it lists.

        Paths are relative to the manifest's folder, so it can live anywhere; every extra
        column of the source (group, brand, period, ...) is kept. ``drop_duplicates``
        lists one image per duplicate cluster (the one :attr:`keep` marks).
        """
        manifest = Path(path)
        table = self.table[self.table["ok"]].reset_index(drop=True)
        if drop_duplicates:
            table = table[self.keep].reset_index(drop=True)
        base = manifest.resolve().parent
        extra = [c for c in self.dataset.table.columns if c not in ("path", "relpath", "label")]
        clean = table[["label", *extra]].copy()
        clean.insert(0, "path", [Path(os.path.relpath(p, base)).as_posix() for p in table["path"]])
        atomic_write_text(manifest, clean.to_csv(index=False))
        return len(clean)


def check_data(
    data: str | os.PathLike[str],
    *,
    dup_threshold: int = DEFAULT_DUP_THRESHOLD,
    group_column: str | None = None,
    workers: int | None = None,
    progress: bool = True,
    cache: ImageCache | None = None,
    path_column: str = "path",
    label_column: str = "label",
) -> DataCheck:
    """Open every image at ``data`` once (in parallel) and report what a run needs to know.

    Reports and skips empty, unreadable, truncated, non-image, too small and
    decompression-bomb files; lists files whose content is not the format their name
    says; counts classes, colour modes, EXIF rotations and groups; finds exact and
    near-duplicate clusters (flagging those with conflicting labels). ``group_column``
    defaults to ``group`` when the data has one; ``path_column`` and ``label_column`` name
    a manifest's columns (see :func:`~stylecast.data.discover`).
    """
    if dup_threshold < -1 or dup_threshold > 64:
        raise DataError(f"dup_threshold must be between -1 and 64, got {dup_threshold}")
    if workers is not None and workers < 1:
        raise DataError(f"workers must be at least 1, got {workers}")
    ds = discover(data, path_column=path_column, label_column=label_column)
    group_column = resolve_group_column(ds, group_column)
    cache = cache or ImageCache()
    paths = ds.table["path"].tolist()
    digests = cache.digests(paths, progress=progress)
    infos = inspect_files(paths, digests, cache, workers=workers, progress=progress)
    ok = np.array([bool(i.get("ok")) for i in infos], dtype=bool)
    readable = ds.table[ok].reset_index(drop=True)
    r_digests = [d for d, k in zip(digests, ok, strict=True) if k]
    r_infos = [i for i, k in zip(infos, ok, strict=True) if k]
    skipped = [
        {
            "path": str(ds.table["relpath"].iloc[i]),
            "kind": infos[i]["kind"],
            "reason": infos[i]["reason"],
        }
        for i in np.flatnonzero(~ok)
    ]
    dups = find_near_duplicates(r_digests, r_infos, dup_threshold)
    keep = keep_one_per_cluster(
        dups,
        readable["label"].tolist(),
        [int(i["width"]) * int(i["height"]) for i in r_infos],
        prefer=(readable["split"] == "train").to_numpy() if "split" in readable else None,
    )
    record = build_report(
        ds,
        readable=readable,
        infos=r_infos,
        digests=r_digests,
        skipped=skipped,
        dups=dups,
        keep=keep,
        group_column=group_column,
    )
    table = ds.table.copy()
    for key in ("ok", "kind", "reason", "format", "width", "height", "mode"):
        table[key] = [i.get(key) for i in infos]
    table["digest"] = digests
    return DataCheck(DataCheckRecord.from_json(record), ds, table, dups, keep)
