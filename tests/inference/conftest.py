"""Fixtures of the inference tests: a head-mode run big enough for the shift check, and new
looks from the same generator (another seed) and from a different one (colours inverted)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image


@pytest.fixture(scope="session")
def shift_lookbook(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """60 looks per season: about 84 training images, over the check's minimum of 50."""
    from stylecast.demo.lookbook import make_lookbook

    root = tmp_path_factory.mktemp("shift-lookbook")
    make_lookbook(root, 60, seed=1, image_size=(72, 96))
    return root


@pytest.fixture(scope="session")
def head_run(tmp_path_factory: pytest.TempPathFactory, shift_lookbook: Path) -> Path:
    """A trained (head mode, 48 px) and evaluated run on ``shift_lookbook``."""
    from stylecast.config import EvaluateConfig, TrainConfig
    from stylecast.evaluation.scoring import evaluate
    from stylecast.training.engine import train

    run = tmp_path_factory.mktemp("shift-run") / "run"
    cfg = TrainConfig(img_size=48, mode="head", group_column="group", head_epochs=8)
    train(shift_lookbook, cfg, out=run, progress=False)
    evaluate(run, cfg=EvaluateConfig(n_bootstrap=50, gallery_size=0), progress=False)
    return run


@pytest.fixture(scope="session")
def same_looks(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """80 new looks from the same generator (another seed), with a manifest."""
    from stylecast.demo.lookbook import make_lookbook

    root = tmp_path_factory.mktemp("same-looks")
    make_lookbook(root, 40, seed=7, image_size=(72, 96))
    return root


@pytest.fixture(scope="session")
def inverted_looks(tmp_path_factory: pytest.TempPathFactory, same_looks: Path) -> Path:
    """The same 80 looks with their colours inverted: clearly unlike the training images."""
    root = tmp_path_factory.mktemp("inverted-looks")
    for f in sorted(same_looks.rglob("*.jpg")):
        target = root / f.relative_to(same_looks)
        target.parent.mkdir(parents=True, exist_ok=True)
        rgb = np.asarray(Image.open(f).convert("RGB"))
        Image.fromarray(255 - rgb).save(target)
    (root / "manifest.csv").write_text((same_looks / "manifest.csv").read_text())
    return root
