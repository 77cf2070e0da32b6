"""ONNX Runtime inference over a run's exported model, and whether that model can be trusted.

The exported graph takes what the torch path feeds its normalisation: letterboxed uint8
pixels, NHWC, ``(N, S, S, 3)`` at the run's image size, and returns the raw logits
``(N, C)`` (before the temperature of ``model.json``). Normalisation is inside the graph,
so a caller only letterboxes.

An export is *usable* when ``export.json`` says it was made from the very
``model.safetensors`` the run holds now (a digest of the file), and the ONNX file is the one
it describes (its digest too). Anything else -- a retrained run, a half-finished export, an
edited file -- is stale: ignored with one line on stderr, and the caller falls back to torch.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from stylecast.data import file_digest
from stylecast.errors import MissingDependencyError, RunError
from stylecast.run import ModelInfo, RunFolder

__all__ = [
    "MEMBERS_NAME",
    "ExportStatus",
    "OnnxLogits",
    "export_status",
    "find_export",
    "load_onnx",
    "model_digest",
    "require_onnxruntime",
    "session_options",
    "usable_cores",
]

# Bumped when the meaning of export.json or the graph's input/output changes.
EXPORT_FORMAT = 1
INPUT_NAME = "pixels"
OUTPUT_NAME = "logits"
# An ensemble's graph also returns its members' raw logits, (N, M, C).
MEMBERS_NAME = "member_logits"
_EXTRA = "pip install 'stylecast[onnx]'"


def require_onnxruntime() -> Any:
    """The ``onnxruntime`` module, or MissingDependencyError naming the extra."""
    try:
        import onnxruntime
    except ImportError:
        raise MissingDependencyError(
            f"ONNX Runtime is not installed; it comes with the onnx extra: {_EXTRA}"
        ) from None
    return onnxruntime


def usable_cores() -> int:
    """CPU cores this process may run on (the affinity mask, not the machine's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - macOS and Windows have no affinity call
        return max(1, os.cpu_count() or 1)


def session_options(threads: int | None = None) -> Any:
    """Session options for this machine: one intra-op thread per usable core, every graph
    optimisation (constant folding, Conv+Clip fusion, NCHWc layouts), sequential execution
    (a CNN is a chain; parallel branches only add thread hand-offs)."""
    ort = require_onnxruntime()
    so = ort.SessionOptions()
    so.intra_op_num_threads = int(threads or usable_cores())
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.log_severity_level = 3  # errors only: ORT's warnings are about its own internals
    return so


class OnnxLogits:
    """An ONNX model of a run: letterboxed uint8 NHWC pixels -> float32 logits ``(N, C)``.

    The same contract as :func:`stylecast.training.predict_logits` with the run's
    preprocessing, so a caller swaps one for the other; apply ``info.temperature`` and a
    softmax for calibrated probabilities.
    """

    def __init__(
        self, path: str | os.PathLike[str], info: ModelInfo, *, threads: int | None = None
    ) -> None:
        ort = require_onnxruntime()
        self.path = Path(path)
        self.info = info
        self.classes_ = list(info.classes)
        self.img_size = info.preprocessing.img_size
        try:
            self.session = ort.InferenceSession(
                str(self.path), session_options(threads), providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # noqa: BLE001 - ORT raises its own exception types
            raise RunError(
                f"{self.path} is not a loadable ONNX model ({type(exc).__name__}); export the "
                "run again with `stylecast export RUN`"
            ) from None
        inputs = self.session.get_inputs()
        if len(inputs) != 1 or inputs[0].name != INPUT_NAME:
            raise RunError(f"{self.path} was not written by `stylecast export` (its inputs)")
        outputs = {o.name for o in self.session.get_outputs()}
        self.temperatures = [m.temperature for m in info.members]
        if info.is_ensemble and MEMBERS_NAME not in outputs:
            raise RunError(
                f"{self.path} has no {MEMBERS_NAME} output, which an ensemble's export has; "
                "export the run again with `stylecast export RUN`"
            )

    def __repr__(self) -> str:
        return f"OnnxLogits({str(self.path)!r}, {len(self.classes_)} classes, {self.img_size} px)"

    def _run(self, output: str, pixels: np.ndarray, batch_size: int, empty: tuple) -> np.ndarray:
        pixels = np.asarray(pixels)
        s = self.img_size
        if pixels.dtype != np.uint8 or pixels.ndim != 4 or pixels.shape[1:] != (s, s, 3):
            raise ValueError(
                f"pixels must be uint8 of shape (N, {s}, {s}, 3) (letterboxed to the run's "
                f"size), got {pixels.dtype} {pixels.shape}"
            )
        if len(pixels) == 0:
            return np.zeros((0, *empty), np.float32)
        outs = [
            self.session.run([output], {INPUT_NAME: pixels[i : i + batch_size]})[0]
            for i in range(0, len(pixels), max(1, int(batch_size)))
        ]
        return np.concatenate(outs).astype(np.float32, copy=False)

    def logits(self, pixels: np.ndarray, batch_size: int = 64) -> np.ndarray:
        """Logits for ``pixels`` (uint8, ``(N, S, S, 3)``, letterboxed), in float32.

        An ensemble's are its members' logits combined at the member temperatures of
        ``model.json`` (the graph's own ``logits`` output averages them at temperature 1).
        """
        if self.info.is_ensemble:
            from stylecast.ensemble import combine_logits

            return combine_logits(self.member_logits(pixels, batch_size), self.temperatures)
        return self._run(OUTPUT_NAME, pixels, batch_size, (len(self.classes_),))

    def member_logits(self, pixels: np.ndarray, batch_size: int = 64) -> np.ndarray:
        """An ensemble's members' raw logits ``(N, M, C)`` (RunError for a single model)."""
        if not self.info.is_ensemble:
            raise RunError(f"{self.path} is the export of a single model, not of an ensemble")
        empty = (len(self.info.members), len(self.classes_))
        return self._run(MEMBERS_NAME, pixels, batch_size, empty)


@dataclass(frozen=True)
class ExportStatus:
    """What a run's export can be used for right now.

    ``onnx`` / ``int8`` are the usable files (None when absent, rejected or stale);
    ``stale`` says in one line why an export that exists is ignored ('' when it is not).
    """

    onnx: Path | None
    int8: Path | None
    stale: str = ""
    record: dict[str, Any] | None = None

    @property
    def usable(self) -> bool:
        return self.onnx is not None


def _digest(path: Path) -> str:
    return file_digest(path)


def model_digest(folder: RunFolder) -> str | None:
    """What an export is checked against: the digest of ``model.safetensors``, or of an
    ensemble's members' weights (as recorded in its model.json); None without a model."""
    if folder.weights_file.is_file():
        return _digest(folder.weights_file)
    if folder.is_ensemble():
        from stylecast.ensemble import ensemble_digest

        try:
            return ensemble_digest(folder.model_info())
        except RunError:
            return None
    return None


def _read_record(run: RunFolder) -> dict[str, Any] | None:
    try:
        record = run.read_json_if_present(run.EXPORT)
    except RunError:
        return None
    return record if isinstance(record, dict) else None


def export_status(run: str | os.PathLike[str]) -> ExportStatus:
    """Which exported models of ``run`` match its current weights (reads, never writes)."""
    folder = RunFolder(run)
    record = _read_record(folder)
    if not folder.onnx_file.is_file():
        return ExportStatus(None, None, "", record)
    redo = f"run `stylecast export {folder.path}` again"
    if record is None:
        return ExportStatus(None, None, f"{folder.onnx_file} has no readable {folder.EXPORT}")
    if record.get("format") != EXPORT_FORMAT:
        return ExportStatus(None, None, f"{folder.export_file} is of another format; {redo}")
    current = model_digest(folder)
    if current is None:
        return ExportStatus(None, None, f"{folder.path} holds no {folder.WEIGHTS}", record)
    if record.get("weights_digest") != current:
        why = f"{folder.onnx_file} was exported from other weights than {folder.WEIGHTS}; {redo}"
        return ExportStatus(None, None, why, record)
    onnx_entry = record.get("onnx") or {}
    if onnx_entry.get("digest") != _digest(folder.onnx_file):
        why = f"{folder.onnx_file} is not the file {folder.EXPORT} describes; {redo}"
        return ExportStatus(None, None, why, record)
    int8 = None
    entry = record.get("int8") or {}
    path = folder.path / str(entry.get("file", ""))
    if entry.get("accepted") and path.name == folder.ONNX_INT8 and path.is_file():
        int8 = path if entry.get("digest") == _digest(path) else None
    return ExportStatus(folder.onnx_file, int8, "", record)


def _stderr(line: str) -> None:
    print(f"warning: {line}; using torch", file=sys.stderr, flush=True)


def find_export(
    run: str | os.PathLike[str],
    *,
    int8: bool = False,
    warn: Callable[[str], None] | None = _stderr,
) -> Path | None:
    """The usable ONNX model of ``run`` (the accepted int8 one with ``int8``), or None.

    A stale export is reported through ``warn`` (one line on stderr by default) and None is
    returned, so ``--backend auto`` falls back to torch.
    """
    status = export_status(run)
    if status.stale and warn is not None:
        warn(status.stale)
    return status.int8 if int8 else status.onnx


def load_onnx(
    run: str | os.PathLike[str], *, int8: bool = False, threads: int | None = None
) -> OnnxLogits:
    """The run's exported model in ONNX Runtime; RunError when the run has no usable one."""
    folder = RunFolder(run)
    folder.require_dir()
    status = export_status(folder.path)
    path = status.int8 if int8 else status.onnx
    if path is None:
        if status.stale:
            raise RunError(status.stale)
        what = "accepted int8 model" if int8 else "exported ONNX model"
        flag = " --int8" if int8 else ""
        raise RunError(
            f"{folder.path} holds no {what}; write one with `stylecast export {folder.path}{flag}`"
        )
    return OnnxLogits(path, folder.model_info(), threads=threads)
