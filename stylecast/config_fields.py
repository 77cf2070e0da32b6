"""The machinery under :mod:`stylecast.config`: documented fields (:func:`option`), their
type and choice checks, and reading, writing and comparing configs of any of its classes.

Nothing here knows a particular config; :mod:`stylecast.config` re-exports the public names.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import types
import typing
from dataclasses import fields
from pathlib import Path
from typing import Any, TypeVar

import yaml

from stylecast.errors import ConfigError

__all__ = [
    "check_types",
    "config_to_dict",
    "config_to_yaml",
    "diff_configs",
    "load_config",
    "option",
]


def option(
    default: Any,
    help: str,
    *,
    flag: str | None = None,
    choices: tuple[str, ...] = (),
    metavar: str | None = None,
) -> Any:
    """A dataclass field documented for the command line.

    ``help`` describes the value (the CLI appends the default); ``flag`` replaces the
    flag derived from the name (``img_size`` -> ``--img-size``); ``choices`` limits a
    string; ``metavar`` names the value in ``--help``.
    """
    meta = {"help": help, "flag": flag, "choices": choices, "metavar": metavar}
    return dataclasses.field(default=default, metadata=meta)


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


def check_types(cfg: Any) -> None:
    """Every field has its annotated type, and a value of its ``choices`` where it has some."""
    for f in fields(cfg):
        value = getattr(cfg, f.name)
        if f.metadata.get("choices"):
            _check_choice(f.name, value, f.metadata["choices"])
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
    """The config as plain values (what ``config.yaml`` and study attributes hold)."""
    return dataclasses.asdict(cfg)


def config_to_yaml(cfg: Any) -> str:
    """The config as YAML, in field order; :func:`load_config` reads it back."""
    return yaml.safe_dump(config_to_dict(cfg), sort_keys=False)


def diff_configs(a: Any, b: Any, ignore: typing.Iterable[str] = ()) -> list[str]:
    """Names of fields whose values differ between two configs of one class."""
    da, db = config_to_dict(a), config_to_dict(b)
    return [k for k in da if k not in set(ignore) and da[k] != db.get(k)]
