"""The report's dataset section, built only from what a run folder holds.

:func:`render_data_section` reads the run's files through :class:`~stylecast.run.RunFolder`:
``splits.csv``, ``run.json`` (where the images are: :meth:`RunFolder.image_root`),
``data_check.json`` and ``skipped.json``; draws a class-distribution chart, a random
sample grid per class and the near-duplicate clusters as PNGs in the run folder; and
returns one self-contained HTML fragment (PNG data URIs, no external assets).
"""

from __future__ import annotations

import base64
import html
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from stylecast.data.decode import letterbox, load_image
from stylecast.errors import DataError, RunError
from stylecast.records import DataCheckRecord
from stylecast.run import RunFolder

__all__ = ["render_data_section", "DATA_FIGURES"]

# PNGs the section writes into the run folder (sample grids are data_samples_<n>.png).
CLASSES_FIGURE = "data_classes.png"
DUPLICATES_FIGURE = "data_duplicates.png"
DATA_FIGURES = (CLASSES_FIGURE, DUPLICATES_FIGURE)
_THUMB = 96
_GRID_DPI = 100  # photo grids: small thumbnails, so a lighter report
_SPLIT_ORDER = ("train", "val", "test")


def _esc(x: Any) -> str:
    return html.escape(str(x), quote=True)


