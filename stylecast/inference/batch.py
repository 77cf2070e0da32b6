"""Batch prediction at scale: a whole folder or manifest, streamed, fast, with a shift check.

:func:`predict_batch` decodes every image once into the decode cache (in parallel
processes; images the run's training or an earlier call already decoded at this size
are copied from the cache, verified, not decoded again), then streams the memory-mapped
pixels through the model a batch at a time, so memory stays bounded however many images
there are. The model runs as fast as the machine allows (:mod:`stylecast.inference.engine`:
bf16 autocast where the CPU has it, channels_last, TorchScript-frozen). Probabilities
are calibrated with the run's temperature. The output carries every manifest column:
``path``, the manifest's columns, ``predicted``, ``confidence``, ``p_<class>`` (for an
ensemble also ``disagreement``, the share of members whose top class is another, and
``member_std``, the spread of the members' probability of the predicted class; with
``palette``, the main garment colour and the palette of each image).
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from stylecast.errors import ConfigError, DataError, MissingDependencyError
from stylecast.inference.options import PredictOptions
from stylecast.inference.shift import ShiftReport
from stylecast.inference.sources import PredictionInput, read_prediction_input

__all__ = [
    "BatchPrediction",
    "PredictOptions",
    "check_output_path",
    "predict_batch",
    "shift_file_for",
    "write_predictions",
]

OUTPUT_SUFFIXES = (".csv", ".parquet")


@dataclass(frozen=True)
class BatchPrediction:
    """The predictions of one call, what was skipped, how fast, and the shift check."""

    table: pd.DataFrame  # path, manifest columns, predicted, confidence, p_<class>
    skipped: list[dict[str, str]]  # {"path", "kind", "reason"} per file left out
    classes: list[str]
    calibrated: bool  # the run was evaluated, so its temperature is fitted
    engine: str  # e.g. "bf16, channels_last, TorchScript-frozen"
    seconds: dict[str, float]  # decode, predict, palette, shift, total
    shift: ShiftReport | None = None

    @property
    def images_per_s(self) -> float:
        """Images per second of the whole call (decoding included)."""
        return len(self.table) / max(self.seconds["total"], 1e-9)

    @property
    def predict_images_per_s(self) -> float:
        """Images per second of the model alone."""
        return len(self.table) / max(self.seconds["predict"], 1e-9)


def check_output_path(out: str | os.PathLike[str]) -> Path:
    """``--out`` as a writable .csv/.parquet file (checked before any work), else one line."""
    from stylecast.fileio import writable_file

    target = writable_file(out)
    if target.suffix.lower() not in OUTPUT_SUFFIXES:
        raise ConfigError(f"--out {target}: give a .csv or .parquet file name")
    if target.suffix.lower() == ".parquet":
        import importlib.util

        if importlib.util.find_spec("pyarrow") is None:
            raise MissingDependencyError(
                "writing Parquet needs pyarrow: pip install 'stylecast[parquet]', or use --out "
                "FILE.csv"
            )
    return target


def shift_file_for(out: str | os.PathLike[str]) -> Path:
    """Where the shift check of ``out`` goes: ``preds.csv`` -> ``preds.shift.json``."""
    p = Path(out)
    return p.with_name(p.stem + ".shift.json")


def _decode(inp: PredictionInput, prep: Any, opts: PredictOptions, cache: Any) -> Any:
    from stylecast.data import ImageCache, prepare_images

    try:
        return prepare_images(
            inp.table,
            prep.img_size,
            cache=cache or ImageCache(),
            fill=prep.fill,
            workers=opts.workers,
            progress=opts.progress,
        )
    except DataError as exc:
        msg = str(exc)
        if msg.startswith("none of the") and inp.skipped:
            n = len(inp.table) + len(inp.skipped)
            msg = msg.replace(f"none of the {len(inp.table)} ", f"none of the {n} ", 1)
        raise DataError(msg.replace("images could be read;", "image(s) could be read;")) from None


def _bar(n: int, enabled: bool) -> Any:
    if not enabled:
        return None
    import sys

    from tqdm.auto import tqdm

    return tqdm(total=n, desc="predict", unit="img", leave=False, file=sys.stderr)


def _logits(
    model: Any, pixels: np.ndarray, prep: Any, opts: PredictOptions, run: Any
) -> tuple[Any, str]:
    """Logits ``(N, C)`` of ``model``, or its members' ``(N, M, C)`` for an ensemble."""
    from stylecast.ensemble import Ensemble, MemberLogits
    from stylecast.inference.engine import (
        make_engine,
        onnx_engine,
        stream_logits,
        stream_onnx_logits,
    )
    from stylecast.training import resolve_device, to_input

    onnx = onnx_engine(run, opts.backend)
    device = resolve_device(opts.device)
    members = isinstance(model, Ensemble)
    bar = _bar(len(pixels), opts.progress)
    update = bar.update if bar is not None else None
    try:
        if onnx is not None:
            stream = stream_onnx_logits(
                onnx, pixels, batch_size=opts.batch_size, progress=update, members=members
            )
            described = onnx.describe()
        else:
            model = MemberLogits(model) if members else model
            first = np.asarray(pixels[: opts.batch_size])
            example = to_input(first, prep.mean, prep.std, device)
            trace = len(pixels) >= opts.trace_min_images
            engine = make_engine(
                model, example, precision=opts.precision, device=device, trace=trace
            )
            stream = stream_logits(
                engine, pixels, prep, batch_size=opts.batch_size, progress=update
            )
            described = engine.describe()
        parts = list(stream)
    finally:
        if bar is not None:
            bar.close()
    return np.concatenate(parts), described


