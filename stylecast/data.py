"""Data stage: find images, decode them once into a cache, and split without leakage.

Sources
    * an ImageFolder ``DATA/<label>/**/<image>``;
    * a folder holding ``manifest.csv`` (used in preference to the folder layout, so
      its extra columns such as ``group``, ``brand`` or ``period`` are kept);
    * a CSV or Parquet manifest ``path,label[,group,brand,period,...]`` whose paths are
      relative to the manifest;
    * pre-split ``DATA/{train,val,test}/<label>/...`` folders, honoured as given.

Every image is decoded once (EXIF orientation applied, converted to RGB with alpha
composited on white), letterboxed to a square and stored as ``uint8`` in a memory-mapped
``.npy`` keyed by the files' content hashes and the preprocessing. A file that cannot
be decoded is reported and skipped, never a crash.
"""

from __future__ import annotations

import hashlib
import os
import sys
import warnings
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from PIL import Image, ImageOps

from stylecast._io import atomic_path, atomic_write_json, read_json
from stylecast.errors import DataError

__all__ = [
    "IMAGE_EXTENSIONS",
    "Dataset",
    "ImageCache",
    "PreparedImages",
    "discover",
    "letterbox",
    "load_image",
    "prepare_images",
    "split_dataset",
    "default_cache_dir",
    "RunData",
    "prepare_run_data",
]

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff", ".gif")
SPLITS = ("train", "val", "test")
# Bumped whenever decoding or letterboxing changes, so old cache entries are not reused.
PREPROCESS_VERSION = 1
MIN_SIDE = 8


@dataclass(frozen=True)
class Dataset:
    """Images found at a source: one row per image.

    ``table`` columns: ``path`` (absolute), ``relpath`` (as written in the manifest or
    relative to the folder), ``label``, ``split`` when the source was pre-split, and any
    extra manifest columns.
    """

    source: Path
    kind: str  # "folder", "manifest" or "presplit"
    table: pd.DataFrame
    classes: list[str]
    skipped: list[dict[str, str]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.table)


def _is_image(p: Path) -> bool:
    return p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS and not p.name.startswith(".")


def _scan_class_folders(root: Path) -> list[tuple[str, str]]:
    rows = []
    for class_dir in sorted(d for d in root.iterdir() if d.is_dir() and not d.name.startswith(".")):
        for f in sorted(class_dir.rglob("*")):
            if _is_image(f):
                rows.append((str(f.relative_to(root).as_posix()), class_dir.name))
    return rows


def _read_manifest(path: Path) -> pd.DataFrame:
    try:
        if path.suffix.lower() == ".parquet":
            df = pd.read_parquet(path)
        else:
            df = pd.read_csv(path, dtype=str, keep_default_na=False)
    except ImportError:
        raise DataError("reading Parquet manifests needs pyarrow: pip install pyarrow") from None
    except Exception as exc:  # noqa: BLE001 - pandas raises many parser errors
        raise DataError(f"cannot read manifest {path}: {exc}") from None
    missing = [c for c in ("path", "label") if c not in df.columns]
    if missing:
        raise DataError(
            f"manifest {path} needs columns 'path' and 'label'; missing {', '.join(missing)} "
            f"(it has {', '.join(map(str, df.columns))})"
        )
    return df.astype({"path": str, "label": str})


def discover(data: str | os.PathLike[str]) -> Dataset:
    """Find the images at ``data`` (folder, folder with manifest.csv, or manifest file)."""
    src = Path(data).expanduser()
    if not src.exists():
        raise DataError(f"data path {src} does not exist")
    if src.is_file():
        if src.suffix.lower() not in (".csv", ".parquet"):
            raise DataError(f"{src} is neither a folder nor a .csv/.parquet manifest")
        ds = _from_manifest(src)
    elif (src / "manifest.csv").is_file():
        ds = _from_manifest(src / "manifest.csv")
    else:
        top = {d.name for d in src.iterdir() if d.is_dir()}
        if top and top <= set(SPLITS) and "train" in top:
            ds = _from_presplit(src)
        else:
            rows = _scan_class_folders(src)
            table = pd.DataFrame(rows, columns=["relpath", "label"])
            table.insert(0, "path", [str((src / r).resolve()) for r in table["relpath"]])
            ds = Dataset(src.resolve(), "folder", table, sorted(table["label"].unique()))
    _check_classes(ds)
    return ds