def _data_uri(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def _figure(path: Path, alt: str, caption: str) -> str:
    return (
        f'<figure><img alt="{_esc(alt)}" src="{_data_uri(path)}">'
        f"<figcaption>{_esc(caption)}</figcaption></figure>"
    )


def _image_root(folder: RunFolder) -> Path | None:
    """Where the run's images are; None without a readable ``run.json`` (no image grids then)."""
    try:
        return folder.image_root()
    except RunError:
        return None


def _thumb(path: Path) -> np.ndarray | None:
    try:
        return letterbox(load_image(path), _THUMB)
    except (DataError, OSError):
        return None


def _table(header: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{_esc(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{_esc(v)}</td>" for v in r) + "</tr>" for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def render_data_section(
    run_dir: str | os.PathLike[str],
    *,
    samples_per_class: int = 8,
    max_clusters: int = 6,
    seed: int = 0,
) -> str:
    """Draw the dataset figures into ``run_dir`` and return the report's HTML fragment.

    The fragment is a ``<div class="stylecast-data">`` with ``<h3>`` parts: summary,
    class distribution (chart + images per class and split), a random sample grid per
    class, near-duplicate clusters and skipped files. Everything comes from the run
    folder; images that are no longer at the data source are left out of the grids.
    """
    from stylecast.plots import image_grid, plot_class_distribution, save_figure

    folder = RunFolder(run_dir)
    run = folder.path
    if not folder.splits_file.is_file():
        raise RunError(f"{run} has no {RunFolder.SPLITS}; train a run first (stylecast train DATA)")
    splits = folder.splits()
    check = DataCheckRecord.read_if_present(folder.data_check_file) or DataCheckRecord()
    skipped = folder.read_json_if_present(RunFolder.SKIPPED) or []
    root = _image_root(folder)
    parts: list[str] = ['<div class="stylecast-data">']

    # -- summary
    parts.append("<h3>Data summary</h3>")
    parts.append(_summary(splits, check, skipped, root))

    # -- class distribution
    counts = splits.groupby("label").size().sort_index()
    classes = [str(c) for c in counts.index]
    if len(counts):
        fig_path = save_figure(
            plot_class_distribution({str(k): int(v) for k, v in counts.items()}),
            run / CLASSES_FIGURE,
        )
        parts.append("<h3>Class distribution</h3>")
        parts.append(_figure(fig_path, "class distribution", "Images per class (all splits)."))
        cross = pd.crosstab(splits["label"], splits["split"])
        cols = [s for s in _SPLIT_ORDER if s in cross.columns]
        rows = [
            [lbl, *[int(cross.loc[lbl, s]) for s in cols], int(cross.loc[lbl, cols].sum())]
            for lbl in cross.index
        ]
        rows.append(["all", *[int(cross[s].sum()) for s in cols], int(cross[cols].values.sum())])
        parts.append(_table(["class", *cols, "total"], rows))

    # -- samples per class
    parts.append("<h3>Random samples per class</h3>")
    if root is None or not root.is_dir():
        parts.append(
            f'<p class="muted">The images are not at {_esc(root)} any more; no samples.</p>'
        )
    else:
        rng = np.random.default_rng(seed)
        drew = False
        for k, label in enumerate(classes):
            rows_l = splits[splits["label"] == label]
            take = rows_l.iloc[rng.permutation(len(rows_l))[: samples_per_class * 2]]
            images, titles = [], []
            for _, r in take.iterrows():
                arr = _thumb(root / r["path"])
                if arr is not None:
                    images.append(arr)
                    titles.append(r["split"])
                if len(images) == samples_per_class:
                    break
            if not images:
                continue
            fig = image_grid(
                images, titles, ncols=samples_per_class, suptitle=f"{label} (random sample)"
            )
            path = save_figure(fig, run / f"data_samples_{k}.png", dpi=_GRID_DPI)
            parts.append(
                _figure(path, f"samples of {label}", f"{label}: random images, titled by split.")
            )
            drew = True
        if not drew:
            parts.append('<p class="muted">None of the images could be read for samples.</p>')

    # -- duplicates
    parts.append("<h3>Near-duplicate clusters</h3>")
    parts.append(_duplicates(run, splits, check, root, max_clusters))

    # -- skipped
    parts.append("<h3>Skipped files</h3>")
    if skipped:
        by_kind: dict[str, int] = {}
        for s in skipped:
            by_kind[s.get("kind", "unreadable")] = by_kind.get(s.get("kind", "unreadable"), 0) + 1
        kinds = ", ".join(f"{k}: {v}" for k, v in sorted(by_kind.items()))
        parts.append(f"<p>{len(skipped)} file(s) could not be used ({_esc(kinds)}).</p>")
        parts.append(
            _table(
                ["file", "kind", "reason"],
                [[s.get("path"), s.get("kind", ""), s.get("reason", "")] for s in skipped[:50]],
            )
        )
        if len(skipped) > 50:
            parts.append(
                f'<p class="muted">... and {len(skipped) - 50} more in {RunFolder.SKIPPED}.</p>'
            )
    else:
        parts.append("<p>None: every image was readable.</p>")
    parts.append("</div>")
    return "\n".join(parts)


def _summary(
    splits: pd.DataFrame, check: DataCheckRecord, skipped: list[Any], root: Path | None
) -> str:
    items = [f"<li>{len(splits)} images in {splits['label'].nunique()} classes"]
    if root is not None:
        items[0] += f" from <code>{_esc(root)}</code>"
    items[0] += "</li>"
    if check.imbalance is not None:
        items.append(f"<li>imbalance (largest / smallest class): {check.imbalance:.2f}x</li>")
    sp = check.split or {}
    if sp:
        grouped = ", ".join(sp.get("grouped_by") or [])
        sizes = ", ".join(f"{k} {v}" for k, v in sp.get("sizes", {}).items())
        items.append(
            f"<li>split: {_esc(sp.get('strategy'))} (seed {_esc(sp.get('seed'))}; "
            f"kept together: {_esc(grouped or 'nothing')}): {_esc(sizes)}</li>"
        )
        if "pairs_across_splits" in sp:
            items.append(
                f"<li>leakage check: {sp['pairs_across_splits']} near-duplicate pair(s) across "
                "splits</li>"
            )
        if sp.get("groups_straddling") is not None:
            items.append(f"<li>groups in more than one split: {sp['groups_straddling']}</li>")
        if sp.get("periods"):
            per = "; ".join(f"{k}: {', '.join(v)}" for k, v in sp["periods"].items() if v)
            items.append(f"<li>periods ({_esc(sp.get('time_column'))}): {_esc(per)}</li>")
    if check.groups:
        g = check.groups
        items.append(
            f"<li>groups ({_esc(g.column)}): {g.groups}, {g.with_several_images} with "
            f"several images, {g.mixed_labels} with mixed labels</li>"
        )
    items += [f"<li>{_esc(note)}</li>" for note in check.decoding_notes()]
    if check.mismatched.get("count"):
        items.append(f"<li>files named as another format (kept): {check.mismatched['count']}</li>")
    if check.dropped_duplicates:
        items.append(
            f"<li>duplicates left out (--drop-duplicates): {len(check.dropped_duplicates)}</li>"
        )
    items.append(f"<li>skipped files: {len(skipped)}</li>")
    return "<ul>" + "".join(items) + "</ul>"


def _duplicates(
    run: Path,
    splits: pd.DataFrame,
    check: DataCheckRecord,
    root: Path | None,
    max_clusters: int,
) -> str:
    from stylecast.plots import image_grid, save_figure

    d = check.duplicates
    if not d:
        return (
            f'<p class="muted">No duplicate check in this run ({RunFolder.DATA_CHECK} absent).</p>'
        )
    how = (
        "exact file copies"
        if d.threshold < 0
        else f"perceptual-hash distance ≤ {d.threshold} bits and the same colours"
    )
    head = (
        f"<p>{d.clusters} cluster(s) of {d.images_in_clusters} images "
        f"({_esc(how)}); {d.exact_copies} exact copies; "
        f"{d.conflicting_labels} cluster(s) with conflicting labels. "
        "Each cluster is kept inside one split.</p>"
    )
    examples = d.examples
    if not examples:
        return head
    where = dict(zip(splits["path"], splits["split"], strict=False))
    label_of = dict(zip(splits["path"], splits["label"], strict=False))
    rows = []
    for k, c in enumerate(examples[:20], start=1):
        sp = sorted({where.get(p, "dropped") for p in c.paths})
        rows.append(
            [
                k,
                c.size,
                c.label_text,
                "yes" if c.conflict else "",
                ", ".join(sp),
                ", ".join(c.paths[:4]) + (" ..." if c.size > 4 else ""),
            ]
        )
    out = [head, _table(["#", "images", "labels", "conflict", "splits", "files"], rows)]
    if root is not None and root.is_dir():
        ncols = min(6, max(len(c.paths) for c in examples[:max_clusters]))
        blank = np.full((_THUMB, _THUMB, 3), 255, dtype=np.uint8)
        images, titles, colours = [], [], []
        for k, c in enumerate(examples[:max_clusters], start=1):
            row = []
            for p in c.paths[:ncols]:
                arr = _thumb(root / p)
                if arr is not None:
                    title = f"#{k} {where.get(p, 'dropped')} {label_of.get(p, '')}"
                    row.append((arr, title.strip()))
            if len(row) < 2:
                continue
            for arr, title in row:
                images.append(arr)
                titles.append(title)
                colours.append("#b3261e" if c.conflict else "#222222")
            for _ in range(ncols - len(row)):
                images.append(blank)
                titles.append("")
                colours.append("#222222")
        if images:
            fig = image_grid(images, titles, ncols=ncols, title_colors=colours)
            path = save_figure(fig, run / DUPLICATES_FIGURE, dpi=_GRID_DPI)
            out.append(
                _figure(
                    path,
                    "near-duplicate clusters",
                    "One row per cluster (red titles: conflicting labels), titled by split.",
                )
            )
    return "\n".join(out)
