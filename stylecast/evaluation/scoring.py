"""Evaluation stage: numbers only, on exactly the run's held-out split.

``evaluate(run)`` scores the test split recorded in the run's ``splits.csv`` (so a
model is never graded on images it trained on). Given other data, it scores every
image there. Temperature scaling is fitted on the validation split and stored in
``model.json``, so a predicted 0.8 means about 80%.

Written into the run: ``evaluation.json`` (every number, see
:func:`stylecast.evaluation.metrics.classification_metrics`, plus ``calibration`` before/after),
``predictions.csv`` (path, true, predicted, confidence, ``p_<class>`` per class,
correct, and the manifest's extra columns), ``confusion_matrix.png``,
``confusion_matrix_normalized.png``, ``reliability.png``, ``calibration.png`` and the
galleries of :mod:`stylecast.evaluation.galleries` (with Grad-CAM overlays).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from stylecast.config import EvaluateConfig
from stylecast.data import ImageCache, discover, prepare_images
from stylecast.errors import DataError, RunError
from stylecast.evaluation.metrics import (
    _TEMPERATURE_BOUNDS,
    classification_metrics,
    fit_temperature,
    softmax,
)
from stylecast.fileio import atomic_write_json, atomic_write_text, read_json
from stylecast.models import load_model
from stylecast.run import RunFolder
from stylecast.training import predict_logits

__all__ = ["EvaluationResult", "evaluate", "format_evaluation", "load_run_split"]


@dataclass(frozen=True)
class EvaluationResult:
    """Metrics of one evaluation and where they were written."""

    run_dir: Path
    split: str
    n: int
    metrics: dict[str, Any]
    temperature: float
    predictions_csv: Path


def load_run_split(run: Path) -> tuple[str, pd.DataFrame]:
    """The run's training data source and its ``splits.csv`` (paths relative to the source)."""
    if not (run / "run.json").is_file() or not (run / "splits.csv").is_file():
        raise RunError(f"{run} is not a stylecast run folder (no run.json/splits.csv)")
    info = read_json(run / "run.json")
    splits = pd.read_csv(run / "splits.csv", dtype=str, keep_default_na=False)
    return info["data"], splits


def _rows_for(
    run: Path, data: str | os.PathLike[str] | None, classes: list[str]
) -> tuple[pd.DataFrame, str, pd.DataFrame | None]:
    """(rows to score, split name, validation rows for calibration or None)."""
    source, splits = load_run_split(run)
    same = data is None or Path(data).resolve() == Path(source)
    if same:
        root = Path(source)
        root = root.parent if root.is_file() else root
        splits = splits.assign(relpath=splits["path"], path=[str(root / p) for p in splits["path"]])
        missing = [p for p in splits["path"] if not Path(p).is_file()]
        if missing:
            raise DataError(
                f"{len(missing)} images of the run's split are gone from {root}, "
                f"first: {missing[0]}"
            )
        name = "test" if (splits["split"] == "test").any() else "val"
        val = splits[splits["split"] == "val"] if name == "test" else None
        return splits[splits["split"] == name].reset_index(drop=True), name, val
    ds = discover(data)
    unknown = sorted(set(ds.table["label"]) - set(classes))
    if unknown:
        raise DataError(
            f"labels {unknown} in {data} are not classes of this model ({', '.join(classes)})"
        )
    return ds.table, "external", None