def _from_manifest(manifest: Path) -> Dataset:
    df = _read_manifest(manifest)
    base = manifest.parent.resolve()
    df = df.rename(columns={"path": "relpath"})
    df.insert(0, "path", [str((base / p).resolve()) for p in df["relpath"]])
    exists = np.array([Path(p).is_file() for p in df["path"]], dtype=bool)
    if not exists.all():
        missing = df.loc[~exists, "relpath"].tolist()
        raise DataError(
            f"{len(missing)} of {len(df)} paths in {manifest} do not exist, first: "
            f"{', '.join(missing[:3])}; fix the manifest or its paths (relative to the manifest)"
        )
    df = df[df["label"].str.strip() != ""].reset_index(drop=True)
    kind = "presplit" if "split" in df.columns else "manifest"
    if kind == "presplit":
        bad = sorted(set(df["split"]) - set(SPLITS))
        if bad:
            raise DataError(f"column 'split' in {manifest} has values {bad}; use train/val/test")
    return Dataset(base, kind, df, sorted(df["label"].unique()))


def _from_presplit(root: Path) -> Dataset:
    frames = []
    for split in SPLITS:
        if (root / split).is_dir():
            rows = _scan_class_folders(root / split)
            t = pd.DataFrame(rows, columns=["relpath", "label"])
            t["relpath"] = [f"{split}/{r}" for r in t["relpath"]]
            t["split"] = split
            frames.append(t)
    table = pd.concat(frames, ignore_index=True)
    table.insert(0, "path", [str((root / r).resolve()) for r in table["relpath"]])
    return Dataset(root.resolve(), "presplit", table, sorted(table["label"].unique()))


def _check_classes(ds: Dataset) -> None:
    if len(ds.table) == 0:
        raise DataError(
            f"no images found in {ds.source}; expected class folders like "
            f"{ds.source}/<label>/<image>.jpg or a manifest.csv with path,label"
        )
    if len(ds.classes) < 2:
        raise DataError(
            f"{ds.source} holds only one class ({ds.classes[0]!r}); a classifier needs at "
            "least two class folders or labels"
        )


# --------------------------------------------------------------------------- decoding


def load_image(path: str | os.PathLike[str]) -> Image.Image:
    """Open an image as RGB: EXIF orientation applied, alpha composited on white.

    Raises ``DataError`` for unreadable, truncated, too small or decompression-bomb files.
    """
    p = Path(path)
    try:
        if p.stat().st_size == 0:
            raise DataError(f"{p}: empty file (0 bytes)")
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(p) as im:
                im.seek(0)  # first frame of a GIF
                im.load()
                im = ImageOps.exif_transpose(im)
                rgb = _to_rgb(im)
    except DataError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise DataError(f"{p}: larger than Pillow's pixel limit (decompression bomb?)") from None
    except Exception as exc:  # noqa: BLE001 - PIL raises OSError, SyntaxError, ValueError ...
        raise DataError(f"{p}: unreadable image ({type(exc).__name__}: {exc})") from None
    if min(rgb.size) < MIN_SIDE:
        raise DataError(f"{p}: too small ({rgb.size[0]}x{rgb.size[1]} px)")
    return rgb


def _to_rgb(im: Image.Image) -> Image.Image:
    if im.mode in ("I;16", "I;16B", "I;16L", "I"):
        arr = np.asarray(im, dtype=np.float64)
        hi = arr.max() if arr.max() > 255 else 255.0
        im = Image.fromarray((arr / hi * 255).clip(0, 255).astype(np.uint8), "L")
    if im.mode == "P":
        im = im.convert("RGBA")
    if im.mode in ("RGBA", "LA", "PA") or (im.mode == "RGB" and "transparency" in im.info):
        im = im.convert("RGBA")
        white = Image.new("RGBA", im.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, im).convert("RGB")
    return im.convert("RGB")


