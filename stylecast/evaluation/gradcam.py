"""Grad-CAM: where in the image the network found the evidence for a class.

Grad-CAM (Selvaraju et al., 2017) weights each channel of the last convolutional
feature map by the mean gradient of the class score over that map, sums the channels,
keeps the positive part and upsamples it to the input. The map is a stage or the
Grad-CAM layer the backbone's spec names (:mod:`stylecast.backbones`); for timm's
EfficientNet that is ``bn2`` (``conv_head`` + batch norm + activation), the last spatial
layer before global pooling. It is a short, dependency-free implementation: the
``grad-cam`` package would pull in OpenCV for the same few lines of arithmetic.

``grad_cam`` works on any CNN (pass ``layer`` for one no spec describes) and on an ensemble
(each member's map for the ensemble's class, averaged); ``explain`` does it for one image
file with a run's model and writes ``image | overlay`` as a PNG.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from stylecast.backbones import ensemble_members, model_parts
from stylecast.data import letterbox, load_image
from stylecast.errors import DataError, ModelError
from stylecast.models import load_model
from stylecast.run import Preprocessing, RunFolder
from stylecast.training import resolve_device, to_input

__all__ = [
    "MIN_GRID",
    "Explanation",
    "cam_grid",
    "explain",
    "find_target_layer",
    "grad_cam",
    "gradcam_for_pixels",
]

# Side of the PNG's photo: fashion thumbnails are small, and a 48 px letterbox is
# unreadable; the CAM is upsampled from the model's input to this size.
_DISPLAY_SIZE = 320


@dataclass(frozen=True)
class Explanation:
    """One image's prediction and its Grad-CAM for ``target``."""

    image: Path
    out: Path | None
    predicted: str
    probability: float  # calibrated probability of the predicted class
    target: str  # the class whose evidence ``cam`` shows
    target_probability: float
    probabilities: dict[str, float]
    cam: np.ndarray  # (img_size, img_size) float32 in [0, 1], on the letterboxed input


# The coarsest heat map we accept: at 128 px EfficientNet's last feature grid is 4x4, which
# cannot tell a collar from a sleeve; the stride-16 stage gives 8x8 at the same cost.
MIN_GRID = 8


