"""The trained network as an ONNX graph: letterboxed uint8 NHWC pixels in, logits out.

The normalisation of :func:`stylecast.training.to_input` is part of the graph (a Cast, a
Transpose and one multiply-add), so every caller -- predict, serve, a phone -- feeds the
letterboxed ``uint8`` image it already has and cannot get the mean and std wrong.

The batch axis is dynamic; the image size is fixed: timm's ``tf_*`` backbones pad like
TensorFlow's "same", which depends on the input size, so the export bakes in the run's.

Exporter: torch's ``torch.export``-based exporter (``dynamo=True``, the default and the
maintained one since torch 2.9; it needs ``onnxscript``), saved as one self-contained file.
When it is not installed or fails on a model, the TorchScript exporter (deprecated but
still shipped) is used instead; ``export.json`` records which one wrote the file.
"""

from __future__ import annotations

import contextlib
import io
import os
import warnings
from pathlib import Path
from typing import Any

import torch
from torch import nn

from stylecast.errors import MissingDependencyError, RunError
from stylecast.run import Preprocessing

__all__ = [
    "DEFAULT_OPSET",
    "EnsembleGraph",
    "PixelModel",
    "export_onnx",
    "exportable_copy",
    "exportable_ensemble",
]

DEFAULT_OPSET = 18
INPUT_NAME = "pixels"
OUTPUT_NAME = "logits"
MEMBERS_NAME = "member_logits"


class PixelModel(nn.Module):
    """``model`` behind the run's normalisation: uint8 ``(N, S, S, 3)`` -> logits ``(N, C)``
    (an :class:`EnsembleGraph`'s two outputs for an ensemble)."""

    def __init__(self, model: nn.Module, prep: Preprocessing) -> None:
        super().__init__()
        self.model = model
        std = torch.tensor(prep.std, dtype=torch.float32).view(1, 3, 1, 1)
        mean = torch.tensor(prep.mean, dtype=torch.float32).view(1, 3, 1, 1)
        # (x / 255 - mean) / std == x * scale + shift, as in training's to_input.
        self.register_buffer("scale", 1.0 / (255.0 * std))
        self.register_buffer("shift", -mean / std)

    def forward(self, pixels: torch.Tensor) -> Any:
        x = pixels.permute(0, 3, 1, 2).to(torch.float32)
        return self.model(x * self.scale + self.shift)


def exportable_copy(model: nn.Module, timm_name: str, num_classes: int) -> nn.Module:
    """The same weights in timm's export-friendly layers (``exportable=True``), in eval mode."""
    import timm

    copy = timm.create_model(timm_name, pretrained=False, num_classes=num_classes, exportable=True)
    copy.load_state_dict(model.state_dict(), strict=True)
    return copy.eval()


class EnsembleGraph(nn.Module):
    """An ensemble for export: ``(logits, member_logits)``, the log of the members' mean
    probability at temperature 1 ``(N, C)`` and their raw logits ``(N, M, C)``.

    The member temperatures stay out of the graph, in ``model.json`` (as a single model's
    temperature does): stylecast combines ``member_logits`` with them, and re-evaluating a
    run never makes its export stale. Another program may use ``logits`` as it is.
    """

    def __init__(self, members: list[nn.Module]) -> None:
        super().__init__()
        self.members = nn.ModuleList(members)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        z = torch.stack([m(x) for m in self.members], dim=1)
        logp = torch.log_softmax(z, dim=-1)
        mean = torch.logsumexp(logp, dim=1) - torch.log(torch.tensor(float(len(self.members))))
        return mean, z


def exportable_ensemble(ensemble: nn.Module) -> EnsembleGraph:
    """An :class:`stylecast.ensemble.Ensemble` rebuilt in timm's exportable layers."""
    infos = ensemble.member_infos  # set by stylecast.ensemble.load_ensemble
    members = [
        exportable_copy(m, info.timm_name, len(info.classes))
        for m, info in zip(ensemble.members, infos, strict=True)
    ]
    return EnsembleGraph(members).eval()


def _outputs(module: nn.Module) -> list[str]:
    inner = getattr(module, "model", module)
    return [OUTPUT_NAME, MEMBERS_NAME] if isinstance(inner, EnsembleGraph) else [OUTPUT_NAME]


def _onnxscript_available() -> bool:
    try:
        import onnxscript  # noqa: F401
    except ImportError:
        return False
    return True


def _export_dynamo(module: nn.Module, example: torch.Tensor, path: Path, opset: int) -> None:
    batch = torch.export.Dim("batch", min=1, max=4096)
    # The exporter reports every step on stdout; a user sees our one line instead.
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        program = torch.onnx.export(
            module,
            (example,),
            dynamo=True,
            input_names=[INPUT_NAME],
            output_names=_outputs(module),
            dynamic_shapes=({0: batch},),
            opset_version=opset,
            verbose=False,
        )
        program.save(str(path), external_data=False)


def _export_torchscript(module: nn.Module, example: torch.Tensor, path: Path, opset: int) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the exporter's own deprecation notice
        torch.onnx.export(
            module,
            (example,),
            str(path),
            dynamo=False,
            input_names=[INPUT_NAME],
            output_names=_outputs(module),
            dynamic_axes={INPUT_NAME: {0: "batch"}, **{o: {0: "batch"} for o in _outputs(module)}},
            opset_version=opset,
            do_constant_folding=True,
        )


def export_onnx(
    model: nn.Module,
    prep: Preprocessing,
    path: str | os.PathLike[str],
    *,
    opset: int = DEFAULT_OPSET,
    exporter: str = "auto",
) -> str:
    """Write ``model`` (with ``prep``'s normalisation) to ``path``; returns the exporter used.

    ``exporter``: ``"dynamo"``, ``"torchscript"`` or ``"auto"`` (dynamo, else torchscript).
    ``path`` is written in place: callers pass a temporary file and rename it.
    """
    if exporter not in ("auto", "dynamo", "torchscript"):
        raise ValueError(f"exporter must be auto, dynamo or torchscript, not {exporter!r}")
    module = PixelModel(model, prep).eval()
    size = prep.img_size
    example = torch.full((2, size, size, 3), prep.fill, dtype=torch.uint8)
    example[1] = torch.randint(0, 256, (size, size, 3), generator=torch.Generator().manual_seed(0))
    target = Path(path)
    errors = []
    order = ["dynamo", "torchscript"] if exporter == "auto" else [exporter]
    if exporter == "auto" and not _onnxscript_available():
        order = ["torchscript"]
    elif exporter == "dynamo" and not _onnxscript_available():
        raise MissingDependencyError(
            "the dynamo ONNX exporter needs onnxscript: pip install 'stylecast[onnx]'"
        )
    for name in order:
        try:
            with torch.inference_mode(False), torch.no_grad():
                (_export_dynamo if name == "dynamo" else _export_torchscript)(
                    module, example, target, opset
                )
            return name
        except Exception as exc:  # noqa: BLE001 - exporters raise anything a model does
            first = (str(exc).strip().splitlines() or [""])[0][:200]
            errors.append(f"{name}: {type(exc).__name__}: {first}")
    raise RunError(f"the ONNX export failed ({'; '.join(errors)}); try another --opset")
