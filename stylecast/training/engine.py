"""Training stage: transfer learning in three modes, resumable, with honest progress.

Modes
    ``head``      backbone frozen; pooled features computed once per image (and per
                  augmented view) and cached on disk; a linear head trains on them in seconds.
    ``finetune``  every layer trains, on batches augmented as tensors.
    ``warmup``    the ``head`` phase first, then unfreeze (all at once, or block by block);
                  frozen layers keep their BatchNorm statistics (held in eval mode).

Every epoch ends with an atomic checkpoint (model, optimizer, scheduler, RNG states,
history), so ``train(..., resume=True)`` continues a killed run and ends where an
uninterrupted one would.
"""

from __future__ import annotations

import copy
import datetime as _dt
import hashlib
import math
import os
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from stylecast import __version__
from stylecast.config import TrainConfig, config_to_yaml, diff_configs, load_config
from stylecast.data import ImageCache, RunData, prepare_run_data
from stylecast.errors import ConfigError, DataError, RunError
from stylecast.fileio import atomic_path, atomic_write_json, atomic_write_text, read_json
from stylecast.models import (
    create_model,
    model_summary,
    preprocessing_for,
    save_model,
    state_dict_digest,
)
from stylecast.run import ModelInfo, Preprocessing
from stylecast.training.tensors import (
    amp_dtype,
    augment_batch,
    autocast_for,
    iterate_batches,
    predict_logits,
    to_input,
)

__all__ = ["TrainResult", "train", "EpochCallback"]

EpochCallback = Callable[[dict[str, Any]], None]
"""Called after every epoch with its history row; may raise to stop (tuning prunes this way)."""


@dataclass(frozen=True)
class TrainResult:
    """What a finished training run produced."""

    run_dir: Path
    classes: list[str]
    mode: str
    best_epoch: int
    best_phase: str
    best_val_accuracy: float
    best_val_loss: float
    history: list[dict[str, Any]]
    seconds: float
    skipped: list[dict[str, str]] = field(default_factory=list)


def _default_run_dir(data: str | os.PathLike[str]) -> Path:
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path("runs") / f"{Path(data).resolve().name}-{stamp}"


def _resolve_device(name: str) -> torch.device:
    if name == "cuda" or (name == "auto" and torch.cuda.is_available()):
        if not torch.cuda.is_available():
            raise ConfigError("device 'cuda' was asked for but no CUDA GPU is available")
        return torch.device("cuda")
    return torch.device("cpu")


