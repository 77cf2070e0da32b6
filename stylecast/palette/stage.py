"""``stylecast palette DATA``: every image's palette, and palettes per group of images.

DATA is an image folder, a folder with ``manifest.csv``, a manifest file, or a run folder
(its ``splits.csv``, images under :meth:`RunFolder.image_root`). Results go to ``out``:
by default the run folder itself, or ``runs/palette-<data name>`` for data; files:
``palettes.csv``, ``palette_summary.json`` and ``palette_<column>.png`` per grouping
(names on :class:`~stylecast.run.RunFolder`).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from stylecast.errors import ConfigError, DataError
from stylecast.palette.aggregate import Grouping, ImageColours, summarise_grouping
from stylecast.palette.extract import (
    ImagePalette,
    PaletteConfig,
    garment_clusters,
    image_palettes,
)
from stylecast.palette.files import (
    config_to_json,
    write_figures,
    write_palettes_csv,
    write_summary,
)
from stylecast.palette.naming import family_index
from stylecast.palette.pixels import read_pixels
from stylecast.run import RunFolder

__all__ = ["PaletteResult", "extract_clusters", "format_palettes", "palette"]

_BLANK = "(blank)"
_PARALLEL_FROM = 64  # fewer images are done in this process


@dataclass(frozen=True)
class PaletteResult:
    """What ``palette`` wrote and found."""

    out: Path
    palettes_csv: Path
    summary_json: Path
    figures: dict[str, Path]
    groupings: tuple[Grouping, ...]
    n_images: int
    skipped: tuple[tuple[str, str], ...]  # (path, reason) of images without a palette
    seconds: float

    @property
    def images_per_s(self) -> float:
        return (self.n_images + len(self.skipped)) / self.seconds if self.seconds > 0 else 0.0


@dataclass(frozen=True)
class _Source:
    table: object  # pandas DataFrame: relpath, abspath and every manifest column
    name: str
    run: RunFolder | None


def _source(data: str | os.PathLike[str], columns: tuple[str, str] = ("path", "label")) -> _Source:
    path = Path(data).expanduser()
    run = RunFolder(path)
    if path.is_dir() and run.splits_file.is_file() and run.info_file.is_file():
        table = run.splits()
        root = run.image_root()
        table = table.rename(columns={"path": "relpath"})
        table.insert(0, "abspath", [str(root / p) for p in table["relpath"]])
        return _Source(table, path.resolve().name, run)
    from stylecast.data import discover

    ds = discover(path, min_classes=1, path_column=columns[0], label_column=columns[1])
    table = ds.table.rename(columns={"path": "abspath"})
    name = path.resolve().parent.name if path.is_file() else path.resolve().name
    return _Source(table, name, None)


_OURS = (RunFolder.PALETTES, RunFolder.PALETTE_SUMMARY, RunFolder.LOCK)


def _check_out(out: Path) -> None:
    """``out`` must be a run folder, a folder of earlier palette files, empty, or new."""
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out} is a file; give a folder for the palette files")
    run = RunFolder(out)
    if not out.is_dir() or run.holds_run() or run.splits_file.is_file():
        return  # a run folder: palette adds its own files beside the run's
    others = sorted(
        p.name
        for p in out.iterdir()
        if p.name not in _OURS
        and not p.name.startswith(".")
        and not (p.name.startswith("palette_") and p.suffix == ".png")
    )
    if others:
        shown = ", ".join(others[:3]) + (", ..." if len(others) > 3 else "")
        raise ConfigError(
            f"--out {out} holds other files ({shown}); choose a new folder (palette never "
            "writes over files it did not create)"
        )


def _job(job: tuple[str, PaletteConfig]) -> tuple | str:
    """One image's clusters, or the reason it has none (top level: worker processes run it)."""
    path, cfg = job
    try:
        return garment_clusters(read_pixels(path, cfg.max_side), cfg)
    except DataError as exc:
        return str(exc)
    except Exception as exc:  # noqa: BLE001 - one odd image must not stop thousands
        return f"{path}: no palette ({type(exc).__name__}: {exc})"


