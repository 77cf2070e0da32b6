"""stylecast.export.graph: normalisation inside the graph, the exporter and its fallback."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from stylecast.errors import MissingDependencyError, RunError
from stylecast.export import PixelModel, export_onnx
from stylecast.run import Preprocessing

PREP = Preprocessing(img_size=32, mean=(0.5, 0.4, 0.3), std=(0.2, 0.25, 0.5), fill=255)


@pytest.fixture(scope="module")
def net() -> torch.nn.Module:
    from stylecast.models import create_model

    torch.manual_seed(0)
    return create_model("efficientnet_lite0", num_classes=3, pretrained=False).eval()


def _pixels(n: int) -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, (n, 32, 32, 3), dtype=np.uint8)


def test_pixel_model_normalises_like_training(net: torch.nn.Module) -> None:
    from stylecast.training import predict_logits

    pixels = _pixels(3)
    with torch.inference_mode():
        ours = PixelModel(net, PREP)(torch.from_numpy(pixels)).numpy()
    np.testing.assert_allclose(
        ours, predict_logits(net, pixels, PREP.mean, PREP.std), rtol=1e-4, atol=1e-4
    )


def test_fallback_to_torchscript_when_dynamo_fails(
    net: torch.nn.Module, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import onnxruntime as ort

    import stylecast.export.graph as graph

    def broken(*args, **kwargs):  # noqa: ANN002, ANN003
        raise RuntimeError("unsupported operator\nsecond line")

    monkeypatch.setattr(graph, "_export_dynamo", broken)
    path = tmp_path / "m.onnx"
    assert export_onnx(net, PREP, path, opset=17) == "torchscript"
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (inp,), (out,) = session.get_inputs(), session.get_outputs()
    assert (inp.name, inp.type, inp.shape[1:]) == ("pixels", "tensor(uint8)", [32, 32, 3])
    assert out.name == "logits" and out.shape[1] == 3
    pixels = _pixels(4)  # the batch axis is dynamic: 4 images through a graph traced with 2
    with torch.inference_mode():
        want = PixelModel(net, PREP)(torch.from_numpy(pixels)).numpy()
    np.testing.assert_allclose(session.run(None, {"pixels": pixels})[0], want, atol=1e-4)


def test_both_exporters_failing_is_one_error(
    net: torch.nn.Module, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import stylecast.export.graph as graph

    def broken(*args, **kwargs):  # noqa: ANN002, ANN003
        raise RuntimeError("unsupported operator\nsecond line")

    monkeypatch.setattr(graph, "_export_dynamo", broken)
    monkeypatch.setattr(graph, "_export_torchscript", broken)
    with pytest.raises(RunError) as err:
        export_onnx(net, PREP, tmp_path / "m.onnx")
    assert "\n" not in str(err.value)
    assert "dynamo: RuntimeError: unsupported operator; torchscript:" in str(err.value)


def test_without_onnxscript(
    net: torch.nn.Module, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import stylecast.export.graph as graph

    monkeypatch.setitem(sys.modules, "onnxscript", None)
    with pytest.raises(
        MissingDependencyError, match=r"onnxscript: pip install 'stylecast\[onnx\]'"
    ):
        export_onnx(net, PREP, tmp_path / "m.onnx", exporter="dynamo")
    used: list[str] = []
    monkeypatch.setattr(graph, "_export_torchscript", lambda *a: used.append("torchscript"))
    assert export_onnx(net, PREP, tmp_path / "m.onnx") == "torchscript" and used