class _Progress:
    """A tqdm bar within an epoch, and one line per epoch on stderr."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def bar(self, total: int, desc: str) -> Any:
        if not self.enabled:
            return None
        from tqdm.auto import tqdm

        return tqdm(total=total, desc=desc, unit="img", leave=False, file=sys.stderr)

    def line(self, text: str) -> None:
        if self.enabled:
            print(text, file=sys.stderr, flush=True)


def _fmt_eta(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds // 60}m{seconds % 60:02d}s"


def _param_groups(model: nn.Module, weight_decay: float) -> list[dict[str, Any]]:
    """No weight decay on norms and biases (a decayed BatchNorm scale only hurts)."""
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        (no_decay if p.ndim <= 1 or name.endswith(".bias") else decay).append(p)
    return [
        {"params": decay, "weight_decay": weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]


def _cosine_with_warmup(total_steps: int, warmup_steps: int) -> Callable[[int], float]:
    def factor(step: int) -> float:
        if warmup_steps > 0 and step < warmup_steps:
            return (step + 1) / warmup_steps
        progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
        return 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))

    return factor


def _block_groups(model: nn.Module) -> list[list[nn.Module]]:
    """Backbone stages from the input side: stem, each block stage, then the head."""
    blocks = getattr(model, "blocks", None)
    if blocks is None:
        return [[model]]
    stem = [m for n in ("conv_stem", "bn1") if (m := getattr(model, n, None)) is not None]
    head = [m for n in ("conv_head", "bn2") if (m := getattr(model, n, None)) is not None]
    return [stem, *[[b] for b in blocks], head]


def _set_trainable(model: nn.Module, groups: list[list[nn.Module]], n_trainable: int) -> None:
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
    for p in model.get_classifier().parameters():
        p.requires_grad_(True)


def _rng_state(np_rng: np.random.Generator, gen: torch.Generator) -> dict[str, Any]:
    return {
        "numpy": np_rng.bit_generator.state,
        "torch_gen": gen.get_state(),
        "torch": torch.get_rng_state(),
    }


def _set_rng_state(
    state: dict[str, Any], np_rng: np.random.Generator, gen: torch.Generator
) -> None:
    np_rng.bit_generator.state = state["numpy"]
    gen.set_state(state["torch_gen"])
    torch.set_rng_state(state["torch"])


def _save_checkpoint(path: Path, payload: dict[str, Any]) -> None:
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)


def _load_checkpoint(path: Path) -> dict[str, Any]:
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - a corrupt file surfaces as many error types
        raise RunError(
            f"checkpoint {path} is unreadable ({exc}); delete it to start over"
        ) from None


def _feature_cache_file(
    cache: ImageCache,
    model_name: str,
    weights_digest: str,
    img_size: int,
    digests: list[str],
    view: int,
    seed: int,
) -> Path:
    h = hashlib.blake2b(digest_size=16)
    h.update(f"{model_name}:{weights_digest}:{img_size}:{view}:{seed if view else 0}".encode())
    for d in digests:
        h.update(d.encode())
    return cache.root / "features" / f"{h.hexdigest()}.npy"


def compute_features(
    model: nn.Module,
    rd: RunData,
    indices: np.ndarray,
    prep: Preprocessing,
    *,
    view: int,
    seed: int,
    cache: ImageCache,
    weights_digest: str,
    model_name: str,
    device: torch.device,
    progress: _Progress,
    batch_size: int = 64,
) -> np.ndarray:
    """Pooled backbone features for ``indices``; view 0 is plain, views >= 1 augmented.

    Cached on disk by model, exact weights, preprocessing, view and image content, so a
    second run (or every tuning trial) reuses them.
    """
    digests = [rd.prepared.digests[i] for i in indices]
    path = _feature_cache_file(
        cache, model_name, weights_digest, prep.img_size, digests, view, seed
    )
    if path.is_file():
        return np.load(path)
    gen = torch.Generator().manual_seed(seed * 1000 + view)
    mean, std = prep.mean, prep.std
    bar = progress.bar(len(indices), f"features (view {view})")
    outs = []
    model.eval()
    with torch.inference_mode():
        for start in range(0, len(indices), batch_size):
            idx = indices[start : start + batch_size]
            x = to_input(
                rd.prepared.pixels[np.sort(idx)][np.argsort(np.argsort(idx))], mean, std, device
            )
            if view > 0:
                x = augment_batch(x, gen, fill=prep.fill_value)
            f = model.forward_head(model.forward_features(x), pre_logits=True)
            outs.append(f.float().cpu().numpy())
            if bar is not None:
                bar.update(len(idx))
    if bar is not None:
        bar.close()
    feats = np.concatenate(outs).astype(np.float32)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.save(f, feats)
    return feats


def _evaluate_logits(logits: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    t = torch.from_numpy(logits)
    loss = F.cross_entropy(t, torch.from_numpy(y)).item()
    acc = float((logits.argmax(1) == y).mean()) if len(y) else float("nan")
    return loss, acc


def _better(row: dict[str, Any], best: dict[str, Any] | None) -> bool:
    if best is None:
        return True
    if row["val_accuracy"] != best["val_accuracy"]:
        return row["val_accuracy"] > best["val_accuracy"]
    return row["val_loss"] < best["val_loss"]


def _write_metrics(run: Path, history: list[dict[str, Any]]) -> None:
    atomic_write_text(run / "metrics.csv", pd.DataFrame(history).to_csv(index=False))


def _tensorboard_writer(run: Path) -> Any:
    """A TensorBoard writer into ``run/tensorboard`` when tensorboard is installed, else None."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:  # tensorboard is an optional extra
        return None
    return SummaryWriter(log_dir=str(run / "tensorboard"))


