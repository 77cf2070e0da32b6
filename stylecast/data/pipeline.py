"""Data stage: find images, check them, decode them once into a cache, split without leakage.

Sources
    * an ImageFolder ``DATA/<label>/**/<image>`` (jpg, jpeg, png, webp, bmp, tif, tiff,
      gif (first frame); extensions in any case);
    * a folder holding ``manifest.csv`` (used in preference to the folder layout, so
      its extra columns such as ``group``, ``brand`` or ``period`` are kept);
    * a CSV or Parquet manifest ``path,label[,group,brand,period,...]`` whose paths are
      relative to the manifest;
    * pre-split ``DATA/{train,val,test}/<label>/...`` folders (or a manifest with a
      ``split`` column), honoured as given.

Every image is decoded once (EXIF orientation applied; palette, alpha (composited on
white), grayscale, CMYK and 16-bit images converted to RGB), letterboxed to a square and
stored as ``uint8`` in a memory-mapped ``.npy`` keyed by the files' content hashes and the
preprocessing. What decoding learns about each file (readable or why not, format, size,
perceptual hash) is kept in the cache's index, so ``stylecast data check`` and training
share it. A file that cannot be used is reported and skipped, never a crash.

Splits are stratified by label and grouped: images sharing a ``group_column`` value, and
near-duplicate images, always land in the same split. A leakage check counts
near-duplicate pairs across splits and raises over ``max_leakage``.
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
import PIL
from PIL import Image, ImageOps

from stylecast.data.dupes import (
    Duplicates,
    components,
    cross_split_pairs,
    edges_from_groups,
    find_duplicates,
    keep_one_per_cluster,
    restrict,
)
from stylecast.data.store import FileIndex, file_digest
from stylecast.errors import DataError
from stylecast.fileio import atomic_path, atomic_write_json, read_json

__all__ = [
    "IMAGE_EXTENSIONS",
    "SPLITS",
    "DataCheck",
    "Dataset",
    "ImageCache",
    "PreparedImages",
    "RunData",
    "check_data",
    "default_cache_dir",
    "discover",
    "file_digest",
    "find_near_duplicates",
    "letterbox",
    "load_image",
    "prepare_images",
    "prepare_run_data",
    "split_dataset",
]

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff", ".gif")
SPLITS = ("train", "val", "test")
# Bumped whenever decoding, letterboxing or the cache layout changes.
PREPROCESS_VERSION = 2
MIN_SIDE = 8
DEFAULT_DUP_THRESHOLD = 6
_IGNORED_NAMES = {"manifest.csv", "manifest.parquet", "readme.md", "readme.txt", "license"}


@dataclass(frozen=True)
class Dataset:
    """Images found at a source: one row per image.

    ``table`` columns: ``path`` (absolute), ``relpath`` (as written in the manifest or
    relative to the folder), ``label``, ``split`` when the source was pre-split, and any
    extra manifest columns. ``ignored`` lists files in class folders that are not images
    by their name (relative paths).
    """

    source: Path
    kind: str  # "folder", "manifest" or "presplit"
    table: pd.DataFrame
    classes: list[str]
    skipped: list[dict[str, str]] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.table)


def _is_image(p: Path) -> bool:
    return p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS and not p.name.startswith(".")


def _scan_class_folders(root: Path) -> tuple[list[tuple[str, str]], list[str]]:
    rows, ignored = [], []
    for class_dir in sorted(d for d in root.iterdir() if d.is_dir() and not d.name.startswith(".")):
        for f in sorted(class_dir.rglob("*")):
            if _is_image(f):
                rows.append((str(f.relative_to(root).as_posix()), class_dir.name))
            elif (
                f.is_file()
                and not f.name.startswith(".")
                and f.name.lower() not in (_IGNORED_NAMES)
            ):
                ignored.append(str(f.relative_to(root).as_posix()))
    return rows, ignored


def _read_manifest(path: Path) -> pd.DataFrame:
    try:
        if path.suffix.lower() == ".parquet":
            df = pd.read_parquet(path)
        else:
            df = pd.read_csv(path, dtype=str, keep_default_na=False)
    except ImportError:
        raise DataError(
            "reading Parquet manifests needs pyarrow: pip install 'stylecast[parquet]'"
        ) from None
    except Exception as exc:  # noqa: BLE001 - pandas raises many parser errors
        raise DataError(f"cannot read manifest {path}: {exc}") from None
    missing = [c for c in ("path", "label") if c not in df.columns]
    if missing:
        raise DataError(
            f"manifest {path} needs columns 'path' and 'label'; missing {', '.join(missing)} "
            f"(it has {', '.join(map(str, df.columns))})"
        )
    for col in ("path", "label"):
        df[col] = df[col].fillna("").astype(str).str.strip()
    if "split" in df.columns:
        df["split"] = df["split"].fillna("").astype(str).str.strip()
    return df


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
        top = {d.name for d in src.iterdir() if d.is_dir() and not d.name.startswith(".")}
        if top and top <= set(SPLITS) and "train" in top:
            ds = _from_presplit(src)
        else:
            rows, ignored = _scan_class_folders(src)
            table = pd.DataFrame(rows, columns=["relpath", "label"])
            table.insert(0, "path", [str((src / r).resolve()) for r in table["relpath"]])
            classes = sorted(table["label"].unique())
            ds = Dataset(src.resolve(), "folder", table, classes, ignored=ignored)
    _check_classes(ds)
    return ds


def _from_manifest(manifest: Path) -> Dataset:
    df = _read_manifest(manifest)
    base = manifest.parent.resolve()
    df = df[df["path"] != ""]
    df = df.rename(columns={"path": "relpath"})
    df.insert(0, "path", [str((base / p).resolve()) for p in df["relpath"]])
    exists = np.array([Path(p).is_file() for p in df["path"]], dtype=bool)
    if not exists.all():
        missing = df.loc[~exists, "relpath"].tolist()
        raise DataError(
            f"{len(missing)} of {len(df)} paths in {manifest} do not exist, first: "
            f"{', '.join(missing[:3])}; fix the manifest or its paths (relative to the manifest)"
        )
    df = df[df["label"] != ""].reset_index(drop=True)
    kind = "presplit" if "split" in df.columns else "manifest"
    if kind == "presplit":
        bad = sorted(set(df["split"]) - set(SPLITS))
        if bad:
            raise DataError(f"column 'split' in {manifest} has values {bad}; use train/val/test")
    return Dataset(base, kind, df, sorted(df["label"].unique()))


def _from_presplit(root: Path) -> Dataset:
    frames, ignored = [], []
    for split in SPLITS:
        if (root / split).is_dir():
            rows, ign = _scan_class_folders(root / split)
            t = pd.DataFrame(rows, columns=["relpath", "label"])
            t["relpath"] = [f"{split}/{r}" for r in t["relpath"]]
            t["split"] = split
            frames.append(t)
            ignored += [f"{split}/{r}" for r in ign]
    table = pd.concat(frames, ignore_index=True)
    table.insert(0, "path", [str((root / r).resolve()) for r in table["relpath"]])
    return Dataset(
        root.resolve(), "presplit", table, sorted(table["label"].unique()), ignored=ignored
    )


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


class _BadImage(Exception):
    def __init__(self, kind: str, reason: str) -> None:
        super().__init__(reason)
        self.kind = kind
        self.reason = reason


def _sniff(path: Path) -> str:
    """Why a file that Pillow cannot identify is not an image, in words."""
    try:
        with open(path, "rb") as f:
            head = f.read(512)
    except OSError as exc:
        return f"cannot read it ({exc.strerror or exc})"
    if b"\0" not in head:
        try:
            text = head.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        if text is not None:
            what = "HTML" if "<html" in text.lower() or "<!doctype" in text.lower() else "text"
            return f"the file holds {what}, not an image"
    return f"unknown content (starts with {head[:8].hex()})"


def _open_rgb(path: Path) -> tuple[Image.Image, dict[str, Any]]:
    """Decode ``path`` to RGB, or raise ``_BadImage(kind, reason)``.

    kinds: empty, not_image, truncated, unreadable, too_small, too_large.
    """
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise _BadImage("unreadable", f"cannot read it ({exc.strerror or exc})") from None
    if size == 0:
        raise _BadImage("empty", "empty file (0 bytes)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as im:
                facts: dict[str, Any] = {
                    "format": im.format,
                    "width": im.size[0],
                    "height": im.size[1],
                    "mode": im.mode,
                    "frames": int(getattr(im, "n_frames", 1) or 1),
                }
                im.seek(0)  # first frame of a GIF
                im.load()
                orientation = 1
                try:
                    orientation = int(im.getexif().get(0x0112, 1) or 1)
                    oriented = ImageOps.exif_transpose(im) if orientation != 1 else im
                except Exception:  # noqa: BLE001 - a broken EXIF block is not a broken image
                    oriented = im
                facts["rotated"] = orientation != 1
                rgb = _to_rgb(oriented)
    except _BadImage:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _BadImage(
            "too_large",
            f"larger than Pillow's limit of {Image.MAX_IMAGE_PIXELS:,} pixels "
            "(decompression bomb?)",
        ) from None
    except Image.UnidentifiedImageError:
        raise _BadImage("not_image", _sniff(path)) from None
    except Exception as exc:  # noqa: BLE001 - PIL raises OSError, SyntaxError, ValueError ...
        msg = str(exc)
        if "truncated" in msg.lower() or isinstance(exc, EOFError):
            raise _BadImage("truncated", f"truncated file ({msg})") from None
        raise _BadImage("unreadable", f"unreadable image ({type(exc).__name__}: {msg})") from None
    if min(rgb.size) < MIN_SIDE:
        raise _BadImage("too_small", f"too small ({rgb.size[0]}x{rgb.size[1]} px)")
    return rgb, facts


def load_image(path: str | os.PathLike[str]) -> Image.Image:
    """Open an image as RGB: EXIF orientation applied, alpha composited on white.

    Raises ``DataError`` for empty, unreadable, truncated, non-image, too small or
    decompression-bomb files.
    """
    p = Path(path)
    try:
        return _open_rgb(p)[0]
    except _BadImage as bad:
        raise DataError(f"{p}: {bad.reason}") from None


def _to_rgb(im: Image.Image) -> Image.Image:
    if im.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        # 16-bit data scales by its full range (a dark 16-bit photo stays dark); wider
        # integer or float data of unknown range by its own maximum.
        arr = np.asarray(im, dtype=np.float64)
        top = float(arr.max()) if arr.size else 0.0
        if im.mode.startswith("I;16") or 255 < top <= 65535:
            hi = 65535.0
        else:
            hi = max(top, 255.0) if im.mode == "I" or top > 1.0 else 1.0
        im = Image.fromarray((arr / hi * 255).round().clip(0, 255).astype(np.uint8), "L")
    if im.mode == "P":
        im = im.convert("RGBA")
    if im.mode in ("La", "RGBa"):  # premultiplied alpha
        im = im.convert("RGBA")
    if im.mode in ("RGBA", "LA", "PA") or (im.mode in ("RGB", "L") and "transparency" in im.info):
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


def _info_ctx() -> str:
    """Everything besides the file's bytes that decides what inspecting it finds."""
    import imagehash

    return (
        f"v{PREPROCESS_VERSION}:pil{PIL.__version__}:imagehash{imagehash.__version__}:"
        f"max{Image.MAX_IMAGE_PIXELS}:min{MIN_SIDE}"
    )


