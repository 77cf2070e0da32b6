"""The machinery under :mod:`stylecast.config`: documented fields (:func:`option`) with their
declared constraints (choices, bounds, checks) and command-line forms, the checks themselves
(:func:`check_fields`), and reading, writing and comparing configs of any of its classes.

Nothing here knows a particular config; :mod:`stylecast.config` re-exports the public names,
and :mod:`stylecast.cli.common` turns the same metadata into flags.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import types
import typing
from collections.abc import Callable
from dataclasses import fields
from pathlib import Path
from typing import Any, TypeVar

import yaml

from stylecast.errors import ConfigError

__all__ = [
    "bounds_rule",
    "check_fields",
    "check_types",
    "config_to_dict",
    "config_to_yaml",
    "diff_configs",
    "error_label",
    "flag_of",
    "is_option",
    "load_config",
    "option",
    "value_type",
]


def option(
    default: Any = dataclasses.MISSING,
    help: str = "",
    *,
    flag: str | None = None,
    choices: tuple[str, ...] = (),
    metavar: str | None = None,
    low: float | None = None,
    high: float | None = None,
    above: float | None = None,
    below: float | None = None,
    note: str | None = None,
    error: str | None = None,
    check: Callable[[Any], bool] | None = None,
    scale: float | None = None,
    switch: str | None = None,
    repeat: bool = False,
    cli: bool = True,
) -> Any:
    """A dataclass field documented for the command line, with its constraints declared.

    ``help`` describes the value (the CLI appends the default); ``flag`` replaces the
    flag derived from the name (``img_size`` -> ``--img-size``); ``choices`` limits a
    string; ``metavar`` names the value in ``--help``. A field without ``default`` is a
    required flag.

    Bounds (checked by :func:`check_fields`, skipped for None): ``low``/``high`` inclusive,
    ``above``/``below`` exclusive; ``check`` is any other test of the value alone. A value
    out of bounds is "NAME must be between 1 and 16, got 0" (``note`` adds a parenthesis
    before ", got"); ``error`` replaces that whole text (placeholders ``{label}``,
    ``{value}``, ``{rule}``).

    Command-line forms: ``scale`` -- the flag is in larger units (``--max-upload-mb``:
    bytes = MB x scale; bounds are in the flag's units); ``switch`` -- a bool flag that
    only turns the value ``"on"`` or ``"off"`` (``--no-export``; without it a bool gets
    ``--x``/``--no-x``); ``repeat`` -- a tuple given by repeating the flag (else
    comma-separated); ``cli=False`` -- no flag at all.
    """
    meta: dict[str, Any] = {"help": help, "flag": flag, "choices": choices, "metavar": metavar}
    extra = {
        "low": low,
        "high": high,
        "above": above,
        "below": below,
        "note": note,
        "error": error,
        "check": check,
        "scale": scale,
        "switch": switch,
    }
    meta.update({k: v for k, v in extra.items() if v is not None})
    if repeat:
        meta["repeat"] = True
    if not cli:
        meta["cli"] = False
    if isinstance(default, (list, dict, set)):
        raise TypeError("option defaults must be immutable (use a tuple)")
    return dataclasses.field(default=default, metadata=meta)


C = TypeVar("C")


def flag_of(f: dataclasses.Field[Any]) -> str:
    """The command-line flag of a config field."""
    return f.metadata.get("flag") or "--" + f.name.replace("_", "-")


def _num(x: float) -> str:
    return f"{x:g}" if isinstance(x, float) else str(x)


def bounds_rule(meta: typing.Mapping[str, Any]) -> str | None:
    """The declared bounds in words ("be between 1 and 16", "be in (0, 1]"), or None."""
    low, high, above, below = (meta.get(k) for k in ("low", "high", "above", "below"))
    lo = low if low is not None else above
    hi = high if high is not None else below
    if lo is not None and hi is not None:
        if above == 0 and below is not None:
            return f"be positive and below {_num(below)}"
        if low is not None and high is not None:
            return f"be between {_num(low)} and {_num(high)}"
        left, right = "[" if low is not None else "(", "]" if high is not None else ")"
        return f"be in {left}{_num(lo)}, {_num(hi)}{right}"
    if low is not None:
        return "not be negative" if low == 0 else f"be at least {_num(low)}"
    if above is not None:
        return "be positive" if above == 0 else f"be above {_num(above)}"
    if high is not None:
        return f"be at most {_num(high)}"
    return None if below is None else f"be below {_num(below)}"


def _in_bounds(meta: typing.Mapping[str, Any], v: float) -> bool:
    low, high, above, below = (meta.get(k) for k in ("low", "high", "above", "below"))
    return not (
        (low is not None and v < low)
        or (high is not None and v > high)
        or (above is not None and v <= above)
        or (below is not None and v >= below)
    )


def _allowed_types(annotation: Any) -> tuple[type, ...]:
    if isinstance(annotation, str):
        annotation = eval(annotation, vars(typing) | {"types": types})  # noqa: S307 - own annotations
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return tuple(t for a in typing.get_args(annotation) for t in _allowed_types(a))
    if annotation is None or annotation is type(None):
        return (type(None),)
    return (origin or annotation,)  # tuple[str, ...] -> tuple


def value_type(f: dataclasses.Field[Any]) -> type:
    """``int``, ``float``, ``str``, ``bool`` or ``tuple``, from the field's annotation."""
    return next(t for t in _allowed_types(f.type) if t is not type(None))


def is_option(f: dataclasses.Field[Any]) -> bool:
    """Whether the field was declared with :func:`option` (a plain field is left alone)."""
    return "help" in f.metadata


def error_label(f: dataclasses.Field[Any], by_flag: bool) -> tuple[str, str]:
    """How an error names a field: its name, or its flag; and where the flag is not the
    name (``--colours`` for ``n_colours``), the name with the flag after the message."""
    flag = flag_of(f)
    if not by_flag or f.metadata.get("cli") is False:
        return f.name, ""
    if flag == "--" + f.name.replace("_", "-"):
        return flag, ""
    return f.name, f" ({flag})"


def _check_type(cfg: Any, f: dataclasses.Field[Any], value: Any) -> None:
    allowed = _allowed_types(f.type)
    ok = isinstance(value, allowed) and not (isinstance(value, bool) and bool not in allowed)
    if not ok and float in allowed and isinstance(value, int) and not isinstance(value, bool):
        object.__setattr__(cfg, f.name, float(value))  # YAML writes 1 for 1.0
        ok = True
    if not ok:
        names = " or ".join("null" if t is type(None) else t.__name__ for t in allowed)
        raise ConfigError(f"{f.name} must be {names}, got {value!r}")


OUT_OF_RANGE = "{label} must {rule}, got {value}"


def check_fields(cfg: Any, *, by_flag: bool = False, template: str = OUT_OF_RANGE) -> None:
    """Every :func:`option` field of ``cfg`` is one of its ``choices``, of its annotated
    type, within its bounds and passes its ``check``; else one :class:`ConfigError`.

    Errors name the field (a YAML key) or, with ``by_flag``, its flag; ``template`` words a
    value out of bounds (placeholders ``{label}``, ``{name}``, ``{rule}``, ``{value}`` and
    the bounds ``{low}``, ``{high}``, ``{above}``, ``{below}``).
    """
    for f in fields(cfg):
        if not is_option(f):
            continue
        meta, value = f.metadata, getattr(cfg, f.name)
        label, after = error_label(f, by_flag)
        if meta.get("choices") and value is not None and value not in meta["choices"]:
            rule = f"be one of {', '.join(meta['choices'])}"
            text = meta.get("error", "{label} must {rule}; got {value}")
            text = text.format(label=label, name=f.name, rule=rule, value=repr(value))
            raise ConfigError(text + after)
        _check_type(cfg, f, value)
        value = getattr(cfg, f.name)
        if value is None:
            continue
        scale = meta.get("scale")
        shown = _num(value / scale) if scale else repr(value)
        rule = bounds_rule(meta)
        if rule and not _in_bounds(meta, value / scale if scale else value):
            if "note" in meta:
                rule = f"{rule} ({meta['note']})"
            text = meta.get("error", template)
            bounds = {k: meta.get(k) for k in ("low", "high", "above", "below")}
            text = text.format(label=label, name=f.name, rule=rule, value=shown, **bounds)
            raise ConfigError(text + after)
        if "check" in meta and not meta["check"](value):
            text = meta["error"].format(label=label, name=f.name, value=shown)
            raise ConfigError(text + after)


check_types = check_fields  # the older name, still used by some configs


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
