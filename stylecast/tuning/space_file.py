"""The YAML form of a search space: one parameter's distribution, parsing, key checks.

One entry per TrainConfig key::

    head_lr: {type: float, low: 1.0e-3, high: 3.0e-2, log: true}
    batch_size: {type: int, low: 16, high: 64, step: 8}
    mode: {type: categorical, choices: [head, warmup]}
    label_smoothing: [0.0, 0.1]   # a list is shorthand for categorical choices

:mod:`~stylecast.tuning.space` holds the presets and resolves a space against a config.
"""

from __future__ import annotations

import contextlib
import dataclasses
import difflib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from stylecast.config import TrainConfig
from stylecast.errors import ConfigError

__all__ = ["FORBIDDEN", "ParamSpec", "bad", "check_key", "load_space_file", "parse_spec"]

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
    "compile": "it is a machine setting, not a hyperparameter",
}
TRAIN_KEYS = tuple(f.name for f in dataclasses.fields(TrainConfig))


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
        """One short line, e.g. ``float [0.001, 0.03] log`` or ``int [16, 48] step 8``."""
        if self.kind == "categorical":
            return "{" + ", ".join(map(str, self.choices)) + "}"
        scale = " log" if self.log else ""
        step = f" step {self.step:g}" if self.step is not None else ""
        return f"{self.kind} [{self.low:g}, {self.high:g}]{scale}{step}"


def bad(where: str, msg: str) -> ConfigError:
    return ConfigError(f"search space {where}: {msg}")


def _number(where: str, key: str, what: str, value: Any) -> float | int:
    # PyYAML reads 1e-3 (no dot) as a string: accept it as the number a user meant.
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            value = float(value)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise bad(where, f"parameter {key!r}: {what} must be a number, got {value!r}")
    return value


def parse_spec(where: str, key: str, raw: Any) -> ParamSpec:
    """One parameter's entry of a YAML space (a mapping, or a list of choices)."""
    if isinstance(raw, list):
        raw = {"type": "categorical", "choices": raw}
    if not isinstance(raw, Mapping):
        raise bad(
            where,
            f"parameter {key!r}: expected a mapping like {{type: float, low: 0.001, high: 0.1, "
            f"log: true}} or a list of choices, got {raw!r}",
        )
    for k in raw:
        if k not in SPEC_KEYS:
            close = difflib.get_close_matches(str(k), SPEC_KEYS, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise bad(
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
            raise bad(where, f"parameter {key!r}: give low and high, or choices")
    if kind not in KINDS:
        raise bad(where, f"parameter {key!r}: type must be one of {', '.join(KINDS)}, got {kind!r}")
    if kind == "categorical":
        extra = [k for k in ("low", "high", "log", "step") if k in raw]
        if extra:
            raise bad(where, f"parameter {key!r}: a categorical takes only choices, not {extra[0]}")
        choices = raw.get("choices")
        if not isinstance(choices, list) or not choices:
            raise bad(where, f"parameter {key!r}: choices must be a non-empty list")
        for c in choices:
            if not (c is None or isinstance(c, (str, int, float, bool))):
                raise bad(where, f"parameter {key!r}: choice {c!r} must be a plain value")
        return ParamSpec("categorical", choices=tuple(choices))
    if "choices" in raw:
        raise bad(where, f"parameter {key!r}: a {kind} takes low/high, not choices")
    if "low" not in raw or "high" not in raw:
        raise bad(where, f"parameter {key!r}: a {kind} needs both low and high")
    low = _number(where, key, "low", raw["low"])
    high = _number(where, key, "high", raw["high"])
    log = raw.get("log", False)
    if not isinstance(log, bool):
        raise bad(where, f"parameter {key!r}: log must be true or false, got {log!r}")
    step = raw.get("step")
    if step is not None:
        step = _number(where, key, "step", step)
        if step <= 0:
            raise bad(where, f"parameter {key!r}: step must be positive, got {step}")
        if log:
            raise bad(where, f"parameter {key!r}: log and step cannot be combined")
    if kind == "int":
        for name, v in (("low", low), ("high", high), ("step", step)):
            if v is not None and float(v) != int(v):
                raise bad(where, f"parameter {key!r}: an int's {name} must be whole, got {v}")
        low, high = int(low), int(high)
        step = int(step) if step is not None else None
    else:
        low, high = float(low), float(high)
        step = float(step) if step is not None else None
    if not low < high:
        raise bad(where, f"parameter {key!r}: low ({low}) must be below high ({high})")
    if log and low <= 0:
        raise bad(where, f"parameter {key!r}: a log scale needs low > 0, got {low}")
    return ParamSpec(kind, low, high, log, step)


def load_space_file(
    path: str | os.PathLike[str], presets: Mapping[str, Mapping[str, ParamSpec]]
) -> tuple[dict[str, ParamSpec], str | None]:
    """Parse a YAML search-space file; the space and the preset it ``extends`` (or None)."""
    p = Path(path)
    where = str(p)
    try:
        raw = yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise bad(where, f"not valid YAML ({first})") from None
    except OSError as exc:
        raise bad(where, f"cannot be read ({exc.strerror})") from None
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise bad(where, "must be a mapping of parameter: distribution")
    raw = dict(raw)
    extends = raw.pop("extends", None)
    if extends is not None and extends not in presets:
        raise bad(where, f"extends must be one of {', '.join(presets)}, got {extends!r}")
    space = dict(presets[extends]) if extends else {}
    for key, entry in raw.items():
        key = str(key)
        check_key(where, key)
        if entry is None:
            if extends is None:
                raise bad(where, f"parameter {key!r} has no distribution")
            space.pop(key, None)
            continue
        space[key] = parse_spec(where, key, entry)
    if not space:
        raise bad(where, "holds no parameters to search")
    return space, extends


def check_key(where: str, key: str) -> None:
    if key in FORBIDDEN:
        raise bad(where, f"parameter {key!r} cannot be tuned: {FORBIDDEN[key]}; fix it with a flag")
    if key not in TRAIN_KEYS:
        close = difflib.get_close_matches(key, TRAIN_KEYS, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise bad(
            where,
            f"unknown parameter {key!r}{hint}; parameters are TrainConfig keys: "
            f"{', '.join(k for k in TRAIN_KEYS if k not in FORBIDDEN)}",
        )
