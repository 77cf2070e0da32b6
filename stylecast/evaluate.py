"""Evaluation stage: numbers only, on exactly the run's held-out split.

``evaluate(run)`` scores the test split recorded in the run's ``splits.csv`` (so a
model is never graded on images it trained on). Given other data, it scores every
image there. Temperature scaling is fitted on the validation split and stored in
``model.json``, so a predicted 0.8 means about 80%.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from stylecast._io import atomic_write_json, atomic_write_text, read_json
from stylecast._tensors import predict_logits
from stylecast.config import EvaluateConfig
from stylecast.data import ImageCache, discover, prepare_images
from stylecast.errors import DataError, RunError
from stylecast.metrics import classification_metrics, fit_temperature, softmax
from stylecast.models import load_model

__all__ = ["EvaluationResult", "evaluate", "load_run_split"]


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
    model, meta = load_model(run)
    classes = list(meta["classes"])
    prep = meta["preprocessing"]
    rows, split, val_rows = _rows_for(run, data, classes)
    cache = cache or ImageCache()

    def logits_for(table: pd.DataFrame) -> tuple[np.ndarray, pd.DataFrame]:
        prepared = prepare_images(
            table, prep["img_size"], cache=cache, fill=prep.get("fill", 255), progress=progress
        )
        logits = predict_logits(
            model, prepared.pixels, prep["mean"], prep["std"], batch_size=cfg.batch_size
        )
        return logits, prepared.table

    logits, scored = logits_for(rows)
    if len(scored) == 0:
        raise DataError(f"no readable images to evaluate in the {split} split")
    y = np.array([classes.index(lbl) for lbl in scored["label"]], dtype=np.int64)

    temperature = float(meta.get("temperature", 1.0))
    if cfg.calibrate and val_rows is not None and len(val_rows) >= 10:
        val_logits, val_scored = logits_for(val_rows.reset_index(drop=True))
        y_val = np.array([classes.index(lbl) for lbl in val_scored["label"]], dtype=np.int64)
        temperature = fit_temperature(val_logits, y_val)
        meta["temperature"] = temperature
        atomic_write_json(run / "model.json", meta)

    proba = softmax(logits, temperature)
    metrics = classification_metrics(
        y, proba, classes, n_bootstrap=cfg.n_bootstrap, seed=cfg.seed, n_bins=cfg.n_bins
    )
    raw = classification_metrics(y, softmax(logits), classes, n_bootstrap=0, n_bins=cfg.n_bins)
    metrics["uncalibrated"] = {"log_loss": raw["log_loss"], "ece": raw["ece"]}
    metrics |= {"split": split, "temperature": temperature, "data": str(data) if data else None}
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
    return EvaluationResult(run, split, len(y), metrics, temperature, pred_csv)


def _write_figures(run: Path, metrics: dict[str, Any]) -> None:
    from stylecast.plots import plot_confusion_matrix, plot_reliability, save_figure

    names = metrics["class_names"]
    save_figure(
        plot_confusion_matrix(metrics["confusion_matrix"], names), run / "confusion_matrix.png"
    )
    save_figure(
        plot_confusion_matrix(metrics["confusion_matrix_normalized"], names, normalize=True),
        run / "confusion_matrix_normalized.png",
    )
    save_figure(
        plot_reliability(metrics["reliability"], ece=metrics["ece"]), run / "reliability.png"
    )


def format_evaluation(metrics: dict[str, Any]) -> str:
    """The console summary printed by ``stylecast evaluate``."""
    lo, hi = metrics.get("accuracy_ci") or (float("nan"), float("nan"))
    lines = [
        f"split: {metrics['split']}  images: {metrics['n']}",
        f"accuracy: {metrics['accuracy']:.3f} (95% CI {lo:.3f}-{hi:.3f})  "
        f"balanced accuracy: {metrics['balanced_accuracy']:.3f}",
        f"log loss: {metrics['log_loss']:.3f}  ECE: {metrics['ece']:.3f} "
        f"(temperature {metrics['temperature']:.2f})",
        "",
        "confusion matrix (rows = true, columns = predicted):",
    ]
    names = metrics["class_names"]
    width = max(len(n) for n in names) + 2
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
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover
    print(format_evaluation(evaluate(sys.argv[1]).metrics))
