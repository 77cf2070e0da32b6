"""Search spaces for tuning: the presets, the YAML file format, validation and sampling.

A space maps TrainConfig keys to distributions. YAML form (one entry per parameter)::

    extends: default            # optional: start from a preset, then override per key
    head_lr: {type: float, low: 1.0e-3, high: 3.0e-2, log: true}
    batch_size: {type: int, low: 16, high: 64, step: 8}
    mode: {type: categorical, choices: [head, warmup]}
    label_smoothing: [0.0, 0.1]   # a list is shorthand for categorical choices
    weight_decay: null            # with ``extends``: drop a preset parameter

Every bound and choice is checked against TrainConfig up front, so a bad space fails
before the first trial with a message naming the key, never as a row of FAIL trials.
"""

from __future__ import annotations

import contextlib
import dataclasses
import difflib
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from stylecast.config import TrainConfig
from stylecast.errors import ConfigError

__all__ = ["ParamSpec", "PRESETS", "FORBIDDEN", "resolve_space", "suggest", "space_to_json"]

KINDS = ("float", "int", "categorical")
SPEC_KEYS = ("type", "low", "high", "log", "step", "choices")

# Every trial must see the same split (and the same machine settings), or trial values
# would not be comparable: these keys can be fixed, never searched.
FORBIDDEN = {
    "val_fraction": "every trial must use the same split",
    "test_fraction": "every trial must use the same split",
    "group_column": "every trial must use the same split",
    "drop_duplicates": "every trial must use the same split",
    "split_strategy": "every trial must use the same split",
    "time_column": "every trial must use the same split",
    "dup_threshold": "every trial must use the same split",
    "max_leakage": "every trial must use the same split",
    "seed": "every trial must use the same split (the seed decides it)",
    "device": "it is a machine setting, not a hyperparameter",
    "num_threads": "it is a machine setting, not a hyperparameter",
}
# Keys that only matter when the backbone trains, or only when the head trains on features:
# they are not sampled in trials whose mode ignores them (cleaner importances, fewer dims).
FINETUNE_ONLY = frozenset({"lr", "epochs", "unfreeze", "grad_clip", "color_jitter"})
HEAD_ONLY = frozenset({"head_lr", "head_epochs", "feature_views"})


