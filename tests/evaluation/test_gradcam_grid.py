"""Finer Grad-CAM (the deepest stage at least 8 cells wide) and named gallery captions."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import torch

from stylecast.errors import DataError
from stylecast.evaluation import build_galleries
from stylecast.evaluation.galleries import caption_column_of
from stylecast.evaluation.gradcam import cam_grid, find_target_layer, grad_cam
from stylecast.models import create_model
from tests._runs import evaluated_run


@pytest.fixture(scope="module")
def lite0() -> torch.nn.Module:
    return create_model("efficientnet_lite0", 2, pretrained=False).eval()


@pytest.mark.parametrize(("size", "grid"), [(128, 8), (224, 14), (320, 10), (64, 2)])
def test_grid_is_at_least_eight_cells_from_stride_16_on(lite0, size: int, grid: int) -> None:
    assert cam_grid(lite0, size) == grid
    layer = find_target_layer(lite0, size)
    if size in (128, 224):
        assert layer is lite0.blocks[4]  # the stride-16 stage, not the 4x4 bn2
    else:
        assert layer is lite0.bn2  # already fine enough, or too small for any stage


def test_map_at_128_px_has_eight_by_eight_structure(lite0) -> None:
    x = torch.randn(1, 3, 128, 128, generator=torch.Generator().manual_seed(0))
    cams, _ = grad_cam(lite0, x)
    assert cams.shape == (1, 128, 128)
    # Bilinear upsampling of an 8x8 map: cell centres 16 px apart carry distinct values.
    centres = cams[0, 8::16, 8::16]
    assert centres.shape == (8, 8) and len({round(float(v), 4) for v in centres.ravel()}) > 16


def test_captions_come_from_a_name_column(
    tmp_path_factory: pytest.TempPathFactory, lookbook: Path
) -> None:
    run = evaluated_run(tmp_path_factory, lookbook)
    pred = pd.read_csv(run / "predictions.csv", dtype=str)
    pred["productDisplayName"] = [f"Tartan Coat {i}" for i in range(len(pred))]
    pred.to_csv(run / "predictions.csv", index=False)
    assert caption_column_of(pd.read_csv(run / "predictions.csv"), None) == "productDisplayName"
    build_galleries(run, size=3, gradcam=True)
    index = json.loads((run / "galleries.json").read_text())
    assert index["caption_column"] == "productDisplayName"
    assert index["cam_grid"] == 2  # the test run's 48 px input: no stage is 8 cells wide
    captions = [i["caption"] for g in index["galleries"] for i in g["items"]]
    assert captions and all(c.startswith("Tartan Coat") for c in captions)
    with pytest.raises(DataError, match="caption column 'sku' is not in the predictions"):
        build_galleries(run, size=3, gradcam=False, caption_column="sku")
    build_galleries(run, size=3, gradcam=False, caption_column="brand")
    index = json.loads((run / "galleries.json").read_text())
    assert index["caption_column"] == "brand" and index["cam_grid"] is None