def letterbox(img: Image.Image, size: int, fill: int = 255) -> np.ndarray:
    """Scale the whole image into a ``size`` square and pad; never crop (hems stay)."""
    w, h = img.size
    scale = size / max(w, h)
    nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
    resized = img.resize((nw, nh), Image.BICUBIC, reducing_gap=3.0 if scale < 0.5 else None)
    canvas = Image.new("RGB", (size, size), (fill, fill, fill))
    canvas.paste(resized, ((size - nw) // 2, (size - nh) // 2))
    return np.asarray(canvas, dtype=np.uint8)


def file_digest(path: str | os.PathLike[str]) -> str:
    """Content hash of a file (cache key and exact-duplicate detection)."""
    h = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _decode_one(args: tuple[str, int, int]) -> tuple[np.ndarray | None, str | None]:
    path, size, fill = args
    try:
        return letterbox(load_image(path), size, fill), None
    except DataError as exc:
        return None, str(exc)


def default_cache_dir() -> Path:
    """``$STYLECAST_CACHE``, else ``$XDG_CACHE_HOME/stylecast``, else ``~/.cache/stylecast``."""
    env = os.environ.get("STYLECAST_CACHE")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "stylecast"


@dataclass(frozen=True)
class PreparedImages:
    """Decoded pixels for the readable rows of a table."""

    pixels: np.ndarray  # (N, S, S, 3) uint8, memory-mapped from the cache
    table: pd.DataFrame  # the readable rows, in the order of ``pixels``
    digests: list[str]
    skipped: list[dict[str, str]]
    cache_file: Path | None


class ImageCache:
    """Decoded, letterboxed pixels on disk, reused across epochs, trials and runs."""

    def __init__(self, root: str | os.PathLike[str] | None = None) -> None:
        self.root = Path(root) if root is not None else default_cache_dir()

    def key(self, digests: Sequence[str], size: int, fill: int) -> str:
        h = hashlib.blake2b(digest_size=16)
        h.update(f"v{PREPROCESS_VERSION}:{size}:{fill}:".encode())
        for d in digests:
            h.update(d.encode())
        return h.hexdigest()

    def paths(self, key: str, size: int) -> tuple[Path, Path]:
        folder = self.root / "decoded" / f"{size}px"
        return folder / f"{key}.npy", folder / f"{key}.json"


def _progress(iterable: Any, total: int, desc: str, enabled: bool) -> Any:
    if not enabled:
        return iterable
    from tqdm.auto import tqdm

    return tqdm(iterable, total=total, desc=desc, unit="img", leave=False, file=sys.stderr)


def prepare_images(
    table: pd.DataFrame,
    img_size: int,
    *,
    cache: ImageCache | None = None,
    fill: int = 255,
    workers: int | None = None,
    progress: bool = True,
) -> PreparedImages:
    """Decode every row's image once (in parallel) and cache the pixels on disk.

    Unreadable files are dropped from the returned table and listed in ``skipped``.
    """
    cache = cache or ImageCache()
    paths = table["path"].tolist()
    digests = [file_digest(p) for p in paths]
    key = cache.key(digests, img_size, fill)
    npy, meta_path = cache.paths(key, img_size)
    if npy.is_file() and meta_path.is_file():
        meta = read_json(meta_path)
        ok = np.array(meta["ok"], dtype=bool)
        pixels = np.load(npy, mmap_mode="r")
        if len(ok) == len(paths) and pixels.shape[0] == int(ok.sum()):
            return _prepared(table, pixels, digests, ok, meta["errors"], npy)
    workers = workers or min(os.cpu_count() or 1, 8)
    out = np.empty((len(paths), img_size, img_size, 3), dtype=np.uint8)
    ok = np.zeros(len(paths), dtype=bool)
    errors: list[str | None] = [None] * len(paths)
    jobs = [(p, img_size, fill) for p in paths]
    if workers > 1 and len(paths) >= 64:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            results: Iterator = pool.map(_decode_one, jobs, chunksize=32)
            for i, (arr, err) in enumerate(_progress(results, len(jobs), "decode", progress)):
                _store(out, ok, errors, i, arr, err)
    else:
        for i, job in enumerate(_progress(jobs, len(jobs), "decode", progress)):
            _store(out, ok, errors, i, *_decode_one(job))
    if not ok.any():
        raise DataError(f"none of the {len(paths)} images could be read; first: {errors[0]}")
    npy.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(npy) as tmp, open(tmp, "wb") as f:
        np.save(f, out[ok])
    atomic_write_json(meta_path, {"ok": ok.tolist(), "errors": errors, "size": img_size})
    pixels = np.load(npy, mmap_mode="r")
    return _prepared(table, pixels, digests, ok, errors, npy)


def _store(out, ok, errors, i, arr, err) -> None:  # noqa: ANN001 - tiny internal helper
    if arr is None:
        errors[i] = err
    else:
        out[i] = arr
        ok[i] = True


def _prepared(table, pixels, digests, ok, errors, npy) -> PreparedImages:  # noqa: ANN001
    skipped = [
        {"path": table["relpath"].iloc[i], "reason": str(errors[i]).split(": ", 1)[-1]}
        for i in np.flatnonzero(~ok)
    ]
    kept = table[ok].reset_index(drop=True)
    return PreparedImages(
        pixels=pixels,
        table=kept,
        digests=[d for d, k in zip(digests, ok, strict=True) if k],
        skipped=skipped,
        cache_file=npy,
    )


# --------------------------------------------------------------------------- splitting


def split_dataset(
    table: pd.DataFrame,
    *,
    val_fraction: float,
    test_fraction: float,
    seed: int,
    group_column: str | None = None,
) -> pd.Series:
    """Assign ``train``/``val``/``test`` per row: stratified by label, grouped by ``group_column``.

    Groups (all rows sharing a value) never straddle two splits. A source that was
    pre-split keeps its own ``split`` column.
    """
    if "split" in table.columns and set(table["split"]) <= set(SPLITS):
        return table["split"].astype(str)
    if group_column is not None and group_column not in table.columns:
        raise DataError(
            f"group column {group_column!r} is not in the data; columns are "
            f"{', '.join(c for c in table.columns if c not in ('path',))}"
        )
    groups = (
        table[group_column].astype(str).to_numpy()
        if group_column
        else np.arange(len(table)).astype(str)
    )
    fractions = {"test": test_fraction, "val": val_fraction}
    needed = 1 + sum(1 for f in fractions.values() if f > 0)
    labels = table["label"].to_numpy()
    # A group's label is its most common one, so mixed groups still land in one split.
    frame = pd.DataFrame({"group": groups, "label": labels})
    group_label = frame.groupby("group")["label"].agg(lambda s: s.value_counts().index[0])
    group_size = frame.groupby("group").size()
    rng = np.random.default_rng(seed)
    assignment: dict[str, str] = {}
    for label in sorted(group_label.unique()):
        members = group_label.index[group_label == label].to_numpy()
        if len(members) < needed:
            what = "groups" if group_column else "images"
            raise DataError(
                f"class {label!r} has {len(members)} {what} but the train/val/test split "
                f"needs at least {needed}; add images or lower --val-fraction/--test-fraction"
            )
        members = members[rng.permutation(len(members))]
        total = int(group_size[members].sum())
        filled = 0
        targets = []
        acc = 0.0
        for name in ("test", "val"):
            if fractions[name] > 0:
                acc += fractions[name]
                targets.append((name, max(1, round(total * acc))))
        cursor = 0
        for name, upto in targets:
            # Each split takes at least one group, and leaves at least one for training.
            while cursor < len(members) - 1 and (
                filled < upto or not any(assignment.get(m) == name for m in members[:cursor])
            ):
                g = members[cursor]
                assignment[g] = name
                filled += int(group_size[g])
                cursor += 1
                if filled >= upto:
                    break
        for g in members[cursor:]:
            assignment[g] = "train"
    return pd.Series([assignment[g] for g in groups], index=table.index, name="split")


# --------------------------------------------------------------------------- run data


@dataclass(frozen=True)
class RunData:
    """A dataset decoded at the run's size and split: everything a stage needs of the data."""

    dataset: Dataset
    prepared: PreparedImages
    table: pd.DataFrame  # readable rows with a 'split' column, aligned with prepared.pixels
    classes: list[str]
    y: np.ndarray
    check: dict[str, Any] = field(default_factory=dict)  # written to the run's data_check.json

    def indices(self, split: str) -> np.ndarray:
        return np.flatnonzero(self.table["split"].to_numpy() == split)


def prepare_run_data(
    data: str | os.PathLike[str],
    cfg: Any,  # TrainConfig (typed loosely: config imports nothing from data)
    *,
    splits_csv: str | os.PathLike[str] | None = None,
    cache: ImageCache | None = None,
    progress: bool = True,
) -> RunData:
    """Discover, decode (cached) and split ``data``; reuse ``splits_csv`` when given."""
    ds = discover(data)
    prepared = prepare_images(ds.table, cfg.img_size, cache=cache, progress=progress)
    table = prepared.table.copy()
    if splits_csv is not None:
        saved = pd.read_csv(splits_csv, dtype=str, keep_default_na=False)
        lookup = dict(zip(saved["path"], saved["split"], strict=True))
        table["split"] = [lookup.get(p, "") for p in table["relpath"]]
        table = table[table["split"] != ""].reset_index(drop=True)
        keep = np.isin(prepared.table["relpath"].to_numpy(), table["relpath"].to_numpy())
        prepared = PreparedImages(
            pixels=prepared.pixels[np.flatnonzero(keep)] if not keep.all() else prepared.pixels,
            table=prepared.table[keep].reset_index(drop=True),
            digests=[d for d, k in zip(prepared.digests, keep, strict=True) if k],
            skipped=prepared.skipped,
            cache_file=prepared.cache_file,
        )
    else:
        table["split"] = split_dataset(
            table,
            val_fraction=cfg.val_fraction,
            test_fraction=cfg.test_fraction,
            seed=cfg.seed,
            group_column=cfg.group_column,
        ).to_numpy()
    classes = list(ds.classes)
    missing = [
        c for c in classes if not ((table["label"] == c) & (table["split"] == "train")).any()
    ]
    if missing:
        raise DataError(f"no readable training images for class(es) {', '.join(missing)}")
    y = np.array([classes.index(lbl) for lbl in table["label"]], dtype=np.int64)
    return RunData(ds, prepared, table, classes, y)