@dataclass(frozen=True)
class ParamSpec:
    """One parameter's distribution."""

    kind: str  # "float", "int" or "categorical"
    low: float | int | None = None
    high: float | int | None = None
    log: bool = False
    step: float | int | None = None
    choices: tuple[Any, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        """The YAML form of this parameter (what a space file holds)."""
        if self.kind == "categorical":
            return {"type": "categorical", "choices": list(self.choices)}
        d: dict[str, Any] = {"type": self.kind, "low": self.low, "high": self.high}
        if self.log:
            d["log"] = True
        if self.step is not None:
            d["step"] = self.step
        return d

    def describe(self) -> str:
        """One short line, e.g. ``float [0.001, 0.03] log``."""
        if self.kind == "categorical":
            return "{" + ", ".join(map(str, self.choices)) + "}"
        scale = " log" if self.log else ""
        return f"{self.kind} [{self.low:g}, {self.high:g}]{scale}"


def _f(low: float, high: float, log: bool = False) -> ParamSpec:
    return ParamSpec("float", low, high, log)


def _i(low: int, high: int, log: bool = False) -> ParamSpec:
    return ParamSpec("int", low, high, log)


_DEFAULT = {
    # The usual three (lr, batch size, weight decay), plus what matters for a head on
    # cached features (its own lr and epochs) and label smoothing.
    "head_lr": _f(1e-3, 3e-2, log=True),
    "lr": _f(1e-4, 3e-3, log=True),
    "batch_size": _i(16, 64, log=True),
    "weight_decay": _f(1e-5, 1e-2, log=True),
    "head_epochs": _i(10, 60),
    "epochs": _i(2, 8),
    "label_smoothing": _f(0.0, 0.2),
}
PRESETS: dict[str, dict[str, ParamSpec]] = {
    "default": dict(_DEFAULT),
    # Fine-tuning trials cost minutes each on a CPU, so the mode is searched only on request.
    "full": {"mode": ParamSpec("categorical", choices=("head", "warmup", "finetune")), **_DEFAULT},
}
TRAIN_KEYS = tuple(f.name for f in dataclasses.fields(TrainConfig))


def _bad(where: str, msg: str) -> ConfigError:
    return ConfigError(f"search space {where}: {msg}")


def _number(where: str, key: str, what: str, value: Any) -> float | int:
    # PyYAML reads 1e-3 (no dot) as a string: accept it as the number a user meant.
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            value = float(value)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _bad(where, f"parameter {key!r}: {what} must be a number, got {value!r}")
    return value


def parse_spec(where: str, key: str, raw: Any) -> ParamSpec:
    """One parameter's entry of a YAML space (a mapping, or a list of choices)."""
    if isinstance(raw, list):
        raw = {"type": "categorical", "choices": raw}
    if not isinstance(raw, Mapping):
        raise _bad(
            where,
            f"parameter {key!r}: expected a mapping like {{type: float, low: 0.001, high: 0.1, "
            f"log: true}} or a list of choices, got {raw!r}",
        )
    for k in raw:
        if k not in SPEC_KEYS:
            close = difflib.get_close_matches(str(k), SPEC_KEYS, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise _bad(
                where,
                f"parameter {key!r}: unknown field {k!r}{hint}; valid fields: "
                f"{', '.join(SPEC_KEYS)}",
            )
    kind = raw.get("type")
    if kind is None:
        if "choices" in raw:
            kind = "categorical"
        elif "low" in raw and "high" in raw:
            both_int = all(
                isinstance(raw[b], int) and not isinstance(raw[b], bool) for b in ("low", "high")
            )
            kind = "int" if both_int else "float"
        else:
            raise _bad(where, f"parameter {key!r}: give low and high, or choices")
    if kind not in KINDS:
        raise _bad(
            where, f"parameter {key!r}: type must be one of {', '.join(KINDS)}, got {kind!r}"
        )
    if kind == "categorical":
        extra = [k for k in ("low", "high", "log", "step") if k in raw]
        if extra:
            raise _bad(
                where, f"parameter {key!r}: a categorical takes only choices, not {extra[0]}"
            )
        choices = raw.get("choices")
        if not isinstance(choices, list) or not choices:
            raise _bad(where, f"parameter {key!r}: choices must be a non-empty list")
        for c in choices:
            if not (c is None or isinstance(c, (str, int, float, bool))):
                raise _bad(where, f"parameter {key!r}: choice {c!r} must be a plain value")
        return ParamSpec("categorical", choices=tuple(choices))
    if "choices" in raw:
        raise _bad(where, f"parameter {key!r}: a {kind} takes low/high, not choices")
    if "low" not in raw or "high" not in raw:
        raise _bad(where, f"parameter {key!r}: a {kind} needs both low and high")
    low = _number(where, key, "low", raw["low"])
    high = _number(where, key, "high", raw["high"])
    log = raw.get("log", False)
    if not isinstance(log, bool):
        raise _bad(where, f"parameter {key!r}: log must be true or false, got {log!r}")
    step = raw.get("step")
    if step is not None:
        step = _number(where, key, "step", step)
        if step <= 0:
            raise _bad(where, f"parameter {key!r}: step must be positive, got {step}")
        if log:
            raise _bad(where, f"parameter {key!r}: log and step cannot be combined")
    if kind == "int":
        for name, v in (("low", low), ("high", high), ("step", step)):
            if v is not None and float(v) != int(v):
                raise _bad(where, f"parameter {key!r}: an int's {name} must be whole, got {v}")
        low, high = int(low), int(high)
        step = int(step) if step is not None else None
    else:
        low, high = float(low), float(high)
        step = float(step) if step is not None else None
    if not low < high:
        raise _bad(where, f"parameter {key!r}: low ({low}) must be below high ({high})")
    if log and low <= 0:
        raise _bad(where, f"parameter {key!r}: a log scale needs low > 0, got {low}")
    return ParamSpec(kind, low, high, log, step)


def load_space_file(path: str | os.PathLike[str]) -> dict[str, ParamSpec]:
    """Parse a YAML search-space file (see the module docstring for its format)."""
    p = Path(path)
    where = str(p)
    try:
        raw = yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise _bad(where, f"not valid YAML ({first})") from None
    except OSError as exc:
        raise _bad(where, f"cannot be read ({exc.strerror})") from None
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise _bad(where, "must be a mapping of parameter: distribution")
    raw = dict(raw)
    extends = raw.pop("extends", None)
    if extends is not None and extends not in PRESETS:
        raise _bad(where, f"extends must be one of {', '.join(PRESETS)}, got {extends!r}")
    space = dict(PRESETS[extends]) if extends else {}
    for key, entry in raw.items():
        key = str(key)
        _check_key(where, key)
        if entry is None:
            if extends is None:
                raise _bad(where, f"parameter {key!r} has no distribution")
            space.pop(key, None)
            continue
        space[key] = parse_spec(where, key, entry)
    if not space:
        raise _bad(where, "holds no parameters to search")
    return space


def _check_key(where: str, key: str) -> None:
    if key in FORBIDDEN:
        raise _bad(
            where, f"parameter {key!r} cannot be tuned: {FORBIDDEN[key]}; fix it with a flag"
        )
    if key not in TRAIN_KEYS:
        close = difflib.get_close_matches(key, TRAIN_KEYS, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise _bad(
            where,
            f"unknown parameter {key!r}{hint}; parameters are TrainConfig keys: "
            f"{', '.join(k for k in TRAIN_KEYS if k not in FORBIDDEN)}",
        )


def _edges(spec: ParamSpec) -> list[Any]:
    return list(spec.choices) if spec.kind == "categorical" else [spec.low, spec.high]


def _validate_against(where: str, space: Mapping[str, ParamSpec], base: TrainConfig) -> None:
    """Every bound and choice must make a valid TrainConfig (else every trial would FAIL)."""
    for key, spec in space.items():
        for v in _edges(spec):
            try:
                dataclasses.replace(base, **{key: v})
            except ConfigError as exc:
                raise _bad(
                    where, f"parameter {key!r}: value {v!r} is not allowed ({exc})"
                ) from None


def resolve_space(
    space: str, base: TrainConfig, fixed: Iterable[str]
) -> tuple[dict[str, ParamSpec], TrainConfig]:
    """The space to search and the base config of every trial.

    ``space`` is a preset name or a YAML file. Keys the user ``fixed`` are dropped from
    it. Unless the mode is fixed or searched, trials train in ``head`` mode (seconds each
    on cached features), so the base config's mode becomes ``head``.
    """
    fixed = set(fixed)
    if space in PRESETS:
        where = f"preset {space!r}"
        resolved = dict(PRESETS[space])
    else:
        p = Path(space).expanduser()
        if not p.is_file():
            raise ConfigError(
                f"--space must be {' or '.join(repr(k) for k in PRESETS)} or a search-space "
                f"YAML file; {p} does not exist"
            )
        where = str(p)
        resolved = load_space_file(p)
    resolved = {k: v for k, v in resolved.items() if k not in fixed}
    if "mode" not in resolved and "mode" not in fixed and base.mode != "head":
        base = dataclasses.replace(base, mode="head")
    modes = set(resolved["mode"].choices) if "mode" in resolved else {base.mode}
    for m in modes:
        if m not in ("head", "warmup", "finetune"):
            raise _bad(where, f"parameter 'mode': unknown mode {m!r}")
    # Drop what no trial's mode would ever use, so the study shows only real parameters.
    if modes == {"head"}:
        resolved = {k: v for k, v in resolved.items() if k not in FINETUNE_ONLY}
    if modes == {"finetune"}:
        resolved = {k: v for k, v in resolved.items() if k not in HEAD_ONLY}
    if not resolved:
        raise ConfigError(
            f"nothing to tune: every parameter of the search space ({where}) is fixed by the "
            "options or the --config file; fix fewer keys or pass another --space"
        )
    _validate_against(where, resolved, base)
    return resolved, base


def suggest(trial: Any, space: Mapping[str, ParamSpec], base: TrainConfig) -> dict[str, Any]:
    """Sample one trial's parameters (mode first: it decides which others apply)."""
    params: dict[str, Any] = {}
    mode = base.mode
    if "mode" in space:
        mode = _suggest_one(trial, "mode", space["mode"])
        params["mode"] = mode
    for key, spec in space.items():
        if key == "mode":
            continue
        if (mode == "head" and key in FINETUNE_ONLY) or (mode == "finetune" and key in HEAD_ONLY):
            continue
        params[key] = _suggest_one(trial, key, spec)
    return params


def _suggest_one(trial: Any, key: str, spec: ParamSpec) -> Any:
    if spec.kind == "categorical":
        return trial.suggest_categorical(key, list(spec.choices))
    if spec.kind == "int":
        return trial.suggest_int(key, spec.low, spec.high, step=spec.step or 1, log=spec.log)
    return trial.suggest_float(key, spec.low, spec.high, step=spec.step, log=spec.log)


def space_to_json(space: Mapping[str, ParamSpec]) -> dict[str, Any]:
    """The space as plain values (stored in the study, compared when it is continued)."""
    return {k: v.to_dict() for k, v in space.items()}
