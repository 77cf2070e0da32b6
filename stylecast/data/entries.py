"""Decoded-cache entries on disk: written with a checksum per row, verified before use.

An entry is ``<key>.npy`` (the readable rows' pixels) and ``<key>.json`` (every row's
content digest, whether it was readable, the array's shape and a CRC-32 of every stored
row). Nothing in an entry is trusted: :func:`check_entry` compares the file's shape and
size with the metadata and every row with its checksum, and :func:`copy_rows` verifies
each row it copies from another entry. A damaged entry is rebuilt from the images
(its good rows copied, the rest decoded again) by :func:`stylecast.data.cache.prepare_images`.

Why CRC-32 and not BLAKE2b: it is there to catch damage (a cut-off file, zeroed or
overwritten pages), not tampering, and it is five times faster (0.08 s for the 3,582
rows of fpi-season at 224 px), so every use of an entry can afford to check all of it.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from stylecast.fileio import read_json

__all__ = [
    "ENTRY_FORMAT",
    "EntryState",
    "check_entry",
    "compact",
    "copy_rows",
    "row_checksums",
    "shared_rows",
]

# 2: "shape" and "rows_crc32" in the metadata. Entries without them (written by stylecast
# before checksums) cannot be verified, so they are rebuilt once.
ENTRY_FORMAT = 2
_BLOCK = 256  # rows read at a time


def row_checksums(pixels: np.ndarray) -> list[int]:
    """CRC-32 of every row (image) of ``pixels``."""
    out = []
    for start in range(0, len(pixels), _BLOCK):
        block = np.ascontiguousarray(pixels[start : start + _BLOCK])
        out.extend(zlib.crc32(row) for row in block)
    return out


@dataclass(frozen=True)
class EntryState:
    """What :func:`check_entry` found: a usable entry (``pixels``), or why not."""

    pixels: np.ndarray | None = None  # verified, memory-mapped; None when not usable
    ok: np.ndarray | None = None  # per table row: readable
    meta: dict[str, Any] | None = None
    problem: str | None = None  # why a present entry cannot be used (None: just absent)


def _load(npy: Path) -> np.ndarray:
    """The entry's pixels, memory-mapped; ValueError when the file is not a whole array."""
    pixels = np.load(npy, mmap_mode="r")
    size = npy.stat().st_size
    expected = int(pixels.offset) + int(pixels.nbytes)
    if size != expected:
        raise ValueError(f"the pixel file is {size:,} bytes, its header says {expected:,}")
    return pixels


def check_entry(
    npy: Path, meta_path: Path, digests: Sequence[str], *, size: int, fill: int
) -> EntryState:
    """Open the entry and verify it against ``digests`` (the table's rows, in order)."""
    if not meta_path.is_file():
        return EntryState()  # absent, or a write cut short before its metadata: build it
    try:
        meta = read_json(meta_path)
        ok = np.array(meta["ok"], dtype=bool)
        listed = list(meta["digests"])
    except (OSError, ValueError, KeyError, TypeError):
        return EntryState(problem="its metadata is unreadable")
    if listed != list(digests) or len(ok) != len(digests) or meta.get("fill") != fill:
        return EntryState(problem="its metadata does not match its images")
    crcs = meta.get("rows_crc32")
    if meta.get("format", 1) < ENTRY_FORMAT or crcs is None:
        return EntryState(problem="written by an older stylecast without checksums")
    shape = (int(ok.sum()), size, size, 3)
    if not npy.is_file():
        return EntryState(problem="its pixel file is missing")
    try:
        pixels = _load(npy)
    except (OSError, ValueError) as exc:
        return EntryState(problem=f"its pixel file is cut short or unreadable: {exc}")
    if pixels.dtype != np.uint8 or pixels.shape != shape or len(crcs) != shape[0]:
        return EntryState(
            problem=f"its pixel file holds {pixels.dtype} {pixels.shape}, expected uint8 {shape}"
        )
    bad = int(sum(a != b for a, b in zip(row_checksums(pixels), crcs, strict=True)))
    if bad:
        return EntryState(
            meta=meta,
            problem=f"{bad} of {shape[0]} image(s) do not match their checksums",
        )
    return EntryState(pixels=pixels, ok=ok, meta=meta)


def shared_rows(
    folder: Path, ctx: str, fill: int, needed: set[str], *, prefer: Sequence[Path] = ()
) -> dict[str, tuple[Path, int, int]]:
    """Where decoded pixels of ``needed`` digests sit in entries of ``folder``.

    ``{digest: (npy, row, crc32)}``; entries without checksums are not used.
    """
    if not needed or not folder.is_dir():
        return {}
    metas = [p.with_suffix(".json") for p in prefer]
    others = sorted(folder.glob("*.json"), key=lambda p: -p.stat().st_mtime)
    metas += [m for m in others if m not in metas]
    found: dict[str, tuple[Path, int, int]] = {}
    for meta_path in metas:
        try:
            meta = read_json(meta_path)
            digests, ok, crcs = meta["digests"], meta["ok"], meta["rows_crc32"]
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if meta.get("ctx") != ctx or meta.get("fill") != fill or len(crcs) != sum(map(bool, ok)):
            continue
        npy = meta_path.with_suffix(".npy")
        if not npy.is_file():
            continue
        row = 0
        for d, k in zip(digests, ok, strict=False):
            if k:
                if d in needed and d not in found:
                    found[d] = (npy, row, int(crcs[row]))
                row += 1
        if len(found) == len(needed):
            break
    return found


def copy_rows(
    out: np.ndarray,
    sources: dict[str, tuple[Path, int, int]],
    rows_of: dict[str, list[int]],
) -> tuple[set[str], dict[Path, int]]:
    """Copy verified rows into ``out``; the digests not copied, and bad rows per source file."""
    by_file: dict[Path, list[tuple[int, str, int]]] = {}
    for d, (f, row, crc) in sources.items():
        by_file.setdefault(f, []).append((row, d, crc))
    failed: set[str] = set()
    damaged: dict[Path, int] = {}
    for f, items in by_file.items():
        items.sort()
        try:
            src = _load(f)
            if src.shape[1:] != out.shape[1:] or items[-1][0] >= len(src):
                raise ValueError("shape")
        except (OSError, ValueError):
            failed.update(d for _, d, _ in items)
            damaged[f] = len(items)
            continue
        for start in range(0, len(items), _BLOCK):
            part = items[start : start + _BLOCK]
            block = np.ascontiguousarray(src[[r for r, _, _ in part]])
            for k, (_, d, crc) in enumerate(part):
                if zlib.crc32(block[k]) != crc:
                    failed.add(d)
                    damaged[f] = damaged.get(f, 0) + 1
                else:
                    out[rows_of[d]] = block[k]
    return failed, damaged


def compact(full: np.ndarray, ok: np.ndarray, tmp: Path) -> None:
    """Rewrite ``tmp`` with only the readable rows (rare: only when files are broken)."""
    keep = np.flatnonzero(ok)
    part = tmp.with_name(tmp.name + ".part")
    out = np.lib.format.open_memmap(
        part, mode="w+", dtype=np.uint8, shape=(len(keep),) + full.shape[1:]
    )
    for start in range(0, len(keep), _BLOCK):
        out[start : start + _BLOCK] = full[keep[start : start + _BLOCK]]
    out.flush()
    del out
    os.replace(part, tmp)
