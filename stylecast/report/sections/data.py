"""The Data section: :func:`stylecast.data.render_data_section`'s fragment (or the error it
raised) and the manifest columns kept with every image."""

from __future__ import annotations

from typing import Any

import pandas as pd

from stylecast.errors import StylecastError
from stylecast.report.registry import ReportRun, Section, register_section
from stylecast.run import RunFolder

__all__ = ["data_section"]


def data_section(run: RunFolder, splits: pd.DataFrame | None) -> dict[str, Any]:
    """The data fragment of :func:`stylecast.data.render_data_section` (distribution, split,
    samples, duplicates, skipped files), or the error it raised, and the manifest's columns."""
    from markupsafe import Markup

    # Imported per call, so a replaced stylecast.data.render_data_section is used (tests do).
    from stylecast.data import render_data_section

    data: dict[str, Any] = {"fragment": None, "error": None, "extra_columns": []}
    try:
        data["fragment"] = Markup(render_data_section(run.path))
    except StylecastError as exc:
        data["error"] = str(exc)  # shown in place; the rest of the report still renders
    if splits is not None:
        data["extra_columns"] = [c for c in splits.columns if c not in ("path", "label", "split")]
    return data


def _build(run: ReportRun) -> dict[str, Any]:
    folder = run.folder
    splits = folder.splits() if folder.splits_file.is_file() else None
    return {"data": data_section(folder, splits)}


register_section(Section("data", "Data", 20, _build, "section_data.html.j2"))
