"""stylecast.evaluation.gradcam: right shape and range; the heat lies on the class evidence."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from stylecast.errors import DataError, ModelError
from stylecast.evaluation.gradcam import explain, find_target_layer, grad_cam
from tests.conftest import run_cli

SIZE = 32


class RedDetector(nn.Module):
    """Hand-built CNN whose evidence is known: class 1 = 'red pixels', class 0 = 'not red'."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 2, 1)
        with torch.no_grad():
            # channel 0 fires on red (R - G - B), channel 1 on everything else
            self.conv.weight.copy_(
                torch.tensor([[1.0, -1.0, -1.0], [-1.0, 1.0, 1.0]])[..., None, None]
            )
            self.conv.bias.zero_()
        self.fc = nn.Linear(2, 2)
        with torch.no_grad():
            # a red patch of 1/16 of the image outweighs a grey background
            self.fc.weight.copy_(torch.tensor([[0.0, 1.0], [10.0, 0.0]]))
            self.fc.bias.zero_()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.relu(self.conv(x)).mean(dim=(2, 3)))


def _patch_images(n: int, rng: np.random.Generator, colour: tuple[float, float, float]):
    """Grey noise with one 8x8 coloured patch at a random place; returns images and masks."""
    x = rng.uniform(0.3, 0.5, size=(n, 3, SIZE, SIZE)).astype(np.float32)
    masks = np.zeros((n, SIZE, SIZE), bool)
    for i in range(n):
        r, c = rng.integers(0, SIZE - 8, size=2)
        x[i, :, r : r + 8, c : c + 8] = np.array(colour, np.float32)[:, None, None]
        masks[i, r : r + 8, c : c + 8] = True
    return torch.from_numpy(x), masks


def _mass_on(cams: np.ndarray, masks: np.ndarray) -> np.ndarray:
    return (cams * masks).sum(axis=(1, 2)) / cams.sum(axis=(1, 2))


def test_cam_of_a_hand_built_model_lies_on_the_red_patch() -> None:
    model = RedDetector()
    x, masks = _patch_images(6, np.random.default_rng(0), (1.0, 0.0, 0.0))
    cams, logits = grad_cam(model, x, [1] * 6, layer=model.conv)
    assert cams.shape == (6, SIZE, SIZE) and cams.dtype == np.float32
    assert cams.min() >= 0.0 and cams.max() <= 1.0
    assert np.allclose(cams.reshape(6, -1).max(axis=1), 1.0)
    assert logits.shape == (6, 2) and (logits.argmax(1) == 1).all()
    # The patch is 1/16 of the image but holds nearly all of the CAM's mass.
    assert _mass_on(cams, masks).min() > 0.9
    # Default layer of a plain CNN: the last Conv2d.
    assert find_target_layer(model) is model.conv


def test_cam_of_a_trained_cnn_lies_on_the_evidence() -> None:
    """A small CNN learns 'red patch present' vs 'noise only'; its CAM must find the patch."""
    torch.manual_seed(0)
    rng = np.random.default_rng(1)
    with_patch, _ = _patch_images(24, rng, (0.9, 0.1, 0.1))
    noise = torch.from_numpy(rng.uniform(0.3, 0.5, size=(24, 3, SIZE, SIZE)).astype(np.float32))
    x = torch.cat([noise, with_patch])
    y = torch.cat([torch.zeros(24), torch.ones(24)]).long()
    model = nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1),
        nn.ReLU(),
        nn.Conv2d(8, 8, 3, padding=1),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),  # global average pooling, as in EfficientNet
        nn.Flatten(),
        nn.Linear(8, 2),
    )
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    for _ in range(40):
        opt.zero_grad()
        nn.functional.cross_entropy(model(x - 0.4), y).backward()
        opt.step()
    test, masks = _patch_images(8, np.random.default_rng(2), (0.9, 0.1, 0.1))
    cams, logits = grad_cam(model, test - 0.4)  # default: the predicted class, last Conv2d
    assert (logits.argmax(1) == 1).all()
    assert cams.shape == (8, SIZE, SIZE) and cams.min() >= 0.0 and cams.max() <= 1.0
    # The patch is 6% of the image; a CAM that ignored it would put ~6% of its mass there.
    mass = _mass_on(cams, masks)
    assert mass.min() > 0.5, mass


