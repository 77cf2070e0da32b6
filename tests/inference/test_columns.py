"""A run trained with --path-column/--label-column reads other manifests the same way:
predict takes its images from that column, evaluate of other data its labels too."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from stylecast.config import EvaluateConfig, TrainConfig
from stylecast.errors import DataError


def _renamed(lookbook: Path, target: Path) -> Path:
    """The lookbook's manifest with its images under 'file' and labels under 'season'."""
    table = pd.read_csv(lookbook / "manifest.csv")
    table["file"] = [str(lookbook / p) for p in table["path"]]
    table = table.rename(columns={"label": "season"}).drop(columns=["path"])
    target.write_text(table.to_csv(index=False))
    return target


def test_other_data_is_read_with_the_runs_columns(lookbook: Path, tmp_path: Path) -> None:
    from stylecast.evaluation import evaluate
    from stylecast.inference import PredictOptions, predict_batch
    from stylecast.training import train

    manifest = _renamed(lookbook, tmp_path / "looks.csv")
    cfg = TrainConfig(
        mode="head",
        img_size=32,
        head_epochs=4,
        pretrained=False,
        group_column="group",
        path_column="file",
        label_column="season",
    )
    run = tmp_path / "run"
    train(manifest, cfg, out=run, progress=False)
    other = _renamed(lookbook, tmp_path / "other.csv")
    ev = evaluate(run, other, EvaluateConfig(n_bootstrap=0, gallery_size=0), progress=False)
    assert ev.headline.n == 48 and set(pd.read_csv(ev.predictions_csv)["true"]) == {
        "FallWinter",
        "SpringSummer",
    }
    opts = PredictOptions(backend="torch", shift_check=False, progress=False)
    res = predict_batch(run, [other], opts)
    assert len(res.table) == 48 and list(res.table["file"]) == list(res.table["path"])
    bare = tmp_path / "bare.csv"
    pd.read_csv(other).drop(columns=["file"]).to_csv(bare, index=False)
    with pytest.raises(DataError, match="has no column 'file', which the run was trained with"):
        predict_batch(run, [bare], opts)
