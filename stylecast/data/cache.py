"""The decoded-image cache: every image decoded once, kept as memory-mapped ``uint8`` pixels.

Images are letterboxed to a square and stored in a ``.npy`` keyed by the files' content
hashes and the preprocessing. What decoding learns about each file (readable or why not,
format, size, perceptual hash) is kept in the cache's index (:class:`FileIndex`), so
``stylecast data check`` and training share it. A damaged cache entry is rebuilt, never
trusted.
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from stylecast.data.decode import facts_context, info_context, inspect_many
from stylecast.data.entries import (
    ENTRY_FORMAT,
    check_entry,
    compact,
    copy_rows,
    row_checksums,
    shared_rows,
)
from stylecast.data.store import FileIndex
from stylecast.errors import DataError
from stylecast.fileio import atomic_path, atomic_write_json

__all__ = [
    "ImageCache",
    "PreparedImages",
    "default_cache_dir",
    "inspect_files",
    "prepare_images",
    "subset_images",
]


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
    readable, so another table sharing images copies their rows instead of decoding again,
    and a checksum per stored image, so a damaged entry is found and rebuilt
    (:mod:`stylecast.data.entries`). ``<root>/index.sqlite3`` caches file digests and
    per-image facts.
    """

    def __init__(self, root: str | os.PathLike[str] | None = None) -> None:
        self.root = Path(root) if root is not None else default_cache_dir()
        self.index = FileIndex(self.root)

    def key(self, digests: Sequence[str], size: int, fill: int) -> str:
        """The cache entry's name for these rows (in order) decoded at ``size`` with ``fill``."""
        h = hashlib.blake2b(digest_size=16)
        h.update(f"{info_context()}:{size}:{fill}:".encode())
        for d in digests:
            h.update(d.encode())
        return h.hexdigest()

    def paths(self, key: str, size: int) -> tuple[Path, Path]:
        """The entry's pixels (``.npy``) and its row list (``.json``)."""
        folder = self.root / "decoded" / f"{size}px"
        return folder / f"{key}.npy", folder / f"{key}.json"

    def digests(self, paths: Sequence[str], *, progress: bool = False) -> list[str]:
        """Content digest of every file (DataError when one has gone since it was found)."""
        try:
            return self.index.digests(list(paths), progress=progress)
        except OSError as exc:
            raise DataError(
                f"cannot read {exc.filename}: {exc.strerror}; is it still there?"
            ) from None


def inspect_files(
    paths: Sequence[str],
    digests: Sequence[str],
    cache: ImageCache,
    *,
    workers: int | None = None,
    progress: bool = True,
) -> list[dict[str, Any]]:
    """Facts about every file (see :func:`inspect_image`), from the cache's index when known."""
    ctx = facts_context()
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
                todo,
                inspect_many(jobs, workers=workers, progress=progress, desc="check"),
                strict=True,
            )
        }
        cache.index.put_infos(fresh, ctx)
        known.update(fresh)
    return [known[d] for d in digests]


def _say(text: str) -> None:
    # Said also without a progress bar: a cache that was repaired is worth knowing about.
    print(text, file=sys.stderr, flush=True)


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
    An existing entry is verified before use (its shape and size, a checksum per image);
    a damaged one is rebuilt from the images, and a line on stderr says so.
    """
    cache = cache or ImageCache()
    paths = table["path"].tolist()
    digests = cache.digests(paths, progress=progress)
    key = cache.key(digests, img_size, fill)
    npy, meta_path = cache.paths(key, img_size)
    state = check_entry(npy, meta_path, digests, size=img_size, fill=fill)
    if state.pixels is not None and state.ok is not None and state.meta is not None:
        infos = _infos_for(
            cache, paths, digests, state.ok, state.meta, workers=workers, progress=progress
        )
        return _prepared(table, state.pixels, digests, state.ok, infos, npy=npy)
    # The rows of a damaged entry that still match their checksums are copied, not decoded.
    prefer = [*_prefer, npy] if state.meta is not None else list(_prefer)
    job = _Build(paths, digests, npy, meta_path, img_size, fill)
    ok, meta, known, damaged = _build(cache, job, prefer, workers=workers, progress=progress)
    if state.problem:
        _say(
            f"cache entry {key[:12]} ({img_size} px) was damaged ({state.problem}); "
            "rebuilt from the images"
        )
    for f, n in damaged.items():
        if f != npy:
            _say(
                f"cache entry {f.stem[:12]} ({img_size} px): {n} image(s) did not match their "
                "checksums, so they were decoded again from the images"
            )
    pixels = np.load(npy, mmap_mode="r")
    infos = _infos_for(
        cache, paths, digests, ok, meta, workers=workers, progress=progress, known=known
    )
    return _prepared(table, pixels, digests, ok, infos, npy=npy)


@dataclass(frozen=True)
class _Build:
    """One cache entry to write: the table's files and digests, where, at which size."""

    paths: list[str]
    digests: list[str]
    npy: Path
    meta_path: Path
    size: int
    fill: int


