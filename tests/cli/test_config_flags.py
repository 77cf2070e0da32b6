"""Every subcommand with a config builds its flags from the config's fields: no default is
written twice, a bad value is one ConfigError naming its flag, and conversions are declared."""

from __future__ import annotations

import argparse
import dataclasses

import pytest

from stylecast.cli import build_parser
from stylecast.cli.common import config_from_args, flag_of
from stylecast.cli.palette import PaletteRun
from stylecast.cli.serve import Listen
from stylecast.config import EvaluateConfig, TrainConfig, TuneConfig
from stylecast.config_fields import is_option
from stylecast.errors import ConfigError
from stylecast.export.config import ExportConfig
from stylecast.inference.options import PredictOptions
from stylecast.palette.config import PaletteConfig
from stylecast.serve.settings import ServeSettings
from stylecast.trends.config import TrendsConfig

TRENDS_REQUIRED = {"period_column": "year", "by": ("colour",)}

# command, the fewest words it accepts, and the config classes its flags come from
COMMANDS = [
    ("serve", ["RUN"], (ServeSettings, Listen)),
    ("export", ["RUN"], (ExportConfig,)),
    ("trends", ["t.csv", "--period-column", "year", "--by", "colour"], (TrendsConfig,)),
    ("palette", ["DATA"], (PaletteConfig, PaletteRun)),
    ("predict", ["RUN", "x.jpg"], (PredictOptions,)),
    ("train", ["DATA"], (TrainConfig,)),
    ("evaluate", ["RUN"], (EvaluateConfig,)),
    ("tune", ["DATA"], (TuneConfig, TrainConfig)),
]
CLASSES = sorted({c for _, _, classes in COMMANDS for c in classes}, key=lambda c: c.__name__)


def _parser(command: str) -> argparse.ArgumentParser:
    (sub,) = [a for a in build_parser()._actions if a.dest == "command"]
    return sub.choices[command]


def _cli_fields(cls: type) -> list[dataclasses.Field]:
    return [f for f in dataclasses.fields(cls) if is_option(f) and f.metadata.get("cli", True)]


def _required(cls: type) -> dict:
    return TRENDS_REQUIRED if cls is TrendsConfig else {}


@pytest.mark.parametrize(("command", "words", "classes"), COMMANDS)
def test_no_flag_gives_the_dataclass_defaults(command: str, words: list, classes: tuple) -> None:
    parser = _parser(command)
    args = parser.parse_args(words)
    for cls in classes:
        assert config_from_args(cls, args) == cls(**_required(cls)), cls.__name__
        for f in _cli_fields(cls):
            action = parser._option_string_actions[flag_of(f)]
            assert action.dest == f.name
            # None = "not given": the dataclass alone holds the default.
            assert action.default is None, (command, f.name)


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_every_field_is_documented(cls: type) -> None:
    for f in dataclasses.fields(cls):
        if is_option(f):
            assert f.metadata["help"].strip(), f.name
            if f.metadata["choices"] and f.default is not dataclasses.MISSING:
                assert f.default in f.metadata["choices"], f.name


def _outside(meta: dataclasses.Field) -> list:
    """Values just outside the declared bounds, in the flag's units."""
    m = meta.metadata
    values = []
    if m.get("low") is not None:
        values.append(m["low"] - 1)
    if m.get("above") is not None:
        values.append(m["above"])
    if m.get("high") is not None:
        values.append(m["high"] + 1)
    if m.get("below") is not None:
        values.append(m["below"])
    return values


BOUNDED = [
    (cls, f, v)
    for cls in CLASSES
    for f in dataclasses.fields(cls)
    if is_option(f)
    for v in _outside(f)
]


@pytest.mark.parametrize(
    ("cls", "f", "value"),
    BOUNDED,
    ids=[f"{c.__name__}.{f.name}={v}" for c, f, v in BOUNDED],
)
def test_a_value_out_of_bounds_names_its_field_or_flag(
    cls: type, f: dataclasses.Field, value: float
) -> None:
    if f.metadata.get("scale"):
        value = value * f.metadata["scale"]
    if f.type in ("int", "int | None"):
        value = int(value)
    with pytest.raises(ConfigError) as err:
        cls(**_required(cls), **{f.name: value})
    text = str(err.value)
    assert "\n" not in text
    assert f.name in text or flag_of(f) in text, text


@pytest.mark.parametrize(
    ("command", "words", "cls", "expected"),
    [
        ("serve", ["RUN", "--max-upload-mb", "2.5"], ServeSettings, {"max_upload_bytes": 2621440}),
        ("serve", ["RUN", "--no-export"], ServeSettings, {"auto_export": False}),
        ("serve", ["RUN", "--port", "9000", "--host", "0.0.0.0"], Listen, {"port": 9000}),
        ("export", ["RUN", "--int8", "--opset", "17"], ExportConfig, {"int8": True, "opset": 17}),
        ("predict", ["RUN", "x", "--no-shift-check", "--palette"], PredictOptions,
         {"shift_check": False, "palette": True}),
        ("trends", ["t", "--period-column", "y", "--by", "a", "--by", "b", "--by", "a",
                    "--models", "naive,mean", "--season-order", "SS,FW"], TrendsConfig,
         {"by": ("a", "b"), "models": ("naive", "mean"), "season_order": ("SS", "FW")}),
        ("palette", ["DATA", "--colours", "4", "--by", "brand"], PaletteConfig, {"n_colours": 4}),
        ("palette", ["DATA", "--by", "brand", "--workers", "2"], PaletteRun,
         {"by": ("brand",), "workers": 2}),
    ],
)  # fmt: skip
def test_flags_reach_the_config_in_its_units(
    command: str, words: list, cls: type, expected: dict
) -> None:
    cfg = config_from_args(cls, _parser(command).parse_args(words))
    assert {k: getattr(cfg, k) for k in expected} == expected


@pytest.mark.parametrize(
    ("cls", "kwargs", "message"),
    [
        (ServeSettings, {"max_upload_bytes": 0}, "--max-upload-mb"),
        (ServeSettings, {"workers": 0}, "--workers is out of range: must be between 1 and 64"),
        (Listen, {"port": 0}, "--port must be between 1 and 65535, got 0"),
        (PaletteRun, {"workers": 0}, "--workers must be at least 1, got 0"),
        (PaletteConfig, {"n_colours": 0}, "n_colours must be between 1 and 16, got 0 (--colours)"),
        (PredictOptions, {"batch_size": 0}, "--batch-size must be at least 1, got 0"),
        (PredictOptions, {"device": "tpu"}, "--device must be one of auto, cpu, cuda"),
        (ExportConfig, {"opset": 30}, "--opset must be between 11 and 23, got 30"),
        (TrendsConfig, {**TRENDS_REQUIRED, "top": 0}, "top must be an integer >= 1, got 0"),
        (TrainConfig, {"crop_scale": 0.0}, "crop_scale must be between 0.05 and 1, got 0.0"),
        (TuneConfig, {"max_retry": -1}, "max_retry must not be negative, got -1"),
        (EvaluateConfig, {"n_bins": 1}, "n_bins must be at least 2, got 1"),
    ],
)
def test_bound_messages(cls: type, kwargs: dict, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        cls(**kwargs)
    assert message in str(err.value)
