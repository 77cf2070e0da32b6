"""Report stage: one self-contained HTML file per run (figures embedded, no external assets).

The report only reads what earlier stages wrote into the run folder, draws what is
missing with :mod:`stylecast.plots` (training curves; galleries when they are missing or
older than ``predictions.csv``), and renders ``templates/report.html.j2``. Sections
appear only when the run has their material: ``tuning`` for runs retrained by
``stylecast tune --retrain-best`` (``RUN/tuning/``), ``evaluation``, ``calibration`` and
``galleries`` once the run has been evaluated. The Data section is
:func:`stylecast.data.render_data_section`'s fragment (or the error it raised).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from stylecast.errors import RunError, StylecastError
from stylecast.evaluation import Headline
from stylecast.fileio import atomic_write_text
from stylecast.report.sections import (
    cam_grid_of,
    data_section,
    data_uri,
    gallery_section,
    overview_sentences,
    param_count,
    read_json_or_none,
    reproduce_commands,
    training_phases,
    tuning_section,
    when,
)
from stylecast.run import RunFolder, RunInfo

__all__ = ["SECTION_TITLES", "ReportResult", "build_report"]

SECTION_TITLES = {
    "overview": "Overview",
    "data": "Data",
    "model": "Model",
    "training": "Training",
    "tuning": "Tuning",
    "ensemble": "Ensemble",
    "evaluation": "Evaluation",
    "calibration": "Calibration",
    "galleries": "Galleries",
    "palette": "Palette",
    "reproduce": "Reproduce",
}
# Figures drawn by training (curves, here) and evaluate, embedded when present.
_FIGURES = (
    "training_curves",
    "confusion_matrix",
    "confusion_matrix_normalized",
    "reliability",
    "calibration",
)


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


def _history(run: RunFolder) -> list[dict[str, Any]]:
    """``metrics.csv``'s rows; of an ensemble, its first member's (the Ensemble section
    shows every member)."""
    if not run.metrics_file.is_file():
        return []
    df = pd.read_csv(run.metrics_file)
    if "member" in df:
        df = df[df["member"] == df["member"].min()].drop(columns="member")
    return df.to_dict("records")


def _ensemble_section(run: RunFolder) -> Any:
    """The Ensemble fragment of an ensemble run, else None."""
    from markupsafe import Markup

    from stylecast.ensemble import render_ensemble_section

    fragment = render_ensemble_section(run)
    return Markup(fragment) if fragment is not None else None


def _palette_section(run: RunFolder) -> Any:
    """The Palette fragment when ``stylecast palette RUN`` has written its files, else None."""
    from markupsafe import Markup

    from stylecast.palette import render_palette_section

    fragment = render_palette_section(run.path)
    return Markup(fragment) if fragment is not None else None


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
    from jinja2 import Environment, PackageLoader, select_autoescape

    from stylecast.plots import plot_training_curves, save_figure

    folder = RunFolder(run)
    folder.require_dir()
    if not folder.model_file.is_file():
        raise RunError(
            f"{folder.path} holds no trained model; train it first "
            f"(stylecast train DATA --out {folder.path})"
        )
    model_info = folder.model_info()
    run_info = _run_info(folder)
    ev = read_json_or_none(folder.evaluation_file)
    headline = Headline.from_metrics(ev, str(folder.evaluation_file)) if ev else None
    if galleries and ev is not None:
        from stylecast.evaluation import build_galleries, galleries_are_stale

        if galleries_are_stale(folder.path):
            # The model or the images may be gone: then embed the galleries that are there.
            with contextlib.suppress(StylecastError):
                build_galleries(folder.path)

    history = _history(folder)
    if history:
        save_figure(plot_training_curves(history), folder / "training_curves.png")
    figures = {name: data_uri(folder / f"{name}.png") for name in _FIGURES}
    splits = folder.splits() if folder.splits_file.is_file() else None

    tuning = tuning_section(folder.path)
    gallery_list = gallery_section(folder) if ev is not None else []
    sections = ["overview", "data", "model", "training"]
    if tuning is not None:
        sections.append("tuning")
    ensemble = _ensemble_section(folder)
    if ensemble is not None:
        sections.append("ensemble")
    if ev is not None:
        sections += ["evaluation", "calibration"]
        if gallery_list:
            sections.append("galleries")
    palette = _palette_section(folder)
    if palette is not None:
        sections.append("palette")
    sections.append("reproduce")

    env = Environment(
        loader=PackageLoader("stylecast.report", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    summary = _read_text(folder.summary_file)
    page = env.get_template("report.html.j2").render(
        run_dir=folder.path,
        model_info=model_info,
        run_info=run_info,
        evaluation_info=ev,
        headline=headline,
        config=_read_text(folder.config_file),
        summary=summary,
        data=data_section(folder, splits),
        tuning=tuning,
        galleries=gallery_list,
        figures=figures,
        sections=sections,
        titles=SECTION_TITLES,
        overview=overview_sentences(ev, headline),
        phases=training_phases(history),
        params=param_count(summary),
        cam_grid=cam_grid_of(folder, model_info.preprocessing.img_size),
        generated=when(dt.datetime.now().isoformat(timespec="seconds")),
        created=when(run_info.created if run_info is not None else ""),
        commands=reproduce_commands(folder, run_info, ev),
        palette=palette,
        ensemble=ensemble,
    )
    path = Path(out) if out is not None else folder.report_file
    atomic_write_text(path, page)
    return ReportResult(path, sections)