def _build(
    cache: ImageCache,
    job: _Build,
    prefer: Sequence[Path],
    *,
    workers: int | None,
    progress: bool,
) -> tuple[np.ndarray, dict[str, Any], dict[str, dict[str, Any]], dict[Path, int]]:
    """Write the entry: verified rows copied from other entries, the rest decoded.

    Returns the readable mask, the metadata, what is known of each file and the number of
    rows per other entry that failed their checksums.
    """
    paths, digests, npy = job.paths, job.digests, job.npy
    facts = facts_context()
    known = cache.index.infos(digests, facts)
    ok = np.array([known.get(d, {}).get("ok", True) for d in digests], dtype=bool)
    wanted = {d for d, k in zip(digests, ok, strict=True) if k}
    ctx = info_context()
    sources = shared_rows(npy.parent, ctx, job.fill, wanted, prefer=prefer)
    rows_of: dict[str, list[int]] = {}
    for i, d in enumerate(digests):
        rows_of.setdefault(d, []).append(i)
    try:
        npy.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(npy) as tmp:
            shape = (len(paths), job.size, job.size, 3)
            full = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.uint8, shape=shape)
            failed, damaged = copy_rows(full, sources, rows_of)
            to_decode: dict[str, str] = {}
            for p, d, k in zip(paths, digests, ok, strict=True):
                if k and (d not in sources or d in failed):
                    to_decode.setdefault(d, p)
            fresh: dict[str, dict[str, Any]] = {}
            jobs = [(p, job.size, job.fill) for p in to_decode.values()]
            results = inspect_many(jobs, workers=workers, progress=progress, desc="decode")
            for d, (arr, info) in zip(to_decode, results, strict=True):
                fresh[d] = info
                if arr is None:
                    ok[rows_of[d]] = False
                else:
                    full[rows_of[d]] = arr
            cache.index.put_infos(fresh, facts)
            known.update(fresh)
            if not ok.any():
                first = next(
                    (f"{p}: {known[d]['reason']}" for p, d in zip(paths, digests, strict=True)),
                    "",
                )
                raise DataError(f"none of the {len(paths)} images could be read; first: {first}")
            if not ok.all():
                compact(full, ok, tmp)
            del full
            written = np.load(tmp, mmap_mode="r")
            crcs = row_checksums(written)
            stored = list(written.shape)
            del written
        meta = {
            "format": ENTRY_FORMAT,
            "ctx": ctx,
            "size": job.size,
            "fill": job.fill,
            "shape": stored,
            "digests": digests,
            "ok": ok.tolist(),
            "failed": {
                str(i): [known[d].get("kind"), known[d].get("reason")]
                for i, d in enumerate(digests)
                if not ok[i]
            },
            "rows_crc32": crcs,
        }
        atomic_write_json(job.meta_path, meta)
    except OSError as exc:
        raise DataError(
            f"cannot write the image cache in {cache.root} ({exc.strerror or exc}); set "
            "STYLECAST_CACHE to a writable folder with room for the decoded images"
        ) from None
    return ok, meta, known, damaged


def _infos_for(
    cache: ImageCache,
    paths: Sequence[str],
    digests: Sequence[str],
    ok: np.ndarray,
    meta: dict[str, Any],
    *,
    workers: int | None,
    progress: bool,
    known: dict[str, dict[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """Per-row facts; unusable rows fall back to the reason stored in the cache entry."""
    known = dict(known) if known is not None else cache.index.infos(digests, facts_context())
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


def _prepared(
    table: pd.DataFrame,
    pixels: np.ndarray,
    digests: Sequence[str],
    ok: np.ndarray,
    infos: Sequence[dict[str, Any]],
    *,
    npy: Path,
) -> PreparedImages:
    """The readable rows of ``table`` with their pixels; the others listed as skipped."""
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


def subset_images(
    prepared: PreparedImages,
    keep: np.ndarray,
    *,
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
