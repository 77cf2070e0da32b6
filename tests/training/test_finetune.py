"""The fine-tune phase: freeze_stages keeps the leading backbone stages exactly as pretrained."""

from __future__ import annotations

from pathlib import Path

import torch

from stylecast.config import TrainConfig
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
