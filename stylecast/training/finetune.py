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

from stylecast.errors import ConfigError
from stylecast.training.context import PhaseContext, epoch_line, epoch_row, evaluate_logits
from stylecast.training.optim import block_groups, make_optimizer, param_groups, set_trainable
from stylecast.training.soft import batch_pixels, distill_loss
from stylecast.training.state import TrainState
from stylecast.training.tensors import (
    amp_dtype,
    augment_batch,
    autocast_for,
    iterate_batches,
    predict_logits,
    to_input,
)

__all__ = ["batch_rows", "finetune_phase", "share"]


def _epoch_batches(
    ctx: PhaseContext, state: TrainState, batch_size: int, drop_last: bool
) -> Iterator[np.ndarray]:
    """This epoch's index batches: shuffled, or a class-balanced draw with replacement."""
    tr, y = ctx.fit_idx, ctx.rd.y
    if ctx.cfg.balance == "sampler":
        p = 1.0 / np.bincount(y[tr])[y[tr]]
        order = state.np_rng.choice(tr, size=len(tr), replace=True, p=p / p.sum())
        return iterate_batches(order, batch_size, shuffle=False, drop_last=drop_last)
    return iterate_batches(tr, batch_size, shuffle=True, rng=state.np_rng, drop_last=drop_last)


def share(n: int, rank: int, world: int) -> tuple[int, int]:
    """Rows ``[lo, hi)`` of ``n`` that process ``rank`` of ``world`` scores (contiguous,
    sizes differing by at most one)."""
    return n * rank // world, n * (rank + 1) // world


def batch_rows(rank: int, world: int) -> slice:
    """The rows of a training batch that process ``rank`` of ``world`` trains on: every
    world-th row. Not a contiguous block: a sorted batch's blocks can each hold mostly one
    class (images are stored class by class), and each process's BatchNorm would then
    normalise the class away (measured with blocks: train loss 0.59 after 2 epochs
    against 0.24 in one process; every world-th row: 0.24)."""
    return slice(rank, None, world)