def _inspect(job: tuple[str, int | None, int]) -> tuple[np.ndarray | None, dict[str, Any]]:
    """Decode one file: its facts, and its letterboxed pixels when ``size`` is given."""
    import imagehash

    path, size, fill = job
    try:
        rgb, facts = _open_rgb(Path(path))
    except _BadImage as bad:
        return None, {"ok": False, "kind": bad.kind, "reason": bad.reason}
    info = {"ok": True, **facts}
    info["phash"] = str(imagehash.phash(rgb))
    info["colour"] = np.asarray(rgb.resize((8, 8), Image.BOX), dtype=np.uint8).tobytes().hex()
    return (letterbox(rgb, size, fill) if size else None), info


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
    skipped: list[dict[str, str]]  # {"path", "kind", "reason"} per unusable file
    cache_file: Path | None
    infos: list[dict[str, Any]] = field(default_factory=list)  # per readable row


class ImageCache:
    """Decoded, letterboxed pixels on disk, reused across epochs, trials and runs.

    ``<root>/decoded/<size>px/<key>.npy`` holds the readable rows of one table (the key
    hashes the rows' content digests in order, the size, the fill colour and everything
    that changes decoding: the preprocessing version, Pillow's version, the pixel limit
    and the minimum side); ``<key>.json`` lists every row's digest and whether it was
    readable, so another table sharing images copies their rows instead of decoding again.
    ``<root>/index.sqlite3`` caches file digests and per-image facts.
    """

    def __init__(self, root: str | os.PathLike[str] | None = None) -> None:
        self.root = Path(root) if root is not None else default_cache_dir()
        self.index = FileIndex(self.root)

    def key(self, digests: Sequence[str], size: int, fill: int) -> str:
        h = hashlib.blake2b(digest_size=16)
        h.update(f"{_info_ctx()}:{size}:{fill}:".encode())
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


