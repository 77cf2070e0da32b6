"""The head phase: a linear classifier trained on cached pooled features of the frozen
backbone (seconds per run once the features exist)."""

from __future__ import annotations

import copy
import math
import time

import numpy as np
import torch
import torch.nn.functional as F

from stylecast.models import state_dict_digest
from stylecast.training.context import PhaseContext, epoch_line, epoch_row, evaluate_logits
from stylecast.training.features import compute_features
from stylecast.training.optim import make_optimizer
from stylecast.training.state import TrainState

__all__ = ["head_phase"]


def head_phase(ctx: PhaseContext, state: TrainState) -> None:
    """Train the classifier on cached pooled features of the frozen backbone."""
    cfg, model, pg = ctx.cfg, ctx.model, ctx.progress
    digest = state_dict_digest(model) if cfg.weights or cfg.pretrained else "random"
    t0 = time.perf_counter()
    views = [
        compute_features(ctx, ctx.train_idx, view=v, weights_digest=digest)
        for v in range(cfg.feature_views if cfg.augment else 1)
    ]
    x_tr = torch.from_numpy(np.concatenate(views))
    y_tr = torch.from_numpy(np.tile(ctx.rd.y[ctx.train_idx], len(views)))
    x_va = torch.from_numpy(compute_features(ctx, ctx.val_idx, view=0, weights_digest=digest))
    y_va = ctx.rd.y[ctx.val_idx]
    pg.line(
        f"[head] features of {len(x_tr) + len(x_va)} images ready in "
        f"{time.perf_counter() - t0:.1f}s (cached for later runs and trials)"
    )
    head = model.get_classifier()
    head_cpu = copy.deepcopy(head).cpu().float()
    opt, sched = make_optimizer(
        head_cpu.parameters(),
        lr=cfg.head_lr,
        weight_decay=cfg.weight_decay,
        steps_per_epoch=math.ceil(len(x_tr) / cfg.batch_size),
        epochs=cfg.head_epochs,
        warmup_epochs=cfg.lr_warmup_epochs,
    )
    weight = ctx.loss_weight()
    g = torch.Generator().manual_seed(cfg.seed)
    drop = float(getattr(model, "drop_rate", 0.2) or 0.0)
    # A linear head on pooled features is a few tiny matmuls per step: extra threads only
    # wait on each other (30x slower on a busy 2-core machine), so the loop runs on one.
    threads = torch.get_num_threads()
    if not cfg.num_threads:
        torch.set_num_threads(1)
    try:
        for epoch in range(1, cfg.head_epochs + 1):
            t_ep = time.perf_counter()
            head_cpu.train()
            perm = torch.randperm(len(x_tr), generator=g)
            total = 0.0
            for start in range(0, len(perm), cfg.batch_size):
                b = perm[start : start + cfg.batch_size]
                xb = F.dropout(x_tr[b], p=drop, training=True)
                loss = F.cross_entropy(
                    head_cpu(xb), y_tr[b], weight=weight, label_smoothing=cfg.label_smoothing
                )
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                sched.step()
                total += loss.item() * len(b)
            head_cpu.eval()
            with torch.no_grad():
                logits = head_cpu(x_va).numpy()
            val_loss, val_acc = evaluate_logits(logits, y_va)
            head.load_state_dict(head_cpu.state_dict())
            seconds = time.perf_counter() - t_ep
            row = epoch_row(
                "head",
                epoch,
                train_loss=total / len(x_tr),
                val_loss=val_loss,
                val_accuracy=val_acc,
                lr=sched.get_last_lr()[0],
                images_per_s=len(x_tr) / max(seconds, 1e-9),
                seconds=seconds,
            )
            stop = state.record(row)
            if epoch == 1 or epoch % 10 == 0 or epoch == cfg.head_epochs or stop:
                pg.line(epoch_line(row, cfg.head_epochs, seconds * (cfg.head_epochs - epoch)))
            if stop:
                pg.early_stop(cfg.patience)
                break
    finally:
        torch.set_num_threads(threads)