def train(
    data: str | os.PathLike[str] | None = None,
    cfg: TrainConfig | None = None,
    out: str | os.PathLike[str] | None = None,
    *,
    resume: bool = False,
    progress: bool = True,
    on_epoch: EpochCallback | None = None,
    cache: ImageCache | None = None,
    write_summary: bool = True,
    splits_csv: str | os.PathLike[str] | None = None,
) -> TrainResult:
    """Train a classifier on ``data`` into the run folder ``out``.

    With ``resume=True``, ``out`` is an existing run: its saved config and data are used
    (a ``cfg`` or ``data`` that differ raise ``RunError`` naming the differences) and
    training continues from the last checkpoint.

    ``splits_csv`` (a run's ``splits.csv``) makes a new run use exactly that split instead
    of computing one; ``on_epoch`` is called with every epoch's history row.
    """
    t_start = time.perf_counter()
    cache = cache or ImageCache()
    if resume:
        run, cfg, data = _resume_target(out, cfg, data)
    else:
        if data is None:
            raise DataError("no data given: pass an image folder or manifest")
        cfg = cfg or TrainConfig()
        run = Path(out) if out is not None else _default_run_dir(data)
        if any((run / n).exists() for n in ("model.json", "checkpoint", "config.yaml")):
            raise RunError(
                f"{run} already holds a run; choose another --out, or continue it with --resume"
            )
    pg = _Progress(progress)
    torch.manual_seed(cfg.seed)
    if cfg.num_threads:
        torch.set_num_threads(cfg.num_threads)
    device = _resolve_device(cfg.device)

    # Everything that can fail on bad input happens before the run folder is created.
    rd = prepare_run_data(
        data,
        cfg,
        splits_csv=run / "splits.csv" if resume else splits_csv,
        cache=cache,
        progress=progress,
    )
    model = create_model(cfg.model, len(rd.classes), pretrained=cfg.pretrained, weights=cfg.weights)
    prep = preprocessing_for(cfg.model, cfg.img_size)
    created_dir = not run.exists()
    try:
        result = _train_in_run(
            run,
            rd,
            model,
            cfg,
            prep,
            data,
            device,
            pg,
            resume,
            on_epoch,
            cache,
            write_summary,
            t_start,
        )
    except BaseException:
        # A run that failed before its first checkpoint leaves nothing behind.
        if created_dir and not resume and not (run / "checkpoint").exists():
            shutil.rmtree(run, ignore_errors=True)
        raise
    return result


def _resume_target(
    out: str | os.PathLike[str] | None, cfg: TrainConfig | None, data: Any
) -> tuple[Path, TrainConfig, Any]:
    if out is None:
        raise RunError("--resume needs the run folder to continue")
    run = Path(out)
    if not (run / "config.yaml").is_file() or not (run / "run.json").is_file():
        raise RunError(f"{run} is not a stylecast run folder (no config.yaml/run.json)")
    saved = load_config(TrainConfig, run / "config.yaml")
    if cfg is not None:
        differ = diff_configs(saved, cfg)
        if differ:
            pairs = ", ".join(
                f"{k} (run: {getattr(saved, k)!r}, now: {getattr(cfg, k)!r})" for k in differ
            )
            raise RunError(f"cannot resume {run} with a different config: {pairs}")
    info = read_json(run / "run.json")
    if data is not None and Path(data).resolve() != Path(info["data"]):
        raise RunError(f"cannot resume {run} on other data: it was trained on {info['data']}")
    if (run / "model.json").is_file() and not (run / "checkpoint" / "last.pt").is_file():
        raise RunError(f"{run} is already complete; nothing to resume")
    return run, saved, info["data"]


