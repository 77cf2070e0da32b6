"""The material of each report section, read from the run folder and shaped for the template.

Every function here reads what earlier stages wrote (``evaluation.json``, ``metrics.csv``,
``RUN/tuning/``, ``galleries.json``, ``run.json``) and returns plain values the Jinja2
template shows; :mod:`stylecast.report.build` puts them together.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import math
import re
import shlex
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from stylecast.errors import StylecastError
from stylecast.evaluation import FITTED, NO_GAIN, Headline, verdict_sentence
from stylecast.fileio import read_json
from stylecast.run import RunFolder, RunInfo

__all__ = [
    "data_section",
    "data_uri",
    "gallery_section",
    "overview_sentences",
    "param_count",
    "read_json_or_none",
    "reproduce_commands",
    "training_phases",
    "tuning_section",
    "when",
]

_TRIALS_SHOWN = 20


def data_uri(path: Path, *, photo: bool = False) -> str | None:
    """A ``data:`` URI; photo grids become JPEG (a tenth of the PNG's size), charts stay PNG."""
    if not path.is_file():
        return None
    if photo:
        from PIL import Image

        with Image.open(path) as im:
            buf = io.BytesIO()
            im.convert("RGB").save(buf, format="JPEG", quality=85, optimize=True)
        return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode("ascii")
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def read_json_or_none(path: Path) -> Any:
    """A JSON file of the run, or None when it is absent or unreadable (its section is left out)."""
    try:
        return read_json(path) if path.is_file() else None
    except (OSError, ValueError):
        return None


def overview_sentences(ev: Mapping[str, Any] | None, headline: Headline | None) -> list[str]:
    """The report's first paragraph, in words a merchandising team reads."""
    if not ev or headline is None:
        return []
    names = ev["class_names"]
    out = []
    where = {"test": "held-out test", "val": "validation"}.get(headline.split, headline.split)
    ci = headline.accuracy_ci
    ci_txt = f" (95% interval {ci[0]:.0%} to {ci[1]:.0%})" if ci else ""
    out.append(
        f"On {headline.n:,} {where} images the model names the right class "
        f"{headline.accuracy:.0%} of the time{ci_txt}; picking the largest class every time "
        f"would score {_majority_share(ev):.0%}."
    )
    verdict = verdict_sentence(headline)
    if verdict:
        out.insert(0, "Verdict: " + verdict[0].upper() + verdict[1:])
    recalls = {n: ev["per_class"][n]["recall"] for n in names if ev["per_class"][n]["support"]}
    if recalls:
        best = max(recalls, key=recalls.get)
        worst = min(recalls, key=recalls.get)
        if best != worst:
            out.append(
                f"It recognises {best} best ({recalls[best]:.0%} of those images found) and "
                f"{worst} least well ({recalls[worst]:.0%})."
            )
    cm = ev["confusion_matrix"]
    pairs = [(cm[i][j], names[i], names[j]) for i in range(len(names)) for j in range(len(names))]
    pairs = [p for p in pairs if p[1] != p[2] and p[0] > 0]
    if pairs:
        k, t, p = max(pairs)
        out.append(f"The most common mistake is reading {t} as {p} ({k} images).")
    if ev.get("calibration"):
        gap = headline.ece  # after temperature scaling
        if gap <= 0.05:
            out.append(
                f"Its confidence can be taken at face value: stated confidence and observed "
                f"accuracy differ by {gap:.1%} on average, so predictions made with 80% "
                "confidence are right about 80% of the time."
            )
        else:
            out.append(
                f"Treat its confidence with care: stated confidence and observed accuracy "
                f"differ by {gap:.1%} on average (see Calibration)."
            )
        kept = _calibration_sentence(ev["calibration"], headline)
        if kept:
            out.append(kept)
    return out


def _calibration_sentence(cal: Mapping[str, Any], headline: Headline) -> str | None:
    """Which temperature the probabilities use and why, in one sentence (the Calibration
    section and ``stylecast evaluate`` give the numbers)."""
    decision = cal.get("decision")
    t = headline.temperature
    if headline.split == "external" and t != 1.0:
        return (
            f"These probabilities use the temperature {t:.2f} that the run's own evaluation "
            "fitted on its validation split and stored with the model."
        )
    if decision == FITTED:
        return (
            f"Its probabilities are rescaled by a temperature of {t:.2f}, kept because it "
            "made them better calibrated on validation images it was not fitted on."
        )
    if decision == NO_GAIN:
        return (
            "A temperature fitted on the validation split did not help on validation "
            "images it was not fitted on, so the probabilities are the network's own."
        )
    return None


def _majority_share(ev: Mapping[str, Any]) -> float:
    support = [pc["support"] for pc in ev["per_class"].values()]
    return max(support) / max(sum(support), 1)


def data_section(run: RunFolder, splits: pd.DataFrame | None) -> dict[str, Any]:
    """The data fragment of :func:`stylecast.data.render_data_section` (distribution, split,
    samples, duplicates, skipped files), or the error it raised, and the manifest's columns."""
    from markupsafe import Markup

    from stylecast.data import render_data_section

    data: dict[str, Any] = {"fragment": None, "error": None, "extra_columns": []}
    try:
        data["fragment"] = Markup(render_data_section(run.path))
    except StylecastError as exc:
        data["error"] = str(exc)  # shown in place; the rest of the report still renders
    if splits is not None:
        data["extra_columns"] = [c for c in splits.columns if c not in ("path", "label", "split")]
    return data


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


def param_count(summary: str) -> str | None:
    """The parameter count of ``model_summary.txt`` (torchinfo's "Total params")."""
    m = re.search(r"Total params:\s*([\d,]+)", summary)
    return m.group(1) if m else None


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


def when(value: Any) -> str:
    """ISO timestamps as people write them: 28 Nov 2026, 20:45."""
    try:
        return dt.datetime.fromisoformat(str(value)).strftime("%d %b %Y, %H:%M").lstrip("0")
    except ValueError:
        return str(value)


def _pretty_command(command: str) -> str:
    """run.json's argv with the interpreter's script path written as ``stylecast``."""
    try:
        argv = shlex.split(command)
    except ValueError:
        return command
    if argv and (argv[0].endswith(("__main__.py", "/stylecast")) or argv[0] == "stylecast"):
        argv[0] = "stylecast"
    return shlex.join(argv)


def reproduce_commands(
    run: RunFolder, info: RunInfo | None, evaluation: Mapping[str, Any] | None
) -> list[dict[str, str]]:
    """The exact commands that reproduce this run, its numbers and its figures."""
    q = shlex.quote
    source = str(info.data) if info is not None else "DATA"
    ev = evaluation or {}
    cmds = []
    if info is not None and info.command:
        cmds.append(
            {"what": "the command that made this run", "cmd": _pretty_command(info.command)}
        )
    what = "train again with the same data, split settings and configuration"
    if info is not None and info.extra.get("tuned"):
        what = (
            "train the best configuration again (on a fresh train/val/test split; the "
            "retrain above used the study's train + validation images)"
        )
    cmds.append(
        {
            "what": what,
            "cmd": f"stylecast train {q(source)} --config {q(str(run.config_file))} --out NEW_RUN",
        }
    )
    evaluate = f"stylecast evaluate {q(str(run.path))}"
    if ev.get("split") == "external" and ev.get("data"):
        evaluate += f" {q(str(ev['data']))}"
    cmds.append({"what": "metrics, calibration, galleries and Grad-CAM", "cmd": evaluate})
    cmds.append(
        {
            "what": "explain one image (Grad-CAM)",
            "cmd": f"stylecast explain {q(str(run.path))} IMAGE",
        }
    )
    cmds.append({"what": "this report", "cmd": f"stylecast report {q(str(run.path))}"})
    return cmds
