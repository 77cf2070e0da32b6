"""Palette columns for ``stylecast predict --palette``: each image's garment colours.

One row per image from :func:`stylecast.palette.extract_palette` (backdrop removed, colours
clustered in CIELAB and named by colornamer), in worker processes:

* ``palette_colour``, ``palette_family``, ``palette_hex``: the main colour (largest share)
  by its common name, its colour family and its hex value;
* ``palette``: every colour as ``name share%``, largest first, joined by ``; ``.

An image whose palette cannot be taken gets empty values (its prediction stays).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import Any

import pandas as pd

__all__ = ["PALETTE_COLUMNS", "palette_columns"]

PALETTE_COLUMNS = ("palette_colour", "palette_family", "palette_hex", "palette")
_PARALLEL_FROM = 32  # fewer images are not worth starting processes for


def _row(path: str) -> tuple[str, str, str, str]:
    """The palette columns of one image (a top-level function, for worker processes)."""
    from stylecast.errors import MissingDependencyError
    from stylecast.palette import extract_palette

    try:
        colours = sorted(extract_palette(path).colours, key=lambda c: -c.share)
    except MissingDependencyError:
        raise
    except Exception:  # noqa: BLE001 - one odd image must not stop a whole collection
        return ("", "", "", "")
    if not colours:
        return ("", "", "", "")
    main = colours[0]
    listed = "; ".join(f"{c.name.common} {c.share:.0%}" for c in colours)
    return (main.name.common, main.name.family, main.hex, listed)


def palette_columns(
    paths: Sequence[str], *, workers: int | None = None, progress: bool = False
) -> pd.DataFrame:
    """The palette columns of every image of ``paths``, in order."""
    try:
        import stylecast.palette  # noqa: F401 - fails here, not in every worker
    except ImportError as exc:  # pragma: no cover - a stylecast without the palette stage
        from stylecast.errors import MissingDependencyError

        raise MissingDependencyError(f"--palette needs the palette stage: {exc}") from None
    n = max(1, workers or min(os.cpu_count() or 1, 8))
    rows: Any
    if n > 1 and len(paths) >= _PARALLEL_FROM:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=n) as pool:
            rows = pool.map(_row, paths, chunksize=max(1, min(64, len(paths) // (n * 8))))
            rows = list(_bar(rows, len(paths), progress))
    else:
        rows = [_row(p) for p in _bar(paths, len(paths), progress)]
    return pd.DataFrame(rows, columns=list(PALETTE_COLUMNS))


def _bar(it: Any, total: int, enabled: bool) -> Any:
    if not enabled:
        return it
    from tqdm.auto import tqdm

    return tqdm(it, total=total, desc="palettes", unit="img", leave=False, file=sys.stderr)
