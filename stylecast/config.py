"""Typed, frozen configuration for every stage, and its precedence rules.

Precedence is: dataclass defaults < YAML file < explicit overrides (CLI flags).
Unknown keys are an error (with a suggestion), values are validated once here,
and the resolved configuration is what a run folder stores in ``config.yaml``.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import types
import typing
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, TypeVar

import yaml

from stylecast.errors import ConfigError

__all__ = [
    "TrainConfig",
    "EvaluateConfig",
    "TuneConfig",
    "load_config",
    "config_to_dict",
    "diff_configs",
]

MODES = ("head", "finetune", "warmup")
PRECISIONS = ("auto", "fp32", "bf16")
UNFREEZE = ("all", "blocks")
DEVICES = ("auto", "cpu", "cuda")


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides what a training run computes.

    Data and split
        img_size: square input side in pixels (images are letterboxed, never cropped).
        val_fraction, test_fraction: split ratios (stratified by label).
        group_column: manifest column whose groups never straddle two splits.
        drop_duplicates: keep one image of each near-duplicate cluster.
        split_strategy: ``stratified`` (by label, grouped) or ``time`` (the latest
        ``time_column`` values test, the ones before validate, earlier ones train).
        dup_threshold: near-duplicate perceptual-hash distance in bits of 64 (-1: exact
        file copies only); near-duplicates always share a split.
        max_leakage: near-duplicate pairs allowed across splits before training refuses.
    Model
        model: backbone name (see ``stylecast models``); pretrained: start from
        ImageNet weights; weights: a safetensors or state-dict ``.pth`` file instead.
    Training
        mode: ``head`` (frozen backbone, head on cached features), ``finetune``
        (every layer) or ``warmup`` (head first, then unfreeze).
        epochs: fine-tune epochs (``finetune``/``warmup``) or head epochs (``head``).
        head_epochs: head epochs before unfreezing in ``warmup`` mode.
        unfreeze: ``all`` at once or ``blocks`` (last block first, one more per epoch).
    """

    # data and split
    img_size: int = 128  # CPU-first: 128 px trains ~3x faster than 224 (pass 224 on a GPU)
    val_fraction: float = 0.15
    test_fraction: float = 0.15
    group_column: str | None = None
    drop_duplicates: bool = False
    split_strategy: str = "stratified"
    time_column: str = "period"
    dup_threshold: int = 6
    max_leakage: int = 0
    # model
    model: str = "efficientnet_lite0"
    pretrained: bool = True
    weights: str | None = None
    # training
    mode: str = "warmup"
    epochs: int = 8
    head_epochs: int = 30
    unfreeze: str = "all"
    lr: float = 1e-3
    head_lr: float = 3e-3
    batch_size: int = 32
    weight_decay: float = 5e-4
    label_smoothing: float = 0.1
    lr_warmup_epochs: float = 0.5
    grad_clip: float = 1.0
    patience: int = 3
    balance: str = "none"
    augment: bool = True
    color_jitter: float = 0.0
    crop_scale: float = 1.0  # smallest area a random resized crop keeps (1.0 = flips only)
    feature_views: int = 1
    precision: str = "auto"
    device: str = "auto"
    num_threads: int = 0
    seed: int = 0

    def __post_init__(self) -> None:
        _check_types(self)
        if self.img_size < 32 or self.img_size > 1024:
            raise ConfigError(f"img_size must be between 32 and 1024, got {self.img_size}")
        for name in ("val_fraction", "test_fraction"):
            v = getattr(self, name)
            if not 0.0 <= v < 1.0:
                raise ConfigError(f"{name} must be in [0, 1), got {v}")
        if self.val_fraction + self.test_fraction >= 0.9:
            raise ConfigError("val_fraction + test_fraction must leave at least 10% for training")
        _check_choice("split_strategy", self.split_strategy, ("stratified", "time"))
        if not -1 <= self.dup_threshold <= 64:
            raise ConfigError(f"dup_threshold must be between -1 and 64, got {self.dup_threshold}")
        if self.max_leakage < 0:
            raise ConfigError(f"max_leakage must not be negative, got {self.max_leakage}")
        if not self.time_column.strip():
            raise ConfigError("time_column must name a manifest column, e.g. period")
        _check_choice("mode", self.mode, MODES)
        _check_choice("precision", self.precision, PRECISIONS)
        _check_choice("unfreeze", self.unfreeze, UNFREEZE)
        _check_choice("device", self.device, DEVICES)
        _check_choice("balance", self.balance, ("none", "weights", "sampler"))
        for name in ("epochs", "head_epochs", "batch_size", "feature_views"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be at least 1, got {getattr(self, name)}")
        for name in ("lr", "head_lr"):
            if not 0.0 < getattr(self, name) < 10.0:
                raise ConfigError(
                    f"{name} must be positive and below 10, got {getattr(self, name)}"
                )
        for name in ("weight_decay", "grad_clip", "lr_warmup_epochs", "color_jitter"):
            if getattr(self, name) < 0:
                raise ConfigError(f"{name} must not be negative, got {getattr(self, name)}")
        if not 0.05 <= self.crop_scale <= 1.0:
            raise ConfigError(f"crop_scale must be in [0.05, 1], got {self.crop_scale}")
        if not 0.0 <= self.label_smoothing < 1.0:
            raise ConfigError(f"label_smoothing must be in [0, 1), got {self.label_smoothing}")
        if self.patience < 0 or self.num_threads < 0:
            raise ConfigError("patience and num_threads must not be negative")


@dataclass(frozen=True)
class EvaluateConfig:
    """How a run is evaluated.

    batch_size: images per forward pass; n_bootstrap: resamples for the 95 % intervals
    (0 = none); n_bins: confidence bins of ECE and the reliability diagram; calibrate:
    fit the temperature on the validation split (else use the one in ``model.json``);
    gallery_size: images per gallery (0 = no galleries); gradcam: Grad-CAM overlays in
    the galleries; min_calibration_images: fewer validation images keep the old
    temperature; seed: bootstrap seed.
    """

    batch_size: int = 64
    n_bootstrap: int = 1000
    n_bins: int = 15
    calibrate: bool = True
    gallery_size: int = 12
    seed: int = 0
    gradcam: bool = True
    min_calibration_images: int = 10

    def __post_init__(self) -> None:
        _check_types(self)
        if self.batch_size < 1 or self.n_bootstrap < 0 or self.n_bins < 2 or self.gallery_size < 0:
            raise ConfigError(
                "batch_size >= 1, n_bootstrap >= 0, n_bins >= 2 and gallery_size >= 0 are required"
            )


C = TypeVar("C")


def _check_choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}; got {value!r}")


