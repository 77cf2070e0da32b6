"""``stylecast export RUN``: the run's network as ONNX (and int8), checked against PyTorch.

Steps: rebuild the network in timm's exportable layers, export it behind the run's
normalisation (:mod:`stylecast.export.graph`), score the run's test split with PyTorch and
with ONNX Runtime (the parity check: max |logit difference| and top-1 agreement), and with
``int8`` quantise it on training images and keep the int8 model only when it loses at most
``max_int8_loss`` points of test accuracy (else it is kept aside under the rejected name).

Every file is written atomically, and ``export.json`` last: a crash leaves a previous
export or a stale one (ignored by :func:`~stylecast.export.find_export`), never a model
that a later stage trusts by mistake.
"""

from __future__ import annotations

import contextlib
import os
import sys
from dataclasses import dataclass
from typing import Any

import numpy as np

from stylecast.data import file_digest, letterbox, load_image
from stylecast.errors import DataError, RunError
from stylecast.export.config import ExportConfig
from stylecast.export.quantize import _require_quantization, quantize_int8
from stylecast.export.results import ExportResult, Int8Check, Parity
from stylecast.export.runtime import EXPORT_FORMAT, OnnxLogits, model_digest, require_onnxruntime
from stylecast.export.summary import export_record, file_entry
from stylecast.fileio import atomic_path, atomic_write_json
from stylecast.run import ModelInfo, RunFolder

__all__ = ["ExportConfig", "ExportResult", "Int8Check", "Parity", "export_run"]


@dataclass(frozen=True)
class _Images:
    pixels: np.ndarray
    labels: np.ndarray
    split: str
    skipped: int


def _load_split(
    folder: RunFolder,
    splits: Any,
    names: tuple[str, ...],
    *,
    info: ModelInfo,
    limit: int | None = None,
    seed: int = 0,
) -> _Images:
    """Letterboxed pixels of the first split of ``names`` that has rows (a sample of ``limit``)."""
    classes, prep = list(info.classes), info.preprocessing
    name = next((n for n in names if (splits["split"] == n).any()), None)
    if name is None:
        raise DataError(f"{folder.splits_file} has no {' or '.join(names)} rows")
    rows = splits[splits["split"] == name]
    if limit is not None and len(rows) > limit:
        rows = rows.sample(n=limit, random_state=seed)
    root = folder.image_root()
    arrays, labels, skipped = [], [], 0
    for rel, label in zip(rows["path"], rows["label"]):
        try:
            arrays.append(letterbox(load_image(root / rel), prep.img_size, prep.fill))
        except DataError:
            skipped += 1
            continue
        labels.append(classes.index(label) if label in classes else -1)
    if not arrays:
        raise DataError(
            f"none of the {len(rows)} {name} images of {folder.path} could be read under "
            f"{root}; the parity check needs them (has the data moved?)"
        )
    return _Images(np.stack(arrays), np.asarray(labels), name, skipped)


def _accuracy(logits: np.ndarray, labels: np.ndarray) -> float:
    return float((logits.argmax(1) == labels).mean()) if len(labels) else float("nan")


def _compare(reference: np.ndarray, other: np.ndarray) -> tuple[float, float]:
    diff = float(np.abs(reference - other).max()) if len(reference) else 0.0
    agree = float((reference.argmax(1) == other.argmax(1)).mean()) if len(reference) else 1.0
    return diff, agree


def _owned_names(folder: RunFolder, previous: dict[str, Any] | None) -> None:
    """Refuse to replace model files that no earlier ``stylecast export`` wrote."""
    if previous is not None:
        return
    for name in (folder.ONNX, folder.ONNX_INT8, folder.ONNX_INT8_REJECTED):
        if (folder.path / name).exists():
            raise RunError(
                f"{folder.path / name} exists but {folder.EXPORT} does not: it was not written "
                "by `stylecast export`; move it away and export again"
            )


def _kept_int8(folder: RunFolder, previous: dict[str, Any] | None, digest: str) -> Any:
    """The previous int8 entry when it still belongs to these weights; else its files go."""
    entry = (previous or {}).get("int8")
    if not isinstance(entry, dict):
        return None
    path = folder.path / str(entry.get("file", ""))
    if (previous or {}).get("weights_digest") == digest and path.is_file():
        with contextlib.suppress(OSError, KeyError):
            if file_entry(path)["digest"] == entry.get("digest"):
                return entry
    for name in (folder.ONNX_INT8, folder.ONNX_INT8_REJECTED):
        (folder.path / name).unlink(missing_ok=True)
    return None