def _labels_correct(
    table: pd.DataFrame, predicted: list[str], classes: list[str]
) -> np.ndarray | None:
    """Whether each prediction is right, for a manifest whose labels are the model's classes."""
    if "label" not in table.columns:
        return None
    labels = table["label"].astype(str)
    if not labels.isin(classes).all():
        return None
    return (labels.to_numpy() == np.array(predicted, dtype=object)).astype(bool)


def _check_palette_columns(inp: PredictionInput) -> None:
    from stylecast.inference.palette_columns import PALETTE_COLUMNS

    clash = [c for c in inp.columns if c in PALETTE_COLUMNS]
    if clash:
        raise DataError(
            f"the manifest already has column(s) {', '.join(clash)}, which --palette writes; "
            "rename them or leave out --palette"
        )


def _table(
    scored: pd.DataFrame, columns: list[str], proba: np.ndarray, classes: list[str]
) -> pd.DataFrame:
    """path, the manifest's columns, predicted, confidence, p_<class>."""
    out = pd.DataFrame({"path": scored["relpath"].astype(str).to_numpy()})
    for c in columns:
        out[c] = scored[c].to_numpy()
    out["predicted"] = [classes[i] for i in proba.argmax(1)]
    out["confidence"] = proba.max(1).round(6)
    for j, c in enumerate(classes):
        out[f"p_{c}"] = proba[:, j].round(6)
    return out


def _combine(scores: np.ndarray, info: Any) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """An ensemble's logits from its members' and the members' disagreement columns (none
    for one model)."""
    if not info.is_ensemble:
        return scores, {}
    from stylecast.ensemble import combine_logits, member_disagreement

    temps = [m.temperature for m in info.members]
    logits = combine_logits(scores, temps)
    share, spread = member_disagreement(scores, temps, logits.argmax(1))
    return logits, {"disagreement": share.round(4), "member_std": spread.round(6)}


def predict_batch(
    run: str | os.PathLike[str],
    images: Sequence[str | os.PathLike[str]],
    options: PredictOptions | None = None,
    *,
    cache: Any = None,
) -> BatchPrediction:
    """Predict every image of ``images`` (files, folders, or one manifest) with ``run``'s model.

    Unreadable files are skipped and listed; DataError when none can be read.
    """
    from stylecast.data import run_columns
    from stylecast.evaluation import softmax
    from stylecast.models import load_model
    from stylecast.run import RunFolder

    opts = options or PredictOptions()
    t0 = time.perf_counter()
    folder = RunFolder(run)
    folder.require_finished()  # still training, or stopped with a checkpoint: say so
    model, info = load_model(folder.path)
    classes, prep = list(info.classes), info.preprocessing
    inp = read_prediction_input(images, run_columns(folder.config_file)[0])
    if opts.palette:
        _check_palette_columns(inp)
    taken = [c for c in ("disagreement", "member_std") if c in inp.columns]
    if info.is_ensemble and taken:
        raise DataError(
            f"the manifest already has column(s) {', '.join(taken)}, which an ensemble's "
            "predictions write; rename them"
        )
    prepared = _decode(inp, prep, opts, cache)
    t1 = time.perf_counter()
    scores, engine = _logits(model, prepared.pixels, prep, opts, folder.path)
    logits, uncertainty = _combine(scores, info)
    proba = softmax(logits, info.temperature)
    t2 = time.perf_counter()
    scored = prepared.table
    out = _table(scored, inp.columns, proba, classes)
    for name, values in uncertainty.items():
        out[name] = values
    if opts.palette:
        from stylecast.inference.palette_columns import palette_columns

        colours = palette_columns(
            scored["path"].tolist(), workers=opts.workers, progress=opts.progress
        )
        out = pd.concat([out, colours], axis=1)
    t3 = time.perf_counter()
    shift = None
    if opts.shift_check:
        from stylecast.inference.shift import check_shift

        shift = check_shift(
            folder.path,
            prepared.pixels,
            confidence=proba.max(1),
            correct=_labels_correct(scored, out["predicted"].tolist(), classes),
            options=opts.shift,
            cache=cache,
            progress=opts.progress,
        )
    t4 = time.perf_counter()
    seconds = {
        "decode": round(t1 - t0, 3),
        "predict": round(t2 - t1, 3),
        "palette": round(t3 - t2, 3),
        "shift": round(t4 - t3, 3),
        "total": round(t4 - t0, 3),
    }
    skipped = [*inp.skipped, *prepared.skipped]
    calibrated = folder.evaluation_file.is_file()
    return BatchPrediction(out, skipped, classes, calibrated, engine, seconds, shift)


def write_predictions(result: BatchPrediction, out: str | os.PathLike[str]) -> list[Path]:
    """Write the table (CSV or Parquet, atomically) and its shift check beside it."""
    from stylecast.fileio import atomic_write_json, atomic_write_text, atomic_write_with

    target = check_output_path(out)
    if target.suffix.lower() == ".parquet":
        atomic_write_with(target, lambda tmp: result.table.to_parquet(tmp, index=False))
    else:
        atomic_write_text(target, result.table.to_csv(index=False))
    written = [target]
    if result.shift is not None:
        side = shift_file_for(target)
        atomic_write_json(
            side,
            result.shift.to_json()
            | {
                "predictions": target.name,
                "n_images": len(result.table),
                "n_skipped": len(result.skipped),
                "engine": result.engine,
                "seconds": result.seconds,
            },
        )
        written.append(side)
    return written
