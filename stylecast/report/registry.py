"""The report's sections, registered by name: adding one is one module plus one partial.

A :class:`Section` says where it goes (``order``), how to build its material from the
run (``build``: a :class:`ReportRun` to the partial's variables, or ``None`` when the run
has nothing for it) and which Jinja2 partial draws it (``template``, in
``stylecast/report/templates/`` unless ``templates`` names another folder). The built-in
sections live one per module in :mod:`stylecast.report.sections` and register
themselves on import; :func:`stylecast.report.build_report` renders every registered
section in order.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stylecast.records import EvaluationRecord
from stylecast.run import ModelInfo, RunFolder, RunInfo

__all__ = ["ReportRun", "Section", "register_section", "registered_sections", "unregister_section"]


@dataclass(frozen=True)
class ReportRun:
    """What every section may read: the run folder and the records the report read once.

    ``evaluation`` and ``headline`` are None before the run is evaluated; ``run_info``
    when its ``run.json`` is unreadable. ``redraw_galleries`` is ``build_report``'s
    ``galleries``.
    """

    folder: RunFolder
    model_info: ModelInfo
    run_info: RunInfo | None
    evaluation: EvaluationRecord | None
    headline: Any  # stylecast.evaluation.Headline | None (evaluation imports torch lazily)
    config: str  # config.yaml's text ("" when absent)
    summary: str  # model_summary.txt's text
    redraw_galleries: bool = True


@dataclass(frozen=True)
class Section:
    """One section of the report.

    ``build`` returns the partial's variables (beside the ones every partial gets:
    ``run_dir``, ``model_info``, ``run_info``, ``headline``, ``config``, ``summary``) or
    None to leave the section out. The partial renders ``<section id="NAME">``; one that
    renders several (Evaluation: also Calibration, Galleries) lists their ``(id, title)``
    under the key ``anchors`` of what ``build`` returns, for the contents line.
    """

    name: str
    title: str
    order: int
    build: Callable[[ReportRun], Mapping[str, Any] | None]
    template: str
    templates: Path | None = None  # the partial's folder, for sections outside stylecast


_SECTIONS: dict[str, Section] = {}


def register_section(section: Section) -> Section:
    """Add ``section`` to every report built from now on (replacing one of the same name)."""
    _SECTIONS[section.name] = section
    return section


def unregister_section(name: str) -> None:
    """Leave the section ``name`` out of reports from now on (KeyError when unknown)."""
    del _SECTIONS[name]


def registered_sections() -> list[Section]:
    """Every registered section, in report order (by ``order``, then name). The built-in
    ones register when :mod:`stylecast.report.sections` is imported (``build`` does)."""
    return sorted(_SECTIONS.values(), key=lambda s: (s.order, s.name))
