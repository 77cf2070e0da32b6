"""Config precedence, validation, coercion, and the field metadata the CLI is built from."""

from __future__ import annotations

import dataclasses

import pytest

from stylecast.config import (
    MODES,
    EvaluateConfig,
    TrainConfig,
    TuneConfig,
    config_to_yaml,
    diff_configs,
    load_config,
    option,
)
from stylecast.errors import ConfigError


def test_precedence_defaults_then_yaml_then_flags(tmp_path) -> None:
    f = tmp_path / "c.yaml"
    f.write_text("lr: 0.002\nepochs: 7\nbatch_size: 16\n")
    cfg = load_config(TrainConfig, f, {"epochs": 9, "batch_size": None})
    assert cfg.lr == 0.002  # from YAML
    assert cfg.epochs == 9  # flag beats YAML
    assert cfg.batch_size == 16  # an unset flag (None) does not override
    assert cfg.weight_decay == TrainConfig().weight_decay  # default


def test_unknown_key_names_the_key_and_suggests(tmp_path) -> None:
    f = tmp_path / "c.yaml"
    f.write_text("learning_rate: 0.1\n")
    with pytest.raises(ConfigError, match="unknown key 'learning_rate'"):
        load_config(TrainConfig, f)
    with pytest.raises(ConfigError, match="did you mean 'epochs'"):
        load_config(TrainConfig, None, {"epoch": 3})


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"mode": "frozen"}, "mode must be one of head, finetune, warmup"),
        ({"epochs": 0}, "epochs must be at least 1"),
        ({"lr": -1.0}, "lr must be positive"),
        ({"val_fraction": 0.5, "test_fraction": 0.5}, "at least 10% for training"),
        ({"img_size": "big"}, "img_size must be int"),
    ],
)
def test_bad_values_are_clear_errors(overrides, message) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config(TrainConfig, None, overrides)


def test_strings_from_cli_are_coerced_and_yaml_round_trips(tmp_path) -> None:
    cfg = load_config(
        TrainConfig, None, {"augment": "false", "lr": "2e-3", "group_column": "group"}
    )
    assert cfg.augment is False and cfg.lr == 2e-3 and cfg.group_column == "group"
    f = tmp_path / "saved.yaml"
    f.write_text(config_to_yaml(cfg))
    assert load_config(TrainConfig, f) == cfg
    assert diff_configs(cfg, TrainConfig()) == ["group_column", "lr", "augment"]


def test_bad_yaml_and_missing_file(tmp_path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(TrainConfig, tmp_path / "nope.yaml")
    f = tmp_path / "list.yaml"
    f.write_text("- 1\n- 2\n")
    with pytest.raises(ConfigError, match="mapping"):
        load_config(TrainConfig, f)


def test_tune_config_validation() -> None:
    assert TuneConfig().direction == "maximize"
    assert TuneConfig(metric="val_loss").direction == "minimize"
    with pytest.raises(ConfigError, match="metric must be one of val_accuracy, val_loss"):
        TuneConfig(metric="accuracy")
    with pytest.raises(ConfigError, match="grace_period"):
        TuneConfig(heartbeat_interval=10, grace_period=5)
    with pytest.raises(ConfigError, match="workers must be at least 1"):
        TuneConfig(workers=0)
    with pytest.raises(ConfigError, match="pruner must be one of median, hyperband, none"):
        TuneConfig(pruner="asha")


def test_tune_config_defaults_plan_a_budget() -> None:
    # An hour, as many trials as fit, pruned by what the trials train, in the fine-tune space.
    cfg = TuneConfig()
    assert (cfg.timeout, cfg.trials, cfg.pruner, cfg.space) == (3600.0, None, "auto", "default")
    assert TuneConfig(trials=5, timeout=None).timeout is None  # trials alone also stop it
    with pytest.raises(ConfigError, match="give --trials N or --timeout SECONDS"):
        TuneConfig(trials=None, timeout=None)
    with pytest.raises(ConfigError, match="trials must be at least 1"):
        TuneConfig(trials=0)
    with pytest.raises(ConfigError, match="timeout must be positive"):
        TuneConfig(timeout=-1)


@pytest.mark.parametrize("cls", [TrainConfig, TuneConfig, EvaluateConfig])
def test_every_field_is_documented(cls: type) -> None:
    for f in dataclasses.fields(cls):
        assert f.metadata["help"].strip(), f.name
        assert "talk" not in f.metadata["help"], f.name
        choices = f.metadata["choices"]
        if choices:  # the default is one of them, and validation uses the same tuple
            assert f.default in choices, f.name
    assert dataclasses.fields(TrainConfig)[0].metadata["help"].startswith("square input side")


def test_option_metadata_and_choices_from_it() -> None:
    @dataclasses.dataclass(frozen=True)
    class Demo:
        size: int = option(3, "how big", flag="--big", metavar="N")
        mode: str = option("head", "which mode", choices=MODES)

    (size, mode) = dataclasses.fields(Demo)
    assert size.default == 3 and dict(size.metadata) == {
        "help": "how big",
        "flag": "--big",
        "choices": (),
        "metavar": "N",
    }
    assert mode.metadata["choices"] == ("head", "finetune", "warmup")
    assert Demo().size == 3
    heartbeat = {f.name: f for f in dataclasses.fields(TuneConfig)}["heartbeat_interval"]
    assert heartbeat.metadata["flag"] == "--heartbeat" and heartbeat.default == 30
    # Choices in the metadata are enforced by every config class.
    with pytest.raises(ConfigError, match="balance must be one of none, weights, sampler"):
        TrainConfig(balance="oversample")
    with pytest.raises(ConfigError, match="split_strategy must be one of stratified, time"):
        load_config(TrainConfig, None, {"split_strategy": "random"})


@pytest.mark.parametrize("cls", [TrainConfig, EvaluateConfig])
def test_a_negative_seed_is_refused(cls) -> None:
    with pytest.raises(ConfigError, match="seed must be a non-negative integer, got -1"):
        cls(seed=-1)


def test_negative_seed_on_the_command_line_is_one_line(tmp_path) -> None:
    from tests.conftest import run_cli

    res = run_cli("train", str(tmp_path), "--seed", "-1")
    assert res.returncode == 1
    assert res.stderr.strip() == "error: seed must be a non-negative integer, got -1"