def _allowed_types(annotation: Any) -> tuple[type, ...]:
    if isinstance(annotation, str):
        annotation = eval(annotation, vars(typing) | {"types": types})  # noqa: S307 - own annotations
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return tuple(t for a in typing.get_args(annotation) for t in _allowed_types(a))
    if annotation is None or annotation is type(None):
        return (type(None),)
    return (annotation,)


def _check_types(cfg: Any) -> None:
    for f in fields(cfg):
        value = getattr(cfg, f.name)
        allowed = _allowed_types(f.type)
        ok = isinstance(value, allowed) and not (isinstance(value, bool) and bool not in allowed)
        if not ok and float in allowed and isinstance(value, int) and not isinstance(value, bool):
            object.__setattr__(cfg, f.name, float(value))  # YAML writes 1 for 1.0
            ok = True
        if not ok:
            names = " or ".join("null" if t is type(None) else t.__name__ for t in allowed)
            raise ConfigError(f"{f.name} must be {names}, got {value!r}")


def _coerce(cls: type, key: str, value: Any) -> Any:
    """Turn a CLI/YAML string into the field's type (YAML already types most values)."""
    if not isinstance(value, str):
        return value
    allowed = _allowed_types({f.name: f.type for f in fields(cls)}[key])
    if type(None) in allowed and value.lower() in ("none", "null", ""):
        return None
    if bool in allowed:
        if value.lower() in ("1", "true", "yes", "on"):
            return True
        if value.lower() in ("0", "false", "no", "off"):
            return False
    for t in (int, float):
        if t in allowed:
            try:
                return t(value)
            except ValueError:
                continue
    return value