def evaluate(
    run: str | os.PathLike[str],
    data: str | os.PathLike[str] | None = None,
    cfg: EvaluateConfig | None = None,
    *,
    progress: bool = True,
    cache: ImageCache | None = None,
) -> EvaluationResult:
    """Score the run's model; write ``evaluation.json``, ``predictions.csv`` and figures."""
    cfg = cfg or EvaluateConfig()
    run = Path(run)
    model, info = load_model(run)
    classes = list(info.classes)
    prep = info.preprocessing
    rows, split, val_rows = _rows_for(run, data, classes)
    cache = cache or ImageCache()

    def logits_for(table: pd.DataFrame) -> tuple[np.ndarray, pd.DataFrame]:
        prepared = prepare_images(
            table, prep.img_size, cache=cache, fill=prep.fill, progress=progress
        )
        logits = predict_logits(
            model, prepared.pixels, prep.mean, prep.std, batch_size=cfg.batch_size
        )
        return logits, prepared.table

    logits, scored = logits_for(rows)
    if len(scored) == 0:
        raise DataError(f"no readable images to evaluate in the {split} split")
    y = np.array([classes.index(lbl) for lbl in scored["label"]], dtype=np.int64)

    temperature = info.temperature
    # Training writes T = 1 (nothing fitted); any other stored value is an earlier fit.
    source = "model.json" if temperature != 1.0 else "none"
    n_val = 0
    if cfg.calibrate and val_rows is not None and len(val_rows) >= cfg.min_calibration_images:
        val_logits, val_scored = logits_for(val_rows.reset_index(drop=True))
        y_val = np.array([classes.index(lbl) for lbl in val_scored["label"]], dtype=np.int64)
        fitted = fit_temperature(val_logits, y_val)
        n_val = len(y_val)
        if fitted <= _TEMPERATURE_BOUNDS[0] * 1.01 and (val_logits.argmax(1) == y_val).all():
            # A validation split with no error lets the NLL fall towards T -> 0: the fit
            # would claim certainty from a handful of images. Keep the raw probabilities.
            temperature, source = 1.0, "separable"
        else:
            temperature, source = fitted, "val"
        info = info.with_temperature(temperature)
        RunFolder(run).write_model_info(info)

    proba = softmax(logits, temperature)
    metrics = classification_metrics(
        y, proba, classes, n_bootstrap=cfg.n_bootstrap, seed=cfg.seed, n_bins=cfg.n_bins
    )
    raw = classification_metrics(y, softmax(logits), classes, n_bootstrap=0, n_bins=cfg.n_bins)
    metrics["uncalibrated"] = {
        "log_loss": raw["log_loss"],
        "ece": raw["ece"],
        "reliability": raw["reliability"],
    }
    metrics["calibration"] = {
        "temperature": temperature,
        # "val": fitted now on n_val validation images; "separable": the validation
        # split had no error, T kept at 1; "model.json": an earlier fit; "none": T = 1.
        "source": source,
        "n_val": n_val,
        "ece_before": raw["ece"],
        "ece_after": metrics["ece"],
        "log_loss_before": raw["log_loss"],
        "log_loss_after": metrics["log_loss"],
    }
    metrics |= {
        "split": split,
        "temperature": temperature,
        "data": str(data) if data else None,
        "image_root": str(_common_root(scored)),
    }
    atomic_write_json(run / "evaluation.json", metrics)

    pred = proba.argmax(1)
    out = pd.DataFrame(
        {
            "path": scored["relpath"].to_numpy(),
            "true": scored["label"].to_numpy(),
            "predicted": [classes[i] for i in pred],
            "confidence": proba.max(1).round(6),
        }
    )
    for j, c in enumerate(classes):
        out[f"p_{c}"] = proba[:, j].round(6)
    out["correct"] = pred == y
    extras = [c for c in scored.columns if c not in ("path", "relpath", "label", "split")]
    for c in extras:
        out[c] = scored[c].to_numpy()
    pred_csv = run / "predictions.csv"
    atomic_write_text(pred_csv, out.to_csv(index=False))
    _write_figures(run, metrics)
    if cfg.gallery_size > 0:
        from stylecast.evaluation.galleries import build_galleries

        build_galleries(run, size=cfg.gallery_size, gradcam=cfg.gradcam, model=model, info=info)
    return EvaluationResult(run, split, len(y), metrics, temperature, pred_csv)


def _common_root(scored: pd.DataFrame) -> Path:
    """The folder the ``relpath`` column is relative to (where galleries find images)."""
    if len(scored) == 0:
        return Path(".")
    full, rel = Path(scored["path"].iloc[0]), Path(scored["relpath"].iloc[0])
    return full.parents[len(rel.parts) - 1].resolve()


