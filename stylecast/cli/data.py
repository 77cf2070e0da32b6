"""Data subcommands: ``stylecast data check``."""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("data", help="check a data set before training on it")
    dsub = p.add_subparsers(dest="data_command", metavar="ACTION", required=True)
    q = dsub.add_parser(
        "check",
        help="open every image, report broken files, classes, duplicates and groups",
        description="Open every image of DATA once (in parallel): report and skip empty, "
        "unreadable, truncated, non-image, too small and decompression-bomb files; list "
        "files named as another format; count classes, colour modes and EXIF rotations; "
        "find exact and near-duplicate clusters (flagging conflicting labels) and product "
        "groups. Writes the full report as JSON (default ./data_check.json).",
    )
    q.add_argument("data", help="image folder or manifest (.csv/.parquet)")
    q.add_argument(
        "--out",
        metavar="FILE",
        default="data_check.json",
        help="JSON report (default ./data_check.json; DATA's folder is never written to)",
    )
    q.add_argument(
        "--dup-threshold",
        type=int,
        default=None,
        help="near-duplicate phash distance (bits of 64, default 6; -1 = exact copies only)",
    )
    q.add_argument(
        "--group-column", help="manifest column of product groups (default 'group' if present)"
    )
    q.add_argument(
        "--drop-duplicates",
        action="store_true",
        help="with --manifest: list one image per duplicate cluster",
    )
    q.add_argument(
        "--manifest",
        metavar="FILE.csv",
        help="also write a clean manifest: readable images only (paths relative to FILE)",
    )
    q.add_argument("--workers", type=int, help="processes (default: CPU cores, at most 8)")
    q.add_argument("--quiet", action="store_true", help="no progress bar")
    q.set_defaults(func=_check)


def _check(args: argparse.Namespace) -> int:
    from stylecast.data import DEFAULT_DUP_THRESHOLD, check_data, format_report
    from stylecast.errors import DataError

    if args.workers is not None and args.workers < 1:
        raise DataError(f"--workers must be at least 1, got {args.workers}")
    t0 = time.perf_counter()
    threshold = DEFAULT_DUP_THRESHOLD if args.dup_threshold is None else args.dup_threshold
    result = check_data(
        args.data,
        dup_threshold=threshold,
        group_column=args.group_column,
        workers=args.workers,
        progress=not args.quiet,
    )
    seconds = time.perf_counter() - t0
    print(format_report(result.report, seconds=seconds))
    out = result.write(args.out)
    print(f"report: {out}")
    if args.manifest:
        manifest = Path(args.manifest)
        table = result.table[result.table["ok"]].reset_index(drop=True)
        if args.drop_duplicates:
            table = table[result.keep].reset_index(drop=True)
        base = manifest.resolve().parent
        cols = [c for c in result.dataset.table.columns if c not in ("path", "relpath", "label")]
        clean = table[["label", *cols]].copy()
        clean.insert(0, "path", [Path(os.path.relpath(p, base)).as_posix() for p in table["path"]])
        from stylecast.fileio import atomic_write_text

        atomic_write_text(manifest, clean.to_csv(index=False))
        print(f"manifest: {manifest} ({len(clean)} images)")
    return 0