def finetune_phase(ctx: PhaseContext, state: TrainState) -> None:
    """Fine-tune the network (all layers, or progressively unfrozen blocks).

    In a data-parallel job (``ctx.dist``) ``batch_size`` is the global batch: every rank
    orders the epoch with the same seeded stream (a new order every epoch, as
    ``DistributedSampler.set_epoch`` gives), takes every world-th image of each batch, and
    the loss is scaled so that the averaged gradient is the single-process one.
    """
    cfg, rd, device, pg, dist = ctx.cfg, ctx.rd, ctx.device, ctx.progress, ctx.dist
    model = dist.sync_batchnorm(ctx.model, device)  # CUDA only; replaces layers in place
    tr, va = ctx.fit_idx, ctx.val_idx
    groups = block_groups(model)
    world = dist.world_size
    bs = min(cfg.batch_size, len(tr))
    if dist.active and bs < 2 * world:
        raise ConfigError(
            f"batch size {bs} is the global batch of {world} processes: each needs at least 2 "
            f"images per step; use --batch-size {2 * world} or more, or fewer processes"
        )
    # A last batch of one sample (per process) breaks BatchNorm in training mode: drop it.
    drop_last = 0 < len(tr) % bs < 2 * world
    steps = len(tr) // bs if drop_last else math.ceil(len(tr) / bs)
    opt, sched = make_optimizer(
        param_groups(model, cfg.weight_decay, cfg.layer_decay),
        lr=cfg.lr,
        weight_decay=cfg.weight_decay,
        steps_per_epoch=steps,
        epochs=cfg.epochs,
        warmup_epochs=cfg.lr_warmup_epochs,
    )
    state.restore_optimizer(opt, sched)
    ema = _averaged(model, cfg.ema, state)
    weight = ctx.loss_weight(device)
    weight_cpu = ctx.loss_weight()
    mean, std, fill = ctx.prep.mean, ctx.prep.std, ctx.prep.fill_value
    soft, extra = ctx.soft, ctx.soft.extra_pixels if ctx.soft is not None else None
    # Extra unlabelled images (distillation) have no label: -1.
    y_all = torch.from_numpy(
        np.concatenate([rd.y, np.full(len(tr) - len(ctx.train_idx), -1, dtype=rd.y.dtype)])
    )
    teacher = None if ctx.teacher_logits is None else torch.from_numpy(ctx.teacher_logits)
    # fp16 autocast (CUDA without bf16) needs loss scaling; bf16 and fp32 do not.
    scaler = torch.amp.GradScaler(
        device.type,
        enabled=device.type == "cuda"
        and amp_dtype(device, cfg.precision, training=True) == torch.float16,
    )
    net, wrapped_for = model, -1
    epoch_times: list[float] = []
    for epoch in range(state.epoch + 1, cfg.epochs + 1):
        blockwise = cfg.unfreeze == "blocks" and cfg.mode == "warmup"
        # The leading freeze_stages groups never train; the classifier always does.
        most = max(0, len(groups) - cfg.freeze_stages)
        n_trainable = min(epoch, most) if blockwise else most
        set_trainable(model, groups, n_trainable=n_trainable)
        if n_trainable != wrapped_for:
            # DDP fixes the set of trained parameters when it wraps: wrap again when it grows.
            net, wrapped_for = _forward_module(ctx, model), n_trainable
        if dist.active:
            # Dropout differs per rank (the shared streams order and augment the batches).
            torch.manual_seed(dist.seed_for(cfg.seed, epoch))
        t_ep = time.perf_counter()
        batches = _epoch_batches(ctx, state, bs, drop_last)
        bar = pg.bar(steps * bs, f"[finetune] epoch {epoch}/{cfg.epochs}")
        total, seen = 0.0, 0
        for idx in batches:
            batch = idx[np.argsort(idx)]  # sorted: reads of the memory-mapped cache in order
            n_batch = len(batch)
            rows = batch_rows(dist.rank, world)
            mine = batch[rows]
            x = to_input(batch_pixels(rd.prepared.pixels, extra, mine), mean, std, device)
            yb = y_all[mine].to(device)
            if cfg.augment:
                x = augment_batch(
                    x,
                    state.gen,
                    scale=(cfg.crop_scale, 1.0),
                    color_jitter=cfg.color_jitter,
                    fill=fill,
                    rows=(rows, n_batch),
                )
            with autocast_for(device, cfg.precision, training=True):
                logits = net(x)
            if soft is not None:
                per_image = distill_loss(
                    logits,
                    teacher[mine].to(device),
                    yb,
                    temperature=soft.temperature,
                    alpha=soft.alpha,
                    label_smoothing=cfg.label_smoothing,
                )
            else:
                per_image = F.cross_entropy(
                    logits.float(),
                    yb,
                    weight=weight,
                    label_smoothing=cfg.label_smoothing,
                    reduction="none",
                )
            # The batch's mean loss (weighted: over the class weights of the whole batch),
            # times world: DDP averages the ranks' gradients back to the batch's gradient.
            denom = float(n_batch if weight_cpu is None else weight_cpu[y_all[batch]].sum())
            loss = per_image.sum() * (world / denom)
            opt.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            if cfg.grad_clip > 0:
                scaler.unscale_(opt)
                nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
            scaler.step(opt)
            scaler.update()
            sched.step()
            if ema is not None:
                ema.update(model, step=sched.last_epoch)  # last_epoch counts steps, resumes too
            total += per_image.sum().item() / denom * n_batch
            seen += n_batch
            if bar is not None:
                bar.update(n_batch)
                bar.set_postfix(loss=f"{total * world / seen:.3f}")
        if bar is not None:
            bar.close()
        (total,) = dist.sum([total])
        train_seconds = time.perf_counter() - t_ep
        val_loss, val_acc = _validate(ctx, model if ema is None else ema.module, va)
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
        # Every rank keeps the same history; rank 0's callback (tuning) may stop them all.
        stop = dist.agree(lambda row=row: state.record(row))
        state.epoch = epoch
        state.checkpoint(opt, sched)
        pg.line(epoch_line(row, cfg.epochs, np.mean(epoch_times) * (cfg.epochs - epoch)))
        if stop:
            pg.early_stop(cfg.patience)
            break


def _averaged(model: nn.Module, decay: float, state: TrainState) -> nn.Module | None:
    """With ``--ema``: timm's exponential moving average of ``model``'s weights and buffers
    (its decay warms up from 0 over the first steps, capped at ``decay``), restored from
    a resumed checkpoint, and handed to ``state`` to validate and keep. None when off."""
    if decay <= 0:
        return None
    from timm.utils import ModelEmaV3

    ema = ModelEmaV3(model, decay=decay, use_warmup=True)
    if state.resumed_ema is not None:
        ema.module.load_state_dict(state.resumed_ema)
    state.ema = ema.module
    return ema


def _forward_module(ctx: PhaseContext, model: nn.Module) -> nn.Module:
    """What the training steps call: the model, in DDP across processes, compiled if asked."""
    net = ctx.dist.wrap(model, ctx.device)
    if ctx.cfg.compile:
        net = torch.compile(net)
    return net


def _validate(ctx: PhaseContext, model: nn.Module, va: np.ndarray) -> tuple[float, float]:
    """Validation loss and accuracy; each rank scores its share of the images."""
    dist, prep, device = ctx.dist, ctx.prep, ctx.device
    lo, hi = share(len(va), dist.rank, dist.world_size)
    with autocast_for(device, ctx.cfg.precision, training=True):
        part = predict_logits(
            model, ctx.rd.prepared.pixels[va[lo:hi]], prep.mean, prep.std, device=device
        )
    parts = [p for p in dist.gather(part) if len(p)]
    logits = np.concatenate(parts) if parts else part
    return evaluate_logits(logits, ctx.rd.y[va])
