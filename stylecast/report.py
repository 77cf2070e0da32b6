"""Report stage: one self-contained HTML file per run (figures embedded, no external assets).

The report only reads what earlier stages wrote into the run folder, draws what is
missing with :mod:`stylecast.plots`, and renders ``templates/report.html.j2``.
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from stylecast._io import atomic_write_text, read_json
from stylecast.errors import RunError

__all__ = ["ReportResult", "build_report"]


@dataclass(frozen=True)
class ReportResult:
    path: Path
    sections: list[str]


def _img(path: Path) -> str | None:
    if not path.is_file():
        return None
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def _load(run: Path) -> dict[str, Any]:
    ctx: dict[str, Any] = {"run_dir": run}
    for name in ("model.json", "evaluation.json", "run.json", "data_check.json"):
        p = run / name
        ctx[name.split(".")[0] + "_info"] = read_json(p) if p.is_file() else None
    ctx["config"] = (
        (run / "config.yaml").read_text(encoding="utf-8") if (run / "config.yaml").is_file() else ""
    )
    ctx["summary"] = (
        (run / "model_summary.txt").read_text(encoding="utf-8")
        if (run / "model_summary.txt").is_file()
        else ""
    )
    ctx["history"] = (
        pd.read_csv(run / "metrics.csv").to_dict("records")
        if (run / "metrics.csv").is_file()
        else []
    )
    ctx["splits"] = (
        pd.read_csv(run / "splits.csv", dtype=str, keep_default_na=False)
        if (run / "splits.csv").is_file()
        else None
    )
    return ctx


def build_report(
    run: str | os.PathLike[str], out: str | os.PathLike[str] | None = None
) -> ReportResult:
    """Render ``report.html`` for ``run`` (or ``out``) and return its path and sections."""
    from jinja2 import Environment, PackageLoader, select_autoescape

    from stylecast.plots import plot_class_distribution, plot_training_curves, save_figure

    run = Path(run)
    if not (run / "model.json").is_file():
        raise RunError(
            f"{run} holds no trained model; train it first (stylecast train DATA --out {run})"
        )
    ctx = _load(run)
    figures: dict[str, str | None] = {}
    if ctx["history"]:
        save_figure(plot_training_curves(ctx["history"]), run / "training_curves.png")
    if ctx["splits"] is not None:
        counts = ctx["splits"].groupby(["label"]).size().to_dict()
        save_figure(plot_class_distribution(counts), run / "class_distribution.png")
        ctx["split_table"] = (
            pd.crosstab(ctx["splits"]["label"], ctx["splits"]["split"])
            .reset_index()
            .to_dict("records")
        )
    for name in (
        "training_curves",
        "class_distribution",
        "confusion_matrix",
        "confusion_matrix_normalized",
        "reliability",
    ):
        figures[name] = _img(run / f"{name}.png")
    sections = ["overview", "data", "model", "training", "evaluation", "reproduce"]
    env = Environment(
        loader=PackageLoader("stylecast", "templates"), autoescape=select_autoescape(["html", "j2"])
    )
    page = env.get_template("report.html.j2").render(
        **ctx,
        figures=figures,
        sections=sections,
        generated=_dt.datetime.now().isoformat(timespec="seconds"),
        commands=_commands(run, ctx),
        esc=html.escape,
    )
    path = Path(out) if out is not None else run / "report.html"
    atomic_write_text(path, page)
    return ReportResult(path, sections)


def _commands(run: Path, ctx: dict[str, Any]) -> list[str]:
    """The exact commands that reproduce this run's figures."""
    source = (ctx.get("run_info") or {}).get("data", "DATA")
    return [
        f"stylecast train {source} --config {run}/config.yaml --out NEW_RUN",
        f"stylecast evaluate {run}",
        f"stylecast report {run}",
    ]