def _train_in_run(
    run: Path,
    rd: RunData,
    model: nn.Module,
    cfg: TrainConfig,
    prep: Preprocessing,
    data: Any,
    device: torch.device,
    pg: _Progress,
    resume: bool,
    on_epoch: EpochCallback | None,
    cache: ImageCache,
    write_summary: bool,
    t_start: float,
) -> TrainResult:
    run.mkdir(parents=True, exist_ok=True)
    ckpt_dir = run / "checkpoint"
    if not resume:
        atomic_write_text(run / "config.yaml", config_to_yaml(cfg))
        atomic_write_json(
            run / "run.json",
            {
                "data": str(Path(data).resolve()),
                "data_kind": rd.dataset.kind,
                "created": _dt.datetime.now().isoformat(timespec="seconds"),
                "stylecast_version": __version__,
                "command": " ".join(sys.argv) if sys.argv and sys.argv[0] else "",
            },
        )
        splits = rd.table.drop(columns=["path"]).rename(columns={"relpath": "path"})
        cols = ["path", "label", "split"] + [
            c for c in splits.columns if c not in ("path", "label", "split")
        ]
        atomic_write_text(run / "splits.csv", splits[cols].to_csv(index=False))
        if rd.prepared.skipped:
            atomic_write_json(run / "skipped.json", rd.prepared.skipped)
        if rd.check:
            atomic_write_json(run / "data_check.json", rd.check)
        if write_summary:
            atomic_write_text(run / "model_summary.txt", model_summary(model, cfg.img_size) + "\n")

    model.to(device).to(memory_format=torch.channels_last)
    tr, va = rd.indices("train"), rd.indices("val")
    if len(va) == 0:
        # No validation split asked for: early stopping and model choice use training data.
        va = tr
    np_rng = np.random.default_rng(cfg.seed)
    gen = torch.Generator().manual_seed(cfg.seed)
    state: dict[str, Any] = {"phase": None, "epoch": 0, "history": [], "best": None, "bad": 0}
    best_weights: dict[str, torch.Tensor] | None = None
    last = ckpt_dir / "last.pt"
    ckpt: dict[str, Any] | None = None
    if resume and last.is_file():
        ckpt = _load_checkpoint(last)
        state = ckpt["state"]
        model.load_state_dict(ckpt["model"])
        _set_rng_state(ckpt["rng"], np_rng, gen)
        best_path = ckpt_dir / "best.pt"
        best_weights = _load_checkpoint(best_path) if best_path.is_file() else None
        pg.line(f"resuming {run} at {state['phase']} epoch {state['epoch']}")

    phases = {"head": ["head"], "finetune": ["finetune"], "warmup": ["head", "finetune"]}[cfg.mode]
    state.setdefault("completed", [])
    tb = _tensorboard_writer(run)
    weights_digest = None

    def checkpoint(extra: dict[str, Any] | None = None) -> None:
        nonlocal best_weights
        payload = {
            "state": state,
            "model": {k: v.detach().cpu() for k, v in model.state_dict().items()},
            "rng": _rng_state(np_rng, gen),
        } | (extra or {})
        if best_weights is not None:
            _save_checkpoint(ckpt_dir / "best.pt", best_weights)
        _save_checkpoint(last, payload)
        _write_metrics(run, state["history"])

    def record(row: dict[str, Any]) -> bool:
        """Add an epoch's row; returns whether training should stop early."""
        nonlocal best_weights
        state["history"].append(row)
        if tb is not None:
            for key in ("train_loss", "val_loss", "val_accuracy", "lr", "images_per_s"):
                tb.add_scalar(f"{row['phase']}/{key}", row[key], len(state["history"]))
            tb.flush()
        if _better(row, state["best"]):
            state["best"] = {k: row[k] for k in ("phase", "epoch", "val_accuracy", "val_loss")}
            best_weights = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
            state["bad"] = 0
        else:
            state["bad"] += 1
        if on_epoch is not None:
            on_epoch(row)
        return cfg.patience > 0 and state["bad"] >= cfg.patience

    for phase in phases:
        if phase in state["completed"]:
            continue
        if state["phase"] != phase:
            state.update(phase=phase, epoch=0, bad=0)
            ckpt = None
        if phase == "head":
            if weights_digest is None:
                weights_digest = (
                    state_dict_digest(model) if cfg.weights or cfg.pretrained else "random"
                )
            _head_phase(model, rd, cfg, prep, tr, va, device, pg, cache, weights_digest, record)
        else:
            _finetune_phase(
                model,
                rd,
                cfg,
                prep,
                tr,
                va,
                device,
                pg,
                np_rng,
                gen,
                state,
                ckpt,
                record,
                checkpoint,
            )
        state["completed"].append(phase)
        checkpoint()

    if tb is not None:
        tb.close()
    if best_weights is not None:
        model.load_state_dict(best_weights)
    best = state["best"]
    info = ModelInfo(
        name=cfg.model,
        timm_name=model.pretrained_cfg.get("architecture", cfg.model)
        if hasattr(model, "pretrained_cfg")
        else cfg.model,
        classes=tuple(rd.classes),
        preprocessing=prep,
        temperature=1.0,
        extra={
            "mode": cfg.mode,
            "best": best,
            "trained_on": str(Path(data).resolve()),
            "stylecast_version": __version__,
        },
    )
    save_model(model.cpu(), run, info)
    _write_metrics(run, state["history"])
    shutil.rmtree(ckpt_dir, ignore_errors=True)
    seconds = time.perf_counter() - t_start
    pg.line(
        f"best val_accuracy {best['val_accuracy']:.3f} ({best['phase']} epoch {best['epoch']}); "
        f"model saved to {run}"
    )
    return TrainResult(
        run_dir=run,
        classes=rd.classes,
        mode=cfg.mode,
        best_epoch=int(best["epoch"]),
        best_phase=str(best["phase"]),
        best_val_accuracy=float(best["val_accuracy"]),
        best_val_loss=float(best["val_loss"]),
        history=state["history"],
        seconds=seconds,
        skipped=rd.prepared.skipped,
    )