def _workers(workers: int | None) -> int:
    return max(1, workers or min(os.cpu_count() or 1, 8))


def _run_inspect(
    jobs: list[tuple[str, int | None, int]], workers: int | None, progress: bool, desc: str
) -> Iterator[tuple[np.ndarray | None, dict[str, Any]]]:
    """Inspect files in parallel processes (in order); serial for a handful."""
    n = _workers(workers)
    if n > 1 and len(jobs) >= 64:
        chunk = max(1, min(64, len(jobs) // (n * 8)))
        with ProcessPoolExecutor(max_workers=n) as pool:
            yield from _progress(
                pool.map(_inspect, jobs, chunksize=chunk), len(jobs), desc, progress
            )
    else:
        for job in _progress(jobs, len(jobs), desc, progress):
            yield _inspect(job)


def _digests(cache: ImageCache, paths: Sequence[str], progress: bool) -> list[str]:
    try:
        return cache.index.digests(list(paths), progress=progress)
    except OSError as exc:
        raise DataError(f"cannot read {exc.filename}: {exc.strerror}; is it still there?") from None


def inspect_files(
    paths: Sequence[str],
    digests: Sequence[str],
    cache: ImageCache,
    *,
    workers: int | None = None,
    progress: bool = True,
) -> list[dict[str, Any]]:
    """Facts about every file (see :func:`_inspect`), from the cache's index when known."""
    ctx = _info_ctx()
    known = cache.index.infos(digests, ctx)
    todo: dict[str, str] = {}
    for p, d in zip(paths, digests, strict=True):
        if d not in known:
            todo.setdefault(d, p)
    if todo:
        jobs = [(p, None, 0) for p in todo.values()]
        fresh = {
            d: info
            for d, (_, info) in zip(
                todo, _run_inspect(jobs, workers, progress, "check"), strict=True
            )
        }
        cache.index.put_infos(fresh, ctx)
        known.update(fresh)
    return [known[d] for d in digests]


def _cached_rows(
    cache: ImageCache, size: int, fill: int, needed: set[str], prefer: Sequence[Path] = ()
) -> dict[str, tuple[Path, int]]:
    """Where already-decoded pixels of ``needed`` digests sit in other cache entries."""
    folder = cache.root / "decoded" / f"{size}px"
    if not needed or not folder.is_dir():
        return {}
    ctx = _info_ctx()
    metas = [p.with_suffix(".json") for p in prefer]
    others = sorted(folder.glob("*.json"), key=lambda p: -p.stat().st_mtime)
    metas += [m for m in others if m not in metas]
    found: dict[str, tuple[Path, int]] = {}
    for meta_path in metas:
        try:
            meta = read_json(meta_path)
        except (OSError, ValueError):
            continue
        if meta.get("ctx") != ctx or meta.get("fill") != fill or "digests" not in meta:
            continue
        npy = meta_path.with_suffix(".npy")
        if not npy.is_file():
            continue
        row = 0
        for d, ok in zip(meta["digests"], meta["ok"], strict=False):
            if ok:
                if d in needed and d not in found:
                    found[d] = (npy, row)
                row += 1
        if len(found) == len(needed):
            break
    return found


def prepare_images(
    table: pd.DataFrame,
    img_size: int,
    *,
    cache: ImageCache | None = None,
    fill: int = 255,
    workers: int | None = None,
    progress: bool = True,
    _prefer: Sequence[Path] = (),
) -> PreparedImages:
    """Decode every row's image once (in parallel) and cache the pixels on disk.

    Unreadable files are dropped from the returned table and listed in ``skipped``.
    Images already decoded at this size for another table are copied, not decoded.
    """
    cache = cache or ImageCache()
    paths = table["path"].tolist()
    digests = _digests(cache, paths, progress)
    key = cache.key(digests, img_size, fill)
    npy, meta_path = cache.paths(key, img_size)
    ctx = _info_ctx()
    if npy.is_file() and meta_path.is_file():
        try:
            meta = read_json(meta_path)
            ok = np.array(meta["ok"], dtype=bool)
            pixels = np.load(npy, mmap_mode="r")
            if len(ok) == len(paths) and pixels.shape[0] == int(ok.sum()):
                infos = _infos_for(cache, paths, digests, ok, meta, workers, progress)
                return _prepared(table, pixels, digests, ok, infos, npy)
        except (OSError, ValueError, KeyError):
            pass  # a damaged entry is rebuilt below
    known = cache.index.infos(digests, ctx)
    ok = np.array([known.get(d, {}).get("ok", True) for d in digests], dtype=bool)
    wanted = {d for d, k in zip(digests, ok, strict=True) if k}
    sources = _cached_rows(cache, img_size, fill, wanted, _prefer)
    to_decode: dict[str, str] = {}
    for p, d, k in zip(paths, digests, ok, strict=True):
        if k and d not in sources:
            to_decode.setdefault(d, p)
    rows_of: dict[str, list[int]] = {}
    for i, d in enumerate(digests):
        rows_of.setdefault(d, []).append(i)
    try:
        npy.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(npy) as tmp:
            full = np.lib.format.open_memmap(
                tmp, mode="w+", dtype=np.uint8, shape=(len(paths), img_size, img_size, 3)
            )
            _copy_rows(full, sources, rows_of)
            fresh: dict[str, dict[str, Any]] = {}
            jobs = [(p, img_size, fill) for p in to_decode.values()]
            results = _run_inspect(jobs, workers, progress, "decode")
            for d, (arr, info) in zip(to_decode, results, strict=True):
                fresh[d] = info
                if arr is None:
                    ok[rows_of[d]] = False
                else:
                    full[rows_of[d]] = arr
            cache.index.put_infos(fresh, ctx)
            known.update(fresh)
            if not ok.any():
                first = next(
                    (f"{p}: {known[d]['reason']}" for p, d in zip(paths, digests, strict=True)),
                    "",
                )
                raise DataError(f"none of the {len(paths)} images could be read; first: {first}")
            if not ok.all():
                _compact(full, ok, tmp)
            del full
        meta = {
            "ctx": ctx,
            "size": img_size,
            "fill": fill,
            "digests": digests,
            "ok": ok.tolist(),
            "failed": {
                str(i): [known[d].get("kind"), known[d].get("reason")]
                for i, d in enumerate(digests)
                if not ok[i]
            },
        }
        atomic_write_json(meta_path, meta)
    except OSError as exc:
        raise DataError(
            f"cannot write the image cache in {cache.root} ({exc.strerror or exc}); set "
            "STYLECAST_CACHE to a writable folder with room for the decoded images"
        ) from None
    pixels = np.load(npy, mmap_mode="r")
    infos = _infos_for(cache, paths, digests, ok, meta, workers, progress, known)
    return _prepared(table, pixels, digests, ok, infos, npy)


def _copy_rows(
    out: np.ndarray, sources: dict[str, tuple[Path, int]], rows_of: dict[str, list[int]]
) -> None:
    by_file: dict[Path, list[tuple[int, str]]] = {}
    for d, (f, row) in sources.items():
        by_file.setdefault(f, []).append((row, d))
    for f, items in by_file.items():
        src = np.load(f, mmap_mode="r")
        items.sort()
        for start in range(0, len(items), 256):
            part = items[start : start + 256]
            block = np.asarray(src[[r for r, _ in part]])
            for k, (_, d) in enumerate(part):
                out[rows_of[d]] = block[k]


def _compact(full: np.ndarray, ok: np.ndarray, tmp: Path) -> None:
    """Rewrite ``tmp`` with only the readable rows (rare: only when files are broken)."""
    keep = np.flatnonzero(ok)
    part = tmp.with_name(tmp.name + ".part")
    out = np.lib.format.open_memmap(
        part, mode="w+", dtype=np.uint8, shape=(len(keep),) + full.shape[1:]
    )
    for start in range(0, len(keep), 256):
        out[start : start + 256] = full[keep[start : start + 256]]
    out.flush()
    del out
    os.replace(part, tmp)


def _infos_for(
    cache: ImageCache,
    paths: Sequence[str],
    digests: Sequence[str],
    ok: np.ndarray,
    meta: dict[str, Any],
    workers: int | None,
    progress: bool,
    known: dict[str, dict[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """Per-row facts; unusable rows fall back to the reason stored in the cache entry."""
    known = dict(known) if known is not None else cache.index.infos(digests, _info_ctx())
    failed = meta.get("failed", {})
    for i, d in enumerate(digests):
        if not ok[i] and d not in known and str(i) in failed:
            kind, reason = failed[str(i)]
            known[d] = {"ok": False, "kind": kind, "reason": reason}
    missing = [i for i, d in enumerate(digests) if d not in known]
    if missing:  # the index was lost or is read-only: inspect again (no letterboxing)
        got = inspect_files(
            [paths[i] for i in missing],
            [digests[i] for i in missing],
            cache,
            workers=workers,
            progress=progress,
        )
        for i, info in zip(missing, got, strict=True):
            known[digests[i]] = info
    return [known[d] for d in digests]


def _prepared(table, pixels, digests, ok, infos, npy) -> PreparedImages:  # noqa: ANN001
    skipped = [
        {
            "path": str(table["relpath"].iloc[i]),
            "kind": str(infos[i].get("kind") or "unreadable"),
            "reason": str(infos[i].get("reason") or "unreadable"),
        }
        for i in np.flatnonzero(~ok)
    ]
    kept = table[ok].reset_index(drop=True)
    return PreparedImages(
        pixels=pixels,
        table=kept,
        digests=[d for d, k in zip(digests, ok, strict=True) if k],
        skipped=skipped,
        cache_file=npy,
        infos=[info for info, k in zip(infos, ok, strict=True) if k],
    )


def _subset(
    prepared: PreparedImages,
    keep: np.ndarray,
    img_size: int,
    fill: int,
    cache: ImageCache,
) -> PreparedImages:
    """The prepared images of the ``keep`` rows, as their own memory-mapped cache entry."""
    if keep.all():
        return prepared
    table = prepared.table[keep].reset_index(drop=True)
    sub = prepare_images(
        table,
        img_size,
        cache=cache,
        fill=fill,
        progress=False,
        _prefer=[prepared.cache_file] if prepared.cache_file else [],
    )
    return PreparedImages(
        pixels=sub.pixels,
        table=sub.table,
        digests=sub.digests,
        skipped=prepared.skipped,
        cache_file=sub.cache_file,
        infos=sub.infos,
    )


# --------------------------------------------------------------------------- duplicates


def find_near_duplicates(
    digests: Sequence[str],
    infos: Sequence[dict[str, Any]],
    threshold: int = DEFAULT_DUP_THRESHOLD,
) -> Duplicates:
    """Exact and near-duplicate pairs and clusters among readable images (see ``_dupes``)."""
    return find_duplicates(
        digests,
        [i.get("phash") for i in infos],
        [i.get("colour") for i in infos],
        threshold=threshold,
    )


# --------------------------------------------------------------------------- splitting


def _group_ids(
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
            _time_split(table, time_column, labels, ids, val_fraction, test_fraction, seed),
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


# --------------------------------------------------------------------------- checking


@dataclass(frozen=True)
class DataCheck:
    """What ``stylecast data check`` found: ``report`` is what ``data_check.json`` holds."""

    report: dict[str, Any]
    dataset: Dataset
    table: pd.DataFrame  # every image found, with columns ok, kind, reason, format, ...
    duplicates: Duplicates  # over the readable rows (``table[table.ok]``, in order)
    keep: np.ndarray  # per readable row: kept by --drop-duplicates

    def write(self, path: str | os.PathLike[str]) -> Path:
        return atomic_write_json(path, self.report)


def check_data(
    data: str | os.PathLike[str],
    *,
    dup_threshold: int = DEFAULT_DUP_THRESHOLD,
    group_column: str | None = None,
    workers: int | None = None,
    progress: bool = True,
    cache: ImageCache | None = None,
) -> DataCheck:
    """Open every image at ``data`` once (in parallel) and report what a run needs to know.

    Reports and skips empty, unreadable, truncated, non-image, too small and
    decompression-bomb files; lists files whose content is not the format their name
    says; counts classes, colour modes, EXIF rotations and groups; finds exact and
    near-duplicate clusters (flagging those with conflicting labels). ``group_column``
    defaults to ``group`` when the data has one.
    """
    from stylecast.data.check import build_report

    if dup_threshold < -1 or dup_threshold > 64:
        raise DataError(f"dup_threshold must be between -1 and 64, got {dup_threshold}")
    ds = discover(data)
    if group_column is None and "group" in ds.table.columns:
        group_column = "group"
    if group_column is not None and group_column not in ds.table.columns:
        raise DataError(
            f"group column {group_column!r} is not in the data; columns are "
            f"{', '.join(c for c in ds.table.columns if c != 'path')}"
        )
    cache = cache or ImageCache()
    paths = ds.table["path"].tolist()
    digests = _digests(cache, paths, progress)
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
    report = build_report(
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
    return DataCheck(report, ds, table, dups, keep)


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
    dropped: list[dict[str, str]] = field(default_factory=list)  # duplicates left out

    def indices(self, split: str) -> np.ndarray:
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
    cfg: Any,  # TrainConfig (typed loosely: config imports nothing from data)
    *,
    splits_csv: str | os.PathLike[str] | None = None,
    cache: ImageCache | None = None,
    progress: bool = True,
) -> RunData:
    """Discover, decode (cached), de-duplicate and split ``data``; reuse ``splits_csv`` if given.

    Near-duplicates (``cfg.dup_threshold``) are kept in one split with their group, or
    left out but one with ``cfg.drop_duplicates``. A new split is checked for leakage:
    more than ``cfg.max_leakage`` near-duplicate pairs across splits raise ``DataError``.
    """
    from stylecast.data.check import build_report

    threshold = int(getattr(cfg, "dup_threshold", DEFAULT_DUP_THRESHOLD))
    strategy = str(getattr(cfg, "split_strategy", "stratified"))
    time_column = str(getattr(cfg, "time_column", "period"))
    max_leakage = int(getattr(cfg, "max_leakage", 0))
    drop = bool(getattr(cfg, "drop_duplicates", False))
    group_column = cfg.group_column
    fill = 255
    cache = cache or ImageCache()

    ds = discover(data)
    if group_column is not None and group_column not in ds.table.columns:
        raise DataError(
            f"group column {group_column!r} is not in the data; columns are "
            f"{', '.join(c for c in ds.table.columns if c != 'path')}"
        )
    prepared = prepare_images(ds.table, cfg.img_size, cache=cache, fill=fill, progress=progress)
    table = prepared.table.copy()
    dups = find_near_duplicates(prepared.digests, prepared.infos, threshold)
    pixels_of = [int(i.get("width", 0)) * int(i.get("height", 0)) for i in prepared.infos]
    presplit_train = (table["split"] == "train").to_numpy() if "split" in table else None
    dup_keep = (
        keep_one_per_cluster(dups, table["label"].tolist(), pixels_of, prefer=presplit_train)
        if drop
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
        ids, merged = _group_ids(kept, group_column, kept_dups)
        split[keep] = split_dataset(
            kept,
            val_fraction=cfg.val_fraction,
            test_fraction=cfg.test_fraction,
            seed=cfg.seed,
            group_column=group_column,
            groups=ids if (merged or group_column) else None,
            strategy=strategy,
            time_column=time_column,
        ).to_numpy()
        how = "given by the source" if "split" in table.columns else strategy
        leakage = _leakage(kept_dups, split[keep], kept, max_leakage)
    dropped = [
        {"path": str(table["relpath"].iloc[i]), "reason": "near-duplicate (one kept per cluster)"}
        for i in np.flatnonzero(~dup_keep)
    ]
    final = table[keep].reset_index(drop=True)
    final["split"] = split[keep]
    prepared_final = _subset(prepared, keep, cfg.img_size, fill, cache)
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
        keep=dup_keep if drop else None,
        group_column=group_column,
    )
    check["split"] = _split_summary(final, how, cfg, group_column, threshold, leakage)
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
    cfg: Any,
    group_column: str | None,
    threshold: int,
    leakage: dict[str, Any],
) -> dict[str, Any]:
    counts = pd.crosstab(final["label"], final["split"])
    out: dict[str, Any] = {
        "strategy": how,
        "seed": int(cfg.seed),
        "val_fraction": float(cfg.val_fraction),
        "test_fraction": float(cfg.test_fraction),
        "group_column": group_column,
        "grouped_by": [*([group_column] if group_column else []), "near-duplicates"],
        "dup_threshold": threshold,
        "counts": {
            s: {str(k): int(v) for k, v in counts[s].items()} for s in SPLITS if s in counts
        },
        "sizes": {s: int((final["split"] == s).sum()) for s in SPLITS},
    }
    if how == "time":
        col = str(getattr(cfg, "time_column", "period"))
        out["time_column"] = col
        out["periods"] = {
            s: sorted(map(str, final.loc[final["split"] == s, col].unique())) for s in SPLITS
        }
    if group_column:
        per = final.groupby(group_column)["split"].nunique()
        out["groups_straddling"] = int((per > 1).sum())
    out.update(leakage)
    return out
