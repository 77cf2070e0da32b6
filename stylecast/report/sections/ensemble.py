"""The Ensemble section: :func:`stylecast.ensemble.render_ensemble_section`'s fragment."""

from __future__ import annotations

from typing import Any

from stylecast.ensemble import render_ensemble_section
from stylecast.report.registry import ReportRun, Section, register_section
from stylecast.report.sections.common import fragment


def _build(run: ReportRun) -> dict[str, Any] | None:
    return fragment(render_ensemble_section(run.folder), "ensemble")


register_section(Section("ensemble", "Ensemble", 60, _build, "section_ensemble.html.j2"))