def _extract(jobs: list[tuple[str, PaletteConfig]], workers: int, progress: bool) -> Iterator:
    it: Iterator
    if workers > 1 and len(jobs) >= _PARALLEL_FROM:
        pool = ProcessPoolExecutor(max_workers=workers)
        chunk = max(1, min(64, len(jobs) // (workers * 8)))
        it = pool.map(_job, jobs, chunksize=chunk)
    else:
        pool, it = None, map(_job, jobs)
    if progress:
        from tqdm.auto import tqdm

        it = tqdm(it, total=len(jobs), desc="palettes", unit="img", leave=False, file=sys.stderr)
    try:
        yield from it
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)


def extract_clusters(
    paths: Sequence[str], cfg: PaletteConfig, *, workers: int | None, progress: bool
) -> list:
    """:func:`garment_clusters` of every image, or the reason it has none, in order
    (in ``workers`` processes; all cores when None)."""
    n_workers = max(1, workers or (os.cpu_count() or 1))
    return list(_extract([(p, cfg) for p in paths], n_workers, progress))


def _colours(palettes: Sequence[ImagePalette]) -> ImageColours:
    rows = [(i, c) for i, p in enumerate(palettes) for c in p.colours]
    return ImageColours(
        image=np.array([i for i, _ in rows], dtype=int),
        lab=np.array([c.lab for _, c in rows], dtype=float).reshape(-1, 3),
        share=np.array([c.share for _, c in rows], dtype=float),
        family=np.array([family_index(c.name.family) for _, c in rows], dtype=int),
        common=np.array([c.name.common for _, c in rows], dtype=str),
        neutral=np.array([c.name.neutral for _, c in rows], dtype=bool),
        n_images=len(palettes),
    )


def palette(
    data: str | os.PathLike[str],
    by: Sequence[str] = ("label",),
    *,
    out: str | os.PathLike[str] | None = None,
    config: PaletteConfig | None = None,
    workers: int | None = None,
    progress: bool = True,
    columns: tuple[str, str] = ("path", "label"),
) -> PaletteResult:
    """Palettes of every image of ``data`` and of its groups by each column of ``by``.

    ``columns``: a manifest's columns of image paths and labels (``--path-column``,
    ``--label-column``).

    Unreadable images are listed in ``skipped`` (and in the summary), never fatal; a
    column of ``by`` that the data lacks is a ConfigError naming the columns there are.
    """
    cfg = config or PaletteConfig()
    t0 = time.perf_counter()
    src = _source(data, columns)
    table = src.table
    columns = [c for c in table.columns if c not in ("abspath", "relpath")]
    by = list(dict.fromkeys(by))
    missing = [c for c in by if c not in columns]
    if missing:
        raise ConfigError(
            f"--by {', '.join(missing)}: no such column in {data}; columns are {', '.join(columns)}"
        )
    target = Path(out) if out is not None else (src.run.path if src.run else None)
    target = target or Path("runs") / f"palette-{src.name}"
    _check_out(target)
    folder = RunFolder(target)
    results = extract_clusters(list(table["abspath"]), cfg, workers=workers, progress=progress)
    ok = [i for i, r in enumerate(results) if not isinstance(r, str)]
    skipped = tuple(
        (str(table["relpath"].iloc[i]), r) for i, r in enumerate(results) if isinstance(r, str)
    )
    if not ok:
        first = f"; first: {skipped[0][1]}" if skipped else ""
        raise DataError(f"no image of {data} could be read{first}")
    palettes = image_palettes([results[i] for i in ok])
    kept = table.iloc[ok].reset_index(drop=True)
    colours = _colours(palettes)
    groupings = tuple(
        summarise_grouping(col, [str(v).strip() or _BLANK for v in kept[col]], colours, cfg)
        for col in by
    )
    with folder.lock():
        csv_path = write_palettes_csv(folder.palettes_file, list(kept["relpath"]), palettes)
        figures = write_figures(folder, groupings)
        seconds = time.perf_counter() - t0
        meta = {
            "data": str(Path(data)),
            "images": len(palettes),
            "skipped": [{"path": p, "reason": r} for p, r in skipped],
            "fallbacks": {k: sum(p.fallback == k for p in palettes) for k in ("all", "centre")},
            "config": config_to_json(cfg),
            "seconds": round(seconds, 2),
        }
        summary = write_summary(folder.palette_summary_file, meta=meta, groupings=groupings)
    return PaletteResult(
        folder.path, csv_path, summary, figures, groupings, len(palettes), skipped, seconds
    )


def _chips(colours: Sequence, n: int) -> str:
    return " · ".join(f"{c.name} {c.share:.0%}" for c in colours[:n]) or "-"


def format_palettes(result: PaletteResult, *, groups: int = 12) -> str:
    """Each grouping's key colours and neutrals (name and mean share), and what differs."""
    lines = [
        f"palettes of {result.n_images:,} images"
        + (f" ({len(result.skipped)} skipped)" if result.skipped else "")
        + f" in {result.seconds:.1f}s ({result.images_per_s:,.0f} images/s)"
    ]
    for g in result.groupings:
        width = max(len(g.column), *(len(p.value) for p in g.groups[:groups]))
        lines += ["", f"{g.column:<{width}}  images  key colours (mean share of the garment)"]
        for p in g.groups[:groups]:
            lines.append(f"{p.value:<{width}}  {p.n_images:>6,}  {_chips(p.key_colours, 5)}")
            lines.append(f"{'':<{width}}  {'':>6}  neutrals: {_chips(p.neutrals, 3)}")
        if len(g.groups) > groups:
            lines.append(f"... and {len(g.groups) - groups} smaller groups (see the summary)")
        dist = g.distinguishing[:6]
        if dist:
            lines.append("distinguishing families (Mann-Whitney, BH q < 0.05):")
            for d in dist:
                lines.append(
                    f"  {d.family}: {d.group} {d.share:.1%} vs {d.other} {d.other_share:.1%} "
                    f"(q {d.q:.2g})"
                )
        elif len(g.groups) > 1:
            lines.append("no family share differs significantly between the groups")
    files = [result.palettes_csv, result.summary_json, *result.figures.values()]
    lines += ["", "wrote " + ", ".join(str(f) for f in files)]
    if result.skipped:
        path, reason = result.skipped[0]
        lines.append(f"skipped {len(result.skipped)} unreadable images, first: {reason}")
    return "\n".join(lines)
