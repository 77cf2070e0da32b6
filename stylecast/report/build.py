"""Report stage: one self-contained HTML file per run (figures embedded, no external assets).

The report only reads what earlier stages wrote into the run folder, draws what is
missing with :mod:`stylecast.plots` (training curves; galleries when they are missing or
older than ``predictions.csv``), and renders ``templates/report.html.j2`` around the
registered sections (:mod:`stylecast.report.registry`), each its own partial. A section
appears only when the run has its material: ``tuning`` for runs retrained by
``stylecast tune --retrain-best`` (``RUN/tuning/``), ``evaluation``, ``calibration`` and
``galleries`` once the run has been evaluated. The Data section is
:func:`stylecast.data.render_data_section`'s fragment (or the error it raised).
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stylecast.errors import RunError
from stylecast.evaluation import Headline
from stylecast.fileio import atomic_write_text
from stylecast.records import EvaluationRecord
from stylecast.report.registry import ReportRun, registered_sections
from stylecast.report.sections import BUILT_IN  # noqa: F401 - registers the built-in sections
from stylecast.report.sections.common import when
from stylecast.run import RunFolder, RunInfo

__all__ = ["ReportResult", "build_report"]


@dataclass(frozen=True)
class ReportResult:
    """Where the report was written and which sections it has, in order."""

    path: Path
    sections: list[str]


def _run_info(run: RunFolder) -> RunInfo | None:
    try:
        return run.info()
    except RunError:
        return None  # the report still shows the model and its numbers


def _read_text(path: Path) -> str:
    return path.read_text(encoding="utf-8") if path.is_file() else ""


def _report_run(folder: RunFolder, galleries: bool) -> ReportRun:
    """What every section reads: the run's model, data source and evaluation, read once."""
    evaluation = EvaluationRecord.read_if_present(folder.evaluation_file)
    return ReportRun(
        folder=folder,
        model_info=folder.model_info(),
        run_info=_run_info(folder),
        evaluation=evaluation,
        headline=Headline.from_record(evaluation) if evaluation is not None else None,
        config=_read_text(folder.config_file),
        summary=_read_text(folder.summary_file),
        redraw_galleries=galleries,
    )


def build_report(
    run: str | os.PathLike[str],
    out: str | os.PathLike[str] | None = None,
    *,
    galleries: bool = True,
) -> ReportResult:
    """Render ``report.html`` for ``run`` (or ``out``) and return its path and sections.

    ``galleries=True`` redraws the galleries (with Grad-CAM) when ``predictions.csv``
    is newer than them; otherwise existing gallery PNGs are embedded as they are.
    """
    from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PackageLoader, select_autoescape
    from markupsafe import Markup

    folder = RunFolder(run)
    folder.require_dir()
    if not folder.model_file.is_file():
        raise RunError(
            f"{folder.path} holds no trained model; train it first "
            f"(stylecast train DATA --out {folder.path})"
        )
    rr = _report_run(folder, galleries)
    sections = registered_sections()
    env = Environment(
        loader=ChoiceLoader(
            [
                PackageLoader("stylecast.report", "templates"),
                *(FileSystemLoader(s.templates) for s in sections if s.templates is not None),
            ]
        ),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    # A partial keeps its last newline: sections are separated by one blank line, and a
    # section left out leaves its own (as the single template this replaced did).
    partials = env.overlay(keep_trailing_newline=True)
    common: dict[str, Any] = {
        "run_dir": folder.path,
        "model_info": rr.model_info,
        "run_info": rr.run_info,
        "headline": rr.headline,
        "config": rr.config,
        "summary": rr.summary,
    }
    slots, nav = [], []
    for section in sections:
        material = section.build(rr)
        if material is None:
            slots.append("")
            continue
        nav += material.get("anchors", [(section.name, section.title)])
        slots.append(partials.get_template(section.template).render(**common, **material))
    generated = when(dt.datetime.now().isoformat(timespec="seconds"))
    page = env.get_template("report.html.j2").render(
        **common,
        nav=nav,
        body=Markup("\n".join(slots)),
        generated=generated,
        created=when(rr.run_info.created if rr.run_info is not None else ""),
    )
    path = Path(out) if out is not None else folder.report_file
    atomic_write_text(path, page)
    return ReportResult(path, [anchor for anchor, _ in nav])
