"""The Palette section, once ``stylecast palette RUN`` has written its files:
:func:`stylecast.palette.render_palette_section`'s fragment."""

from __future__ import annotations

from typing import Any

from stylecast.palette import render_palette_section
from stylecast.report.registry import ReportRun, Section, register_section
from stylecast.report.sections.common import fragment


def _build(run: ReportRun) -> dict[str, Any] | None:
    return fragment(render_palette_section(run.folder.path), "palette")


register_section(Section("palette", "Palette", 90, _build, "section_palette.html.j2"))
