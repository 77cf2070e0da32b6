"""Flags built from the config dataclasses, shared by every subcommand with a config.

Every field of a config class becomes one flag: its name (``img_size`` -> ``--img-size``,
or the metadata's ``flag``), its type from the annotation, its help, choices, metavar and
command-line form from the metadata (see :func:`stylecast.config.option`), and the
dataclass default shown in ``--help``. Every flag's argparse default is None, meaning "not
given", so precedence stays dataclass defaults < ``--config FILE`` < flags, and no default
is written twice. ``--out`` and ``--quiet``, which no config holds, are defined here once.
"""

from __future__ import annotations

import argparse
import dataclasses
from typing import Any, TypeVar

from stylecast.config import DEVICES, TrainConfig
from stylecast.config_fields import flag_of, is_option, load_config, value_type

__all__ = [
    "add_config_options",
    "add_out_option",
    "add_quiet_option",
    "add_train_options",
    "config_argv",
    "config_from_args",
    "config_overrides",
    "flag_of",
    "train_overrides",
]

C = TypeVar("C")


def _csv_list(text: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in text.split(",") if v.strip())


def _shown_default(f: dataclasses.Field[Any]) -> str | None:
    value, scale = f.default, f.metadata.get("scale")
    if value is None or value is dataclasses.MISSING or value == ():
        return None  # the help text says what "not set" means
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, tuple):
        return ",".join(value)
    return f"{value / scale:g}" if scale else str(value)


def _on_cli(f: dataclasses.Field[Any]) -> bool:
    return is_option(f) and f.metadata.get("cli", True)


def add_config_options(
    group: argparse._ActionsContainer,
    cls: type,
    *,
    skip: tuple[str, ...] = (),
    only: tuple[str, ...] = (),
) -> None:
    """One flag per field of the dataclass ``cls`` (except ``skip``; ``only``: these, in
    this order), all defaulting to None."""
    named = {f.name: f for f in dataclasses.fields(cls)}
    for f in [named[n] for n in only] if only else named.values():
        if f.name in skip or not _on_cli(f):
            continue
        meta, kind = f.metadata, value_type(f)
        # argparse formats help with %: a literal percent sign must be doubled.
        text = meta["help"].replace("%", "%%")
        shown = None if meta.get("switch") else _shown_default(f)
        if shown is not None:
            text = f"{text} (default: {shown})"
        kw: dict[str, Any] = {"dest": f.name, "default": None, "help": text}
        if f.default is dataclasses.MISSING:
            kw["required"] = True
        if kind is bool and meta.get("switch"):  # --int8 turns it on, --no-export off
            kw.update(action="store_const", const=meta["switch"] == "on")
        elif kind is bool:
            kw["action"] = argparse.BooleanOptionalAction
        else:
            if kind is tuple and meta.get("repeat"):
                kw["action"] = "append"
            elif kind is tuple:
                kw["type"] = _csv_list
            else:
                kw["type"] = float if meta.get("scale") else kind
            if meta.get("choices"):
                kw["choices"] = meta["choices"]
            if meta.get("metavar"):
                kw["metavar"] = meta["metavar"]
        group.add_argument(flag_of(f), **kw)


def config_overrides(args: argparse.Namespace, cls: type) -> dict[str, Any]:
    """The flags of ``cls`` as its keys, in the field's units; None where no flag was given."""
    values: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if not _on_cli(f):
            continue
        value = getattr(args, f.name, None)
        if isinstance(value, (list, tuple)):  # a repeated flag, or a comma-separated list
            value = tuple(dict.fromkeys(value)) or None
        elif value is not None and f.metadata.get("scale"):
            value = value * f.metadata["scale"]
            value = int(value) if value_type(f) is int else value
        values[f.name] = value
    return values


def config_from_args(cls: type[C], args: argparse.Namespace, **fixed: Any) -> C:
    """``cls`` from its defaults and the flags given (``fixed`` keys: values not from a flag)."""
    return load_config(cls, None, {**config_overrides(args, cls), **fixed})


def config_argv(args: argparse.Namespace, cls: type) -> list[str]:
    """The flags of ``cls`` the user gave, written back as command-line words (to start the
    same command again, e.g. in several processes)."""
    words: list[str] = []
    for f in dataclasses.fields(cls):
        value = getattr(args, f.name, None)
        if value is None or not _on_cli(f):
            continue
        flag = flag_of(f)
        if isinstance(value, bool):
            words.append(flag if value else "--no-" + flag[2:])
        else:
            words += [flag, str(value)]
    return words


def add_out_option(
    p: argparse.ArgumentParser, help: str, metavar: str | None = None, *, required: bool = False
) -> None:
    """``--out``: where a command writes (each command says what, and its default)."""
    p.add_argument("--out", metavar=metavar, help=help, required=required)


def add_quiet_option(p: argparse.ArgumentParser, help: str = "no progress output") -> None:
    """``--quiet``: no progress output (each command may say what it leaves out)."""
    p.add_argument("--quiet", action="store_true", help=help)


def add_train_options(p: argparse.ArgumentParser) -> None:
    """The training flags: one per TrainConfig key, plus ``--config`` and ``--freeze``."""
    g = p.add_argument_group("training (defaults < --config FILE < these flags)")
    g.add_argument("--config", metavar="FILE.yaml", help="YAML file of TrainConfig keys")
    add_config_options(g, TrainConfig)
    g.add_argument(
        "--freeze",
        dest="mode",
        action="store_const",
        const="head",
        help="freeze the backbone and train the head only (same as --mode head)",
    )


def train_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """The training flags the user actually gave, as TrainConfig keys (unset flags are None)."""
    return config_overrides(args, TrainConfig)


def add_device_option(p: argparse.ArgumentParser, what: str, default: str = "auto") -> None:
    """``--device``: where torch runs ``what``."""
    p.add_argument(
        "--device",
        choices=DEVICES,
        default=default,
        help=f"where torch runs {what}: auto (a CUDA GPU when there is one), cpu or cuda "
        f"(default {default})",
    )
