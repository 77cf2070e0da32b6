"""The fine-tune phase: every layer (or progressively unfrozen blocks) trains on batches of
decoded pixels augmented as tensors, with a checkpoint after every epoch."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from stylecast.training.context import PhaseContext, epoch_line, epoch_row, evaluate_logits
from stylecast.training.optim import block_groups, make_optimizer, param_groups, set_trainable
from stylecast.training.state import TrainState
from stylecast.training.tensors import (
    amp_dtype,
    augment_batch,
    autocast_for,
    iterate_batches,
    predict_logits,
    to_input,
)

__all__ = ["finetune_phase"]


def _epoch_batches(
    ctx: PhaseContext, state: TrainState, batch_size: int, drop_last: bool
) -> Iterator[np.ndarray]:
    """This epoch's index batches: shuffled, or a class-balanced draw with replacement."""
    tr, y = ctx.train_idx, ctx.rd.y
    if ctx.cfg.balance == "sampler":
        p = 1.0 / np.bincount(y[tr])[y[tr]]
        order = state.np_rng.choice(tr, size=len(tr), replace=True, p=p / p.sum())
        return iterate_batches(order, batch_size, shuffle=False, drop_last=drop_last)
    return iterate_batches(tr, batch_size, shuffle=True, rng=state.np_rng, drop_last=drop_last)


def finetune_phase(ctx: PhaseContext, state: TrainState) -> None:
    """Fine-tune the network (all layers, or progressively unfrozen blocks)."""
    cfg, model, rd, device, pg = ctx.cfg, ctx.model, ctx.rd, ctx.device, ctx.progress
    tr, va = ctx.train_idx, ctx.val_idx
    groups = block_groups(model)
    bs = min(cfg.batch_size, len(tr))
    # A last batch of one sample breaks BatchNorm in training mode: drop it.
    drop_last = len(tr) % bs == 1
    steps = len(tr) // bs if drop_last else math.ceil(len(tr) / bs)
    opt, sched = make_optimizer(
        param_groups(model, cfg.weight_decay),
        lr=cfg.lr,
        weight_decay=cfg.weight_decay,
        steps_per_epoch=steps,
        epochs=cfg.epochs,
        warmup_epochs=cfg.lr_warmup_epochs,
    )
    state.restore_optimizer(opt, sched)
    weight = ctx.loss_weight(device)
    mean, std, fill = ctx.prep.mean, ctx.prep.std, ctx.prep.fill_value
    y_all = torch.from_numpy(rd.y)
    # fp16 autocast (CUDA without bf16) needs loss scaling; bf16 and fp32 do not.
    scaler = torch.amp.GradScaler(
        device.type,
        enabled=device.type == "cuda" and amp_dtype(device, cfg.precision) == torch.float16,
    )
    epoch_times: list[float] = []
    for epoch in range(state.epoch + 1, cfg.epochs + 1):
        blockwise = cfg.unfreeze == "blocks" and cfg.mode == "warmup"
        # The leading freeze_stages groups never train; the classifier always does.
        most = max(0, len(groups) - cfg.freeze_stages)
        set_trainable(model, groups, n_trainable=min(epoch, most) if blockwise else most)
        t_ep = time.perf_counter()
        batches = _epoch_batches(ctx, state, bs, drop_last)
        bar = pg.bar(steps * bs, f"[finetune] epoch {epoch}/{cfg.epochs}")
        total, seen = 0.0, 0
        for idx in batches:
            order = np.argsort(idx)
            x = to_input(rd.prepared.pixels[idx[order]], mean, std, device)
            yb = y_all[idx[order]].to(device)
            if cfg.augment:
                x = augment_batch(
                    x,
                    state.gen,
                    scale=(cfg.crop_scale, 1.0),
                    color_jitter=cfg.color_jitter,
                    fill=fill,
                )
            with autocast_for(device, cfg.precision):
                logits = model(x)
            loss = F.cross_entropy(
                logits.float(), yb, weight=weight, label_smoothing=cfg.label_smoothing
            )
            opt.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            if cfg.grad_clip > 0:
                scaler.unscale_(opt)
                nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
            scaler.step(opt)
            scaler.update()
            sched.step()
            total += loss.item() * len(idx)
            seen += len(idx)
            if bar is not None:
                bar.update(len(idx))
                bar.set_postfix(loss=f"{total / seen:.3f}")
        if bar is not None:
            bar.close()
        train_seconds = time.perf_counter() - t_ep
        with autocast_for(device, cfg.precision):
            logits = predict_logits(model, rd.prepared.pixels[va], mean, std, device=device)
        val_loss, val_acc = evaluate_logits(logits, rd.y[va])
        seconds = time.perf_counter() - t_ep
        epoch_times.append(seconds)
        row = epoch_row(
            "finetune",
            epoch,
            train_loss=total / max(seen, 1),
            val_loss=val_loss,
            val_accuracy=val_acc,
            lr=sched.get_last_lr()[0],
            images_per_s=seen / max(train_seconds, 1e-9),
            seconds=seconds,
        )
        stop = state.record(row)
        state.epoch = epoch
        state.checkpoint(opt, sched)
        pg.line(epoch_line(row, cfg.epochs, np.mean(epoch_times) * (cfg.epochs - epoch)))
        if stop:
            pg.early_stop(cfg.patience)
            break
