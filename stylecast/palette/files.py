"""The palette files: ``palettes.csv`` (one row per image and colour), ``palette_summary.json``
(one entry per grouping and group) and one swatch PNG per grouping; written atomically."""

from __future__ import annotations

import dataclasses
import io
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from stylecast.errors import RunError
from stylecast.fileio import atomic_write_json, atomic_write_text, read_json
from stylecast.palette.aggregate import (
    FamilyDifference,
    FamilyShare,
    GroupColour,
    Grouping,
    GroupPalette,
)
from stylecast.palette.extract import ImagePalette, PaletteConfig
from stylecast.run import RunFolder

__all__ = [
    "PALETTE_COLUMNS",
    "SUMMARY_FORMAT",
    "grouping_from_json",
    "grouping_to_json",
    "read_summary",
    "write_figures",
    "write_palettes_csv",
    "write_summary",
]

PALETTE_COLUMNS = (
    "path",
    "rank",
    "hex",
    "L",
    "a",
    "b",
    "name",
    "design",
    "common",
    "family",
    "neutral",
    "share",
    "fallback",
)
SUMMARY_FORMAT = 1
FIGURE_GROUPS = 12  # rows of a swatch figure: the largest groups


def write_palettes_csv(
    path: str | os.PathLike[str], paths: Sequence[str], palettes: Sequence[ImagePalette]
) -> Path:
    """``palettes.csv``: for every image, one row per colour, largest share first (rank 1)."""
    import csv

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(PALETTE_COLUMNS)
    for rel, pal in zip(paths, palettes, strict=True):
        for rank, c in enumerate(pal.colours, start=1):
            writer.writerow(
                [
                    rel,
                    rank,
                    c.hex,
                    f"{c.lab[0]:.2f}",
                    f"{c.lab[1]:.2f}",
                    f"{c.lab[2]:.2f}",
                    c.name.name,
                    c.name.design,
                    c.name.common,
                    c.name.family,
                    int(c.name.neutral),
                    f"{c.share:.4f}",
                    pal.fallback,
                ]
            )
    return atomic_write_text(path, buf.getvalue())


def _pair(values: Sequence[float]) -> tuple[float, float]:
    return (float(values[0]), float(values[1]))


def grouping_to_json(g: Grouping) -> dict[str, Any]:
    return {
        "column": g.column,
        "groups": [dataclasses.asdict(p) for p in g.groups],
        "differences": [
            {**dataclasses.asdict(d), "difference": d.difference, "significant": d.significant}
            for d in g.differences
        ],
    }


def grouping_from_json(obj: dict[str, Any]) -> Grouping:
    """A :class:`Grouping` from its JSON object (KeyError/TypeError/ValueError if malformed)."""

    def colour(c: dict[str, Any]) -> GroupColour:
        return GroupColour(
            hex=str(c["hex"]),
            lab=tuple(float(v) for v in c["lab"]),  # type: ignore[arg-type]
            name=str(c["name"]),
            family=str(c["family"]),
            neutral=bool(c["neutral"]),
            share=float(c["share"]),
            share_ci=_pair(c["share_ci"]),
            presence=float(c["presence"]),
            presence_ci=_pair(c["presence_ci"]),
        )

    def family(f: dict[str, Any]) -> FamilyShare:
        return FamilyShare(
            family=str(f["family"]),
            share=float(f["share"]),
            share_ci=_pair(f["share_ci"]),
            presence=float(f["presence"]),
            presence_ci=_pair(f["presence_ci"]),
        )

    groups = tuple(
        GroupPalette(
            value=str(p["value"]),
            n_images=int(p["n_images"]),
            key_colours=tuple(colour(c) for c in p["key_colours"]),
            neutrals=tuple(colour(c) for c in p["neutrals"]),
            families=tuple(family(f) for f in p["families"]),
        )
        for p in obj["groups"]
    )
    known = ("family", "group", "other", "share", "other_share", "p", "q")
    diffs = tuple(FamilyDifference(**{k: d[k] for k in known}) for d in obj["differences"])
    return Grouping(str(obj["column"]), groups, diffs)


def write_summary(path: str | os.PathLike[str], *, meta: dict[str, Any], groupings) -> Path:  # noqa: ANN001
    """``palette_summary.json``: ``meta`` (data, images, skipped, config) and every grouping."""
    return atomic_write_json(
        path,
        {"format": SUMMARY_FORMAT, **meta, "groupings": [grouping_to_json(g) for g in groupings]},
    )


def read_summary(path: str | os.PathLike[str]) -> tuple[dict[str, Any], tuple[Grouping, ...]]:
    """(meta, groupings) of a ``palette_summary.json``; RunError when it cannot be read."""
    fix = "run `stylecast palette` again to rewrite it"
    try:
        obj = read_json(path)
        groupings = tuple(grouping_from_json(g) for g in obj["groupings"])
    except (OSError, ValueError, KeyError, TypeError, IndexError) as exc:
        raise RunError(f"{path} is unreadable ({type(exc).__name__}: {exc}); {fix}") from None
    meta = {k: v for k, v in obj.items() if k != "groupings"}
    return meta, groupings


def write_figures(out: RunFolder, groupings: Sequence[Grouping]) -> dict[str, Path]:
    """One swatch PNG per grouping (the largest groups); returns {column: path}."""
    from stylecast.plots import Swatch, SwatchRow, plot_palettes, save_figure

    figures = {}
    for g in groupings:
        rows = [
            SwatchRow(
                f"{p.value} ({p.n_images})",
                [Swatch(c.hex, c.share, c.name) for c in p.key_colours],
                [Swatch(c.hex, c.share, c.name) for c in p.neutrals],
            )
            for p in g.groups[:FIGURE_GROUPS]
        ]
        shown = "" if len(g.groups) <= FIGURE_GROUPS else f" (the {FIGURE_GROUPS} largest)"
        fig = plot_palettes(rows, title=f"Palettes by {g.column}{shown}")
        figures[g.column] = save_figure(fig, out.palette_figure(g.column))
    return figures


def config_to_json(cfg: PaletteConfig) -> dict[str, Any]:
    return dataclasses.asdict(cfg)
