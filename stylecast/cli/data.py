"""Data subcommands: ``stylecast data check``."""

from __future__ import annotations

import argparse
import time

from stylecast.cli.common import add_quiet_option
from stylecast.run import RunFolder

# The command's report has the keys of a run's data check, so it takes the same name.
_DEFAULT_OUT = RunFolder.DATA_CHECK


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``stylecast data`` and its actions to the top-level subcommands."""
    p = sub.add_parser("data", help="check a data set before training on it")
    dsub = p.add_subparsers(dest="data_command", metavar="ACTION", required=True)
    q = dsub.add_parser(
        "check",
        help="open every image, report broken files, classes, duplicates and groups",
        description="Open every image of DATA once (in parallel): report and skip empty, "
        "unreadable, truncated, non-image, too small and decompression-bomb files; list "
        "files named as another format; count classes, colour modes and EXIF rotations; "
        "find exact and near-duplicate clusters (flagging conflicting labels) and product "
        f"groups. Writes the full report as JSON (default ./{_DEFAULT_OUT}).",
    )
    q.add_argument("data", help="image folder or manifest (.csv/.parquet)")
    q.add_argument(
        "--out",
        metavar="FILE",
        default=_DEFAULT_OUT,
        help=f"JSON report (default ./{_DEFAULT_OUT}; DATA's folder is never written to)",
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
    add_quiet_option(q, "no progress bar")
    q.set_defaults(func=_check)


def _check(args: argparse.Namespace) -> int:
    from stylecast.data import DEFAULT_DUP_THRESHOLD, check_data, format_report
    from stylecast.fileio import writable_file

    writable_file(args.out)
    if args.manifest:
        writable_file(args.manifest, "--manifest")
    t0 = time.perf_counter()
    threshold = DEFAULT_DUP_THRESHOLD if args.dup_threshold is None else args.dup_threshold
    result = check_data(
        args.data,
        dup_threshold=threshold,
        group_column=args.group_column,
        workers=args.workers,
        progress=not args.quiet,
    )
    print(format_report(result.report, seconds=time.perf_counter() - t0))
    print(f"report: {result.write(args.out)}")
    if args.manifest:
        n = result.write_clean_manifest(args.manifest, drop_duplicates=args.drop_duplicates)
        print(f"manifest: {args.manifest} ({n} images)")
    return 0
