"""Search spaces for tuning: the presets, the YAML file format, validation and sampling.

A space maps TrainConfig keys to distributions. YAML form (one entry per parameter)::

    extends: head               # optional: start from a preset, then override per key
    head_lr: {type: float, low: 1.0e-3, high: 3.0e-2, log: true}
    batch_size: {type: int, low: 16, high: 64, step: 8}
    mode: {type: categorical, choices: [head, warmup]}
    label_smoothing: [0.0, 0.1]   # a list is shorthand for categorical choices
    weight_decay: null            # with ``extends``: drop a preset parameter

Every bound and choice is checked against TrainConfig up front, so a bad space fails
before the first trial with a message naming the key, never as a row of FAIL trials.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from stylecast.config import TrainConfig
from stylecast.errors import ConfigError
from stylecast.tuning.space_file import FORBIDDEN, ParamSpec, bad, load_space_file

__all__ = [
    "ParamSpec",
    "PRESETS",
    "FORBIDDEN",
    "default_params",
    "outside_space",
    "resolve_space",
    "space_modes",
    "suggest",
    "space_to_json",
]

# Keys that only matter when the backbone trains, or only when the head trains on features:
# they are not sampled in trials whose mode ignores them (cleaner importances, fewer dims).
FINETUNE_ONLY = frozenset(
    {"lr", "epochs", "unfreeze", "grad_clip", "color_jitter", "freeze_stages"}
)
HEAD_ONLY = frozenset({"head_lr", "head_epochs", "feature_views"})
# What a head-mode fit ignores: its head is a convex solver (L-BFGS over a grid of C) on
# cached features, with no learning rate, batches, weight decay or smoothed labels
# (stylecast/training/head.py). Only the warm-up mode's AdamW head uses them.
HEAD_FIT_IGNORES = frozenset({"head_lr", "batch_size", "weight_decay", "label_smoothing"})


def _f(low: float, high: float, log: bool = False) -> ParamSpec:
    return ParamSpec("float", low, high, log)


def _i(low: int, high: int, log: bool = False) -> ParamSpec:
    return ParamSpec("int", low, high, log)


# The talk's search, on real fine-tuning (warm-up mode: head first, then fine-tune): how
# much of the backbone stays frozen, the usual three (lr, batch size, weight decay) and
# label smoothing. Every range holds TrainConfig's default, so the study's first trial can
# be exactly `stylecast train`'s configuration.
_FINETUNE = {
    "freeze_stages": _i(0, 6),  # of 9 groups: stem, 7 block stages, conv_head
    "lr": _f(3e-4, 3e-3, log=True),
    "batch_size": ParamSpec("int", 16, 48, step=8),
    "weight_decay": _f(1e-4, 3e-3, log=True),
    "label_smoothing": _f(0.0, 0.2),
}
# A linear head on the frozen backbone's cached features: seconds a trial, but it cannot
# reach what fine-tuning reaches. A head-mode trial searches only what its fit uses: the
# size of the C grid and the class weights (the fit picks C itself, on the validation
# split); the others apply only where the mode is fixed to train (head_lr in warm-up,
# lr/epochs where the backbone trains). feature_views can be added in a space file.
_HEAD = {
    "head_epochs": _i(10, 60),
    "balance": ParamSpec("categorical", choices=("none", "weights")),
    "head_lr": _f(1e-3, 3e-2, log=True),
    "lr": _f(1e-4, 3e-3, log=True),
    "batch_size": _i(16, 64, log=True),
    "weight_decay": _f(1e-5, 1e-2, log=True),
    "epochs": _i(2, 8),
    "label_smoothing": _f(0.0, 0.2),
}
PRESETS: dict[str, dict[str, ParamSpec]] = {
    "default": dict(_FINETUNE),
    "full": {
        "mode": ParamSpec("categorical", choices=("head", "warmup", "finetune")),
        **_HEAD,
        **_FINETUNE,
    },
    "head": dict(_HEAD),
}
# The mode a preset's trials train in unless the mode is fixed or searched (the default
# preset keeps TrainConfig's: warm-up, then fine-tune).
PRESET_MODES = {"head": "head"}


def _edges(spec: ParamSpec) -> list[Any]:
    return list(spec.choices) if spec.kind == "categorical" else [spec.low, spec.high]


def _validate_against(where: str, space: Mapping[str, ParamSpec], base: TrainConfig) -> None:
    """Every bound and choice must make a valid TrainConfig (else every trial would FAIL)."""
    for key, spec in space.items():
        for v in _edges(spec):
            try:
                dataclasses.replace(base, **{key: v})
            except ConfigError as exc:
                raise bad(where, f"parameter {key!r}: value {v!r} is not allowed ({exc})") from None


def resolve_space(
    space: str, base: TrainConfig, fixed: Iterable[str]
) -> tuple[dict[str, ParamSpec], TrainConfig]:
    """The space to search and the base config of every trial.

    ``space`` is a preset name or a YAML file. Keys the user ``fixed`` are dropped from
    it. Unless the mode is fixed or searched, trials train in the preset's mode: ``head``
    for the head preset (and a file that extends it), else the base config's own.
    """
    fixed = set(fixed)
    if space in PRESETS:
        where, preset = f"preset {space!r}", space
        resolved = dict(PRESETS[space])
    else:
        p = Path(space).expanduser()
        if not p.is_file():
            raise ConfigError(
                f"--space must be {' or '.join(repr(k) for k in PRESETS)} or a search-space "
                f"YAML file; {p} does not exist"
            )
        where = str(p)
        resolved, preset = load_space_file(p, PRESETS)
    resolved = {k: v for k, v in resolved.items() if k not in fixed}
    forced = PRESET_MODES.get(preset or "")
    if forced and "mode" not in resolved and "mode" not in fixed and base.mode != forced:
        base = dataclasses.replace(base, mode=forced)
    modes = space_modes(resolved, base)
    for m in modes:
        if m not in ("head", "warmup", "finetune"):
            raise bad(where, f"parameter 'mode': unknown mode {m!r}")
    # Drop what no trial's mode would ever use, so the study shows only real parameters.
    given = dict(resolved)
    unused = frozenset.intersection(*(_unused(m) for m in modes))
    resolved = {k: v for k, v in resolved.items() if k not in unused}
    if not resolved:
        if given and modes == {"head"}:
            raise ConfigError(
                f"nothing to tune: a head-mode fit (a convex solver on cached features) uses "
                f"none of {', '.join(sorted(given))} ({where}); pass --space head (head_epochs, "
                "balance)"
            )
        raise ConfigError(
            f"nothing to tune: every parameter of the search space ({where}) is fixed by the "
            "options or the --config file; fix fewer keys or pass another --space"
        )
    _validate_against(where, resolved, base)
    return resolved, base


def space_modes(space: Mapping[str, ParamSpec], base: TrainConfig) -> set[str]:
    """The modes the study's trials train in (searched, or the base config's)."""
    return set(space["mode"].choices) if "mode" in space else {base.mode}


def _unused(mode: str) -> frozenset[str]:
    """The keys a trial of ``mode`` ignores."""
    if mode == "head":
        return FINETUNE_ONLY | HEAD_FIT_IGNORES
    if mode == "finetune":
        return HEAD_ONLY
    return frozenset()


def _active(space: Mapping[str, ParamSpec], mode: str) -> list[str]:
    """The keys a trial of ``mode`` samples (mode first: it decides which others apply)."""
    keys = ["mode"] if "mode" in space else []
    unused = _unused(mode)
    keys += [key for key in space if key != "mode" and key not in unused]
    return keys


def suggest(trial: Any, space: Mapping[str, ParamSpec], base: TrainConfig) -> dict[str, Any]:
    """Sample one trial's parameters (mode first: it decides which others apply)."""
    params: dict[str, Any] = {}
    mode = base.mode
    if "mode" in space:
        mode = _suggest_one(trial, "mode", space["mode"])
    for key in _active(space, mode):
        params[key] = mode if key == "mode" else _suggest_one(trial, key, space[key])
    return params


