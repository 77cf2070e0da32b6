"""The report's Palette section: built from a run folder's palette files, when it has them.

:func:`render_palette_section` reads ``palette_summary.json`` and the swatch figures that
``stylecast palette RUN`` wrote, and returns one self-contained HTML fragment (figures as
data URIs), or None when the run has no palettes (the report then has no Palette section).
"""

from __future__ import annotations

import base64
import html
import os
from collections.abc import Sequence
from typing import Any

from stylecast.errors import RunError
from stylecast.palette.aggregate import GroupColour, Grouping
from stylecast.palette.files import read_summary
from stylecast.run import RunFolder

__all__ = ["render_palette_section"]

_GROUPS_SHOWN = 12


def _esc(x: Any) -> str:
    return html.escape(str(x), quote=True)


def _chip(c: GroupColour) -> str:
    lo, hi = c.share_ci
    return (
        f'<span style="display:inline-block;white-space:nowrap;margin:0 10px 4px 0">'
        f'<span style="display:inline-block;width:14px;height:14px;border-radius:3px;'
        f'vertical-align:-2px;border:1px solid #ccc;background:{_esc(c.hex)}"></span> '
        f"{_esc(c.name)} {c.share:.0%}"
        f' <span class="ci">{lo:.0%}–{hi:.0%}</span></span>'
    )


def _chips(colours: Sequence[GroupColour], n: int) -> str:
    return "".join(_chip(c) for c in colours[:n]) or '<span class="muted">none</span>'


def _grouping_html(g: Grouping, figure: str | None) -> str:
    parts = [f"<h3>By {_esc(g.column)}</h3>"]
    if figure:
        parts.append(
            f'<figure><img alt="palettes by {_esc(g.column)}" src="{figure}"><figcaption>'
            "Each row is a group's palette: key colours, then neutrals; a block's width is "
            "the colour's mean share of the garment over the group's images.</figcaption>"
            "</figure>"
        )
    rows = "".join(
        f'<tr><td>{_esc(p.value)}</td><td>{p.n_images:,}</td><td class="l">'
        f'{_chips(p.key_colours, 6)}</td><td class="l">{_chips(p.neutrals, 3)}</td></tr>'
        for p in g.groups[:_GROUPS_SHOWN]
    )
    parts.append(
        '<div class="scroll"><table><tr><th>'
        f'{_esc(g.column)}</th><th>images</th><th class="l">key colours</th>'
        f'<th class="l">neutrals</th></tr>{rows}</table></div>'
    )
    if len(g.groups) > _GROUPS_SHOWN:
        parts.append(
            f'<p class="small muted">The {_GROUPS_SHOWN} largest of {len(g.groups)} groups; '
            "every group is in <code>palette_summary.json</code>.</p>"
        )
    dist = g.distinguishing[:8]
    if dist:
        items = "".join(
            f"<tr><td>{_esc(d.family)}</td><td>{_esc(d.group)}</td><td>{d.share:.1%}</td>"
            f"<td>{_esc(d.other)}</td><td>{d.other_share:.1%}</td><td>{d.q:.2g}</td></tr>"
            for d in dist
        )
        parts.append(
            "<p>Colour families whose share of the garment differs between groups "
            "(Mann-Whitney U on per-image shares, Benjamini-Hochberg q &lt; 0.05):</p>"
            '<div class="scroll"><table><tr><th>family</th><th>group</th><th>share</th>'
            f"<th>against</th><th>share</th><th>q</th></tr>{items}</table></div>"
        )
    elif len(g.groups) > 1:
        parts.append(
            '<p class="small muted">No colour family\'s share differs significantly between '
            "these groups (Mann-Whitney U, Benjamini-Hochberg q &lt; 0.05).</p>"
        )
    return "".join(parts)


def render_palette_section(run: str | os.PathLike[str]) -> str | None:
    """The Palette section's HTML for ``run``, or None without ``palette_summary.json``.

    A summary that cannot be read becomes a note in the section, never a failed report.
    """
    folder = RunFolder(run)
    if not folder.palette_summary_file.is_file():
        return None
    try:
        meta, groupings = read_summary(folder.palette_summary_file)
    except RunError as exc:
        return f'<p class="note error">{_esc(exc)}</p>'
    n = meta.get("images", 0)
    skipped = len(meta.get("skipped", []))
    intro = (
        f"<p>Colours of {n:,} images"
        + (f" ({skipped} could not be read)" if skipped else "")
        + ", each apart from its backdrop, clustered in CIELAB and named with colornamer "
        "(XKCD names, families and a neutral flag). Key colours are non-neutral, "
        "neutrals the rest; shares are the mean share of the garment over a group's images, "
        "with 95% bootstrap intervals. Per image: <code>palettes.csv</code>.</p>"
    )
    parts = [intro]
    for g in groupings:
        path = folder.palette_figure(g.column)
        figure = (
            "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")
            if path.is_file()
            else None
        )
        parts.append(_grouping_html(g, figure))
    return "".join(parts)
