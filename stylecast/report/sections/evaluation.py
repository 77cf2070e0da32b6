"""The Evaluation, Calibration and Galleries sections: one partial, built from
``evaluation.json`` once the run has been evaluated (its figures and ``galleries.json``
beside it; stale galleries are redrawn first)."""

from __future__ import annotations

import contextlib
from typing import Any

from stylecast.errors import StylecastError
from stylecast.evaluation import build_galleries, galleries_are_stale
from stylecast.report.registry import ReportRun, Section, register_section
from stylecast.report.sections.common import data_uri, read_json_or_none
from stylecast.run import RunFolder

__all__ = ["cam_grid_of", "gallery_section"]

# Figures drawn by evaluate, embedded when present (EVALUATION_FIGURES of evaluation).
_FIGURES = ("confusion_matrix", "confusion_matrix_normalized", "reliability", "calibration")


def gallery_section(run: RunFolder) -> list[dict[str, Any]]:
    """The galleries listed in ``galleries.json`` whose PNG is there, embedded as JPEG."""
    index = read_json_or_none(run.galleries_file)
    if not isinstance(index, dict):
        return []
    out = []
    for g in index.get("galleries", []):
        src = data_uri(run / g["file"], photo=True)
        if src is None:
            continue
        out.append({**g, "src": src, "shown": len(g.get("items", []))})
    return out


def cam_grid_of(run: RunFolder, img_size: int) -> int:
    """Cells on a side of the galleries' heat maps: as recorded when they were drawn; for
    galleries drawn before that was recorded, EfficientNet's last grid (stride 32)."""
    index = read_json_or_none(run.galleries_file)
    grid = index.get("cam_grid") if isinstance(index, dict) else None
    return int(grid) if isinstance(grid, int) and grid > 0 else -(-img_size // 32)


def _build(run: ReportRun) -> dict[str, Any] | None:
    if run.evaluation is None:
        return None
    folder = run.folder
    if run.redraw_galleries and galleries_are_stale(folder.path):
        # The model or the images may be gone: then embed the galleries that are there.
        with contextlib.suppress(StylecastError):
            build_galleries(folder.path)
    galleries = gallery_section(folder)
    anchors = [("evaluation", "Evaluation"), ("calibration", "Calibration")]
    if galleries:
        anchors.append(("galleries", "Galleries"))
    return {
        "anchors": anchors,
        "evaluation_info": run.evaluation,
        "galleries": galleries,
        "figures": {name: data_uri(folder / f"{name}.png") for name in _FIGURES},
        "cam_grid": cam_grid_of(folder, run.model_info.preprocessing.img_size),
    }


register_section(Section("evaluation", "Evaluation", 70, _build, "section_evaluation.html.j2"))
