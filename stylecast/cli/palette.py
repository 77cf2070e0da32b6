"""``stylecast palette DATA``: colour palettes per image and per group of images."""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from stylecast.cli.common import (
    add_config_options,
    add_out_option,
    add_quiet_option,
    config_from_args,
)
from stylecast.config import ManifestColumns
from stylecast.config_fields import check_fields, option
from stylecast.palette.config import PaletteConfig


@dataclass(frozen=True)
class PaletteRun:
    """``stylecast palette``'s flags that are arguments of :func:`palette`, not its config."""

    by: tuple[str, ...] = option(
        ("label",),
        "group by this manifest column (label, brand, period, ...; repeatable)",
        metavar="COLUMN",
        repeat=True,
    )
    workers: int | None = option(None, "processes (default: one per CPU core)", metavar="N", low=1)

    def __post_init__(self) -> None:
        check_fields(self, by_flag=True)


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``palette`` to the subcommands."""
    p = sub.add_parser(
        "palette",
        help="colour palettes per image and per season, brand, period or any column",
        description="Separate every garment from its backdrop, cluster its colours in CIELAB, "
        "name them (colornamer: XKCD names, families, neutral flag), and summarise them per "
        "group: key colours and neutrals with 95% intervals, and the colour families whose "
        "share differs between groups. Writes palettes.csv, palette_summary.json and one "
        "swatch figure per grouping; a run folder as DATA uses its splits.csv, and its "
        "report then gets a Palette section.",
    )
    p.add_argument("data", help="image folder, manifest (.csv/.parquet) or run folder")
    add_config_options(p, PaletteRun, skip=("workers",))
    add_out_option(
        p, "folder for the files (default: the run folder, or runs/palette-<data name>)", "DIR"
    )
    add_config_options(p, PaletteConfig)
    add_config_options(p, ManifestColumns)
    add_config_options(p, PaletteRun, skip=("by",))
    add_quiet_option(p, "no progress bar")
    p.set_defaults(func=_palette)


def _palette(args: argparse.Namespace) -> int:
    from stylecast.palette import format_palettes, palette
    from stylecast.run import RunFolder

    run = config_from_args(PaletteRun, args)
    manifest = config_from_args(ManifestColumns, args)
    result = palette(
        args.data,
        list(run.by),
        out=args.out,
        config=config_from_args(PaletteConfig, args),
        workers=run.workers,
        progress=not args.quiet,
        columns=(manifest.path_column, manifest.label_column),
    )
    print(format_palettes(result))
    if RunFolder(result.out).has_model():
        print(f"the report shows them after: stylecast report {result.out}")
    return 0