def export_run(
    run: str | os.PathLike[str],
    cfg: ExportConfig | None = None,
    *,
    progress: bool = True,
) -> ExportResult:
    """Export ``run``'s model to ``RUN/model.onnx`` (and int8), check it, write export.json."""
    cfg = cfg or ExportConfig()
    require_onnxruntime()
    if cfg.int8:
        _require_quantization()
    from stylecast.export.graph import export_onnx, exportable_copy, exportable_ensemble
    from stylecast.models import load_model

    say = (lambda m: print(m, file=sys.stderr, flush=True)) if progress else (lambda m: None)
    folder = RunFolder(run)
    folder.require_dir()
    model, info = load_model(folder.path)
    prep = info.preprocessing
    splits = folder.splits()
    test = _load_split(folder, splits, ("test", "val"), info=info)
    with folder.lock():
        previous = folder.read_json_if_present(folder.EXPORT)
        previous = previous if isinstance(previous, dict) else None
        _owned_names(folder, previous)
        digest = model_digest(folder)
        if previous is None:
            # Claims the file names for this command; until the full record replaces it, the
            # export it describes has no digest, so it is ignored as stale.
            atomic_write_json(
                folder.export_file,
                {"format": EXPORT_FORMAT, "in_progress": True, "weights_digest": digest},
            )
        what = f"an {info.describe()}" if info.is_ensemble else info.timm_name
        say(f"exporting {what} at {prep.img_size} px to ONNX (opset {cfg.opset})")
        if info.is_ensemble:
            net = exportable_ensemble(model)
        else:
            net = exportable_copy(model, info.timm_name, len(info.classes))
        reference = _torch_scores(model, info, test.pixels, cfg.batch_size)
        with atomic_path(folder.onnx_file) as tmp:
            exporter = export_onnx(net, prep, tmp, opset=cfg.opset, exporter=cfg.exporter)
            say(f"checking parity on {len(test.pixels)} {test.split} images")
            onnx_logits = _onnx_scores(OnnxLogits(tmp, info), test.pixels, cfg.batch_size)
        # An ensemble's parity is checked member by member (its raw member logits), its
        # accuracy on the members combined at their temperatures.
        diff, _ = _compare(
            reference.reshape(len(reference), -1), onnx_logits.reshape(len(onnx_logits), -1)
        )
        reference, onnx_logits = _combined(reference, info), _combined(onnx_logits, info)
        _, agree = _compare(reference, onnx_logits)
        parity = Parity(
            test.split,
            len(test.pixels),
            diff,
            agree,
            _accuracy(reference, test.labels),
            _accuracy(onnx_logits, test.labels),
            test.skipped,
        )
        int8 = None
        int8_entry = None
        if cfg.int8:
            int8 = _int8(folder, cfg, splits, (reference, test), say)
            int8_entry = _int8_json(int8)
        else:
            int8_entry = _kept_int8(folder, previous, digest)
        record = export_record(folder, info, (exporter, cfg.opset), parity)
        record["weights_digest"] = digest
        record["int8"] = int8_entry
        atomic_write_json(folder.export_file, record)
    return ExportResult(
        folder.path,
        folder.onnx_file,
        exporter,
        cfg.opset,
        parity,
        int8,
        folder.export_file,
        len(info.members),
    )


def _torch_scores(model: Any, info: ModelInfo, pixels: np.ndarray, batch_size: int) -> Any:
    """Logits, or an ensemble's members' raw logits ``(N, M, C)``, from PyTorch."""
    from stylecast.training import predict_logits

    prep = info.preprocessing
    if info.is_ensemble:
        from stylecast.ensemble import MemberLogits

        model = MemberLogits(model)
    return predict_logits(model, pixels, prep.mean, prep.std, batch_size=batch_size)


def _onnx_scores(runtime: OnnxLogits, pixels: np.ndarray, batch_size: int) -> np.ndarray:
    if runtime.info.is_ensemble:
        return runtime.member_logits(pixels, batch_size)
    return runtime.logits(pixels, batch_size)


def _combined(scores: np.ndarray, info: ModelInfo) -> np.ndarray:
    if not info.is_ensemble:
        return scores
    from stylecast.ensemble import combine_logits

    return combine_logits(scores, [m.temperature for m in info.members])


def _int8(folder: RunFolder, cfg: ExportConfig, splits: Any, ctx: tuple, say: Any) -> Int8Check:
    reference, test = ctx
    info = folder.model_info()
    calib = _load_split(
        folder, splits, ("train", "val"), info=info, limit=cfg.calibration_images, seed=cfg.seed
    )
    say(f"quantising to int8, calibrated on {len(calib.pixels)} {calib.split} images")
    with atomic_path(folder.path / folder.ONNX_INT8_REJECTED) as tmp:
        settings = quantize_int8(folder.onnx_file, tmp, calib.pixels)
        logits = OnnxLogits(tmp, info).logits(test.pixels, cfg.batch_size)
    diff, agree = _compare(reference, logits)
    acc_fp32, acc_int8 = _accuracy(reference, test.labels), _accuracy(logits, test.labels)
    accepted = 100.0 * (acc_int8 - acc_fp32) >= -cfg.max_int8_loss - 1e-9
    rejected = folder.path / folder.ONNX_INT8_REJECTED
    kept = folder.onnx_int8_file
    if accepted:
        os.replace(rejected, kept)
    else:
        kept.unlink(missing_ok=True)  # an int8 model of earlier weights must not stay in use
    return Int8Check(
        kept if accepted else rejected,
        accepted,
        len(calib.pixels),
        acc_fp32,
        acc_int8,
        agree,
        diff,
        cfg.max_int8_loss,
        settings.to_json(),
    )


def _int8_json(check: Int8Check) -> dict[str, Any]:
    return {
        "file": check.path.name,
        "accepted": check.accepted,
        "digest": file_digest(check.path),
        "bytes": check.path.stat().st_size,
        "calibration_images": check.calibration_images,
        "accuracy_fp32": check.accuracy_fp32,
        "accuracy_int8": check.accuracy_int8,
        "change_points": round(check.change_points, 3),
        "max_loss_points": check.max_loss,
        "top1_agreement": check.top1_agreement,
        "max_abs_diff": check.max_abs_diff,
        "quantisation": check.quantisation,
    }