def _head_phase(
    model: nn.Module,
    rd: RunData,
    cfg: TrainConfig,
    prep: Preprocessing,
    tr: np.ndarray,
    va: np.ndarray,
    device: torch.device,
    pg: _Progress,
    cache: ImageCache,
    weights_digest: str,
    record: Callable[[dict[str, Any]], bool],
) -> None:
    """Train the classifier on cached pooled features of the frozen backbone."""
    feat_kw = dict(
        cache=cache,
        weights_digest=weights_digest,
        model_name=cfg.model,
        device=device,
        progress=pg,
        seed=cfg.seed,
    )
    t0 = time.perf_counter()
    views = [
        compute_features(model, rd, tr, prep, view=v, **feat_kw)
        for v in range(cfg.feature_views if cfg.augment else 1)
    ]
    x_tr = torch.from_numpy(np.concatenate(views))
    y_tr = torch.from_numpy(np.tile(rd.y[tr], len(views)))
    x_va = torch.from_numpy(compute_features(model, rd, va, prep, view=0, **feat_kw))
    y_va = rd.y[va]
    feat_seconds = time.perf_counter() - t0
    pg.line(
        f"[head] features of {len(x_tr) + len(x_va)} images ready in {feat_seconds:.1f}s "
        "(cached for later runs and trials)"
    )
    head = model.get_classifier()
    head_cpu = copy.deepcopy(head).cpu().float()
    opt = torch.optim.AdamW(head_cpu.parameters(), lr=cfg.head_lr, weight_decay=cfg.weight_decay)
    steps = math.ceil(len(x_tr) / cfg.batch_size)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, _cosine_with_warmup(steps * cfg.head_epochs, int(steps * cfg.lr_warmup_epochs))
    )
    weight = _class_weights(rd.y[tr], len(rd.classes)) if cfg.balance == "weights" else None
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
            val_loss, val_acc = _evaluate_logits(logits, y_va)
            head.load_state_dict(head_cpu.state_dict())
            seconds = time.perf_counter() - t_ep
            row = _row(
                "head",
                epoch,
                total / len(x_tr),
                val_loss,
                val_acc,
                sched.get_last_lr()[0],
                len(x_tr) / max(seconds, 1e-9),
                seconds,
            )
            stop = record(row)
            if epoch == 1 or epoch % 10 == 0 or epoch == cfg.head_epochs or stop:
                pg.line(_epoch_line(row, cfg.head_epochs, seconds * (cfg.head_epochs - epoch)))
            if stop:
                pg.line(f"early stop: val_accuracy did not improve for {cfg.patience} epochs")
                break
    finally:
        torch.set_num_threads(threads)


def _class_weights(y: np.ndarray, n_classes: int) -> torch.Tensor:
    counts = np.bincount(y, minlength=n_classes).astype(np.float64)
    w = counts.sum() / (n_classes * np.maximum(counts, 1))
    return torch.tensor(w, dtype=torch.float32)


def _row(
    phase: str,
    epoch: int,
    train_loss: float,
    val_loss: float,
    val_acc: float,
    lr: float,
    ips: float,
    seconds: float,
) -> dict[str, Any]:
    return {
        "phase": phase,
        "epoch": epoch,
        "train_loss": round(train_loss, 6),
        "val_loss": round(val_loss, 6),
        "val_accuracy": round(val_acc, 6),
        "lr": lr,
        "images_per_s": round(ips, 2),
        "seconds": round(seconds, 3),
    }


