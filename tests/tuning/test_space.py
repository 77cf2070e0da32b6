"""Search spaces: presets, the YAML file format, and errors that name the bad key."""

from __future__ import annotations

from pathlib import Path

import pytest

from stylecast.config import TrainConfig
from stylecast.errors import ConfigError
from tests.tuning._study import base_config, space_file


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        (
            "lrr: {type: float, low: 0.001, high: 0.01}",
            "unknown parameter 'lrr' (did you mean 'lr'",
        ),
        ("seed: {type: int, low: 0, high: 3}", "'seed' cannot be tuned"),
        ("group_column: [a, b]", "'group_column' cannot be tuned"),
        ("lr: {type: float, low: 0.001, hgih: 0.01}", "parameter 'lr': unknown field 'hgih'"),
        ("lr: {type: float, low: 0.01, high: 0.001}", "parameter 'lr': low (0.01) must be below"),
        ("lr: {type: float, low: 0, high: 0.1, log: true}", "parameter 'lr': a log scale"),
        ("lr: {type: gaussian, low: 0.1, high: 1}", "parameter 'lr': type must be one of"),
        ("batch_size: {type: int, low: 8.5, high: 64}", "parameter 'batch_size': an int's low"),
        ("batch_size: {type: int, low: 0, high: 64}", "parameter 'batch_size': value 0"),
        ("label_smoothing: {low: 0.0, high: 1.5}", "parameter 'label_smoothing': value 1.5"),
        ("mode: {type: categorical, choices: []}", "parameter 'mode': choices must be"),
        ("mode: [head, sideways]", "parameter 'mode': unknown mode 'sideways'"),
        ("weight_decay: 0.01", "parameter 'weight_decay': expected a mapping"),
        ("lr: {type: float, low: [1e-3, 0.1}", "not valid YAML"),
        ("extends: everything", "extends must be one of default, full"),
    ],
)
def test_a_malformed_space_file_names_the_bad_key(tmp_path: Path, text: str, needle: str) -> None:
    from stylecast.tuning.space import resolve_space

    path = space_file(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        resolve_space(path, base_config(), fixed=())
    assert needle in str(info.value)
    assert path in str(info.value)


def test_space_files_presets_and_fixed_keys(tmp_path: Path) -> None:
    from stylecast.tuning.space import resolve_space

    # 1e-4 without a dot is a string to PyYAML; a list is shorthand for categorical.
    path = space_file(
        tmp_path,
        "extends: head\n"
        "lr: {type: float, low: 1e-4, high: 1e-2, log: true}\n"
        "batch_size: {type: int, low: 16, high: 64, step: 8}\n"
        "label_smoothing: [0.0, 0.1]\n"
        "weight_decay: null\n"
        "mode: [head, finetune]\n",
    )
    space, base = resolve_space(path, base_config(), fixed={"head_epochs"})
    assert space["lr"].to_dict() == {"type": "float", "low": 1e-4, "high": 1e-2, "log": True}
    assert space["batch_size"].to_dict() == {"type": "int", "low": 16, "high": 64, "step": 8}
    assert space["label_smoothing"].choices == (0.0, 0.1)
    assert "weight_decay" not in space and "head_epochs" not in space  # removed / fixed
    # head_lr: neither a head fit nor a fine-tune uses it; balance: both do.
    assert set(space) == {"balance", "lr", "batch_size", "epochs", "label_smoothing", "mode"}

    # Head preset: head mode unless the mode is fixed; head-mode trials search only what the
    # head fit (a convex solver over a grid of C) uses.
    space, base = resolve_space("head", TrainConfig(), fixed=())
    assert base.mode == "head"
    assert set(space) == {"head_epochs", "balance"}
    space, base = resolve_space("head", TrainConfig(mode="finetune"), fixed={"mode"})
    assert base.mode == "finetune"
    trains = {"lr", "batch_size", "weight_decay", "epochs", "label_smoothing", "balance"}
    assert set(space) == trains
    space, _ = resolve_space("full", TrainConfig(), fixed={"lr"})
    assert space["mode"].choices == ("head", "warmup", "finetune") and "lr" not in space
    with pytest.raises(ConfigError, match="does not exist"):
        resolve_space(str(tmp_path / "nope.yaml"), TrainConfig(), fixed=())
    with pytest.raises(ConfigError, match="nothing to tune"):
        resolve_space("head", TrainConfig(), fixed={"head_epochs", "balance"})


def test_the_default_space_fine_tunes_and_holds_the_defaults(tmp_path: Path) -> None:
    from stylecast.tuning.space import default_params, outside_space, resolve_space

    # The talk's search on real fine-tuning: trials warm up a head, then fine-tune.
    space, base = resolve_space("default", TrainConfig(), fixed=())
    assert base == TrainConfig() and base.mode == "warmup"
    assert list(space) == ["freeze_stages", "lr", "batch_size", "weight_decay", "label_smoothing"]
    assert space["freeze_stages"].to_dict() == {"type": "int", "low": 0, "high": 6}
    assert space["lr"].to_dict() == {"type": "float", "low": 3e-4, "high": 3e-3, "log": True}
    assert space["batch_size"].to_dict() == {"type": "int", "low": 16, "high": 48, "step": 8}
    assert space["weight_decay"].to_dict() == {
        "type": "float",
        "low": 1e-4,
        "high": 3e-3,
        "log": True,
    }
    # The first trial is exactly `stylecast train`'s configuration, inside every range.
    params = default_params(space, base)
    assert params == {
        "freeze_stages": 0,
        "lr": 1e-3,
        "batch_size": 32,
        "weight_decay": 5e-4,
        "label_smoothing": 0.1,
    }
    assert outside_space(space, params) == []
    assert outside_space(space, {**params, "batch_size": 20, "lr": 0.1}) == [
        "lr=0.1",
        "batch_size=20",
    ]
    # Head mode (--freeze): a head fit uses none of the default space; full searches the mode.
    with pytest.raises(ConfigError, match="a head-mode fit .* uses none of batch_size"):
        resolve_space("default", TrainConfig(mode="head"), fixed={"mode"})
    space, base = resolve_space("full", TrainConfig(), fixed=())
    assert base.mode == "warmup" and space["mode"].choices == ("head", "warmup", "finetune")
    assert {"freeze_stages", "lr", "head_lr", "head_epochs", "epochs"} <= set(space)
    assert default_params(space, base)["mode"] == "warmup"
    # A file takes its preset's mode: `extends: head` trains heads, `extends: default` fine-tunes.
    path = space_file(tmp_path, "extends: head\nweight_decay: null\n")
    assert resolve_space(path, TrainConfig(), fixed=())[1].mode == "head"
    path = space_file(tmp_path, "extends: default\nfreeze_stages: {low: 2, high: 4}\n")
    space, base = resolve_space(path, TrainConfig(), fixed=())
    assert base.mode == "warmup" and space["freeze_stages"].to_dict()["low"] == 2
    assert outside_space(space, default_params(space, base)) == ["freeze_stages=0"]


def test_head_trials_sample_only_what_a_head_fit_uses() -> None:
    """In the full space a head-mode trial samples no learning rate, batch size, weight
    decay or label smoothing (the convex head fit ignores them); a warm-up trial does."""
    import optuna

    from stylecast.tuning.space import resolve_space, suggest

    space, base = resolve_space("full", TrainConfig(), fixed=())
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    seen: dict[str, set[str]] = {}
    for _ in range(30):
        params = suggest(study.ask(), space, base)
        seen.setdefault(params["mode"], set()).update(params)
    assert seen["head"] == {"mode", "head_epochs", "balance"}
    assert {"head_lr", "batch_size", "weight_decay", "label_smoothing"} <= seen["warmup"]
    assert "head_lr" not in seen["finetune"] and "lr" in seen["finetune"]
