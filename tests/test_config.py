from __future__ import annotations

import pytest

from stylecast.config import TrainConfig, config_to_yaml, diff_configs, load_config
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
