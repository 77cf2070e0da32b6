"""The Model section: backbone, mode, input size, parameters, classes, temperature, and the
layer summary and configuration of the run."""

from __future__ import annotations

import re
from typing import Any

from stylecast.report.registry import ReportRun, Section, register_section

__all__ = ["param_count"]


def param_count(summary: str) -> str | None:
    """The parameter count of ``model_summary.txt`` (torchinfo's "Total params")."""
    m = re.search(r"Total params:\s*([\d,]+)", summary)
    return m.group(1) if m else None


def _build(run: ReportRun) -> dict[str, Any]:
    return {"params": param_count(run.summary)}


register_section(Section("model", "Model", 30, _build, "section_model.html.j2"))
