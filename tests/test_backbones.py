"""Backbone specs: freezing, parameter groups and Grad-CAM follow the registered layout."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest
import torch

from stylecast.backbones import (
    BackboneSpec,
    Layout,
    backbone_spec,
    list_backbones,
    model_parts,
    register_backbone,
    unregister_backbone,
)
from stylecast.errors import ModelError
from stylecast.evaluation.gradcam import cam_grid, find_target_layer, grad_cam
from stylecast.models import create_model
from stylecast.training.optim import block_groups, param_groups, set_trainable

# timm's tiny test ResNet (no weights needed): conv1/bn1, layer1..layer4, fc.
RESNET = Layout(
    stem=("conv1", "bn1"),
    stages=("layer1", "layer2", "layer3", "layer4"),
    head=(),
    classifier="fc",
    gradcam="layer4",
)


@pytest.fixture
def tiny() -> Iterator[torch.nn.Module]:
    register_backbone(BackboneSpec("tiny_resnet", "test_resnet", layout=RESNET))
    try:
        yield create_model("tiny_resnet", 3, pretrained=False)
    finally:
        unregister_backbone("tiny_resnet")
    assert "tiny_resnet" not in list_backbones()


@pytest.mark.parametrize("name", ["efficientnet_lite0", "efficientnet_lite1", "efficientnet_lite2"])
def test_registered_specs_resolve_on_the_built_model(name: str) -> None:
    model = create_model(name, 2, pretrained=False)
    parts = model_parts(model)
    assert parts.spec is backbone_spec(name)
    assert parts.stem == [model.conv_stem, model.bn1]
    assert parts.stages == list(model.blocks) and len(parts.stages) == 7
    assert parts.head == [model.conv_head, model.bn2]
    assert parts.classifier is model.classifier and parts.gradcam is model.bn2


def test_freezing_and_groups_follow_a_new_spec(tiny: torch.nn.Module) -> None:
    groups = block_groups(tiny)
    assert groups == [
        [tiny.conv1, tiny.bn1],
        [tiny.layer1],
        [tiny.layer2],
        [tiny.layer3],
        [tiny.layer4],
        [],
    ]
    set_trainable(tiny, groups, n_trainable=2)  # the (empty) head and layer4
    trainable = {n.split(".")[0] for n, p in tiny.named_parameters() if p.requires_grad}
    assert trainable == {"layer4", "fc"}
    assert tiny.layer4.training and not tiny.layer3.training and not tiny.bn1.training
    set_trainable(tiny, groups, n_trainable=0)
    assert {n for n, p in tiny.named_parameters() if p.requires_grad} == {"fc.weight", "fc.bias"}
    scale = {
        n: g["lr_scale"]
        for g in param_groups(tiny, 0.01, layer_decay=0.5)
        for n, p in tiny.named_parameters()
        if any(p is q for q in g["params"])
    }
    assert len(scale) == len(list(tiny.parameters()))
    assert scale["fc.weight"] == 1.0
    assert scale["layer4.0.conv1.weight"] == 0.5**2
    assert scale["conv1.0.weight"] == scale["bn1.weight"] == 0.5**6


def test_gradcam_follows_a_new_spec(tiny: torch.nn.Module) -> None:
    assert find_target_layer(tiny) is tiny.layer4
    # At 128 px layer4 is 4x4: the stride-16 stage (layer3, 8x8) is finer.
    assert find_target_layer(tiny, 128) is tiny.layer3 and cam_grid(tiny, 128) == 8
    assert find_target_layer(tiny, 64) is tiny.layer4
    cams, logits = grad_cam(tiny, torch.randn(2, 3, 64, 64))
    assert cams.shape == (2, 64, 64) and logits.shape == (2, 3)


def test_a_spec_naming_a_missing_module_is_a_clear_error() -> None:
    wrong = Layout(stem=("conv_stem",), stages=("layer1",), head=(), classifier="fc", gradcam="x")
    register_backbone(BackboneSpec("broken_resnet", "test_resnet", layout=wrong))
    try:
        with pytest.raises(ModelError, match="'broken_resnet' names module 'conv_stem'.*conv1"):
            create_model("broken_resnet", 2, pretrained=False)
    finally:
        unregister_backbone("broken_resnet")
    stars = Layout(stem=(), stages=("nope.*",), head=(), classifier="fc", gradcam="layer4")
    register_backbone(BackboneSpec("star_resnet", "test_resnet", layout=stars))
    try:
        with pytest.raises(ModelError, match="names module 'nope'"):
            create_model("star_resnet", 2, pretrained=False)
    finally:
        unregister_backbone("star_resnet")


def test_registry_refuses_duplicates_and_unknown_names() -> None:
    with pytest.raises(ModelError, match="already registered"):
        register_backbone(BackboneSpec("efficientnet_lite0", "tf_efficientnet_lite0"))
    with pytest.raises(ModelError, match="no backbone spec 'nope'"):
        backbone_spec("nope")
    with pytest.raises(ModelError, match="needs stages"):
        Layout(stem=(), stages=(), head=(), classifier="fc", gradcam="fc")


def test_models_no_spec_describes_keep_the_efficientnet_convention() -> None:
    model = create_model("mobilenetv3_small_050", 2, pretrained=False)
    parts = model_parts(model)
    assert parts.spec is None and parts.stages == list(model.blocks)
    assert block_groups(torch.nn.Linear(2, 2))[0][0].in_features == 2


def test_model_list_shows_a_spec_without_offline_weights(
    tiny: torch.nn.Module, capsys: pytest.CaptureFixture[str]
) -> None:
    from stylecast.cli import main

    assert main(["model", "list"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("efficientnet_lite0   timm tf_efficientnet_lite0")
    (line,) = [ln for ln in out if ln.startswith("tiny_resnet")]
    assert "test_resnet" in line and "none offline" in line


def test_importing_the_specs_imports_no_torch() -> None:
    code = "import sys, stylecast.backbones; print('torch' in sys.modules)"
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert res.stdout.strip() == "False", res.stderr
