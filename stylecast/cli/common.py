"""Flags shared by several subcommands (train, tune) and their mapping onto TrainConfig."""

from __future__ import annotations

import argparse
from typing import Any

from stylecast.config import MODES


def add_train_options(p: argparse.ArgumentParser) -> None:
    """The training flags; each maps onto a TrainConfig key (defaults < --config < flags)."""
    g = p.add_argument_group("training (defaults < --config FILE < these flags)")
    g.add_argument("--config", metavar="FILE.yaml", help="YAML file of TrainConfig keys")
    g.add_argument(
        "--model", help="backbone name (default efficientnet_lite0; see `stylecast model list`)"
    )
    g.add_argument(
        "--weights", metavar="FILE", help="start from these weights (.safetensors or .pth)"
    )
    g.add_argument(
        "--no-pretrained",
        dest="pretrained",
        action="store_const",
        const=False,
        help="start from random weights",
    )
    g.add_argument("--mode", choices=MODES, help="head | finetune | warmup (default warmup)")
    g.add_argument(
        "--freeze", action="store_true", help="freeze the backbone: the talk's name for --mode head"
    )
    g.add_argument(
        "--unfreeze",
        choices=("all", "blocks"),
        help="warmup: unfreeze all at once or block by block",
    )
    g.add_argument("--epochs", type=int, help="fine-tune epochs (head epochs in head mode)")
    g.add_argument("--head-epochs", type=int, help="head epochs before unfreezing (warmup)")
    g.add_argument("--lr", type=float, help="learning rate")
    g.add_argument("--head-lr", type=float, help="learning rate of the head phase")
    g.add_argument("--batch-size", type=int, help="images per step")
    g.add_argument("--weight-decay", type=float, help="AdamW weight decay")
    g.add_argument("--label-smoothing", type=float, help="label smoothing (0 = off)")
    g.add_argument("--patience", type=int, help="early stopping patience in epochs (0 = off)")
    g.add_argument("--img-size", type=int, help="input side in pixels (letterboxed)")
    g.add_argument("--val-fraction", type=float, help="validation share of the data")
    g.add_argument("--test-fraction", type=float, help="test share of the data")
    g.add_argument("--group-column", help="manifest column whose groups never straddle splits")
    g.add_argument(
        "--drop-duplicates",
        dest="drop_duplicates",
        action="store_const",
        const=True,
        help="keep one image of each (near-)duplicate cluster",
    )
    g.add_argument(
        "--split-strategy",
        choices=("stratified", "time"),
        help="stratified (default) or time: the latest --time-column values test",
    )
    g.add_argument("--time-column", help="column of periods for --split-strategy time (period)")
    g.add_argument(
        "--dup-threshold",
        type=int,
        help="near-duplicate phash distance, bits of 64 (default 6; -1 = exact copies only)",
    )
    g.add_argument(
        "--max-leakage", type=int, help="near-duplicate pairs allowed across splits (default 0)"
    )
    g.add_argument(
        "--balance", choices=("none", "weights", "sampler"), help="handle class imbalance"
    )
    g.add_argument(
        "--no-augment",
        dest="augment",
        action="store_const",
        const=False,
        help="no crop/flip augmentation",
    )
    g.add_argument(
        "--crop-scale",
        type=float,
        help="smallest image area a random crop keeps (default 1.0 = flips only; e.g. 0.7)",
    )
    g.add_argument(
        "--color-jitter", type=float, help="colour jitter strength (off: colour is a season cue)"
    )
    g.add_argument("--feature-views", type=int, help="head mode: augmented feature views per image")
    g.add_argument("--precision", choices=("auto", "fp32", "bf16"), help="bf16 autocast where fast")
    g.add_argument("--device", choices=("auto", "cpu", "cuda"))
    g.add_argument("--num-threads", type=int, help="CPU threads (0 = torch default)")
    g.add_argument("--seed", type=int, help="random seed (splits, init, augmentation)")


_KEYS = (
    "model",
    "weights",
    "pretrained",
    "mode",
    "unfreeze",
    "epochs",
    "head_epochs",
    "lr",
    "head_lr",
    "batch_size",
    "weight_decay",
    "label_smoothing",
    "patience",
    "img_size",
    "val_fraction",
    "test_fraction",
    "group_column",
    "drop_duplicates",
    "split_strategy",
    "time_column",
    "dup_threshold",
    "max_leakage",
    "balance",
    "augment",
    "color_jitter",
    "crop_scale",
    "feature_views",
    "precision",
    "device",
    "num_threads",
    "seed",
)


def train_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """The flags the user actually gave, as TrainConfig keys (unset flags are None)."""
    values = {k: getattr(args, k, None) for k in _KEYS}
    if getattr(args, "freeze", False):
        values["mode"] = "head"
    return values
