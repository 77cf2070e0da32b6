"""``stylecast palette DATA``: colour palettes per image and per group of images."""

from __future__ import annotations

import argparse


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
    p.add_argument(
        "--by",
        action="append",
        metavar="COLUMN",
        help="group by this manifest column (label, brand, period, ...; repeatable; default label)",
    )
    p.add_argument(
        "--out",
        metavar="DIR",
        help="folder for the files (default: the run folder, or runs/palette-<data name>)",
    )
    p.add_argument(
        "--colours", type=int, metavar="K", help="clusters per image before merging (default 6)"
    )
    p.add_argument("--workers", type=int, metavar="N", help="processes (default: one per CPU core)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_palette)


def _palette(args: argparse.Namespace) -> int:
    from stylecast.errors import ConfigError
    from stylecast.palette import PaletteConfig, format_palettes, palette
    from stylecast.run import RunFolder

    if args.workers is not None and args.workers < 1:
        raise ConfigError(f"--workers must be at least 1, got {args.workers}")
    cfg = PaletteConfig() if args.colours is None else PaletteConfig(n_colours=args.colours)
    result = palette(
        args.data,
        args.by or ["label"],
        out=args.out,
        config=cfg,
        workers=args.workers,
        progress=not args.quiet,
    )
    print(format_palettes(result))
    if RunFolder(result.out).has_model():
        print(f"the report shows them after: stylecast report {result.out}")
    return 0