def _check_keys(cls: type, keys: typing.Iterable[str], where: str) -> None:
    valid = [f.name for f in fields(cls)]
    for key in keys:
        if key not in valid:
            close = difflib.get_close_matches(key, valid, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ConfigError(
                f"unknown key {key!r} in {where}{hint}; valid keys: {', '.join(valid)}"
            )


def load_config(
    cls: type[C],
    path: str | os.PathLike[str] | None = None,
    overrides: dict[str, Any] | None = None,
) -> C:
    """Build ``cls`` from defaults, then the YAML file at ``path``, then ``overrides``.

    ``None`` values in ``overrides`` mean "not given" (an unset CLI flag) and are skipped.
    """
    values: dict[str, Any] = {}
    if path is not None:
        p = Path(path)
        if not p.is_file():
            raise ConfigError(f"config file {p} does not exist")
        try:
            loaded = yaml.safe_load(p.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise ConfigError(f"config file {p} is not valid YAML: {exc}") from None
        if loaded is None:
            loaded = {}
        if not isinstance(loaded, dict):
            raise ConfigError(f"config file {p} must hold a mapping of key: value")
        _check_keys(cls, loaded, str(p))
        values.update({k: _coerce(cls, k, v) for k, v in loaded.items()})
    given = {k: v for k, v in (overrides or {}).items() if v is not None}
    _check_keys(cls, given, "the options")
    values.update({k: _coerce(cls, k, v) for k, v in given.items()})
    try:
        return cls(**values)
    except TypeError as exc:  # pragma: no cover - keys are checked above
        raise ConfigError(str(exc)) from None


def config_to_dict(cfg: Any) -> dict[str, Any]:
    return dataclasses.asdict(cfg)


def config_to_yaml(cfg: Any) -> str:
    return yaml.safe_dump(config_to_dict(cfg), sort_keys=False)


def diff_configs(a: Any, b: Any, ignore: typing.Iterable[str] = ()) -> list[str]:
    """Names of fields whose values differ between two configs of one class."""
    da, db = config_to_dict(a), config_to_dict(b)
    return [k for k in da if k not in set(ignore) and da[k] != db.get(k)]


TUNE_METRICS = {"val_accuracy": "maximize", "val_loss": "minimize"}
TUNE_PRUNERS = ("median", "hyperband", "none")


@dataclass(frozen=True)
class TuneConfig:
    """How a hyperparameter study runs (the trials' own settings are a TrainConfig).

    trials: trials this command runs (split over ``workers``); re-running adds more.
    timeout: seconds after which each worker starts no new trial (None = no limit).
    workers: processes on this machine; other machines join with the same storage and name.
    metric: ``val_accuracy`` (maximised) or ``val_loss`` (minimised), best epoch of a trial.
    space: ``default`` (head mode unless the mode is fixed: head lr, batch size, weight
        decay, head epochs, label smoothing), ``full`` (also mode, lr and fine-tune epochs)
        or a YAML search-space file.
    pruner: ``median``, ``hyperband`` or ``none``; pruner_startup_trials and
        pruner_warmup_epochs: trials and epochs before the median pruner may prune.
    storage: None (``OUT/study.db``, SQLite), an RDB URL (``postgresql://...``,
        ``sqlite:///...``), a ``.db`` file, or a journal file (``journal:PATH`` / ``.log``).
    study_name: None = ``stylecast-<data folder name>``.
    heartbeat_interval, grace_period: seconds; an RDB trial without a heartbeat for
        ``grace_period`` (default twice the interval) is failed so it never blocks the study.
    sampler_seed: seed of the TPE sampler (None = random).
    retrain_best: train the best configuration on train+val and evaluate once on test.
    """

    trials: int = 20
    timeout: float | None = None
    workers: int = 1
    metric: str = "val_accuracy"
    space: str = "default"
    pruner: str = "median"
    pruner_startup_trials: int = 5
    pruner_warmup_epochs: int = 5
    storage: str | None = None
    study_name: str | None = None
    heartbeat_interval: int = 30
    grace_period: int | None = None
    sampler_seed: int | None = None
    retrain_best: bool = False

    def __post_init__(self) -> None:
        _check_types(self)
        _check_choice("metric", self.metric, tuple(TUNE_METRICS))
        _check_choice("pruner", self.pruner, TUNE_PRUNERS)
        for name in ("trials", "workers", "heartbeat_interval"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be at least 1, got {getattr(self, name)}")
        for name in ("pruner_startup_trials", "pruner_warmup_epochs"):
            if getattr(self, name) < 0:
                raise ConfigError(f"{name} must not be negative, got {getattr(self, name)}")
        if self.timeout is not None and self.timeout <= 0:
            raise ConfigError(f"timeout must be positive seconds, got {self.timeout}")
        if self.grace_period is not None and self.grace_period <= self.heartbeat_interval:
            raise ConfigError(
                f"grace_period ({self.grace_period}s) must be longer than heartbeat_interval "
                f"({self.heartbeat_interval}s), or a live trial would be failed"
            )
        if not self.space.strip():
            raise ConfigError("space must be 'default', 'full' or a search-space YAML file")
        if self.study_name is not None and not self.study_name.strip():
            raise ConfigError("study_name must not be empty")

    @property
    def direction(self) -> str:
        """``maximize`` or ``minimize``, from the metric."""
        return TUNE_METRICS[self.metric]
