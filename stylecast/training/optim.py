"""Optimisation pieces shared by both phases: parameter groups, the learning-rate schedule,
which layers train (block groups, freezing), and class weights for the loss."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import torch
from torch import nn

from stylecast.backbones import model_parts

__all__ = [
    "block_groups",
    "class_weights",
    "cosine_with_warmup",
    "make_optimizer",
    "param_groups",
    "set_trainable",
]


def param_groups(
    model: nn.Module, weight_decay: float, layer_decay: float = 1.0
) -> list[dict[str, Any]]:
    """No weight decay on norms and biases (a decayed BatchNorm scale only hurts).

    ``layer_decay`` < 1 gives each backbone stage of :func:`block_groups` its own
    ``lr_scale``: the classifier 1, the stage below it ``layer_decay``, the next
    ``layer_decay ** 2`` and so on down to the stem, so the pretrained early layers move
    least (layer-wise learning-rate decay). :func:`make_optimizer` applies the scales.
    """
    depth = {}  # parameter id -> stages between it and the classifier
    if layer_decay < 1.0 and model_parts(model).stages is not None:
        stages = block_groups(model)
        for i, group in enumerate(stages):
            for m in group:
                for p in m.parameters():
                    depth[id(p)] = len(stages) - i
    groups: dict[tuple[int, bool], dict[str, Any]] = {}
    for name, p in model.named_parameters():
        decayed = not (p.ndim <= 1 or name.endswith(".bias"))
        d = depth.get(id(p), 0)
        group = groups.setdefault(
            (d, decayed),
            {"params": [], "weight_decay": weight_decay if decayed else 0.0},
        )
        if layer_decay < 1.0:
            group["lr_scale"] = layer_decay**d
        group["params"].append(p)
    return [groups[k] for k in sorted(groups, key=lambda k: (k[0], not k[1]))]


def cosine_with_warmup(total_steps: int, warmup_steps: int) -> Callable[[int], float]:
    """The LR factor per step: linear warmup to 1, then a cosine down to 0 at ``total_steps``."""

    def factor(step: int) -> float:
        if warmup_steps > 0 and step < warmup_steps:
            return (step + 1) / warmup_steps
        progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
        return 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))

    return factor


def make_optimizer(
    params: Iterable[Any],
    *,
    lr: float,
    weight_decay: float,
    steps_per_epoch: int,
    epochs: int,
    warmup_epochs: float,
) -> tuple[torch.optim.Optimizer, torch.optim.lr_scheduler.LambdaLR]:
    """AdamW and its per-step warmup + cosine schedule over ``epochs``.

    ``params`` may be parameter groups (see :func:`param_groups`); a group's own
    ``weight_decay`` wins over the one given here, and its ``lr_scale`` multiplies ``lr``.
    """
    params = list(params)
    for group in params:
        if isinstance(group, dict) and "lr_scale" in group:
            group["lr"] = lr * group["lr_scale"]
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    total = steps_per_epoch * epochs
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, cosine_with_warmup(total, int(steps_per_epoch * warmup_epochs))
    )
    return opt, sched


def block_groups(model: nn.Module) -> list[list[nn.Module]]:
    """Backbone stages from the input side: stem, each stage, then the head, as the
    backbone's spec names them (:func:`stylecast.backbones.model_parts`); a model with no
    known stages is one group."""
    parts = model_parts(model)
    if parts.stages is None:
        return [[model]]
    return [parts.stem, *[[s] for s in parts.stages], parts.head]


def set_trainable(model: nn.Module, groups: list[list[nn.Module]], n_trainable: int) -> None:
    """Train the classifier plus the last ``n_trainable`` groups; freeze the rest.

    Frozen modules are put in eval mode so their BatchNorm running statistics stay
    exactly as pretrained (the trap: ``model.train()`` would update them anyway).
    """
    model.train()
    cut = max(0, len(groups) - n_trainable)
    for i, group in enumerate(groups):
        for m in group:
            m.train(i >= cut)
            for p in m.parameters():
                p.requires_grad_(i >= cut)
    classifier = model_parts(model).classifier
    for p in (classifier if classifier is not None else model.get_classifier()).parameters():
        p.requires_grad_(True)


def class_weights(y: np.ndarray, n_classes: int) -> torch.Tensor:
    """Inverse class frequency, scaled so that balanced data weighs every class 1."""
    counts = np.bincount(y, minlength=n_classes).astype(np.float64)
    w = counts.sum() / (n_classes * np.maximum(counts, 1))
    return torch.tensor(w, dtype=torch.float32)
