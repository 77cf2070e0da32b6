"""The fine-tune phase: freeze_stages keeps the leading backbone stages exactly as pretrained;
--ema validates, keeps and resumes an average of the weights."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from stylecast.config import TrainConfig
from stylecast.errors import ConfigError
from stylecast.models import create_model, load_model
from stylecast.training import train


def test_freeze_stages_keeps_leading_stages_and_trains_the_rest(
    tmp_path: Path, lookbook: Path
) -> None:
    cfg = TrainConfig(
        mode="finetune", freeze_stages=3, epochs=1, img_size=48, batch_size=16, patience=0
    )
    train(lookbook, cfg, out=tmp_path / "run", progress=False, write_summary=False)
    trained, _ = load_model(tmp_path / "run")
    pretrained = create_model("efficientnet_lite0", 2).state_dict()
    after = trained.state_dict()
    # Stage 1 is the stem, stages 2-3 the first two block stages: weights and BN statistics
    # are bit for bit the pretrained ones.
    for key in (
        "conv_stem.weight",
        "bn1.running_mean",
        "blocks.0.0.conv_dw.weight",
        "blocks.1.0.conv_pw.weight",
        "blocks.1.1.bn1.running_var",
    ):
        assert torch.equal(after[key], pretrained[key]), key
    # Later stages and the head moved.
    for key in ("blocks.2.0.conv_pw.weight", "blocks.6.0.conv_pw.weight", "conv_head.weight"):
        assert not torch.equal(after[key], pretrained[key]), key


class _Stop(Exception):
    pass


def test_ema_weights_are_validated_kept_and_resumed(tmp_path: Path, lookbook: Path) -> None:
    cfg = TrainConfig(
        mode="finetune", epochs=2, img_size=48, batch_size=16, patience=0, ema=0.9, seed=1
    )

    def stop_in_epoch_2(row: dict) -> None:
        if row["epoch"] == 2:
            raise _Stop

    run = tmp_path / "killed"
    with pytest.raises(_Stop):
        train(lookbook, cfg, out=run, progress=False, on_epoch=stop_in_epoch_2)
    last = torch.load(run / "checkpoint" / "last.pt", weights_only=True)
    best = torch.load(run / "checkpoint" / "best.pt", weights_only=True)
    assert last["state"]["epoch"] == 1 and set(last["ema"]) == set(last["model"])
    key = "conv_head.weight"
    # The average lags the trained weights, and the weights kept as best are the average.
    assert not torch.equal(last["ema"][key], last["model"][key])
    assert torch.equal(best[key], last["ema"][key])

    resumed = train(None, None, run, resume=True, progress=False, write_summary=False)
    full = train(lookbook, cfg, out=tmp_path / "full", progress=False, write_summary=False)
    assert [r["epoch"] for r in resumed.history] == [1, 2]
    # The resumed average continues from the checkpoint's, so both runs end alike.
    a, b = resumed.history[-1], full.history[-1]
    assert abs(a["val_loss"] - b["val_loss"]) < 1e-3, (a, b)

    with pytest.raises(ConfigError, match="ema must be in"):
        TrainConfig(ema=1.0)


def test_without_a_validation_split_the_last_epoch_is_kept(tmp_path: Path, lookbook: Path) -> None:
    # What --retrain-best trains on train+val: nothing to choose with, so no early stop
    # (patience 1 would stop here) and the last fine-tune epoch is the model.
    cfg = TrainConfig(
        mode="warmup",
        epochs=3,
        head_epochs=4,
        patience=1,
        val_fraction=0.0,
        img_size=48,
        batch_size=16,
        lr=0.05,
    )
    res = train(lookbook, cfg, out=tmp_path / "run", progress=False, write_summary=False)
    phases = [(r["phase"], r["epoch"]) for r in res.history]
    assert phases == [("head", 1), ("head", 2), ("head", 3), ("head", 4)] + [
        ("finetune", e) for e in (1, 2, 3)
    ]
    assert (res.best_phase, res.best_epoch) == ("finetune", 3)
    assert res.best_val_accuracy == res.history[-1]["val_accuracy"]
