"""Evaluation stage: numbers only, on exactly the run's held-out split.

``evaluate(run)`` scores the test split recorded in the run's ``splits.csv`` (so a
model is never graded on images it trained on). Given other data, it scores every
image there. Temperature scaling is fitted on the validation split, kept only when it
holds out of sample (cross-validated there, see :mod:`stylecast.evaluation.temperature`;
else ``T = 1``) and stored in ``model.json``, so a predicted 0.8 means about 80%. Other
data is scored with the temperature stored by the run's own evaluation.

Written into the run: ``evaluation.json`` (every number, see
:func:`stylecast.evaluation.metrics.classification_metrics`, plus ``calibration`` before/after),
``predictions.csv`` (path, true, predicted, confidence, ``p_<class>`` per class,
correct, and the manifest's extra columns), ``confusion_matrix.png``,
``confusion_matrix_normalized.png``, ``reliability.png``, ``calibration.png`` and the
galleries of :mod:`stylecast.evaluation.galleries` (with Grad-CAM overlays).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from stylecast.config import EvaluateConfig
from stylecast.data import ImageCache, discover, prepare_images, run_columns
from stylecast.ensemble import MemberLogits, combine_logits, member_disagreement, member_probs
from stylecast.errors import DataError
from stylecast.evaluation.breakdown import accuracy_by
from stylecast.evaluation.calibration import softmax
from stylecast.evaluation.galleries import build_galleries
from stylecast.evaluation.members import ensemble_block, fit_member_temperatures
from stylecast.evaluation.metrics import classification_metrics
from stylecast.evaluation.summary import (
    NOT_FITTED,
    STORED,
    TOO_FEW,
    Headline,
    calibration_reason,
)
from stylecast.evaluation.temperature import (
    CALIBRATION_FOLDS,
    TemperatureChoice,
    choose_temperature,
)
from stylecast.export import onnx_engine
from stylecast.fileio import atomic_write_json, atomic_write_text
from stylecast.models import load_model
from stylecast.records import EvaluationRecord
from stylecast.run import ModelInfo, RunFolder
from stylecast.training import predict_logits, resolve_device

__all__ = ["EVALUATION_FIGURES", "EvaluationResult", "evaluate"]

ShiftCheck = Callable[..., Any]
"""``check_shift(run, pixels, *, confidence, correct, cache)`` -> a report with ``shifted``,
``summary()`` and ``to_json()`` (:func:`stylecast.inference.check_shift`)."""

# The figures evaluate draws into the run (``<name>.png``); the report embeds them.
EVALUATION_FIGURES = (
    "confusion_matrix",
    "confusion_matrix_normalized",
    "reliability",
    "calibration",
)


@dataclass(frozen=True)
class EvaluationResult:
    """One evaluation: its headline numbers, every number, and where they were written.

    ``record`` is ``evaluation.json`` typed (per class, confusion matrix, reliability
    bins, calibration, ...); ``headline`` the numbers people read first.
    """

    run_dir: Path
    headline: Headline
    record: EvaluationRecord
    predictions_csv: Path
    out_dir: Path  # the run itself, or ``RUN/evaluations/<data name>/`` for other data

    @property
    def metrics(self) -> dict[str, Any]:
        """The content of ``evaluation.json`` (``record.to_json()``), for code that reads it
        as a dict."""
        return self.record.to_json()

    @property
    def evaluation_json(self) -> Path:
        return self.out_dir / RunFolder.EVALUATION


@dataclass(frozen=True)
class _Rows:
    """What one evaluation scores: the rows, their split, validation rows, the image root."""

    table: pd.DataFrame
    split: str
    val: pd.DataFrame | None  # for calibration; None for other data
    image_root: Path  # the folder ``relpath`` is relative to


def _rows_for(run: RunFolder, data: str | os.PathLike[str] | None, classes: list[str]) -> _Rows:
    info = run.info()
    splits = run.splits()
    if data is None or Path(data).resolve() == info.data:
        root = info.image_root
        splits = splits.assign(relpath=splits["path"], path=[str(root / p) for p in splits["path"]])
        missing = [p for p in splits["path"] if not Path(p).is_file()]
        if missing:
            raise DataError(
                f"{len(missing)} images of the run's split are gone from {root}, "
                f"first: {missing[0]}"
            )
        name = "test" if (splits["split"] == "test").any() else "val"
        val = splits[splits["split"] == "val"] if name == "test" else None
        return _Rows(splits[splits["split"] == name].reset_index(drop=True), name, val, root)
    path_column, label_column = run_columns(run.config_file)
    ds = discover(data, min_classes=1, path_column=path_column, label_column=label_column)
    unknown = sorted(set(ds.table["label"]) - set(classes))
    if unknown:
        raise DataError(
            f"labels {unknown} in {data} are not classes of this model ({', '.join(classes)})"
        )
    return _Rows(ds.table, "external", None, ds.source)


def evaluate(
    run: str | os.PathLike[str],
    data: str | os.PathLike[str] | None = None,
    cfg: EvaluateConfig | None = None,
    *,
    progress: bool = True,
    cache: ImageCache | None = None,
    shift_check: ShiftCheck | None = None,
) -> EvaluationResult:
    """Score the run's model; write ``evaluation.json``, ``predictions.csv`` and figures.

    ``shift_check`` (:func:`stylecast.inference.check_shift`, which ``stylecast evaluate``
    passes) compares other ``data`` with the run's training images; the evaluation stage
    sits below inference and does not import it. Without one, other data is scored
    without the check."""
    cfg = cfg or EvaluateConfig()
    folder = RunFolder(run)
    model, info = load_model(folder.path)
    device = resolve_device(getattr(cfg, "device", "auto"))
    model.to(device)
    classes = list(info.classes)
    prep = info.preprocessing
    rows = _rows_for(folder, data, classes)
    split = rows.split
    # Other data is scored into its own folder: the run's test evaluation stays as it is.
    out = folder.external_evaluation(data) if split == "external" else folder
    cache = cache or ImageCache()
    onnx = None
    if cfg.backend != "torch":  # the run's ONNX export, when one matches its weights
        onnx = onnx_engine(folder.path, cfg.backend)

    def logits_for(table: pd.DataFrame) -> tuple[np.ndarray, pd.DataFrame]:
        """Logits ``(N, C)``, or an ensemble's members' raw logits ``(N, M, C)``."""
        prepared = prepare_images(
            table, prep.img_size, cache=cache, fill=prep.fill, progress=progress
        )
        if onnx is not None:
            pixels = np.ascontiguousarray(prepared.pixels)
            run_onnx = onnx.runtime.member_logits if info.is_ensemble else onnx.runtime.logits
            return run_onnx(pixels, batch_size=cfg.batch_size), prepared.table
        logits = predict_logits(
            MemberLogits(model) if info.is_ensemble else model,
            prepared.pixels,
            prep.mean,
            prep.std,
            batch_size=cfg.batch_size,
            device=device,
        )
        return logits, prepared.table

    scores, scored = logits_for(rows.table)
    if len(scored) == 0:
        raise DataError(f"no readable images to evaluate in the {split} split")
    y = np.array([classes.index(lbl) for lbl in scored["label"]], dtype=np.int64)

    fit = fit_member_temperatures(info, rows.val, cfg, logits_for) if info.is_ensemble else None
    if fit is not None:
        info = info.with_member_temperatures(fit.temperatures)
        logits = combine_logits(scores, fit.temperatures)
        val_logits = fit.val_logits
    else:
        logits, val_logits = scores, logits_for
    choice = _choose(folder, info, rows, cfg, val_logits)
    temperature = choice.temperature
    if temperature != info.temperature or fit is not None:
        info = info.with_temperature(temperature)
        if info != folder.model_info():
            folder.write_model_info(info)

    # "Before" is always the network's own probabilities (T = 1), "after" those used.
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
    cal = choice.to_json() | {
        # ``source`` repeats ``decision`` under the key earlier versions wrote.
        "source": choice.decision,
        "ece_before": raw["ece"],
        "ece_after": metrics["ece"],
        "log_loss_before": raw["log_loss"],
        "log_loss_after": metrics["log_loss"],
    }
    metrics["calibration"] = cal | {"reason": calibration_reason(cal, split)}
    metrics |= {
        "split": split,
        "backend": onnx.describe() if onnx is not None else f"torch ({device.type})",
        "temperature": temperature,
        "data": str(Path(data).resolve()) if data else None,
        # Galleries of other data find their images here; the run's own split is found
        # through run.json, so it follows the data when the run is pointed elsewhere.
        "image_root": str(rows.image_root.resolve()),
    }

    pred = proba.argmax(1)
    table = pd.DataFrame(
        {
            "path": scored["relpath"].to_numpy(),
            "true": scored["label"].to_numpy(),
            "predicted": [classes[i] for i in pred],
            "confidence": proba.max(1).round(6),
        }
    )
    for j, c in enumerate(classes):
        table[f"p_{c}"] = proba[:, j].round(6)
    table["correct"] = pred == y
    if fit is not None:
        member_p = member_probs(scores, fit.temperatures)
        metrics["ensemble"] = ensemble_block(info, fit, member_p, proba, y, cfg)
        share, spread = member_disagreement(scores, fit.temperatures, pred)
        table["disagreement"] = share.round(4)
        table["member_std"] = spread.round(6)
    extras = [c for c in scored.columns if c not in ("path", "relpath", "label", "split")]
    for c in extras:
        table[c] = scored[c].to_numpy()
    metrics["breakdown"] = accuracy_by(table)
    if split == "external" and getattr(cfg, "shift_check", True) and shift_check is not None:
        metrics["shift"] = _shift_check(
            shift_check, folder, rows.table, proba, pred == y, cache=cache, progress=progress
        )
        atomic_write_json(out.shift_file, metrics["shift"])
    record = EvaluationRecord.from_json(metrics, str(out.evaluation_file))
    atomic_write_json(out.evaluation_file, record.to_json())
    atomic_write_text(out.predictions_file, table.to_csv(index=False))
    _write_figures(out.path, record)
    if cfg.gallery_size > 0:
        build_galleries(
            out,
            size=cfg.gallery_size,
            gradcam=cfg.gradcam,
            model=model,
            info=info,
            caption_column=getattr(cfg, "caption_column", None),
        )
    headline = Headline.from_record(record)
    return EvaluationResult(folder.path, headline, record, out.predictions_file, out.path)


def _shift_check(
    check_shift: ShiftCheck,
    folder: RunFolder,
    table: pd.DataFrame,
    proba: np.ndarray,
    correct: np.ndarray,
    *,
    cache: ImageCache,
    progress: bool,
) -> dict[str, Any]:
    """Do the other data's images look like the run's training images? (Printed when not.)"""
    import sys

    # The same table as the scored one: its pixels come back from the cache, not decoded.
    prep = folder.model_info().preprocessing
    pixels = prepare_images(table, prep.img_size, cache=cache, fill=prep.fill, progress=False)
    report = check_shift(
        folder.path, pixels.pixels, confidence=proba.max(1), correct=correct, cache=cache
    )
    if report.shifted or progress:
        print(report.summary(), file=sys.stderr, flush=True)
    return report.to_json()


def _choose(
    folder: RunFolder,
    info: ModelInfo,
    rows: _Rows,
    cfg: EvaluateConfig,
    logits_for: Callable[[pd.DataFrame], tuple[np.ndarray, pd.DataFrame]],
) -> TemperatureChoice:
    """The temperature of this evaluation: chosen on the validation split (cross-validated)
    for the run's own test split, else the one stored in ``model.json``."""
    if not cfg.calibrate or rows.val is None:
        # Other data, --no-calibrate, or a run whose validation split is the one scored:
        # nothing is fitted here; the run's own evaluation chose the stored temperature.
        stored = info.temperature
        return TemperatureChoice(stored, STORED if stored != 1.0 else NOT_FITTED)
    if len(rows.val) < cfg.min_calibration_images:
        return TemperatureChoice(1.0, TOO_FEW, n_val=len(rows.val))
    val_logits, val_scored = logits_for(rows.val.reset_index(drop=True))
    classes = list(info.classes)
    y_val = np.array([classes.index(lbl) for lbl in val_scored["label"]], dtype=np.int64)
    return choose_temperature(
        val_logits,
        y_val,
        folds=getattr(cfg, "calibration_folds", CALIBRATION_FOLDS),
        seed=cfg.seed,
        min_images=cfg.min_calibration_images,
        n_bins=cfg.n_bins,
    )


def _write_figures(run: Path, ev: EvaluationRecord) -> None:
    from stylecast.plots import (
        plot_calibration,
        plot_confusion_matrix,
        plot_reliability,
        save_figure,
    )

    names, cm, cal = ev.class_names, ev.confusion_matrix, ev.calibration
    assert cal is not None and ev.uncalibrated is not None  # evaluate wrote both
    figures = {
        "confusion_matrix": plot_confusion_matrix(cm, names),
        "confusion_matrix_normalized": plot_confusion_matrix(
            cm, names, normalize=True, title="Share of true class"
        ),
        "reliability": plot_reliability(ev.reliability, ece=ev.ece),
        "calibration": plot_calibration(
            ev.uncalibrated.reliability,
            ev.reliability,
            ece_before=cal.ece_before,
            ece_after=cal.ece_after,
            temperature=cal.temperature,
        ),
    }
    for name in EVALUATION_FIGURES:
        save_figure(figures[name], run / f"{name}.png")