def _epoch_line(row: dict[str, Any], total_epochs: int, eta: float) -> str:
    return (
        f"[{row['phase']}] epoch {row['epoch']}/{total_epochs}  "
        f"train_loss {row['train_loss']:.4f}  "
        f"val_loss {row['val_loss']:.4f}  val_acc {row['val_accuracy']:.3f}  "
        f"{row['images_per_s']:.1f} img/s  ETA {_fmt_eta(eta)}"
    )


def _finetune_phase(
    model: nn.Module,
    rd: RunData,
    cfg: TrainConfig,
    prep: Preprocessing,
    tr: np.ndarray,
    va: np.ndarray,
    device: torch.device,
    pg: _Progress,
    np_rng: np.random.Generator,
    gen: torch.Generator,
    state: dict[str, Any],
    ckpt: dict[str, Any] | None,
    record: Callable[[dict[str, Any]], bool],
    checkpoint: Callable[..., None],
) -> None:
    """Fine-tune the network (all layers, or progressively unfrozen blocks)."""
    groups = _block_groups(model)
    bs = min(cfg.batch_size, len(tr))
    # A last batch of one sample breaks BatchNorm in training mode: drop it.
    drop_last = len(tr) % bs == 1
    steps = len(tr) // bs if drop_last else math.ceil(len(tr) / bs)
    opt = torch.optim.AdamW(_param_groups(model, cfg.weight_decay), lr=cfg.lr)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, _cosine_with_warmup(steps * cfg.epochs, int(steps * cfg.lr_warmup_epochs))
    )
    if ckpt is not None and "optimizer" in ckpt:
        opt.load_state_dict(ckpt["optimizer"])
        sched.load_state_dict(ckpt["scheduler"])
    weight = (
        _class_weights(rd.y[tr], len(rd.classes)).to(device) if cfg.balance == "weights" else None
    )
    mean, std = prep.mean, prep.std
    fill = prep.fill_value
    y_all = torch.from_numpy(rd.y)
    # fp16 autocast (CUDA without bf16) needs loss scaling; bf16 and fp32 do not.
    scaler = torch.amp.GradScaler(
        device.type,
        enabled=device.type == "cuda" and amp_dtype(device, cfg.precision) == torch.float16,
    )
    epoch_times: list[float] = []
    for epoch in range(state["epoch"] + 1, cfg.epochs + 1):
        if cfg.unfreeze == "blocks" and cfg.mode == "warmup":
            _set_trainable(model, groups, n_trainable=epoch)
        else:
            _set_trainable(model, groups, n_trainable=len(groups))
        t_ep = time.perf_counter()
        if cfg.balance == "sampler":
            p = 1.0 / np.bincount(rd.y[tr])[rd.y[tr]]
            order = np_rng.choice(tr, size=len(tr), replace=True, p=p / p.sum())
            batches = iterate_batches(order, bs, shuffle=False, drop_last=drop_last)
        else:
            batches = iterate_batches(tr, bs, shuffle=True, rng=np_rng, drop_last=drop_last)
        bar = pg.bar(steps * bs, f"[finetune] epoch {epoch}/{cfg.epochs}")
        total, seen = 0.0, 0
        for idx in batches:
            order = np.argsort(idx)
            x = to_input(rd.prepared.pixels[idx[order]], mean, std, device)
            yb = y_all[idx[order]].to(device)
            if cfg.augment:
                x = augment_batch(
                    x, gen, scale=(cfg.crop_scale, 1.0), color_jitter=cfg.color_jitter, fill=fill
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
        val_loss, val_acc = _evaluate_logits(logits, rd.y[va])
        seconds = time.perf_counter() - t_ep
        epoch_times.append(seconds)
        row = _row(
            "finetune",
            epoch,
            total / max(seen, 1),
            val_loss,
            val_acc,
            sched.get_last_lr()[0],
            seen / max(train_seconds, 1e-9),
            seconds,
        )
        stop = record(row)
        state["epoch"] = epoch
        checkpoint({"optimizer": opt.state_dict(), "scheduler": sched.state_dict()})
        pg.line(_epoch_line(row, cfg.epochs, np.mean(epoch_times) * (cfg.epochs - epoch)))
        if stop:
            pg.line(f"early stop: val_accuracy did not improve for {cfg.patience} epochs")
            break
