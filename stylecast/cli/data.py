"""Data subcommands: ``stylecast data check``."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from stylecast.cli.common import add_config_options, add_quiet_option, config_from_args
from stylecast.config import ManifestColumns
from stylecast.errors import ConfigError
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
        help=f"JSON report (default ./{_DEFAULT_OUT}; DATA's folder is never written to). "
        "A report of other data there is kept: give another --out, or --force",
    )
    q.add_argument(
        "--force", action="store_true", help="replace --out even when it reports other data"
    )
    q.add_argument(
        "--dup-threshold",
        type=int,
        default=None,
        help="near-duplicate phash distance (bits of 64, default 6; -1 = exact copies only)",
    )
    add_config_options(q, ManifestColumns)
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


def _earlier_source(out: str, data: str, force: bool) -> str | None:
    """What ``out`` reports on, when it exists; ConfigError when that is other data and
    not ``force``: a report is never replaced without saying so."""
    import json

    target = Path(out)
    if not target.is_file():
        return None
    try:
        earlier = json.loads(target.read_text(encoding="utf-8")).get("source")
    except (OSError, ValueError, AttributeError):
        earlier = None
    here = Path(data).expanduser().resolve()
    here = here.parent if here.is_file() else here
    if earlier != str(here) and not force:
        what = f"the data check of {earlier}" if earlier else "a file that is no data check"
        raise ConfigError(
            f"{target} holds {what}; give --out FILE for this data's report, or --force to "
            "replace it"
        )
    return earlier or str(target)


def _check(args: argparse.Namespace) -> int:
    from stylecast.data import DEFAULT_DUP_THRESHOLD, check_data, format_report
    from stylecast.fileio import writable_file

    writable_file(args.out)
    earlier = _earlier_source(args.out, args.data, args.force)
    columns = config_from_args(ManifestColumns, args)
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
        path_column=columns.path_column,
        label_column=columns.label_column,
    )
    for line in result.dataset.warnings:
        print(f"warning: {line}", file=sys.stderr)
    print(format_report(result.report, seconds=time.perf_counter() - t0))
    written = result.write(args.out)
    if earlier is None:
        print(f"report: {written}")
    elif earlier == result.report["source"]:
        print(f"report: {written} (replaced the earlier report of this data)")
    else:
        print(f"report: {written} (replaced the data check of {earlier})")
    if args.manifest:
        n = result.write_clean_manifest(args.manifest, drop_duplicates=args.drop_duplicates)
        print(f"manifest: {args.manifest} ({n} images)")
    return 0