def _write_figures(run: Path, metrics: dict[str, Any]) -> None:
    from stylecast.plots import (
        plot_calibration,
        plot_confusion_matrix,
        plot_reliability,
        save_figure,
    )

    names = metrics["class_names"]
    save_figure(
        plot_confusion_matrix(metrics["confusion_matrix"], names), run / "confusion_matrix.png"
    )
    save_figure(
        plot_confusion_matrix(
            metrics["confusion_matrix"], names, normalize=True, title="Share of true class"
        ),
        run / "confusion_matrix_normalized.png",
    )
    save_figure(
        plot_reliability(metrics["reliability"], ece=metrics["ece"]), run / "reliability.png"
    )
    cal = metrics["calibration"]
    save_figure(
        plot_calibration(
            metrics["uncalibrated"]["reliability"],
            metrics["reliability"],
            ece_before=cal["ece_before"],
            ece_after=cal["ece_after"],
            temperature=cal["temperature"],
        ),
        run / "calibration.png",
    )


def _ci(values: list[float] | None) -> str:
    return f" (95% CI {values[0]:.3f}-{values[1]:.3f})" if values else ""


def format_evaluation(metrics: dict[str, Any]) -> str:
    """The console summary printed by ``stylecast evaluate``."""
    lines = [
        f"split: {metrics['split']}  images: {metrics['n']}",
        f"accuracy: {metrics['accuracy']:.3f}{_ci(metrics.get('accuracy_ci'))}",
        f"balanced accuracy: {metrics['balanced_accuracy']:.3f}"
        f"{_ci(metrics.get('balanced_accuracy_ci'))}",
    ]
    if metrics.get("top_k"):
        lines.append(
            "  ".join(
                f"{k.replace('_', '-')} accuracy: {v:.3f}" for k, v in metrics["top_k"].items()
            )
        )
    cal = metrics.get("calibration")
    if cal:
        how = {
            "val": f"fitted on {cal['n_val']} validation images",
            "separable": f"kept: all {cal['n_val']} validation images right, nothing to fit",
            "model.json": "from model.json",
            "none": "not fitted",
        }.get(cal["source"], cal["source"])
        lines += [
            f"calibration: temperature {cal['temperature']:.2f} ({how})",
            f"  log loss {cal['log_loss_before']:.3f} -> {cal['log_loss_after']:.3f}   "
            f"ECE {cal['ece_before']:.3f} -> {cal['ece_after']:.3f}   (before -> after)",
        ]
    else:
        lines.append(
            f"log loss: {metrics['log_loss']:.3f}  ECE: {metrics['ece']:.3f} "
            f"(temperature {metrics.get('temperature', 1.0):.2f})"
        )
    names = metrics["class_names"]
    width = max(max(len(n) for n in names), len("weighted avg")) + 2
    lines += ["", "confusion matrix (rows = true, columns = predicted):"]
    lines.append(" " * width + "".join(f"{n:>{width}}" for n in names))
    for n, row in zip(names, metrics["confusion_matrix"], strict=True):
        lines.append(f"{n:<{width}}" + "".join(f"{v:>{width}}" for v in row))
    lines.append("")
    lines.append(f"{'class':<{width}}precision  recall     f1  support")
    for n in names:
        pc = metrics["per_class"][n]
        lines.append(
            f"{n:<{width}}{pc['precision']:>9.3f}{pc['recall']:>8.3f}{pc['f1']:>7.3f}"
            f"{pc['support']:>9d}"
        )
    for key, label in (("macro_avg", "macro avg"), ("weighted_avg", "weighted avg")):
        avg = metrics.get(key)
        if avg:
            lines.append(
                f"{label:<{width}}{avg['precision']:>9.3f}{avg['recall']:>8.3f}"
                f"{avg['f1']:>7.3f}{metrics['n']:>9d}"
            )
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover
    print(format_evaluation(evaluate(sys.argv[1]).metrics))
