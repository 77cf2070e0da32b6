"""Typed, frozen configuration for every stage, and its precedence rules.

Precedence is: dataclass defaults < YAML file < explicit overrides (CLI flags).
Unknown keys are an error (with a suggestion), values are validated once here,
and the resolved configuration is what a run folder stores in ``config.yaml``.

Fields are documented in their metadata (see :func:`option`); the command line builds
its flags from it, so a new field is a new flag without touching the CLI.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from stylecast.config_fields import (
    check_fields,
    config_to_dict,
    config_to_yaml,
    diff_configs,
    load_config,
    option,
)
from stylecast.errors import ConfigError

__all__ = [
    "ManifestColumns",
    "TrainConfig",
    "EvaluateConfig",
    "TuneConfig",
    "load_config",
    "config_to_dict",
    "config_to_yaml",
    "diff_configs",
    "option",
]

MODES = ("head", "finetune", "warmup")
PRECISIONS = ("auto", "fp32", "bf16")
UNFREEZE = ("all", "blocks")
DEVICES = ("auto", "cpu", "cuda")
# Inference backends: ONNX Runtime when `stylecast export` wrote a model matching the weights.
BACKENDS = ("auto", "torch", "onnx", "onnx-int8")
BALANCE = ("none", "weights", "sampler")
SPLIT_STRATEGIES = ("stratified", "time")
# How an ensemble's members differ: only by seed, or also by recipe (stylecast.ensemble.variants).
ENSEMBLE_RECIPES = ("seeds", "varied")
NON_NEGATIVE = "{label} must be a non-negative integer, got {value}"


def _column(default: str, what: str) -> Any:
    """A manifest column option (TrainConfig and ManifestColumns share them)."""
    error = "{label} must name a manifest column"
    return option(default, f"manifest column of {what}", check=str.strip, error=error)


_PATHS = "the image paths (relative to the manifest, or absolute)"
_LABELS = "the labels the classifier learns (e.g. season)"


@dataclass(frozen=True)
class ManifestColumns:
    """Which columns of a manifest hold the image paths and the labels."""

    path_column: str = _column("path", _PATHS)
    label_column: str = _column("label", _LABELS)

    def __post_init__(self) -> None:
        check_fields(self)


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides what a training run computes (each field's help says what)."""

    # data and split
    # CPU-first: 128 px trains ~3x faster than 224 (pass 224 on a GPU).
    img_size: int = option(
        128, "square input side in pixels (letterboxed, never cropped)", low=32, high=1024
    )
    val_fraction: float = option(
        0.15, "validation share of the data (stratified by label)", low=0.0, below=1.0
    )
    test_fraction: float = option(
        0.15, "test share of the data (stratified by label)", low=0.0, below=1.0
    )
    path_column: str = _column("path", _PATHS)
    label_column: str = _column("label", _LABELS)
    group_column: str | None = option(
        None, "manifest column whose groups (a product, a show) never straddle two splits"
    )
    drop_duplicates: bool = option(False, "keep one image of each (near-)duplicate cluster")
    split_strategy: str = option(
        "stratified",
        "stratified (by label, grouped) or time (the latest time-column values test, the "
        "ones before validate, earlier ones train)",
        choices=SPLIT_STRATEGIES,
    )
    time_column: str = option(
        "period",
        "manifest column of periods for the time split",
        check=str.strip,
        error="time_column must name a manifest column, e.g. period",
    )
    dup_threshold: int = option(
        6,
        "near-duplicate perceptual-hash distance in bits of 64 (-1 = exact file copies "
        "only); near-duplicates always share a split",
        low=-1,
        high=64,
    )
    max_leakage: int = option(
        0, "near-duplicate pairs allowed across splits before refusing", low=0
    )
    # model
    model: str = option("efficientnet_lite0", "backbone name (see `stylecast model list`)")
    pretrained: bool = option(True, "start from ImageNet weights (else random weights)")
    weights: str | None = option(
        None, "start from these weights (a .safetensors or state-dict .pth file)", metavar="FILE"
    )
    # training
    mode: str = option(
        "warmup",
        "head (frozen backbone, head on cached features), finetune (every layer) or "
        "warmup (head first, then unfreeze)",
        choices=MODES,
    )
    epochs: int = option(
        8,
        "fine-tune epochs (finetune and warmup modes; head mode fits its head over --head-epochs "
        "values of C)",
        low=1,
    )
    head_epochs: int = option(
        30,
        "head phase: in head mode how many L2 strengths C (log-spaced 1e-4 to 1e2) the "
        "logistic-regression head is fitted with, the best on validation kept; in warmup mode "
        "the AdamW epochs of the head before unfreezing",
        low=1,
    )
    unfreeze: str = option(
        "all",
        "warmup: unfreeze all at once, or blocks (last block first, one more per epoch)",
        choices=UNFREEZE,
    )
    freeze_stages: int = option(
        0,
        "fine-tune: leading backbone stages kept frozen (0 = none; the stem is stage 1; "
        "frozen stages run in eval mode and are not back-propagated, so a trial is faster)",
        low=0,
        high=16,
    )
    lr: float = option(1e-3, "learning rate of fine-tuning", above=0.0, below=10.0)
    layer_decay: float = option(
        1.0,
        "fine-tune: learning-rate factor per backbone stage from the head down (1 = one rate "
        "everywhere; e.g. 0.8: the stage below the head learns at 0.8 lr, the next at 0.64 lr, "
        "... the stem slowest)",
        above=0.0,
        high=1.0,
        note="1 = off",
    )
    head_lr: float = option(
        3e-3,
        "learning rate of the warmup head (head mode fits its logistic regression by L-BFGS)",
        above=0.0,
        below=10.0,
    )
    batch_size: int = option(32, "images per step of fine-tuning and the warmup head", low=1)
    weight_decay: float = option(
        5e-4,
        "AdamW weight decay of fine-tuning and the warmup head (head mode chooses its L2 "
        "strength on validation)",
        low=0,
    )
    label_smoothing: float = option(
        0.1,
        "label smoothing of fine-tuning and the warmup head (0 = off; head mode's logistic "
        "regression ignores it)",
        low=0.0,
        below=1.0,
    )
    lr_warmup_epochs: float = option(
        0.5, "epochs of linear lr warm-up before the cosine decay", low=0
    )
    grad_clip: float = option(1.0, "largest gradient norm of a step (0 = no clipping)", low=0)
    patience: int = option(
        3,
        "early-stopping patience in epochs (0 = off; head mode's C grid is always fitted whole)",
        low=0,
    )
    balance: str = option(
        "none",
        "class imbalance: none, weights (loss weights) or sampler (balanced batches)",
        choices=BALANCE,
    )
    augment: bool = option(True, "random crop/flip augmentation")
    color_jitter: float = option(
        0.0, "colour jitter strength (0 = off: colour is a season cue)", low=0
    )
    crop_scale: float = option(
        1.0, "smallest area a random crop keeps (1.0 = flips only)", low=0.05, high=1.0
    )
    feature_views: int = option(1, "head mode: augmented feature views per image", low=1)
    ema: float = option(
        0.0,
        "fine-tune: decay of an exponential moving average of the weights, which are then "
        "validated and kept instead of the raw ones (0 = off; e.g. 0.998)",
        low=0.0,
        below=1.0,
        note="0 = off",
    )
    precision: str = option(
        "auto",
        "auto (bf16 autocast on a GPU, and on a CPU with AMX; fp32 on other CPUs, where it "
        "trains faster), fp32 or bf16",
        choices=PRECISIONS,
    )
    device: str = option("auto", "where to train: auto, cpu or cuda", choices=DEVICES)
    compile: bool = option(
        False,
        "torch.compile the network for fine-tuning (a slow first epoch, then faster steps "
        "on a GPU; rarely worth it on a CPU)",
    )
    num_threads: int = option(0, "CPU threads (0 = torch's default)", low=0)
    seed: int = option(
        0, "random seed (split, initialisation, augmentation)", low=0, error=NON_NEGATIVE
    )
    # ensembles
    ensemble: int = option(
        1,
        "train N models on one split and average their calibrated probabilities (1 = one "
        "model); member k is an ordinary run in RUN/members/k with seed + k",
        metavar="N",
        low=1,
        high=32,
        error="{label} must be between 1 (one model) and 32 members, got {value}",
    )
    ensemble_recipes: str = option(
        "seeds",
        "how an ensemble's members differ: seeds (the same recipe, each its own seed) or "
        "varied (members also cycle through recipe variants; see docs/ensembles.md)",
        choices=ENSEMBLE_RECIPES,
    )

    def __post_init__(self) -> None:
        check_fields(self)  # types, choices and the bounds declared above
        if self.val_fraction + self.test_fraction >= 0.9:
            raise ConfigError("val_fraction + test_fraction must leave at least 10% for training")


