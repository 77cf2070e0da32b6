"""An ensemble's members loaded and checked: missing, damaged, mismatched members are refused."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from stylecast.ensemble import Ensemble, check_compatible
from stylecast.errors import RunError
from stylecast.models import load_model
from stylecast.run import ModelInfo, Preprocessing, RunFolder
from tests._runs import trained_ensemble
from tests.conftest import run_cli


@pytest.fixture
def ens(tmp_path_factory: pytest.TempPathFactory, lookbook: Path) -> Path:
    return trained_ensemble(tmp_path_factory, lookbook)


def test_load_model_gives_one_network_of_the_members(ens: Path) -> None:
    model, info = load_model(ens)
    assert isinstance(model, Ensemble) and len(model.members) == 3
    assert [i.classes for i in model.member_infos] == [info.classes] * 3
    from stylecast.training import predict_logits

    pixels = np.full((4, 48, 48, 3), 200, np.uint8)
    p = info.preprocessing
    logits = predict_logits(model, pixels, p.mean, p.std)
    assert logits.shape == (4, 2)
    np.testing.assert_allclose(np.exp(logits).sum(1), 1.0, rtol=1e-5)  # log probabilities


def test_a_missing_member_is_one_clear_line(ens: Path, lookbook: Path) -> None:
    shutil.rmtree(ens / "members" / "1")
    with pytest.raises(RunError, match=r"ensemble member members/1 is missing"):
        load_model(ens)
    res = run_cli("predict", str(ens), str(lookbook / "FallWinter"))
    assert res.returncode == 1
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "members/1 is missing" in lines[0] and "--resume" in lines[0]


def test_damaged_member_weights_are_refused(ens: Path) -> None:
    weights = ens / "members" / "2" / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-100] ^= 0xFF  # one flipped byte inside a tensor: safetensors alone would load it
    weights.write_bytes(bytes(data))
    with pytest.raises(RunError, match="weights of ensemble member members/2 changed"):
        load_model(ens)
    weights.write_bytes(bytes(data[:1000]))  # truncated
    with pytest.raises(RunError, match="members/2"):
        load_model(ens)


def test_a_member_whose_model_json_is_gone_is_refused(ens: Path) -> None:
    (ens / "members" / "0" / "model.json").unlink()
    with pytest.raises(RunError, match=r"members/0 holds no trained model"):
        load_model(ens)


def test_malformed_ensemble_blocks_are_refused(ens: Path) -> None:
    path = ens / "model.json"
    obj = json.loads(path.read_text())
    obj["ensemble"]["members"] = obj["ensemble"]["members"][:1]
    path.write_text(json.dumps(obj))
    with pytest.raises(RunError, match="two or more members"):
        RunFolder(ens).model_info()
    obj["ensemble"]["members"] = [{"path": "../elsewhere", "weights_digest": ""}] * 2
    path.write_text(json.dumps(obj))
    with pytest.raises(RunError, match="must be a folder inside the run"):
        RunFolder(ens).model_info()


def _info(classes: tuple[str, ...], size: int, fill: int = 255) -> ModelInfo:
    prep = Preprocessing(size, (0.5, 0.5, 0.5), (0.5, 0.5, 0.5), fill=fill)
    return ModelInfo("efficientnet_lite0", "tf_efficientnet_lite0", classes, prep)


def test_members_must_share_classes_and_image_size() -> None:
    a = _info(("FallWinter", "SpringSummer"), 128)
    check_compatible([a, _info(("FallWinter", "SpringSummer"), 128)], ["a", "b"])
    with pytest.raises(RunError, match="different classes: a has FallWinter, SpringSummer, b"):
        check_compatible([a, _info(("Fall", "Winter"), 128)], ["a", "b"])
    with pytest.raises(RunError, match="different image sizes: a takes 128 px, b 160 px"):
        check_compatible([a, _info(("FallWinter", "SpringSummer"), 160)], ["a", "b"])
    with pytest.raises(RunError, match="prepare images differently"):
        check_compatible([a, _info(("FallWinter", "SpringSummer"), 128, fill=0)], ["a", "b"])
