"""The head of a warmup run: a linear classifier trained by AdamW (with dropout) on cached
pooled features, as the starting point of fine-tuning.

Head-only runs fit a standardised logistic regression (:mod:`stylecast.training.head`);
warmup keeps this recipe because its head is a gentle start for fine-tuning: folding a
per-feature standardisation into the linear layer multiplies low-variance features by up to
1/std, and once the backbone moves those features the logits jump. Measured on fpi-season
(grouped split, 537 test images): warmup from this head 0.825, from the folded logistic
regression 0.728 (docs/benchmarks.md).
"""

from __future__ import annotations

import copy
import math
import time

import numpy as np
import torch
import torch.nn.functional as F

from stylecast.training.context import PhaseContext, epoch_line, epoch_row, evaluate_logits
from stylecast.training.features import compute_features, weights_key
from stylecast.training.optim import make_optimizer
from stylecast.training.state import TrainState

__all__ = ["adamw_head"]


def adamw_head(ctx: PhaseContext, state: TrainState, x_tr: np.ndarray, y_tr: np.ndarray) -> None:
    """Train ``ctx.model``'s classifier on features ``x_tr`` (labels ``y_tr``) for
    ``head_epochs``, one history row per epoch, scored on the validation features."""
    cfg, model, pg = ctx.cfg, ctx.model, ctx.progress
    x_train, y_train = torch.from_numpy(x_tr), torch.from_numpy(y_tr)
    x_va = torch.from_numpy(
        compute_features(ctx, ctx.val_idx, view=0, weights_digest=weights_key(model, cfg))
    )
    y_va = ctx.rd.y[ctx.val_idx]
    head = model.get_classifier()
    head_cpu = copy.deepcopy(head).cpu().float()
    opt, sched = make_optimizer(
        head_cpu.parameters(),
        lr=cfg.head_lr,
        weight_decay=cfg.weight_decay,
        steps_per_epoch=math.ceil(len(x_train) / cfg.batch_size),
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
            perm = torch.randperm(len(x_train), generator=g)
            total = 0.0
            for start in range(0, len(perm), cfg.batch_size):
                b = perm[start : start + cfg.batch_size]
                xb = F.dropout(x_train[b], p=drop, training=True)
                loss = F.cross_entropy(
                    head_cpu(xb), y_train[b], weight=weight, label_smoothing=cfg.label_smoothing
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
                train_loss=total / len(x_train),
                val_loss=val_loss,
                val_accuracy=val_acc,
                lr=sched.get_last_lr()[0],
                images_per_s=len(x_train) / max(seconds, 1e-9),
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
