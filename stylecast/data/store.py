"""A small SQLite index in the cache folder: file digests and per-image facts.

* ``files``: content digest of a path, valid while the file's size, mtime, ctime and
  inode are unchanged (git's index uses the same test), so a second run or every tuning
  trial does not re-read every image to hash it.
* ``info``: what decoding an image found out (readable or why not, format, size, colour
  mode, EXIF rotation, perceptual hash, colour thumbnail), keyed by content digest and by
  everything that can change the answer (Pillow and imagehash versions, the pixel limit,
  the minimum side). ``stylecast data check`` and training share it, so an image is
  inspected once.

The index is only a cache: if it cannot be opened or written (read-only folder, a
corrupt file, a locked database) stylecast works without it.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import sys
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

__all__ = ["FileIndex", "file_digest"]

_CHUNK = 500  # SQLite's default limit on host parameters is 999 in old builds


def file_digest(path: str | os.PathLike[str]) -> str:
    """Content hash of a file (cache key and exact-duplicate detection)."""
    h = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _stat_key(path: str) -> tuple[int, int, int, int]:
    st = os.stat(path)
    return st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino


class FileIndex:
    """Digests by path+stat and image facts by digest, in ``<root>/index.sqlite3``."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.path = Path(root) / "index.sqlite3"
        self._ok = True

    def _connect(self) -> sqlite3.Connection | None:
        if not self._ok:
            return None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=30)
            conn.execute(
                "CREATE TABLE IF NOT EXISTS files (path TEXT PRIMARY KEY, size INTEGER, "
                "mtime INTEGER, ctime INTEGER, ino INTEGER, digest TEXT)"
            )
            conn.execute(
                "CREATE TABLE IF NOT EXISTS info (digest TEXT, ctx TEXT, data TEXT, "
                "PRIMARY KEY (digest, ctx))"
            )
            return conn
        except (sqlite3.Error, OSError):
            self._ok = False
            return None

    def _run(self, fn: Any) -> Any:
        conn = self._connect()
        if conn is None:
            return None
        try:
            with conn:
                return fn(conn)
        except sqlite3.Error:
            self._ok = False
            return None
        finally:
            conn.close()

    # ------------------------------------------------------------------ digests

    def digests(
        self, paths: Sequence[str], *, workers: int | None = None, progress: bool = False
    ) -> list[str]:
        """Content digest of every path; unchanged files are not read again."""
        stats = [_stat_key(p) for p in paths]

        def lookup(conn: sqlite3.Connection) -> dict[str, tuple]:
            found: dict[str, tuple] = {}
            for s in range(0, len(paths), _CHUNK):
                part = list(paths[s : s + _CHUNK])
                q = ",".join("?" * len(part))
                for row in conn.execute(
                    f"SELECT path, size, mtime, ctime, ino, digest FROM files WHERE path IN ({q})",
                    part,
                ):
                    found[row[0]] = row[1:]
            return found

        known = self._run(lookup) or {}
        out: list[str | None] = [None] * len(paths)
        todo = []
        for i, (p, st) in enumerate(zip(paths, stats, strict=True)):
            row = known.get(p)
            if row is not None and tuple(row[:4]) == st:
                out[i] = row[4]
            else:
                todo.append(i)
        if todo:
            fresh = _hash_many([paths[i] for i in todo], workers, progress)
            for i, d in zip(todo, fresh, strict=True):
                out[i] = d
            rows = [(paths[i], *stats[i], out[i]) for i in todo]
            self._run(
                lambda c: c.executemany("INSERT OR REPLACE INTO files VALUES (?,?,?,?,?,?)", rows)
            )
        return [d for d in out if d is not None]

    # ------------------------------------------------------------------ image facts

    def infos(self, digests: Sequence[str], ctx: str) -> dict[str, dict[str, Any]]:
        unique = sorted(set(digests))

        def lookup(conn: sqlite3.Connection) -> dict[str, dict[str, Any]]:
            found = {}
            for s in range(0, len(unique), _CHUNK):
                part = unique[s : s + _CHUNK]
                q = ",".join("?" * len(part))
                for d, data in conn.execute(
                    f"SELECT digest, data FROM info WHERE ctx = ? AND digest IN ({q})",
                    [ctx, *part],
                ):
                    found[d] = json.loads(data)
            return found

        return self._run(lookup) or {}

    def put_infos(self, items: dict[str, dict[str, Any]], ctx: str) -> None:
        if not items:
            return
        rows = [(d, ctx, json.dumps(v, separators=(",", ":"))) for d, v in items.items()]
        self._run(lambda c: c.executemany("INSERT OR REPLACE INTO info VALUES (?,?,?)", rows))


def _hash_many(paths: list[str], workers: int | None, progress: bool) -> list[str]:
    # Threads, not processes: reading is I/O and hashlib releases the GIL on large buffers.
    if len(paths) < 256:
        return [file_digest(p) for p in paths]
    n = workers or min(8, (os.cpu_count() or 1) * 2)
    with ThreadPoolExecutor(max_workers=n) as pool:
        it = pool.map(file_digest, paths)
        if progress:
            from tqdm.auto import tqdm

            it = tqdm(it, total=len(paths), desc="hash", unit="file", leave=False, file=sys.stderr)
        return list(it)
