"""stylecast.evaluation.galleries: what they show, in which order, and where their images are."""

from __future__ import annotations

import dataclasses
import json
import math
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from stylecast.errors import RunError
from stylecast.evaluation import evaluated_image_root
from stylecast.evaluation.galleries import build_galleries, select_galleries
from stylecast.run import RunFolder
from tests._runs import evaluated_run


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory, lookbook: Path) -> Path:
    return evaluated_run(tmp_path_factory, lookbook)


def test_galleries_are_written(run: Path) -> None:
    index = json.loads((run / "galleries.json").read_text())
    assert index["gradcam"] is True
    preds = pd.read_csv(run / "predictions.csv")
    right = preds[preds["correct"]]
    expected = {f"gallery_correct_{c}.png" for c in right["true"].unique()}
    wrong = preds[~preds["correct"]]
    expected |= {f"gallery_wrong_{t}_as_{p}.png" for t, p in zip(wrong["true"], wrong["predicted"])}
    assert {g["file"] for g in index["galleries"]} == expected
    assert {p.name for p in run.glob("gallery_*.png")} == expected
    for g in index["galleries"]:
        k = len(g["items"])
        assert 0 < k <= 12
        cols, rows = min(4, k), math.ceil(k / 4)
        with Image.open(run / g["file"]) as im:
            # 4 photo|heat-map pairs per row, each 1.1 in high and (160+4+160)/160 as wide,
            # at 150 dpi; rows add two title lines each and the gallery title on top.
            assert abs(im.width - cols * 1.1 * (324 / 160) * 150) <= 2
            assert abs(im.height - (rows * (1.1 + 0.4) + 0.35) * 150) <= 2
            # The right half of a tile is the Grad-CAM overlay: it has colour the photo lacks.
            assert np.asarray(im.convert("RGB")).std() > 10
        p_true = [it["p_true"] for it in g["items"]]
        assert p_true == sorted(p_true, reverse=g["kind"] == "correct")


def test_select_galleries_order() -> None:
    classes = ["A", "B", "C"]
    rows = [  # path, true, predicted, p_A, p_B, p_C
        ("1", "A", "A", 0.9, 0.05, 0.05),
        ("2", "A", "A", 0.6, 0.2, 0.2),
        ("3", "A", "B", 0.3, 0.6, 0.1),
        ("4", "A", "B", 0.1, 0.8, 0.1),
        ("5", "C", "B", 0.1, 0.5, 0.4),
        ("6", "B", "B", 0.1, 0.7, 0.2),
    ]
    df = pd.DataFrame(rows, columns=["path", "true", "predicted", "p_A", "p_B", "p_C"])
    got = select_galleries(df, classes, size=5)
    assert [(k, t, p, n) for k, t, p, _, n in got] == [
        ("correct", "A", "A", 2),
        ("correct", "B", "B", 1),
        ("wrong", "A", "B", 2),  # the most frequent confusion first
        ("wrong", "C", "B", 1),
    ]
    assert list(got[0][3]["path"]) == ["1", "2"]  # most confident first
    assert list(got[2][3]["path"]) == ["4", "3"]  # worst (lowest p(true)) first
    assert list(got[2][3]["p_true"]) == [0.1, 0.3]
    assert [len(g[3]) for g in select_galleries(df, classes, size=1)] == [1, 1, 1, 1]


def test_build_galleries_needs_an_evaluation(tmp_path: Path) -> None:
    with pytest.raises(RunError, match="has not been evaluated"):
        build_galleries(tmp_path)


def test_image_root_of_the_runs_own_split_comes_from_run_json(
    run: Path, tmp_path: Path, lookbook: Path
) -> None:
    """The run's split is found through run.json, not through the root evaluate recorded:
    pointing the run at a copy of its data is enough for its galleries."""
    folder = RunFolder(run)
    ev = json.loads(folder.evaluation_file.read_text())
    assert ev["split"] == "test"
    assert evaluated_image_root(run, ev) == folder.image_root() == folder.info().image_root
    moved = tmp_path / "moved"
    shutil.copytree(lookbook, moved)
    info = folder.info()
    folder.write_info(dataclasses.replace(info, data=moved))
    ev["image_root"] = str(tmp_path / "gone")  # what evaluate saw is no longer there
    folder.evaluation_file.write_text(json.dumps(ev))
    assert evaluated_image_root(run, ev) == moved
    result = build_galleries(run, size=2, gradcam=False)
    assert result.galleries and all(g.items for g in result.galleries)


def test_image_root_of_other_data_comes_from_evaluation_json(tmp_path: Path) -> None:
    ev = {"split": "external", "data": "elsewhere", "image_root": str(tmp_path / "images")}
    assert evaluated_image_root(tmp_path, ev) == tmp_path / "images"
    with pytest.raises(RunError, match="does not say where the evaluated images are"):
        evaluated_image_root(tmp_path, {"split": "external", "data": "elsewhere"})


def test_captions_are_readable_not_cut() -> None:
    """Product names wrap onto two lines instead of being cut at ~15 characters."""
    from stylecast.evaluation.galleries import caption_lines

    name = "Gini and Jony Kids Girls Solid Purple Capris"
    assert caption_lines(name, wide=False) == "Gini and Jony Kids Girls\nSolid Purple Capris"
    assert caption_lines(name, wide=True) == name  # beside its Grad-CAM: one wide line
    long = "ADIDAS Originals Women F Night Logo TT White Jacket with a long tail"
    lines = caption_lines(long, wide=False).split("\n")
    assert len(lines) == 2 and lines[1].endswith("…") and max(map(len, lines)) <= 26
    assert caption_lines("short", wide=False) == "short"