@dataclass(frozen=True)
class EvaluateConfig:
    """How a run is evaluated."""

    batch_size: int = option(64, "images per forward pass", low=1)
    n_bootstrap: int = option(
        1000,
        "bootstrap resamples for the balanced-accuracy interval (0 = none)",
        low=0,
    )
    n_bins: int = option(15, "confidence bins of ECE and the reliability diagram", low=2)
    calibrate: bool = option(
        True,
        "fit the temperature on the validation split, kept only when it helps out of sample "
        "(else keep the one in model.json)",
    )
    gallery_size: int = option(12, "images per gallery (0 = no galleries)", low=0)
    seed: int = option(0, "bootstrap seed", low=0, error=NON_NEGATIVE)
    gradcam: bool = option(True, "Grad-CAM overlays in the galleries")
    min_calibration_images: int = option(10, "fewer validation images keep temperature 1", low=0)
    calibration_folds: int = option(
        5,
        "folds of the cross-validation on the validation split that decides whether the "
        "fitted temperature is kept",
        low=2,
    )
    caption_column: str | None = option(
        None,
        "manifest column shown under gallery photos (default: a name-like column such as "
        "productDisplayName when there is one, else the file name)",
    )
    device: str = option(
        "auto",
        "where the model runs: auto (a CUDA GPU when there is one), cpu or cuda",
        choices=DEVICES,
    )
    backend: str = option(
        "auto",
        "auto (ONNX Runtime when `stylecast export` wrote a model matching the weights, else "
        "torch), torch, onnx or onnx-int8; Grad-CAM always runs in torch",
        choices=BACKENDS,
    )
    shift_check: bool = option(
        True,
        "when scoring other data: compare its images with the training images and warn on a "
        "distribution shift",
    )

    def __post_init__(self) -> None:
        check_fields(self)


