"""Flags built from the config dataclasses: one per field, typed, defaults shown, None unset."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import pytest

from stylecast.cli import build_parser
from stylecast.cli.common import config_overrides, flag_of, train_overrides
from stylecast.config import TrainConfig, TuneConfig, load_config
from tests.conftest import run_cli


def _subparser(command: str) -> argparse.ArgumentParser:
    (sub,) = [a for a in build_parser()._actions if a.dest == "command"]
    return sub.choices[command]


def _shown(value: object) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    return str(value)


def _option_blocks(help_text: str) -> dict[str, str]:
    """``--flag`` -> its help text, whitespace-normalised (argparse wraps long lines)."""
    blocks: dict[str, list[str]] = {}
    current: list[str] = []
    for line in help_text.splitlines():
        if line.startswith("  -"):
            current = [line]
            for flag in line.split()[0].rstrip(","), *line.split(", ")[1:2]:
                blocks[flag.split()[0]] = current
        elif line.startswith("    ") and current:
            current.append(line)
        else:
            current = []
    return {k: " ".join(" ".join(v).split()) for k, v in blocks.items()}


@pytest.mark.parametrize("command", ["train", "tune"])
def test_every_train_config_field_has_a_flag(command: str) -> None:
    parser = _subparser(command)
    classes = (TrainConfig, TuneConfig) if command == "tune" else (TrainConfig,)
    for cls in classes:
        for f in dataclasses.fields(cls):
            action = parser._option_string_actions[flag_of(f)]
            assert action.dest == f.name
            assert action.default is None  # unset = not given: the YAML file may set it
            if f.default is not None:
                assert f"(default: {_shown(f.default)})" in action.help, f.name
    assert "--config" in parser._option_string_actions
    assert parser._option_string_actions["--freeze"].const == "head"


@pytest.mark.parametrize(("command", "cls"), [("train", TrainConfig), ("tune", TuneConfig)])
def test_help_shows_each_default_from_the_dataclass(
    command: str, cls: type, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    res = run_cli(command, "--help")
    assert res.returncode == 0, res.stderr
    blocks = _option_blocks(res.stdout)
    for f in dataclasses.fields(cls):
        text = blocks[flag_of(f)]
        assert f.metadata["help"].split()[0] in text, f.name
        if f.default is not None:
            assert f"(default: {_shown(f.default)})" in text, (f.name, text)
    if command == "train":
        assert "(default: 128)" in blocks["--img-size"]
        assert blocks["--pretrained"] == blocks["--no-pretrained"]
        assert "(default: on)" in blocks["--no-pretrained"]
        assert (
            "(default: warmup)" in blocks["--mode"]
            and "{head,finetune,warmup}" in (blocks["--mode"])
        )
        assert "same as --mode head" in blocks["--freeze"]
    else:
        assert blocks["--heartbeat"].startswith("--heartbeat SECONDS")
        assert "(default: 30)" in blocks["--heartbeat"]
        assert "as many as fit in --timeout" in blocks["--trials"]
        assert "(default: 3600.0)" in blocks["--timeout"]
    assert "talk" not in res.stdout and "README" not in res.stdout


def test_flags_map_onto_config_keys_and_unset_flags_are_none() -> None:
    parser = _subparser("train")
    args = parser.parse_args(["data"])
    assert set(train_overrides(args)) == {f.name for f in dataclasses.fields(TrainConfig)}
    assert all(v is None for v in train_overrides(args).values())

    args = parser.parse_args(
        [
            *("data", "--img-size", "64", "--lr", "2e-3", "--no-pretrained", "--drop-duplicates"),
            *("--group-column", "group", "--grad-clip", "0.5", "--lr-warmup-epochs", "1"),
            *("--balance", "sampler", "--no-augment"),
        ]
    )
    given = {k: v for k, v in train_overrides(args).items() if v is not None}
    assert given == {
        "img_size": 64,
        "lr": 2e-3,
        "pretrained": False,
        "drop_duplicates": True,
        "group_column": "group",
        "grad_clip": 0.5,
        "lr_warmup_epochs": 1.0,
        "balance": "sampler",
        "augment": False,
    }
    cfg = load_config(TrainConfig, None, train_overrides(args))
    assert (cfg.img_size, cfg.pretrained, cfg.augment, cfg.grad_clip) == (64, False, False, 0.5)
    assert cfg.epochs == TrainConfig().epochs  # not given: the default

    # --freeze is --mode head; --pretrained undoes a --no-pretrained given before it.
    args = parser.parse_args(["data", "--freeze", "--no-pretrained", "--pretrained"])
    assert train_overrides(args)["mode"] == "head" and train_overrides(args)["pretrained"] is True
    with pytest.raises(SystemExit):
        parser.parse_args(["data", "--mode", "frozen"])  # choices come from the config


def test_defaults_then_config_file_then_flags(tmp_path: Path) -> None:
    cfg_file = tmp_path / "c.yaml"
    cfg_file.write_text("epochs: 5\nlr: 0.002\naugment: false\n")
    args = _subparser("train").parse_args(
        ["data", "--config", str(cfg_file), "--epochs", "2", "--augment"]
    )
    cfg = load_config(TrainConfig, args.config, train_overrides(args))
    assert (cfg.epochs, cfg.lr, cfg.augment) == (2, 0.002, True)
    assert cfg.batch_size == TrainConfig().batch_size


def test_tune_flags_build_a_tune_config() -> None:
    parser = _subparser("tune")
    args = parser.parse_args(["data"])
    assert load_config(TuneConfig, None, config_overrides(args, TuneConfig)) == TuneConfig()
    args = parser.parse_args(
        [
            *("data", "--trials", "7", "--heartbeat", "45", "--grace-period", "100"),
            *("--metric", "val_loss", "--retrain-best", "--timeout", "60", "--lr", "0.01"),
            *("--pruner-warmup-epochs", "2", "--study-name", "s1", "--workers", "2"),
        ]
    )
    cfg = load_config(TuneConfig, None, config_overrides(args, TuneConfig))
    assert cfg == TuneConfig(
        trials=7,
        heartbeat_interval=45,
        grace_period=100,
        metric="val_loss",
        retrain_best=True,
        timeout=60.0,
        pruner_warmup_epochs=2,
        study_name="s1",
        workers=2,
    )
    assert train_overrides(args)["lr"] == 0.01  # training flags stay training keys
