"""The Training section: the curves (drawn here from ``metrics.csv``) and one row per phase."""

from __future__ import annotations

from typing import Any

import pandas as pd

from stylecast.report.registry import ReportRun, Section, register_section
from stylecast.report.sections.common import data_uri
from stylecast.run import RunFolder

__all__ = ["training_phases"]

CURVES = "training_curves"  # <name>.png in the run, drawn by the report


def _history(run: RunFolder) -> list[dict[str, Any]]:
    """``metrics.csv``'s rows; of an ensemble, its first member's (the Ensemble section
    shows every member)."""
    if not run.metrics_file.is_file():
        return []
    df = pd.read_csv(run.metrics_file)
    if "member" in df:
        df = df[df["member"] == df["member"].min()].drop(columns="member")
    return df.to_dict("records")


def training_phases(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per training phase: epochs, best val accuracy, lowest val loss, speed, time."""
    if not history:
        return []
    df = pd.DataFrame(history)
    if "phase" not in df:
        df["phase"] = "train"
    rows = []
    for phase, g in df.groupby("phase", sort=False):
        row = {"phase": phase, "epochs": len(g)}
        for key, how in (
            ("val_accuracy", "max"),
            ("val_loss", "min"),
            ("images_per_s", "mean"),
            ("seconds", "sum"),
        ):
            vals = pd.to_numeric(g[key], errors="coerce") if key in g else pd.Series([], float)
            row[key] = float(getattr(vals, how)()) if vals.notna().any() else None
        rows.append(row)
    return rows


def _build(run: ReportRun) -> dict[str, Any]:
    history = _history(run.folder)
    if history:
        from stylecast.plots import plot_training_curves, save_figure

        save_figure(plot_training_curves(history), run.folder / f"{CURVES}.png")
    return {
        "figures": {CURVES: data_uri(run.folder / f"{CURVES}.png")},
        "phases": training_phases(history),
    }


register_section(Section("training", "Training", 40, _build, "section_training.html.j2"))
