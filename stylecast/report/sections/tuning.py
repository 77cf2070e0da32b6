"""The Tuning section of a run retrained by ``stylecast tune --retrain-best``: the trials table
(best first) and the study's figures, from ``RUN/tuning/``."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import pandas as pd

from stylecast.report.registry import ReportRun, Section, register_section
from stylecast.report.sections.common import data_uri, read_json_or_none
from stylecast.run import RunFolder

__all__ = ["tuning_section"]

_TRIALS_SHOWN = 20


def tuning_section(run: Path) -> dict[str, Any] | None:
    """Trials table (best first) and the study's figures, from ``RUN/tuning/``.

    ``trials.csv`` is what ``stylecast tune`` writes: number, value, duration, params_*,
    state (and error); the study's name, metric and direction come from any JSON there.
    """
    folder = run / RunFolder.TUNING
    trials_csv = folder / RunFolder.TRIALS
    if not trials_csv.is_file():
        return None
    trials = pd.read_csv(trials_csv)
    info: dict[str, Any] = {}
    for j in sorted(folder.glob("*.json")):
        loaded = read_json_or_none(j)
        if isinstance(loaded, dict):
            info |= loaded
    direction = str(info.get("direction", "maximize")).lower()
    if "minimize" in direction or str(info.get("metric", "")).endswith("loss"):
        direction = "minimize"
    else:
        direction = "maximize"
    df = trials.copy()
    has_value = "value" in df
    if has_value:
        df["_v"] = pd.to_numeric(df["value"], errors="coerce")
        df["_done"] = df["state"].astype(str).str.upper().eq("COMPLETE") if "state" in df else True
        df = df.sort_values(
            ["_done", "_v"], ascending=[False, direction == "minimize"], na_position="last"
        )
    keep = [c for c in ("number", "value", "state", "duration") if c in df]
    keep += [c for c in df.columns if c.startswith("params_")]
    shown = df[keep].head(_TRIALS_SHOWN)
    header = [_nice_col(c, info, df) for c in keep]
    rows = [
        [
            f"{v:.4f}"
            if c == "value" and isinstance(v, float) and not math.isnan(v)
            else _fmt_cell(v)
            for c, v in zip(keep, r, strict=True)
        ]
        for r in shown.itertuples(index=False)
    ]
    n_complete = int(df["_done"].sum()) if "_done" in df else len(df)
    return {
        "header": header,
        "rows": rows,
        "n_trials": len(trials),
        "n_complete": n_complete,
        "shown": len(rows),
        "direction": direction,
        "metric": info.get("metric"),
        "study": info.get("study_name"),
        "study_folder": info.get("study_folder"),
        "best_trial": info.get("best_trial"),
        "figures": {
            Path(name).stem: data_uri(folder / name)
            for name in (RunFolder.HISTORY_FIGURE, RunFolder.IMPORTANCES_FIGURE)
            if (folder / name).is_file()
        },
    }


def _nice_col(col: str, info: dict[str, Any], df: pd.DataFrame) -> str:
    if col == "value":
        return str(info.get("metric") or "value")
    if col == "number":
        return "trial"
    if col == "duration" and pd.api.types.is_numeric_dtype(df[col]):
        return "duration (s)"
    return col.removeprefix("params_")


def _fmt_cell(v: Any) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, float):
        if v != 0 and (abs(v) < 1e-3 or abs(v) >= 1e5):
            return f"{v:.2e}"
        return f"{v:.4g}"
    s = str(v)
    # Optuna's trials_dataframe() holds timedeltas, written as "0 days 00:01:23.456": h:m:s.
    m = re.fullmatch(r"(\d+) days (\d\d):(\d\d):(\d\d)(\.\d+)?", s)
    if m:
        d, h, mi, se = (int(x) for x in m.groups()[:4])
        h += 24 * d
        return f"{h}:{mi:02d}:{se:02d}" if h else f"{mi}:{se:02d}"
    return s


def _build(run: ReportRun) -> dict[str, Any] | None:
    tuning = tuning_section(run.folder.path)
    return None if tuning is None else {"tuning": tuning}


register_section(Section("tuning", "Tuning", 50, _build, "section_tuning.html.j2"))
