"""Optimisation pieces: frozen BatchNorm under block-wise unfreezing, groups, schedule, weights."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from stylecast.models import create_model
from stylecast.training import predict_logits
from stylecast.training.optim import (
    block_groups,
    class_weights,
    cosine_with_warmup,
    make_optimizer,
    param_groups,
    set_trainable,
)


def test_frozen_layers_keep_their_batchnorm_statistics() -> None:
    """Block-wise unfreezing: frozen groups stay in eval mode, so BN statistics never move."""
    model = create_model("efficientnet_lite0", 2)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    set_trainable(model, block_groups(model), n_trainable=1)  # epoch 1: head group only
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-2)
    gen = torch.Generator().manual_seed(0)
    for _ in range(3):
        x = torch.randn(4, 3, 48, 48, generator=gen)
        loss = torch.nn.functional.cross_entropy(model(x), torch.tensor([0, 1, 0, 1]))
        opt.zero_grad()
        loss.backward()
        opt.step()
        # Validation in between must not flip frozen layers back into training mode.
        predict_logits(model, np.zeros((2, 48, 48, 3), np.uint8), [0.5] * 3, [0.5] * 3)
    after = model.state_dict()
    assert not model.bn1.training and model.bn2.training
    assert torch.equal(after["bn1.running_mean"], before["bn1.running_mean"])
    assert torch.equal(after["blocks.6.0.bn3.running_var"], before["blocks.6.0.bn3.running_var"])
    assert torch.equal(after["conv_stem.weight"], before["conv_stem.weight"])
    assert not torch.equal(after["bn2.running_mean"], before["bn2.running_mean"])
    assert not torch.equal(after["conv_head.weight"], before["conv_head.weight"])


def test_block_groups_run_from_stem_to_head() -> None:
    model = create_model("efficientnet_lite0", 2, pretrained=False)
    groups = block_groups(model)
    assert len(groups) == len(model.blocks) + 2 == 9
    assert groups[0] == [model.conv_stem, model.bn1]
    assert groups[-1] == [model.conv_head, model.bn2]
    set_trainable(model, groups, n_trainable=len(groups))
    assert all(p.requires_grad for p in model.parameters())
    set_trainable(model, groups, n_trainable=0)
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert trainable == {"classifier.weight", "classifier.bias"}
    assert block_groups(torch.nn.Linear(2, 2))[0][0].in_features == 2  # no blocks: one group


def test_param_groups_exempt_norms_and_biases_from_weight_decay() -> None:
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4))
    decay, no_decay = param_groups(model, 0.05)
    assert decay["weight_decay"] == 0.05 and no_decay["weight_decay"] == 0.0
    assert [p.shape for p in decay["params"]] == [torch.Size([4, 3])]
    assert len(no_decay["params"]) == 3  # linear bias, BN weight and bias


def test_cosine_with_warmup_rises_then_falls_to_zero() -> None:
    f = cosine_with_warmup(total_steps=10, warmup_steps=2)
    assert [f(0), f(1)] == [0.5, 1.0]
    assert f(2) == pytest.approx(1.0)
    assert f(6) == pytest.approx(0.5 * (1 + math.cos(math.pi * 0.5)))
    assert f(10) == pytest.approx(0.0) and f(50) == pytest.approx(0.0)
    assert cosine_with_warmup(4, 0)(0) == 1.0


def test_make_optimizer_schedules_per_step() -> None:
    layer = torch.nn.Linear(2, 2)
    opt, sched = make_optimizer(
        layer.parameters(),
        lr=0.1,
        weight_decay=0.01,
        steps_per_epoch=4,
        epochs=2,
        warmup_epochs=0.5,
    )
    assert isinstance(opt, torch.optim.AdamW)
    assert opt.param_groups[0]["weight_decay"] == 0.01
    lrs = []
    for _ in range(8):
        lrs.append(sched.get_last_lr()[0])
        opt.step()
        sched.step()
    assert lrs[:3] == pytest.approx([0.05, 0.1, 0.1])  # warmup of 2 steps, then the cosine
    assert lrs[-1] < lrs[3] < lrs[2] and sched.get_last_lr()[0] == pytest.approx(0.0)


def test_class_weights_are_inverse_frequencies() -> None:
    w = class_weights(np.array([0, 0, 0, 1]), 2)
    assert w.dtype == torch.float32
    assert w.tolist() == pytest.approx([4 / 6, 2.0])
    assert class_weights(np.array([0, 1]), 3).tolist() == pytest.approx([2 / 3, 2 / 3, 2 / 3])


def test_layer_decay_scales_each_stage_and_make_optimizer_applies_it() -> None:
    model = create_model("efficientnet_lite0", 2, pretrained=False)
    flat = param_groups(model, 0.01)
    assert [g.get("lr_scale") for g in flat] == [None, None]  # 1.0: today's two groups
    groups = param_groups(model, 0.01, layer_decay=0.5)
    n_stages = len(block_groups(model))  # stem, 7 block stages, head
    scales = sorted({g["lr_scale"] for g in groups}, reverse=True)
    assert scales == [0.5**d for d in range(n_stages + 1)]  # classifier 1 ... stem 0.5**9
    total = sum(len(g["params"]) for g in groups)
    assert total == len(list(model.parameters()))
    stem = model.conv_stem.weight
    (stem_group,) = [g for g in groups if any(p is stem for p in g["params"])]
    assert stem_group["lr_scale"] == 0.5**n_stages and stem_group["weight_decay"] == 0.01
    (cls_group,) = [g for g in groups if any(p is model.classifier.weight for p in g["params"])]
    assert cls_group["lr_scale"] == 1.0
    opt, _ = make_optimizer(
        groups, lr=1e-2, weight_decay=0.01, steps_per_epoch=4, epochs=2, warmup_epochs=0
    )
    lrs = {id(p): g["lr"] for g in opt.param_groups for p in g["params"]}
    assert lrs[id(stem)] == pytest.approx(1e-2 * 0.5**n_stages)
    assert lrs[id(model.classifier.weight)] == pytest.approx(1e-2)


def test_layer_decay_outside_zero_one_is_refused() -> None:
    from stylecast.config import TrainConfig
    from stylecast.errors import ConfigError

    with pytest.raises(ConfigError, match="layer_decay must be in"):
        TrainConfig(layer_decay=0.0)
    with pytest.raises(ConfigError, match="layer_decay must be in"):
        TrainConfig(layer_decay=1.5)