def test_grad_cam_leaves_parameters_and_mode_alone() -> None:
    model = RedDetector().train()
    x, _ = _patch_images(2, np.random.default_rng(0), (1.0, 0.0, 0.0))
    grad_cam(model, x)
    assert model.training  # mode restored
    assert all(p.grad is None for p in model.parameters())  # no .grad written


def test_bad_targets_and_models() -> None:
    model = RedDetector()
    x, _ = _patch_images(2, np.random.default_rng(0), (1.0, 0.0, 0.0))
    with pytest.raises(DataError, match="targets must lie"):
        grad_cam(model, x, [0, 5])
    with pytest.raises(DataError, match="one target per image"):
        grad_cam(model, x, [0])
    with pytest.raises(ModelError, match="no convolutional layer"):
        find_target_layer(nn.Sequential(nn.Flatten(), nn.Linear(3, 2)))


# --------------------------------------------------------------------------- a run's model


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run folder holding an (untrained-head) EfficientNet-Lite0; no training needed."""
    from stylecast.models import create_model, preprocessing_for, save_model
    from stylecast.run import ModelInfo

    run = tmp_path_factory.mktemp("explain") / "run"
    run.mkdir()
    model = create_model("efficientnet_lite0", num_classes=2)
    info = ModelInfo(
        name="efficientnet_lite0",
        timm_name="tf_efficientnet_lite0",
        classes=("FallWinter", "SpringSummer"),
        preprocessing=preprocessing_for("efficientnet_lite0", 64),
        temperature=1.5,
    )
    save_model(model, run, info)
    return run


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("img") / "look.png"
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (90, 60, 3), dtype=np.uint8)).save(path)
    return path


def test_explain_on_a_run(run: Path, image: Path, tmp_path: Path) -> None:
    ex = explain(run, image, out=tmp_path / "x.png")
    assert ex.cam.shape == (64, 64)  # the model's letterboxed input
    assert ex.cam.min() >= 0.0 and ex.cam.max() <= 1.0
    assert ex.predicted in ("FallWinter", "SpringSummer") and ex.target == ex.predicted
    assert sum(ex.probabilities.values()) == pytest.approx(1.0)
    assert ex.probability == max(ex.probabilities.values())
    with Image.open(ex.out) as im:
        assert im.format == "PNG" and im.width > im.height > 200  # image | overlay
    other = "SpringSummer" if ex.predicted == "FallWinter" else "FallWinter"
    ex2 = explain(run, image, target=other, out=tmp_path / "y.png")
    assert ex2.target == other and ex2.predicted == ex.predicted
    assert ex2.target_probability == pytest.approx(1 - ex.probability)
    with pytest.raises(DataError, match="unknown target class 'Resort'"):
        explain(run, image, target="Resort")


def test_explain_cli(run: Path, image: Path) -> None:
    res = run_cli("explain", str(run), str(image))  # default: RUN/explain/STEM.png
    assert res.returncode == 0, res.stderr
    assert "predicted:" in res.stdout and str(run / "explain" / "look.png") in res.stdout
    with Image.open(run / "explain" / "look.png") as im:
        assert im.format == "PNG"


@pytest.mark.parametrize("case", ["missing_run", "missing_image"])
def test_explain_cli_failures(case: str, run: Path, image: Path, tmp_path: Path) -> None:
    args = {
        "missing_run": [str(tmp_path / "nope"), str(image)],
        "missing_image": [str(run), str(tmp_path / "nope.jpg")],
    }[case]
    res = run_cli("explain", *args)
    assert res.returncode == 1
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "does not exist" in lines[0]
    assert "nope" in lines[0]


def test_explain_refuses_a_file_that_is_not_an_image(run: Path, tmp_path: Path) -> None:
    (tmp_path / "notes.jpg").write_text("not a picture")
    with pytest.raises(DataError, match="notes.jpg"):
        explain(run, tmp_path / "notes.jpg")