TUNE_METRICS = {"val_accuracy": "maximize", "val_loss": "minimize"}
# auto: Hyperband where trials fine-tune (its resource: fine-tune epochs), median where
# they only train a head on cached features.
TUNE_PRUNERS = ("median", "hyperband", "none", "auto")
TUNE_SPACES = ("default", "full", "head")
# The default time budget of `stylecast tune` (seconds): a study users can plan with.
TUNE_TIMEOUT = 3600.0
SPACE_ERROR = f"space must be {', '.join(repr(k) for k in TUNE_SPACES)} or a search-space YAML file"


@dataclass(frozen=True)
class TuneConfig:
    """How a hyperparameter study runs (the trials' own settings are a TrainConfig)."""

    trials: int | None = option(
        None,
        "trials this command runs (shared by its workers; default: as many as fit in "
        "--timeout); a re-run adds more",
        low=1,
    )
    timeout: float | None = option(
        TUNE_TIMEOUT,
        "time budget of this command in seconds: no trial starts after it, and a running "
        "one stops after its current epoch (a trial of the default configuration always "
        "finishes)",
        above=0.0,
    )
    workers: int = option(
        1, "processes here; other machines join with the same storage and name", low=1
    )
    metric: str = option(
        "val_accuracy",
        "objective, a trial's best epoch: val_accuracy (maximised) or val_loss (minimised)",
        choices=tuple(TUNE_METRICS),
    )
    space: str = option(
        "default",
        "search space: default (fine-tuning after a head warm-up: freeze_stages, lr, "
        "batch size, weight decay, label smoothing), head (a head on cached features, "
        "seconds a trial), full (also the mode, head and fine-tune epochs), or a YAML file",
        metavar="{default,full,head,FILE.yaml}",
        check=str.strip,
        error=SPACE_ERROR,
    )
    pruner: str = option(
        "auto",
        "stop unpromising trials early: auto = hyperband (steps: fine-tune epochs) where "
        "trials fine-tune, median where they train a head only",
        choices=TUNE_PRUNERS,
    )
    pruner_startup_trials: int = option(5, "median pruner: trials before it may prune", low=0)
    pruner_warmup_epochs: int = option(
        5, "median pruner: epochs of a trial before it may stop it", low=0
    )
    storage: str | None = option(
        None,
        "study storage: default OUT/study.db (SQLite) for one worker, OUT/study.log "
        "(Optuna's journal file: SQLite locks under parallel writers) for several; "
        "postgresql://user:pw@host/db to share a study between machines; a .log file (or "
        "journal:PATH) for a journal elsewhere",
    )
    study_name: str | None = option(
        None,
        "study name (default stylecast-<data folder name>)",
        check=str.strip,
        error="study_name must not be empty",
    )
    heartbeat_interval: int = option(
        30,
        "RDB storages: seconds between heartbeats",
        flag="--heartbeat",
        metavar="SECONDS",
        low=1,
    )
    grace_period: int | None = option(
        None, "fail a trial silent this long (default: twice the heartbeat)", metavar="SECONDS"
    )
    max_retry: int = option(
        3,
        "times a trial whose worker died (killed, machine lost: no heartbeat) is queued "
        "again with the same values (0 = never)",
        low=0,
    )
    sampler_seed: int | None = option(None, "seed of the TPE sampler (default: random)")
    retrain_best: bool = option(
        False,
        "train the best and the default configuration on train+val, evaluate each once on "
        "test, and compare them (McNemar)",
    )

    def __post_init__(self) -> None:
        check_fields(self)
        if self.trials is None and self.timeout is None:
            raise ConfigError(
                "give --trials N or --timeout SECONDS: without either the study never stops"
            )
        if self.grace_period is not None and self.grace_period <= self.heartbeat_interval:
            raise ConfigError(
                f"grace_period ({self.grace_period}s) must be longer than heartbeat_interval "
                f"({self.heartbeat_interval}s), or a live trial would be failed"
            )

    @property
    def direction(self) -> str:
        """``maximize`` or ``minimize``, from the metric."""
        return TUNE_METRICS[self.metric]
