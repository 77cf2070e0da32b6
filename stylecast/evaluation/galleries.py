"""Galleries of an evaluation: what the model gets right, and what it misreads.

From ``predictions.csv`` (written by :func:`stylecast.evaluation.evaluate`):

- per class, the most confident *correct* predictions:
  ``gallery_correct_<class>.png``;
- per confusion pair ``true -> predicted``, the *misinterpreted* images, worst first
  (lowest probability of the true class): ``gallery_wrong_<true>_as_<predicted>.png``.

Each tile shows the photo and, beside it, the Grad-CAM of the predicted class (what
the network found convincing). ``galleries.json`` lists every gallery, its images and
their probabilities, for the report. ``stylecast evaluate`` writes them; ``stylecast
report`` redraws them when they are missing or older than ``predictions.csv``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from stylecast.data import letterbox, load_image
from stylecast.errors import DataError, RunError
from stylecast.fileio import atomic_write_json, read_json
from stylecast.run import ModelInfo, Preprocessing, RunFolder

__all__ = [
    "Gallery",
    "GalleryResult",
    "build_galleries",
    "evaluated_image_root",
    "galleries_are_stale",
    "select_galleries",
]

# Side of each photo in a tile: catalogue thumbnails are ~60x80, runway shots larger.
_TILE = 160
_CAPTION_CHARS = 26  # characters of 7 pt text across a photo tile (1.6 inches)
_GAP = 4
_NCOLS = 4  # photo+heatmap pairs per row
_OK = "#1f7a4d"
_BAD = "#b3261e"


@dataclass(frozen=True)
class Gallery:
    """One gallery PNG and the images in it."""

    kind: str  # "correct" or "wrong"
    true: str
    predicted: str
    file: str  # PNG file name inside the run
    n_total: int  # images of this kind (class, or confusion pair) in the evaluation
    items: list[dict[str, Any]] = field(default_factory=list)  # path, p_true, p_predicted


@dataclass(frozen=True)
class GalleryResult:
    galleries: list[Gallery]
    index: Path  # galleries.json
    gradcam: bool


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", str(name)).strip("-") or "class"


def select_galleries(
    predictions: pd.DataFrame, classes: list[str], size: int
) -> list[tuple[str, str, str, pd.DataFrame, int]]:
    """Which rows each gallery shows: ``(kind, true, predicted, rows, n_total)``.

    Correct galleries come first (one per class, in class order, most confident
    first), then one per confusion pair, the most frequent pair first, each worst
    first (lowest probability of the true class). ``rows`` gains a ``p_true`` column.
    """
    missing = {"path", "true", "predicted"} - set(predictions.columns)
    missing |= {f"p_{c}" for c in classes} - set(predictions.columns)
    if missing:
        raise DataError(f"predictions.csv lacks columns {sorted(missing)}; re-run evaluate")
    df = predictions.copy()
    cols = np.array([f"p_{c}" for c in classes])
    true_idx = np.array([classes.index(t) for t in df["true"]])
    pred_idx = np.array([classes.index(t) for t in df["predicted"]])
    probs = df[list(cols)].to_numpy(dtype=float)
    rows = np.arange(len(df))
    df["p_true"] = probs[rows, true_idx] if len(df) else []
    df["p_predicted"] = probs[rows, pred_idx] if len(df) else []
    out: list[tuple[str, str, str, pd.DataFrame, int]] = []
    right = df[df["true"] == df["predicted"]]
    for c in classes:
        mine = right[right["true"] == c]
        if len(mine):
            best = mine.sort_values(["p_true", "path"], ascending=[False, True], kind="stable")
            out.append(("correct", c, c, best.head(size), len(mine)))
    wrong = df[df["true"] != df["predicted"]]
    pairs = wrong.groupby(["true", "predicted"], sort=False).size().reset_index(name="n")
    pairs["order"] = [
        classes.index(t) * len(classes) + classes.index(p)
        for t, p in zip(pairs["true"], pairs["predicted"], strict=True)
    ]
    pairs = pairs.sort_values(["n", "order"], ascending=[False, True])
    for t, p, n in zip(pairs["true"], pairs["predicted"], pairs["n"], strict=True):
        mine = wrong[(wrong["true"] == t) & (wrong["predicted"] == p)]
        worst = mine.sort_values(["p_true", "path"], ascending=[True, True], kind="stable")
        out.append(("wrong", t, p, worst.head(size), int(n)))
    return out


def evaluated_image_root(run: str | os.PathLike[str], evaluation: Mapping[str, Any]) -> Path:
    """Where the images named in ``predictions.csv`` are (their paths are relative to it).

    The run's own split is found through ``run.json`` (:meth:`RunFolder.image_root`), so
    it follows the data when the run is pointed at a new place; other data is where
    ``evaluate`` found it (``image_root`` in ``evaluation.json``).
    """
    folder = RunFolder(run)
    if evaluation.get("split") != "external":
        return folder.image_root()
    root = evaluation.get("image_root")
    if not root:
        raise RunError(
            f"{folder.evaluation_file} does not say where the evaluated images are; "
            f"run `stylecast evaluate {folder.path} DATA` again"
        )
    return Path(root)


def build_galleries(
    run: str | os.PathLike[str],
    *,
    size: int = 12,
    gradcam: bool = True,
    model: Any = None,
    info: ModelInfo | None = None,
    caption_column: str | None = None,
) -> GalleryResult:
    """Draw the run's galleries from ``predictions.csv``; replaces older gallery PNGs.

    ``model``/``info`` (from :func:`stylecast.models.load_model`) avoid reloading the
    model when the caller has it. ``gradcam=False`` draws the photos alone (fast).
    ``caption_column`` names the manifest column shown under each photo (default: a
    name-like column such as ``productDisplayName`` when the data has one, else the file name).
    """
    from stylecast.plots import image_grid, save_figure

    folder = RunFolder(run)
    run = folder.path
    if not folder.predictions_file.is_file() or not folder.evaluation_file.is_file():
        raise RunError(f"{run} has not been evaluated yet: run `stylecast evaluate {run}`")
    if size < 0:
        raise DataError(f"gallery size must be >= 0, got {size}")
    evaluation = read_json(folder.evaluation_file)
    predictions = pd.read_csv(
        folder.predictions_file, dtype={"path": str, "true": str, "predicted": str}
    )
    if info is None or (gradcam and model is None):
        from stylecast.models import load_model

        model, info = load_model(run)
    classes = list(info.classes)
    prep = info.preprocessing
    root = evaluated_image_root(folder, evaluation)
    caption = caption_column_of(predictions, caption_column)

    for old in run.glob("gallery_*.png"):
        old.unlink()
    galleries: list[Gallery] = []
    for kind, true, pred, rows, n_total in (
        select_galleries(predictions, classes, size) if size else []
    ):
        photos, inputs, titles, items = [], [], [], []
        captions = rows[caption].tolist() if caption else [None] * len(rows)
        for r, label in zip(rows.itertuples(index=False), captions, strict=True):
            try:
                pil = load_image(root / r.path)
            except DataError:
                continue  # moved or unreadable since evaluation: leave it out of the picture
            photos.append(letterbox(pil, _TILE, prep.fill))
            inputs.append(letterbox(pil, prep.img_size, prep.fill))
            stem = str(label).strip() if isinstance(label, str) and label.strip() else None
            stem = stem or Path(r.path).stem
            title = f"{caption_lines(stem, wide=gradcam)}\np({true}) = {r.p_true:.2f}"
            if kind == "wrong" and len(classes) > 2:  # with two classes p(pred) = 1 - p(true)
                title += f" · p({pred}) = {r.p_predicted:.2f}"
            titles.append(title)
            items.append(
                {
                    "path": r.path,
                    "caption": stem,
                    "p_true": float(r.p_true),
                    "p_predicted": float(r.p_predicted),
                }
            )
        if not photos:
            continue
        tiles = _tiles(photos, inputs, pred, classes, model, prep) if gradcam else photos
        if kind == "correct":
            head = f"{true}: most confident correct predictions ({len(items)} of {n_total})"
        else:
            head = f"{true} taken for {pred}: {n_total} image{'s' * (n_total != 1)}, worst first"
        if gradcam:
            head += f"  ·  heatmap: evidence for {pred}"
        fname = (
            f"gallery_correct_{_slug(true)}.png"
            if kind == "correct"
            else f"gallery_wrong_{_slug(true)}_as_{_slug(pred)}.png"
        )
        fig = image_grid(
            tiles,
            titles,
            ncols=_NCOLS if gradcam else 2 * _NCOLS,
            # 1.1 in at 150 dpi is the tile's 160 px: photos stay sharp, titles readable.
            cell=1.1,
            title_size=8,
            title_colors=[_OK if kind == "correct" else _BAD] * len(tiles),
            suptitle=head,
        )
        save_figure(fig, run / fname)
        galleries.append(Gallery(kind, true, pred, fname, int(n_total), items))
    index = folder.galleries_file
    atomic_write_json(
        index,
        {
            "gradcam": gradcam,
            "size": size,
            "caption_column": caption,
            # Cells on a side of the heat maps: how coarse they are (the report says so).
            "cam_grid": _cam_grid(model, prep) if gradcam else None,
            "galleries": [asdict(g) for g in galleries],
        },
    )
    return GalleryResult(galleries, index, gradcam)


def caption_lines(text: str, *, wide: bool) -> str:
    """A tile's caption on at most two lines that fit its width (a photo beside its
    Grad-CAM is twice as wide); words are kept whole, a longer text ends in an ellipsis."""
    import textwrap

    width = _CAPTION_CHARS * (2 if wide else 1)
    lines = textwrap.wrap(text, width=width, break_long_words=True) or [text]
    if len(lines) > 2:
        rest = " ".join(lines[1:])
        lines = [lines[0], textwrap.shorten(rest, width=width, placeholder=" …")]
        if lines[1] == "…" or not lines[1].strip():  # one long word: cut it
            lines[1] = rest[: width - 1] + "…"
    return "\n".join(lines)


NAME_COLUMNS = ("productdisplayname", "product_name", "productname", "name", "title", "caption")


def caption_column_of(predictions: pd.DataFrame, asked: str | None) -> str | None:
    """The column whose values caption gallery photos: ``asked``, else a name-like one."""
    if asked:
        if asked not in predictions.columns:
            shown = [
                c for c in predictions.columns if c not in _OWN_COLUMNS and not c.startswith("p_")
            ]
            raise DataError(
                f"caption column {asked!r} is not in the predictions; manifest columns are "
                f"{', '.join(shown) or 'none'}"
            )
        return asked
    by_lower = {
        c.lower(): c
        for c in predictions.columns
        if c not in _OWN_COLUMNS and not c.startswith("p_")
    }
    for name in NAME_COLUMNS:
        if name in by_lower and predictions[by_lower[name]].astype(str).str.strip().any():
            return by_lower[name]
    return None


_OWN_COLUMNS = {"path", "true", "predicted", "confidence", "correct"}


def _cam_grid(model: Any, prep: Preprocessing) -> int:
    from stylecast.evaluation.gradcam import cam_grid

    return cam_grid(model, prep.img_size)


def _tiles(
    photos: list[np.ndarray],
    inputs: list[np.ndarray],
    pred: str,
    classes: list[str],
    model: Any,
    prep: Preprocessing,
) -> list[np.ndarray]:
    """Each photo beside its Grad-CAM overlay for the predicted class."""
    from stylecast.evaluation.gradcam import gradcam_for_pixels, upsample_cam
    from stylecast.plots import overlay_heatmap

    cams, _ = gradcam_for_pixels(model, np.stack(inputs), prep, [classes.index(pred)] * len(inputs))
    gap = np.full((_TILE, _GAP, 3), 255, np.uint8)
    return [
        np.concatenate([p, gap, overlay_heatmap(p, upsample_cam(c, _TILE))], axis=1)
        for p, c in zip(photos, cams, strict=True)
    ]


def galleries_are_stale(run: str | os.PathLike[str]) -> bool:
    """True when predictions.csv exists and the galleries are missing or older."""
    folder = RunFolder(run)
    pred_csv, index = folder.predictions_file, folder.galleries_file
    if not pred_csv.is_file():
        return False
    return not index.is_file() or index.stat().st_mtime < pred_csv.stat().st_mtime
