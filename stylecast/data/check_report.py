"""The data check's report: a JSON-ready dict (``data_check.json``, read back as a
:class:`~stylecast.records.DataCheckRecord`) and its text form.

Both ``stylecast data check`` (:func:`stylecast.data.check.check_data`) and training
(:func:`stylecast.data.rundata.prepare_run_data`) build it with :func:`build_report`, so the
run's ``data_check.json`` and the one the command writes have the same keys; a run adds
``split`` (strategy, counts per split, leakage) and, with ``--drop-duplicates``,
``dropped_duplicates``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from stylecast.data.dupes import COLOUR_TOLERANCE, Duplicates, cross_split_pairs
from stylecast.data.sources import SPLITS, Dataset, printable_path
from stylecast.records import DataCheckRecord, DuplicateSummary

__all__ = ["build_report", "format_report", "MAX_LISTED"]

MAX_LISTED = 200  # files listed per kind (counts are always complete)
MAX_CLUSTERS = 100
MAX_CLUSTER_PATHS = 12
_FORMATS = {
    ".jpg": ("JPEG", "MPO"),
    ".jpeg": ("JPEG", "MPO"),
    ".png": ("PNG",),
    ".webp": ("WEBP",),
    ".bmp": ("BMP", "DIB"),
    ".tif": ("TIFF",),
    ".tiff": ("TIFF",),
    ".gif": ("GIF",),
}
_CONVERTED = {
    "P": "palette",
    "PA": "palette+alpha",
    "RGBA": "alpha",
    "LA": "grayscale+alpha",
    "La": "grayscale+alpha",
    "RGBa": "alpha",
    "L": "grayscale",
    "1": "black-and-white",
    "CMYK": "CMYK",
    "YCbCr": "YCbCr",
    "LAB": "Lab",
    "HSV": "HSV",
    "I": "32-bit",
    "F": "float",
    "I;16": "16-bit",
    "I;16B": "16-bit",
    "I;16L": "16-bit",
    "I;16N": "16-bit",
}


def _counts(values: pd.Series) -> dict[str, int]:
    return {str(k): int(v) for k, v in values.value_counts().sort_index().items()}


def build_report(
    ds: Dataset,
    *,
    readable: pd.DataFrame,
    infos: list[dict[str, Any]],
    digests: list[str],
    skipped: list[dict[str, str]],
    dups: Duplicates,
    keep: np.ndarray | None,
    group_column: str | None,
) -> dict[str, Any]:
    """Everything the check found, as plain JSON types (``infos``, ``digests``: readable rows).

    ``skipped`` are the files that could not be used as images; the inputs the source left
    out before (``ds.skipped``: blank labels, folders, dangling symlinks, unreadable
    names, ...) come first in the report's list and count as files.
    """
    skipped = [*ds.skipped, *skipped]
    classes = _counts(readable["label"])
    present = [v for v in classes.values() if v > 0]
    report: dict[str, Any] = {
        "source": printable_path(ds.source),
        "kind": ds.kind,
        "n_files": int(len(ds.table) + len(ds.skipped)),
        "n_images": int(len(readable)),
        "n_skipped": len(skipped),
        "classes": classes,
        "imbalance": round(max(present) / min(present), 3) if present else None,
    }
    if "split" in ds.table.columns:
        report["given_split"] = {
            s: _counts(readable.loc[readable["split"] == s, "label"]) for s in SPLITS
        }
    by_kind: dict[str, int] = {}
    for s in skipped:
        by_kind[s["kind"]] = by_kind.get(s["kind"], 0) + 1
    report["skipped_by_kind"] = dict(sorted(by_kind.items()))
    report["skipped"] = skipped[:MAX_LISTED]
    ignored = list(ds.ignored)
    report["ignored_files"] = {"count": len(ignored), "first": ignored[:20]}

    rel = readable["relpath"].astype(str).tolist()
    mismatched = []
    for path, info in zip(rel, infos, strict=True):
        expected = _FORMATS.get(Path(path).suffix.lower())
        if expected and info.get("format") and info["format"] not in expected:
            mismatched.append(
                {"path": path, "extension": Path(path).suffix, "format": info["format"]}
            )
    report["mismatched"] = {"count": len(mismatched), "files": mismatched[:MAX_LISTED]}

    modes: dict[str, int] = {}
    for info in infos:
        m = info.get("mode")
        if m and m != "RGB":
            name = _CONVERTED.get(m, m)
            modes[name] = modes.get(name, 0) + 1
    formats: dict[str, int] = {}
    for info in infos:
        f = str(info.get("format"))
        formats[f] = formats.get(f, 0) + 1
    report["formats"] = dict(sorted(formats.items()))
    report["converted_to_rgb"] = dict(sorted(modes.items()))
    report["exif_rotated"] = int(sum(bool(i.get("rotated")) for i in infos))
    report["animated"] = int(sum(int(i.get("frames", 1)) > 1 for i in infos))
    if infos:
        w = np.array([int(i.get("width", 0)) for i in infos])
        h = np.array([int(i.get("height", 0)) for i in infos])
        report["image_sizes"] = {
            "min": [int(w.min()), int(h.min())],
            "median": [int(np.median(w)), int(np.median(h))],
            "max": [int(w.max()), int(h.max())],
        }
    report["duplicates"] = _duplicates(
        readable, rel, digests, dups, keep=keep, group_column=group_column
    )
    if "split" in readable.columns and len(dups.pairs):
        split = readable["split"].astype(str).to_numpy()
        cross = cross_split_pairs(dups, split)
        report["given_split_leakage"] = {
            "pairs_across_splits": int(len(cross)),
            "examples": [
                {"a": rel[i], "a_split": split[i], "b": rel[j], "b_split": split[j]}
                for i, j in dups.pairs[cross[:20]]
            ],
        }
    if group_column:
        report["groups"] = _groups(readable, group_column)
    return report


def _duplicates(
    readable: pd.DataFrame,
    rel: list[str],
    digests: list[str],
    dups: Duplicates,
    *,
    keep: np.ndarray | None,
    group_column: str | None,
) -> dict[str, Any]:
    labels = readable["label"].astype(str).to_numpy()
    groups = readable[group_column].astype(str).to_numpy() if group_column else None
    seen: set[str] = set()
    exact_files = 0
    for d in digests:
        if d in seen:
            exact_files += 1
        seen.add(d)
    clusters = []
    conflicting = 0
    across_groups = 0
    for members in dups.clusters:
        labs = _counts(pd.Series(labels[members]))
        conflict = len(labs) > 1
        conflicting += conflict
        entry: dict[str, Any] = {
            "size": int(len(members)),
            "exact": bool(len({digests[i] for i in members}) == 1),
            "labels": labs,
            "conflict": conflict,
            "paths": [rel[i] for i in members[:MAX_CLUSTER_PATHS]],
        }
        if groups is not None:
            n_groups = len(set(groups[members]))
            entry["groups"] = int(n_groups)
            across_groups += n_groups > 1
        clusters.append(entry)
    # Conflicting clusters first: they are the ones to look at.
    order = sorted(range(len(clusters)), key=lambda k: (not clusters[k]["conflict"], k))
    out: dict[str, Any] = {
        "threshold": int(dups.threshold),
        "method": "exact file hash" if dups.threshold < 0 else "phash + colour thumbnail",
        "colour_tolerance": COLOUR_TOLERANCE,
        "exact_copies": int(exact_files),
        "pairs": int(len(dups.pairs)),
        "clusters": int(len(dups.clusters)),
        "images_in_clusters": dups.n_in_clusters,
        "conflicting_labels": int(conflicting),
        "would_drop": int(dups.n_in_clusters - len(dups.clusters)),
        "examples": [clusters[k] for k in order[:MAX_CLUSTERS]],
    }
    if groups is not None:
        out["clusters_across_groups"] = int(across_groups)
    if keep is not None:
        out["kept"] = int(keep.sum())
    return out


def _groups(readable: pd.DataFrame, column: str) -> dict[str, Any]:
    g = readable[column].astype(str)
    sizes = g.value_counts()
    mixed = readable.groupby(g)["label"].nunique()
    mixed_names = sorted(mixed.index[mixed > 1].tolist())
    return {
        "column": column,
        "groups": int(len(sizes)),
        "with_several_images": int((sizes > 1).sum()),
        "largest": int(sizes.max()) if len(sizes) else 0,
        "mixed_labels": int(len(mixed_names)),
        "mixed_examples": mixed_names[:10],
    }


def format_report(
    report: DataCheckRecord | Mapping[str, Any], *, seconds: float | None = None
) -> str:
    """The report (its record, or the JSON) as the few lines ``stylecast data check`` prints."""
    r = DataCheckRecord.of(report)
    lines = []
    took = f" in {seconds:.1f}s" if seconds is not None else ""
    lines.append(f"checked {r.n_files} files in {r.source} ({r.kind}){took}")
    lines.append(f"readable: {r.n_images}, skipped: {r.n_skipped}")
    classes = ", ".join(f"{k} {v}" for k, v in r.classes.items()) or "none readable"
    ratio = f" (imbalance {r.imbalance:.2f}x largest/smallest)" if r.imbalance else ""
    lines.append(f"classes: {classes}{ratio}")
    if r.given_split:
        parts = [f"{s} {sum(c.values())}" for s, c in r.given_split.items() if sum(c.values())]
        lines.append(f"given split: {', '.join(parts)}")
    leak = r.given_split_leakage
    if leak and leak["pairs_across_splits"]:
        e = leak["examples"][0]
        lines.append(
            f"LEAKAGE: {leak['pairs_across_splits']} duplicate pair(s) across the given splits, "
            f"e.g. {e['a']} [{e['a_split']}] ~ {e['b']} [{e['b_split']}]"
        )
    lines += r.decoding_notes()
    mm = r.mismatched
    if mm["count"]:
        first = mm["files"][0]
        lines.append(
            f"named as another format: {mm['count']} (kept; e.g. {first['path']} is "
            f"{first['format']})"
        )
    d = r.duplicates or DuplicateSummary()
    if d.threshold < 0:
        how = "exact file copies only"
    else:
        how = f"phash distance <= {d.threshold} and same colours"
    lines.append(
        f"duplicates ({how}): {d.clusters} clusters of {d.images_in_clusters} images "
        f"({d.exact_copies} exact copies, {d.conflicting_labels} clusters with "
        f"conflicting labels); --drop-duplicates would leave out {d.would_drop}"
    )
    for c in d.examples[:5]:
        flag = "  CONFLICT" if c.conflict else ""
        more = f" (+{c.size - len(c.paths[:3])} more)" if c.size > 3 else ""
        lines.append(f"  {c.size} x {c.label_text}{flag}: {', '.join(c.paths[:3])}{more}")
    if r.groups:
        g = r.groups
        lines.append(
            f"groups ({g.column}): {g.groups} groups, {g.with_several_images} with "
            f"several images (largest {g.largest}), {g.mixed_labels} with mixed labels"
        )
        if d.clusters_across_groups is not None:
            lines.append(
                f"  duplicate clusters spanning several groups: {d.clusters_across_groups} "
                "(training keeps them on one side anyway)"
            )
    if r.ignored_files["count"]:
        ig = r.ignored_files
        lines.append(f"ignored non-image files: {ig['count']} (e.g. {ig['first'][0]})")
    if r.skipped:
        kinds = ", ".join(f"{k} {v}" for k, v in r.skipped_by_kind.items())
        lines.append(f"skipped files ({kinds}):")
        for s in r.skipped[:10]:
            lines.append(f"  {s['path']}: {s['reason']}")
        if r.n_skipped > 10:
            lines.append(f"  ... and {r.n_skipped - 10} more (see the JSON report)")
    return "\n".join(lines)
