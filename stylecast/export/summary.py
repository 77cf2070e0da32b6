"""What an export writes and says: ``export.json``'s record and the lines the CLI prints."""

from __future__ import annotations

import contextlib
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from stylecast import __version__
from stylecast.data import file_digest
from stylecast.export.results import ExportResult, Parity
from stylecast.export.runtime import EXPORT_FORMAT
from stylecast.run import ModelInfo, RunFolder

__all__ = ["export_record", "file_entry", "format_export"]


def file_entry(path: Path) -> dict[str, Any]:
    """A file's name, size and content digest (what export_status checks)."""
    return {"file": path.name, "bytes": path.stat().st_size, "digest": file_digest(path)}


def _versions() -> dict[str, str]:
    import onnxruntime
    import torch

    out = {
        "stylecast": __version__,
        "torch": torch.__version__,
        "onnxruntime": onnxruntime.__version__,
    }
    with contextlib.suppress(ImportError):
        import onnx

        out["onnx"] = onnx.__version__
    return out


def export_record(
    folder: RunFolder, info: ModelInfo, how: tuple[str, int], parity: Parity
) -> dict[str, Any]:
    """``export.json`` (without the weights' digest and the int8 entry): ``how`` is
    (exporter, opset)."""
    exporter, opset = how
    size = info.preprocessing.img_size
    return {
        "format": EXPORT_FORMAT,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "versions": _versions(),
        "exporter": exporter,
        "opset": opset,
        "weights_file": folder.WEIGHTS
        if not info.is_ensemble
        else [f"{m.path}/{folder.WEIGHTS}" for m in info.members],
        "model": {
            "timm_name": info.timm_name,
            "classes": list(info.classes),
            "img_size": size,
            **({"members": len(info.members)} if info.is_ensemble else {}),
        },
        "input": {
            "name": "pixels",
            "dtype": "uint8",
            "shape": ["batch", size, size, 3],
            "meaning": f"RGB letterboxed to {size}x{size} (border {info.preprocessing.fill}); "
            "normalisation is inside the graph",
        },
        "output": _output(info),
        "onnx": file_entry(folder.onnx_file),
        "parity": parity.to_json(),
    }


def _output(info: ModelInfo) -> dict[str, Any]:
    """What the graph returns (an ensemble also returns its members' raw logits)."""
    out: dict[str, Any] = {
        "name": "logits",
        "shape": ["batch", len(info.classes)],
        "meaning": "raw logits; divide by model.json's temperature, then softmax",
    }
    if info.is_ensemble:
        n = len(info.members)
        out["meaning"] = (
            "log of the members' mean probability, each member at temperature 1; stylecast "
            "uses member_logits instead"
        )
        out["members"] = {
            "name": "member_logits",
            "shape": ["batch", n, len(info.classes)],
            "meaning": "each member's raw logits: divide member k's by model.json's "
            "ensemble.members[k].temperature, softmax, average over members, then apply "
            "model.json's temperature to the log of that mean",
        }
    return out


def _mb(path: Path) -> str:
    return f"{path.stat().st_size / 1e6:.1f} MB"


def format_export(result: ExportResult) -> str:
    """What ``stylecast export`` prints: the file, the parity check, the int8 verdict."""
    p = result.parity
    lines = [
        f"exported {result.onnx} ({_mb(result.onnx)}, {result.exporter} exporter, opset "
        f"{result.opset}): letterboxed uint8 NHWC pixels in, logits out"
        + (" (and member_logits, every member's)" if result.members else ""),
        f"parity on the {p.split} split ({p.images} images): max |logit difference| "
        f"{p.max_abs_diff:.2e}, top-1 agreement {p.top1_agreement:.1%}, accuracy torch "
        f"{p.accuracy_torch:.3f} / onnx {p.accuracy_onnx:.3f}",
    ]
    if p.skipped:
        lines[-1] += f" ({p.skipped} unreadable images skipped)"
    q = result.int8
    if q is not None:
        head = (
            f"int8: accuracy {q.accuracy_int8:.3f} vs {q.accuracy_fp32:.3f} "
            f"({q.change_points:+.1f} points) on the {p.split} split, top-1 agreement "
            f"{q.top1_agreement:.1%}"
        )
        if q.accepted:
            lines.append(f"{head}: wrote {q.path} ({_mb(q.path)})")
        else:
            lines.append(
                f"{head}: refused, it loses more than {q.max_loss:g} point(s); kept aside as "
                f"{q.path} (not used)"
            )
    lines.append(f"wrote {result.export_json}")
    return "\n".join(lines)
