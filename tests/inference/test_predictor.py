"""stylecast.inference.predictor: a run folder's model applied to files, arrays and folders."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from stylecast.errors import DataError
from stylecast.evaluation import softmax
from stylecast.inference import Predictor, predict
from stylecast.inference.predictor import expand_image_paths

CLASSES = ("FallWinter", "SpringSummer")


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run folder holding an (untrained-head) EfficientNet-Lite0 with a stored temperature."""
    from stylecast.models import create_model, preprocessing_for, save_model
    from stylecast.run import ModelInfo

    run = tmp_path_factory.mktemp("predict") / "run"
    run.mkdir()
    info = ModelInfo(
        name="efficientnet_lite0",
        timm_name="tf_efficientnet_lite0",
        classes=CLASSES,
        preprocessing=preprocessing_for("efficientnet_lite0", 48),
        temperature=2.0,
    )
    save_model(create_model("efficientnet_lite0", num_classes=2), run, info)
    return run


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two readable looks in a nested folder, and one file that is not an image."""
    root = tmp_path_factory.mktemp("looks")
    rng = np.random.default_rng(0)
    (root / "b").mkdir()
    Image.fromarray(rng.integers(0, 255, (60, 40, 3), dtype=np.uint8)).save(root / "a.png")
    Image.fromarray(rng.integers(0, 255, (40, 60, 3), dtype=np.uint8)).save(root / "b" / "c.jpg")
    (root / "broken.jpg").write_text("not a picture")
    return root


def test_predictor_uses_the_runs_preprocessing_and_temperature(run: Path, images: Path) -> None:
    predictor = Predictor.from_run(run)
    assert predictor.classes_ == list(CLASSES)
    assert (predictor.prep.img_size, predictor.temperature) == (48, 2.0)
    looks = [images / "a.png", images / "b" / "c.jpg"]
    logits = predictor.logits(looks)
    assert logits.shape == (2, 2)
    proba = predictor.predict_proba(looks)
    np.testing.assert_allclose(proba, softmax(logits, 2.0), rtol=1e-6)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-6)
    assert predictor.predict(looks) == [CLASSES[i] for i in proba.argmax(1)]
    # A path, a PIL image and an array of the same look give the same answer.
    pil = Image.open(looks[0]).convert("RGB")
    same = predictor.predict_proba([looks[0], pil, np.asarray(pil)])
    np.testing.assert_allclose(same, np.repeat(proba[:1], 3, axis=0), rtol=1e-5)
    assert predictor.predict_proba([]).shape == (0, 2)
    with pytest.raises(DataError, match="HxWx3"):
        predictor.predict_proba([np.zeros((8, 8), np.uint8)])


def test_expand_image_paths(images: Path) -> None:
    assert expand_image_paths([images]) == sorted(
        [images / "a.png", images / "b" / "c.jpg", images / "broken.jpg"]
    )
    assert expand_image_paths([images / "a.png"]) == [images / "a.png"]
    with pytest.raises(DataError, match="does not exist"):
        expand_image_paths([images / "nope.jpg"])


def test_predict_skips_unreadable_files(run: Path, images: Path) -> None:
    table, skipped = predict(run, [images])
    assert list(table["path"]) == [str(images / "a.png"), str(images / "b" / "c.jpg")]
    assert list(table.columns) == [
        "path",
        "predicted",
        "confidence",
        "p_FallWinter",
        "p_SpringSummer",
    ]
    p = table[["p_FallWinter", "p_SpringSummer"]].to_numpy()
    np.testing.assert_allclose(table["confidence"], p.max(axis=1))
    assert [s["path"] for s in skipped] == [str(images / "broken.jpg")]
    with pytest.raises(DataError, match="no images to predict"):
        predict(run, [])
