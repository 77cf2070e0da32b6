"""Report stage: one self-contained HTML file per run (figures embedded, no external assets).

The report only reads what earlier stages wrote into the run folder, draws what is
missing with :mod:`stylecast.plots.core` (training curves, class distribution, sample
images, galleries when they are missing or older than ``predictions.csv``), and renders
``templates/report.html.j2``. Sections appear only when the run has their material:
``tuning`` for runs retrained by ``stylecast tune --retrain-best`` (``RUN/tuning/``),
``evaluation``, ``calibration`` and ``galleries`` once the run has been evaluated.
The Data section uses :func:`stylecast.data.report.render_data_section` when that
module exists, and a class-distribution figure, sample images and the split table
otherwise.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as _dt
import io
import math
import os
import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from stylecast.errors import RunError, StylecastError
from stylecast.fileio import atomic_write_text, read_json

__all__ = ["ReportResult", "build_report", "SECTION_TITLES"]

SECTION_TITLES = {
    "overview": "Overview",
    "data": "Data",
    "model": "Model",
    "training": "Training",
    "tuning": "Tuning",
    "evaluation": "Evaluation",
    "calibration": "Calibration",
    "galleries": "Galleries",
    "reproduce": "Reproduce",
}
_TRIALS_SHOWN = 20
_SAMPLES_PER_CLASS = 6


@dataclass(frozen=True)
class ReportResult:
    path: Path
    sections: list[str]


# --------------------------------------------------------------------------- embedding


def _img(path: Path, *, photo: bool = False) -> str | None:
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


def _read_text(path: Path) -> str:
    return path.read_text(encoding="utf-8") if path.is_file() else ""


def _read_json(path: Path) -> Any:
    try:
        return read_json(path) if path.is_file() else None
    except (OSError, ValueError):
        return None


# --------------------------------------------------------------------------- sections


def _overview(ev: dict[str, Any] | None, model_info: dict[str, Any]) -> list[str]:
    """The report's first paragraph, in words a merchandising team reads."""
    if not ev:
        return []
    names = ev["class_names"]
    out = []
    where = {"test": "held-out test", "val": "validation"}.get(ev["split"], ev["split"])
    ci = ev.get("accuracy_ci")
    ci_txt = f" (95% interval {ci[0]:.0%} to {ci[1]:.0%})" if ci else ""
    out.append(
        f"On {ev['n']:,} {where} images the model names the right class "
        f"{ev['accuracy']:.0%} of the time{ci_txt}; picking the largest class every time "
        f"would score {_majority_share(ev):.0%}."
    )
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
    cal = ev.get("calibration")
    if cal:
        gap = cal["ece_after"]
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
    return out


def _majority_share(ev: dict[str, Any]) -> float:
    support = [pc["support"] for pc in ev["per_class"].values()]
    return max(support) / max(sum(support), 1)


def _split_table(splits: pd.DataFrame) -> dict[str, Any]:
    order = [s for s in ("train", "val", "test") if s in set(splits["split"])]
    order += sorted(set(splits["split"]) - set(order))
    tab = pd.crosstab(splits["label"], splits["split"]).reindex(columns=order, fill_value=0)
    tab["total"] = tab.sum(axis=1)
    rows = [{"label": str(k), "values": [int(v) for v in r]} for k, r in tab.iterrows()]
    total = [int(v) for v in tab.sum(axis=0)]
    return {"columns": [*order, "total"], "rows": rows, "total": total}


def _samples_figure(run: Path, splits: pd.DataFrame, source: str | None, fill: int) -> Path | None:
    """A few training images per class (fallback when data_report is absent)."""
    if not source:
        return None
    from stylecast.data import letterbox, load_image
    from stylecast.plots import image_grid, save_figure

    root = Path(source)
    root = root.parent if root.is_file() else root
    pool = splits[splits["split"] == "train"] if (splits["split"] == "train").any() else splits
    images, titles = [], []
    for label, group in pool.groupby("label", sort=True):
        picked = group.sample(min(_SAMPLES_PER_CLASS, len(group)), random_state=0)
        for rel in picked["path"]:
            try:
                images.append(letterbox(load_image(root / rel), 128, fill))
            except StylecastError:
                continue
            titles.append(str(label))
    if not images:
        return None
    path = run / "samples.png"
    save_figure(image_grid(images, titles, ncols=_SAMPLES_PER_CLASS, cell=1.3), path)
    return path


