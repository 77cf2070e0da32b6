"""stylecast.inference.engine: faster forms of the model are used only when they agree."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from stylecast.inference.engine import PROB_TOLERANCE, make_engine, stream_logits
from stylecast.models import create_model, preprocessing_for
from stylecast.training import amp_dtype, to_input

PREP = preprocessing_for("efficientnet_lite0", 48)


@pytest.fixture(scope="module")
def pixels() -> np.ndarray:
    return np.random.default_rng(0).integers(0, 255, (20, 48, 48, 3), dtype=np.uint8)


def _eager(model: torch.nn.Module, pixels: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return model.eval()(to_input(pixels, PREP.mean, PREP.std)).numpy()


def test_the_traced_fp32_model_gives_the_eager_logits(pixels: np.ndarray) -> None:
    torch.manual_seed(0)
    model = create_model("efficientnet_lite0", num_classes=3)
    want = _eager(model, pixels)
    example = to_input(pixels[:8], PREP.mean, PREP.std)
    engine = make_engine(model, example, precision="fp32")
    assert engine.traced and engine.describe() == "fp32, channels_last, TorchScript-frozen"
    got = np.concatenate(list(stream_logits(engine, pixels, PREP, batch_size=8)))
    np.testing.assert_allclose(got, want, atol=1e-3)
    eager = make_engine(model, example, precision="fp32", trace=False)
    assert not eager.traced and eager.describe() == "fp32, channels_last"


class _Bf16Shifted(torch.nn.Module):
    """Logits that move under autocast, as a head with large weights amplifies bf16 rounding."""

    def __init__(self) -> None:
        super().__init__()
        self.head = torch.nn.Linear(3, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.head(x.float().mean((2, 3)))
        return y + torch.tensor([3.0, 0.0]) if torch.is_autocast_enabled("cpu") else y


@pytest.mark.skipif(
    amp_dtype(torch.device("cpu"), "auto") is None, reason="this CPU has no fast bf16"
)
def test_auto_uses_bf16_only_when_it_agrees_with_fp32(pixels: np.ndarray) -> None:
    torch.manual_seed(0)
    example = to_input(pixels[:8], PREP.mean, PREP.std)
    model = create_model("efficientnet_lite0", num_classes=2)
    assert make_engine(model, example, trace=False).precision == "bf16"
    shifted = _Bf16Shifted()
    engine = make_engine(shifted, example, trace=False)
    assert engine.precision == "fp32"
    assert engine.note.startswith("bf16 was ") and "off fp32 on the first batch" in engine.note
    assert float(engine.note.split()[2]) > PROB_TOLERANCE
    assert engine.describe().endswith(f"({engine.note})")
    # Asked for explicitly, bf16 is used as asked.
    assert make_engine(shifted, example, precision="bf16", trace=False).precision == "bf16"