def find_target_layer(
    model: nn.Module, input_size: int | None = None, *, min_grid: int = MIN_GRID
) -> nn.Module:
    """The Grad-CAM layer: the deepest stage whose grid is at least ``min_grid`` cells on
    a side at ``input_size``, else the backbone's Grad-CAM layer, else the last ``Conv2d``.

    Stages and the Grad-CAM layer are those the backbone's spec names
    (:func:`stylecast.backbones.model_parts`; ``bn2`` for timm EfficientNet/MobileNet).
    Deeper layers carry more class evidence, shallower ones finer detail; the deepest
    stage that is still ``min_grid`` wide is the usual compromise.
    """
    parts = model_parts(model)
    if input_size is not None and parts.probe_stages and parts.stages is not None:
        grids = _grid_sides(model, int(input_size), parts.stages)
        # Stride 16 or deeper: shallower stages see edges and textures, not garments.
        deep_enough = -(-int(input_size) // 16)
        fine = [i for i, g in enumerate(grids) if min_grid <= g <= deep_enough]
        if fine and grids[-1] < min_grid:
            return parts.stages[fine[-1]]
    if parts.gradcam is not None:
        return parts.gradcam
    last = None
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            last = module
    if last is None:
        raise ModelError(
            f"{type(model).__name__} has no convolutional layer; Grad-CAM needs one "
            "(pass layer= explicitly)"
        )
    return last


def _grid_sides(model: nn.Module, size: int, modules: Sequence[nn.Module]) -> list[int]:
    """The output grid side of each of ``modules`` at input ``size`` (one probe forward)."""
    sides: list[int] = []
    hooks = [
        m.register_forward_hook(lambda _m, _i, out: sides.append(int(out.shape[-1])))
        for m in modules
    ]
    was_training = model.training
    model.eval()
    try:
        param = next(model.parameters())
        with torch.no_grad():
            model(torch.zeros(1, 3, size, size, device=param.device, dtype=param.dtype))
    finally:
        for h in hooks:
            h.remove()
        model.train(was_training)
    return sides


def cam_grid(model: nn.Module, input_size: int) -> int:
    """How many cells on a side the default Grad-CAM map has at ``input_size`` (an
    ensemble's: its first member's)."""
    members = ensemble_members(model)
    if members:
        model = members[0]
    return _grid_sides(model, input_size, [find_target_layer(model, input_size)])[0]


def grad_cam(
    model: nn.Module,
    x: torch.Tensor,
    targets: Sequence[int] | None = None,
    *,
    layer: nn.Module | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Grad-CAM maps for a batch.

    Args:
        model: a CNN returning ``(N, C)`` logits; it is run in eval mode.
        x: ``(N, 3, H, W)`` normalised input.
        targets: the class index to explain per image (default: the predicted class).
        layer: the feature layer (default :func:`find_target_layer`).

    Returns:
        ``(cams, logits)``: ``(N, H, W)`` float32 maps in ``[0, 1]`` (each scaled so its
        maximum is 1; all zeros where no location speaks for the class) and the
        ``(N, C)`` float32 logits.
    """
    if x.ndim != 4:
        raise DataError(f"x must be a (N, 3, H, W) batch, got shape {tuple(x.shape)}")
    if layer is None and ensemble_members(model) is not None:
        return _ensemble_cam(model, x, targets)
    layer = layer if layer is not None else find_target_layer(model, int(x.shape[-1]))
    store: dict[str, torch.Tensor] = {}

    def hook(_module: nn.Module, _inputs: Any, output: torch.Tensor) -> None:
        store["act"] = output

    handle = layer.register_forward_hook(hook)
    was_training = model.training
    model.eval()
    try:
        # Inference mode would record no graph; the gradient is taken w.r.t. the
        # activation only, so parameter .grad fields are never touched.
        with torch.inference_mode(False), torch.enable_grad():
            inp = x.detach().clone().float().requires_grad_(True)
            logits = model(inp)
            if logits.ndim != 2:
                raise ModelError(f"model returned shape {tuple(logits.shape)}, expected (N, C)")
            if targets is None:
                idx = logits.argmax(dim=1)
            else:
                idx = torch.as_tensor(list(targets), dtype=torch.long, device=logits.device)
                if idx.shape != (logits.shape[0],):
                    raise DataError(
                        f"need one target per image ({logits.shape[0]}), got {len(idx)}"
                    )
                if idx.min() < 0 or idx.max() >= logits.shape[1]:
                    raise DataError(f"targets must lie in 0..{logits.shape[1] - 1}")
            if "act" not in store:
                raise ModelError("the Grad-CAM layer was not used by the model's forward pass")
            act = store["act"]
            score = logits.gather(1, idx[:, None]).sum()
            (grad,) = torch.autograd.grad(score, act)
    finally:
        handle.remove()
        model.train(was_training)
    weights = grad.mean(dim=(2, 3), keepdim=True)
    cam = F.relu((weights * act.detach()).sum(dim=1, keepdim=True))
    cam = F.interpolate(cam, size=x.shape[-2:], mode="bilinear", align_corners=False)[:, 0]
    peak = cam.flatten(1).amax(dim=1).clamp_min(1e-12)[:, None, None]
    cam = torch.where(peak > 1e-12, cam / peak, torch.zeros_like(cam)).clamp_(0.0, 1.0)
    return cam.float().cpu().numpy(), logits.detach().float().cpu().numpy()


def _ensemble_cam(
    ensemble: nn.Module, x: torch.Tensor, targets: Sequence[int] | None
) -> tuple[np.ndarray, np.ndarray]:
    """Grad-CAM of an ensemble: each member's map for the class (the ensemble's prediction
    unless ``targets`` say otherwise), each scaled to a peak of 1, averaged, scaled again;
    logits are the ensemble's."""
    was_training = ensemble.training
    ensemble.eval()
    try:
        with torch.no_grad():
            logits = ensemble(x.detach().float())
    finally:
        ensemble.train(was_training)
    idx = logits.argmax(dim=1).tolist() if targets is None else list(targets)
    cams = np.mean([grad_cam(m, x, idx)[0] for m in ensemble_members(ensemble) or []], axis=0)
    peak = cams.reshape(len(cams), -1).max(axis=1).clip(min=1e-12)[:, None, None]
    cams = np.where(peak > 1e-12, cams / peak, 0.0).clip(0.0, 1.0).astype(np.float32)
    return cams, logits.float().cpu().numpy()


def gradcam_for_pixels(
    model: nn.Module,
    pixels: np.ndarray,
    preprocessing: Preprocessing,
    targets: Sequence[int] | None = None,
    *,
    batch_size: int = 16,
) -> tuple[np.ndarray, np.ndarray]:
    """Grad-CAM for uint8 NHWC ``pixels`` already letterboxed to the model's input size."""
    cams, logits = [], []
    device = next(model.parameters()).device
    for start in range(0, len(pixels), batch_size):
        x = to_input(pixels[start : start + batch_size], preprocessing.mean, preprocessing.std)
        t = None if targets is None else list(targets)[start : start + batch_size]
        c, z = grad_cam(model, x.to(device), t)
        cams.append(c)
        logits.append(z)
    if not cams:
        return np.zeros((0, 0, 0), np.float32), np.zeros((0, 0), np.float32)
    return np.concatenate(cams), np.concatenate(logits)


def upsample_cam(cam: np.ndarray, size: int) -> np.ndarray:
    """Resize a square CAM to ``size`` (the letterbox geometry is the same at any size)."""
    t = torch.as_tensor(np.asarray(cam, dtype=np.float32))[None, None]
    out = F.interpolate(t, size=(size, size), mode="bilinear", align_corners=False)
    return out[0, 0].clamp(0.0, 1.0).numpy()


def explain(
    run: str | os.PathLike[str],
    image: str | os.PathLike[str],
    *,
    target: str | None = None,
    out: str | os.PathLike[str] | None = None,
    device: str = "auto",
) -> Explanation:
    """Predict ``image`` with ``run``'s model and write its Grad-CAM as a PNG.

    ``target`` is the class whose evidence is shown (default: the predicted class).
    ``out`` defaults to ``RUN/explain/<image stem>.png``. Probabilities use the
    temperature stored in ``model.json`` (fitted by ``stylecast evaluate``). ``device`` is
    auto (a CUDA GPU when there is one), cpu or cuda.
    """
    from stylecast.evaluation.calibration import softmax
    from stylecast.plots import plot_explanation, save_figure

    image = Path(image)

    model, info = load_model(run)  # RunError for a missing or incomplete run, first
    model.to(resolve_device(device))
    if not image.is_file():
        raise DataError(f"image {image} does not exist")
    classes = list(info.classes)
    if target is not None and target not in classes:
        raise DataError(f"unknown target class {target!r}; this model knows {', '.join(classes)}")
    prep = info.preprocessing
    pil = load_image(image)
    pixels = letterbox(pil, prep.img_size, prep.fill)[None]
    cams, logits = gradcam_for_pixels(model, pixels, prep)  # the predicted class's CAM
    proba = softmax(logits, info.temperature)[0]
    pred = int(proba.argmax())
    t_idx = pred if target is None else classes.index(target)
    if t_idx != pred:
        cams, _ = gradcam_for_pixels(model, pixels, prep, [t_idx])
    cam = cams[0]

    out_path = Path(out) if out is not None else Path(run) / RunFolder.EXPLAIN / f"{image.stem}.png"
    display = letterbox(pil, _DISPLAY_SIZE, prep.fill)
    title = f"{image.name}: predicted {classes[pred]} ({proba[pred]:.0%})"
    label = f"Evidence for {classes[t_idx]}"
    if t_idx != pred:
        label += f" (p = {proba[t_idx]:.0%})"
    save_figure(
        plot_explanation(
            display, upsample_cam(cam, _DISPLAY_SIZE), title=title, heatmap_label=label
        ),
        out_path,
    )
    return Explanation(
        image=image,
        out=out_path,
        predicted=classes[pred],
        probability=float(proba[pred]),
        target=classes[t_idx],
        target_probability=float(proba[t_idx]),
        probabilities={c: float(p) for c, p in zip(classes, proba, strict=True)},
        cam=cam,
    )