def _data_section(run: Path, ctx: dict[str, Any], fill: int) -> dict[str, Any]:
    """The data_report fragment when that module exists, else figures and tables drawn here
    (also after an error of data_report, which is shown above them)."""
    from stylecast.plots import plot_class_distribution, save_figure

    data: dict[str, Any] = {"fragment": None, "error": None, "figures": {}}
    try:
        from stylecast.data import render_data_section
    except ImportError:
        render_data_section = None
    if render_data_section is not None:
        try:
            from markupsafe import Markup

            data["fragment"] = Markup(render_data_section(run))
        except StylecastError as exc:
            data["error"] = str(exc)
    splits = ctx["splits"]
    if splits is not None:
        data["extra_columns"] = [c for c in splits.columns if c not in ("path", "label", "split")]
    if data["fragment"] is not None:
        return data  # it covers distribution, split, samples, duplicates and skipped files
    if splits is not None and len(splits):
        data["split_table"] = _split_table(splits)
        counts = splits.groupby("label").size().to_dict()
        save_figure(plot_class_distribution(counts), run / "class_distribution.png")
        data["figures"]["class_distribution"] = _img(run / "class_distribution.png")
        source = (ctx.get("run_info") or {}).get("data")
        samples = _samples_figure(run, splits, source, fill)
        if samples is not None:
            data["figures"]["samples"] = _img(samples, photo=True)
    skipped = _read_json(run / "skipped.json")
    data["skipped"] = skipped if isinstance(skipped, list) else []
    data["check"] = _flatten(_read_json(run / "data_check.json"))
    return data


def _flatten(obj: Any, prefix: str = "", limit: int = 40) -> list[tuple[str, str]]:
    """Key/value rows of a JSON object of unknown shape (lists shown by their length)."""
    rows: list[tuple[str, str]] = []
    if not isinstance(obj, dict):
        return rows
    for k, v in obj.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            rows += _flatten(v, key + ".", limit)
        elif isinstance(v, list):
            scalar = all(not isinstance(x, dict | list) for x in v)
            shown = ", ".join(map(str, v[:8])) + (" …" if len(v) > 8 else "")
            rows.append((key, shown if scalar and v else f"{len(v)} entries"))
        elif isinstance(v, float):
            rows.append((key, f"{v:.4g}"))
        else:
            rows.append((key, str(v)))
        if len(rows) >= limit:
            break
    return rows[:limit]


