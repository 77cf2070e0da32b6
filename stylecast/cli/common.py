"""Flags built from the config dataclasses, shared by several subcommands (train, tune).

Every field of a config class becomes one flag: its name (``img_size`` -> ``--img-size``,
or the metadata's ``flag``), its type from the annotation, its help and choices from the
metadata (see :func:`stylecast.config.option`), and the dataclass default shown in
``--help``. Every flag's argparse default is None, meaning "not given", so precedence
stays dataclass defaults < ``--config FILE`` < flags.
"""

from __future__ import annotations

import argparse
import dataclasses
import types
import typing
from typing import Any

from stylecast.config import BACKENDS, DEVICES, TrainConfig

__all__ = [
    "add_config_options",
    "add_train_options",
    "config_argv",
    "config_overrides",
    "flag_of",
    "train_overrides",
]


def flag_of(f: dataclasses.Field[Any]) -> str:
    """The command-line flag of a config field."""
    return f.metadata.get("flag") or "--" + f.name.replace("_", "-")


def _value_type(annotation: Any) -> type:
    """``int``, ``float``, ``str`` or ``bool`` from ``int`` or ``X | None``."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        (annotation,) = [a for a in typing.get_args(annotation) if a is not type(None)]
    return annotation


def _shown_default(value: Any) -> str | None:
    if value is None:
        return None  # the help text says what "not set" means
    if isinstance(value, bool):
        return "on" if value else "off"
    return str(value)


def add_config_options(
    group: argparse._ActionsContainer, cls: type, *, skip: tuple[str, ...] = ()
) -> None:
    """One flag per field of the dataclass ``cls`` (except ``skip``), all defaulting to None."""
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        if f.name in skip:
            continue
        kind = _value_type(hints[f.name])
        # argparse formats help with %: a literal percent sign must be doubled.
        text = f.metadata.get("help", "").replace("%", "%%")
        shown = _shown_default(f.default)
        if shown is not None:
            text = f"{text} (default: {shown})"
        kw: dict[str, Any] = {"dest": f.name, "default": None, "help": text}
        if kind is bool:
            kw["action"] = argparse.BooleanOptionalAction
        else:
            kw["type"] = kind
            if f.metadata.get("choices"):
                kw["choices"] = f.metadata["choices"]
            if f.metadata.get("metavar"):
                kw["metavar"] = f.metadata["metavar"]
        group.add_argument(flag_of(f), **kw)


def config_overrides(args: argparse.Namespace, cls: type) -> dict[str, Any]:
    """The flags of ``cls`` as its keys; None where the user gave no flag."""
    return {f.name: getattr(args, f.name, None) for f in dataclasses.fields(cls)}


def config_argv(args: argparse.Namespace, cls: type) -> list[str]:
    """The flags of ``cls`` the user gave, written back as command-line words (to start the
    same command again, e.g. in several processes)."""
    words: list[str] = []
    for f in dataclasses.fields(cls):
        value = getattr(args, f.name, None)
        if value is None:
            continue
        flag = flag_of(f)
        if isinstance(value, bool):
            words.append(flag if value else "--no-" + flag[2:])
        else:
            words += [flag, str(value)]
    return words


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


def add_backend_option(p: argparse.ArgumentParser, note: str = "") -> None:
    """``--backend``: the run's ONNX export when it matches the weights, else torch."""
    p.add_argument(
        "--backend",
        choices=BACKENDS,
        default="auto",
        help="auto: the run's ONNX export when `stylecast export` wrote one that matches its "
        f"weights (and onnxruntime is installed), else torch{note} (default auto)",
    )


def add_device_option(p: argparse.ArgumentParser, what: str, default: str = "auto") -> None:
    """``--device``: where torch runs ``what``."""
    p.add_argument(
        "--device",
        choices=DEVICES,
        default=default,
        help=f"where torch runs {what}: auto (a CUDA GPU when there is one), cpu or cuda "
        f"(default {default})",
    )