def default_params(space: Mapping[str, ParamSpec], base: TrainConfig) -> dict[str, Any]:
    """What ``base`` (``stylecast train``'s configuration) sets for every sampled key.

    Enqueued as a study's first trial, these make the defaults the baseline to beat.
    """
    return {k: getattr(base, k) for k in _active(space, base.mode)}


def _contains(spec: ParamSpec, value: Any) -> bool:
    if spec.kind == "categorical":
        return value in spec.choices
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    if not spec.low <= value <= spec.high:
        return False
    if spec.step is None:
        return True
    k = (value - spec.low) / spec.step
    return abs(k - round(k)) < 1e-9


def outside_space(space: Mapping[str, ParamSpec], params: Mapping[str, Any]) -> list[str]:
    """``key=value`` of every value in ``params`` that ``space`` cannot produce."""
    return [f"{k}={v!r}" for k, v in params.items() if not _contains(space[k], v)]


def _suggest_one(trial: Any, key: str, spec: ParamSpec) -> Any:
    if spec.kind == "categorical":
        return trial.suggest_categorical(key, list(spec.choices))
    if spec.kind == "int":
        return trial.suggest_int(key, spec.low, spec.high, step=spec.step or 1, log=spec.log)
    return trial.suggest_float(key, spec.low, spec.high, step=spec.step, log=spec.log)


def space_to_json(space: Mapping[str, ParamSpec]) -> dict[str, Any]:
    """The space as plain values (stored in the study, compared when it is continued)."""
    return {k: v.to_dict() for k, v in space.items()}