def _training(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
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


def _param_count(summary: str) -> str | None:
    m = re.search(r"Total params:\s*([\d,]+)", summary)
    return m.group(1) if m else None


def _tuning(run: Path) -> dict[str, Any] | None:
    """Trials table (best first) and the study's figures, from ``RUN/tuning/``."""
    folder = run / "tuning"
    trials_csv = folder / "trials.csv"
    if not trials_csv.is_file():
        return None
    trials = pd.read_csv(trials_csv)
    info: dict[str, Any] = {}
    for j in sorted(folder.glob("*.json")):
        loaded = _read_json(j)
        if isinstance(loaded, dict):
            info |= loaded
    direction = str(info.get("direction", "maximize")).lower()
    if "minimize" in direction or str(info.get("metric", "")).endswith("loss"):
        direction = "minimize"
    else:
        direction = "maximize"
    value_col = next((c for c in ("value", "values_0") if c in trials), None)
    df = trials.copy()
    if value_col is not None:
        df["_v"] = pd.to_numeric(df[value_col], errors="coerce")
        df["_done"] = df["state"].astype(str).str.upper().eq("COMPLETE") if "state" in df else True
        df = df.sort_values(
            ["_done", "_v"], ascending=[False, direction == "minimize"], na_position="last"
        )
    keep = [c for c in ("number", value_col, "state", "duration") if c and c in df]
    keep += [c for c in df.columns if c.startswith("params_")]
    keep += [c for c in df.columns if c.startswith("user_attrs_") and "epoch" in c]
    shown = df[keep].head(_TRIALS_SHOWN)
    header = [_nice_col(c, value_col, info, df) for c in keep]
    rows = [
        [
            f"{v:.4f}"
            if c == value_col and isinstance(v, float) and not math.isnan(v)
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
            name: _img(folder / f"{name}.png")
            for name in ("optimization_history", "param_importances")
            if (folder / f"{name}.png").is_file()
        },
    }


def _nice_col(col: str, value_col: str | None, info: dict[str, Any], df: pd.DataFrame) -> str:
    if col == value_col:
        return str(info.get("metric") or "value")
    if col == "number":
        return "trial"
    if col == "duration" and pd.api.types.is_numeric_dtype(df[col]):
        return "duration (s)"
    for prefix in ("params_", "user_attrs_"):
        if col.startswith(prefix):
            return col[len(prefix) :]
    return col


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
    # Optuna writes durations as "0 days 00:01:23.456": keep h:m:s.
    m = re.fullmatch(r"(\d+) days (\d\d):(\d\d):(\d\d)(\.\d+)?", s)
    if m:
        d, h, mi, se = (int(x) for x in m.groups()[:4])
        h += 24 * d
        return f"{h}:{mi:02d}:{se:02d}" if h else f"{mi}:{se:02d}"
    return s


def _galleries(run: Path) -> list[dict[str, Any]]:
    index = _read_json(run / "galleries.json")
    if not isinstance(index, dict):
        return []
    out = []
    for g in index.get("galleries", []):
        src = _img(run / g["file"], photo=True)
        if src is None:
            continue
        out.append({**g, "src": src, "shown": len(g.get("items", []))})
    return out


def _when(value: Any) -> str:
    """ISO timestamps as people write them: 28 Nov 2026, 20:45."""
    try:
        return _dt.datetime.fromisoformat(str(value)).strftime("%d %b %Y, %H:%M").lstrip("0")
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


def _commands(run: Path, ctx: dict[str, Any]) -> list[dict[str, str]]:
    """The exact commands that reproduce this run, its numbers and its figures."""
    q = shlex.quote
    info = ctx.get("run_info") or {}
    source = info.get("data", "DATA")
    ev = ctx.get("evaluation_info") or {}
    cmds = []
    if info.get("command"):
        cmds.append(
            {"what": "the command that made this run", "cmd": _pretty_command(info["command"])}
        )
    what = "train again with the same data, split settings and configuration"
    if info.get("tuned"):
        what = (
            "train the best configuration again (on a fresh train/val/test split; the "
            "retrain above used the study's train + validation images)"
        )
    cmds.append(
        {
            "what": what,
            "cmd": f"stylecast train {q(str(source))} --config {q(str(run / 'config.yaml'))} "
            "--out NEW_RUN",
        }
    )
    evaluate = f"stylecast evaluate {q(str(run))}"
    if ev.get("split") == "external" and ev.get("data"):
        evaluate += f" {q(str(ev['data']))}"
    cmds.append({"what": "metrics, calibration, galleries and Grad-CAM", "cmd": evaluate})
    cmds.append(
        {"what": "explain one image (Grad-CAM)", "cmd": f"stylecast explain {q(str(run))} IMAGE"}
    )
    cmds.append({"what": "this report", "cmd": f"stylecast report {q(str(run))}"})
    return cmds


# --------------------------------------------------------------------------- entry point


def _load(run: Path) -> dict[str, Any]:
    ctx: dict[str, Any] = {"run_dir": run}
    for name in ("model.json", "evaluation.json", "run.json"):
        ctx[name.split(".")[0] + "_info"] = _read_json(run / name)
    ctx["config"] = _read_text(run / "config.yaml")
    ctx["summary"] = _read_text(run / "model_summary.txt")
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

    run = Path(run)
    if not run.is_dir():
        raise RunError(f"run folder {run} does not exist")
    if not (run / "model.json").is_file():
        raise RunError(
            f"{run} holds no trained model; train it first (stylecast train DATA --out {run})"
        )
    ctx = _load(run)
    model_info = ctx["model_info"]
    fill = int(model_info.get("preprocessing", {}).get("fill", 255))
    ev = ctx["evaluation_info"]
    if galleries and ev is not None:
        from stylecast.evaluation import build_galleries, galleries_are_stale

        if galleries_are_stale(run):
            # The model or the images may be gone: then embed the galleries that are there.
            with contextlib.suppress(StylecastError):
                build_galleries(run)

    figures: dict[str, str | None] = {}
    if ctx["history"]:
        save_figure(plot_training_curves(ctx["history"]), run / "training_curves.png")
    for name in (
        "training_curves",
        "confusion_matrix",
        "confusion_matrix_normalized",
        "reliability",
        "calibration",
    ):
        figures[name] = _img(run / f"{name}.png")

    data = _data_section(run, ctx, fill)
    tuning = _tuning(run)
    gallery_list = _galleries(run) if ev is not None else []
    sections = ["overview", "data", "model", "training"]
    if tuning is not None:
        sections.append("tuning")
    if ev is not None:
        sections += ["evaluation", "calibration"]
        if gallery_list:
            sections.append("galleries")
    sections.append("reproduce")

    env = Environment(
        loader=PackageLoader("stylecast.report", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    page = env.get_template("report.html.j2").render(
        **ctx,
        data=data,
        tuning=tuning,
        galleries=gallery_list,
        figures=figures,
        sections=sections,
        titles=SECTION_TITLES,
        overview=_overview(ev, model_info),
        phases=_training(ctx["history"]),
        params=_param_count(ctx["summary"]),
        # EfficientNet downsamples by 32: the Grad-CAM grid behind the galleries' heat maps.
        cam_grid=math.ceil(int(model_info.get("preprocessing", {}).get("img_size", 224)) / 32),
        generated=_when(_dt.datetime.now().isoformat(timespec="seconds")),
        created=_when((ctx.get("run_info") or {}).get("created", "")),
        commands=_commands(run, ctx),
    )
    path = Path(out) if out is not None else run / "report.html"
    atomic_write_text(path, page)
    return ReportResult(path, sections)
