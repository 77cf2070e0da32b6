"""train() with --ensemble N: one run folder, N member runs on one split, resumable."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pandas as pd
import pytest

from stylecast.config import TrainConfig
from stylecast.ensemble import RECIPE_VARIANTS, member_config, variant_text
from stylecast.errors import ConfigError, RunError
from stylecast.run import RunFolder
from stylecast.training import train
from tests._runs import TRAIN_KW, trained_ensemble
from tests.conftest import run_cli


def test_an_ensemble_run_holds_its_members_on_one_split(
    tmp_path_factory: pytest.TempPathFactory, lookbook: Path
) -> None:
    ens = RunFolder(trained_ensemble(tmp_path_factory, lookbook))
    info = ens.model_info()
    assert info.is_ensemble and len(info.members) == 3
    assert [m.path for m in info.members] == ["members/0", "members/1", "members/2"]
    assert [m.seed for m in info.members] == [0, 1, 2]
    assert info.describe() == "ensemble of 3 x efficientnet_lite0"
    assert json.loads(ens.model_file.read_text())["format"] == 3
    assert not ens.weights_file.exists()  # the weights are the members'
    assert ens.has_model() and ens.is_trained() and ens.is_ensemble()
    split = ens.splits()[["path", "label", "split"]]
    for m in ens.members():
        assert m.is_trained() and not m.model_info().is_ensemble
        pd.testing.assert_frame_equal(m.splits()[["path", "label", "split"]], split)
    # Every member's rows are in the ensemble's metrics.csv, numbered.
    metrics = pd.read_csv(ens.metrics_file)
    assert sorted(metrics["member"].unique()) == [0, 1, 2]
    cfg = (ens.path / "config.yaml").read_text()
    assert "ensemble: 3" in cfg
    assert 0.0 <= info.extra["ensemble_val_accuracy"] <= 1.0


def test_member_zero_is_the_single_model_of_the_same_seed(
    tmp_path_factory: pytest.TempPathFactory, lookbook: Path, tmp_path: Path
) -> None:
    from stylecast.ensemble import weights_digest

    ens = RunFolder(trained_ensemble(tmp_path_factory, lookbook))
    single = RunFolder(tmp_path / "single")
    train(lookbook, TrainConfig(**TRAIN_KW), out=single.path, progress=False)
    assert weights_digest(single) == weights_digest(ens.member_folder(0))
    assert ens.model_info().members[0].weights_digest == weights_digest(single)


def test_a_killed_ensemble_resumes_member_by_member(lookbook: Path, tmp_path: Path) -> None:
    out = tmp_path / "ens"
    cfg = TrainConfig(ensemble=2, **{**TRAIN_KW, "epochs": 2})

    def stop_in_member_1(row: dict) -> None:
        if (out / "members" / "1").exists() and row["phase"] == "finetune" and row["epoch"] == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train(lookbook, cfg, out=out, progress=False, on_epoch=stop_in_member_1)
    run = RunFolder(out)
    assert not run.model_file.exists()  # not an ensemble until every member is trained
    assert run.member_folder(0).is_trained()
    assert run.member_folder(1).last_checkpoint.is_file()
    kept = run.member_folder(0).weights_file.stat().st_mtime_ns
    with pytest.raises(RunError, match="holds no trained model"):
        from stylecast.models import load_model

        load_model(out)
    res = run_cli("train", "--resume", str(out), "--no-evaluate")
    assert res.returncode == 0, res.stderr
    assert "member 1/2 (seed 0): trained already, kept" in res.stderr
    assert "member 2/2 (seed 1): continuing" in res.stderr
    assert "trained an ensemble of 2 warmup models" in res.stdout
    assert run.member_folder(0).weights_file.stat().st_mtime_ns == kept
    assert run.is_trained() and len(run.model_info().members) == 2
    member1 = pd.read_csv(run.member_folder(1).metrics_file)
    assert list(member1[member1["phase"] == "finetune"]["epoch"]) == [1, 2]


def test_ensemble_size_is_checked_at_the_command_line(lookbook: Path, tmp_path: Path) -> None:
    res = run_cli("train", str(lookbook), "--ensemble", "0", "--out", str(tmp_path / "x"))
    assert res.returncode == 1
    assert res.stderr.strip().splitlines() == [
        "error: ensemble must be between 1 (one model) and 32 members, got 0"
    ]
    assert not (tmp_path / "x").exists()
    with pytest.raises(ConfigError, match="between 1"):
        TrainConfig(ensemble=33)


def test_members_differ_by_seed_or_also_by_recipe() -> None:
    seeds = TrainConfig(ensemble=4, seed=7)
    assert [member_config(seeds, k).seed for k in range(4)] == [7, 8, 9, 10]
    assert all(member_config(seeds, k).ensemble == 1 for k in range(4))
    assert member_config(seeds, 1).crop_scale == seeds.crop_scale
    varied = dataclasses.replace(seeds, ensemble_recipes="varied")
    assert member_config(varied, 0) == dataclasses.replace(varied, ensemble=1)
    assert member_config(varied, 1).crop_scale == RECIPE_VARIANTS[1]["crop_scale"]
    assert member_config(varied, 2).epochs == 12  # 1.5 x the 8 default epochs
    assert member_config(varied, 3).lr == pytest.approx(varied.lr / 2)
    assert member_config(varied, 3).label_smoothing == 0.0
    assert member_config(varied, 4) == dataclasses.replace(varied, ensemble=1, seed=11)
    assert variant_text(varied, 1) == "crop_scale=0.6"
    assert variant_text(seeds, 1) == ""
