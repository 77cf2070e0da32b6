"""Helpers shared by the tuning tests (tests/tuning and tests/cli/test_tune.py)."""

from __future__ import annotations

import uuid
from pathlib import Path

from stylecast.config import TrainConfig

# Tiny and fast: 32 px inputs, a few head epochs on cached features.
BASE = dict(img_size=32, group_column="group", head_epochs=4, patience=0, pretrained=False)
FAST_FLAGS = [
    *("--img-size", "32", "--group-column", "group", "--head-epochs", "3"),
    *("--no-pretrained", "--quiet"),
]
COLUMNS_HEAD = ["number", "value", "duration"]


def base_config(**kw: object) -> TrainConfig:
    """The tests' TrainConfig: BASE with ``kw`` laid over it."""
    return TrainConfig(**{**BASE, **kw})


def space_file(tmp_path: Path, text: str) -> str:
    """Write a search-space YAML file with a unique name; its path."""
    p = tmp_path / f"space-{uuid.uuid4().hex[:6]}.yaml"
    p.write_text(text)
    return str(p)
