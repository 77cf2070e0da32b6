"""The ensemble as one network, and the same arithmetic on arrays."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import special
from torch import nn

from stylecast.ensemble import (
    Ensemble,
    MemberLogits,
    combine_logits,
    member_disagreement,
    member_probs,
)


class Fixed(nn.Module):
    """A 'network' that returns the same logits for every image."""

    def __init__(self, logits: list[float]) -> None:
        super().__init__()
        self.register_buffer("z", torch.tensor(logits))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.z.expand(len(x), -1)


def test_the_ensemble_averages_calibrated_probabilities() -> None:
    members = [Fixed([2.0, 0.0]), Fixed([0.0, 1.0]), Fixed([4.0, 0.0])]
    temps = [1.0, 2.0, 0.5]
    ens = Ensemble(members, temps).eval()
    x = torch.zeros(3, 3, 8, 8)
    p = torch.softmax(ens(x), dim=1)[0].numpy()
    expected = np.mean(
        [special.softmax(m.z.numpy() / t) for m, t in zip(members, temps, strict=True)], axis=0
    )
    np.testing.assert_allclose(p, expected, rtol=1e-6)
    assert ens.temperatures == pytest.approx(temps)
    # The same on arrays: MemberLogits' (N, M, C) stack, combined at the temperatures.
    stacked = MemberLogits(ens)(x).numpy()
    assert stacked.shape == (3, 3, 2)
    np.testing.assert_allclose(
        special.softmax(combine_logits(stacked, temps), axis=1)[0], expected, rtol=1e-6
    )
    np.testing.assert_allclose(member_probs(stacked, temps).mean(1)[0], expected, rtol=1e-6)


def test_combined_logits_are_log_mean_probabilities() -> None:
    z = np.array([[[1.0, 0.0], [0.0, 1.0]]])  # two members, opposite views
    out = combine_logits(z, [1.0, 1.0])
    assert out.shape == (1, 2)
    np.testing.assert_allclose(np.exp(out), [[0.5, 0.5]], rtol=1e-6)
    assert math.isclose(float(np.exp(out).sum()), 1.0, rel_tol=1e-6)
    with pytest.raises(ValueError, match="2 members but 3 temperatures"):
        combine_logits(z, [1.0, 1.0, 1.0])
    with pytest.raises(ValueError, match=r"\(N, M, C\)"):
        combine_logits(z[0], [1.0])


def test_disagreement_is_the_share_of_members_voting_otherwise() -> None:
    z = np.array(
        [
            [[3.0, 0.0], [2.0, 0.0], [1.0, 0.0]],  # unanimous
            [[3.0, 0.0], [0.0, 2.0], [1.0, 0.0]],  # one of three disagrees
        ]
    )
    pred = combine_logits(z, [1, 1, 1]).argmax(1)
    share, spread = member_disagreement(z, [1, 1, 1], pred)
    np.testing.assert_allclose(share, [0.0, 1 / 3])
    p0 = special.softmax(z[0], axis=1)[:, 0]
    assert spread[0] == pytest.approx(p0.std())
    assert spread[1] > spread[0]


def test_an_ensemble_needs_two_members_and_positive_temperatures() -> None:
    with pytest.raises(ValueError, match="at least two members"):
        Ensemble([Fixed([0.0, 1.0])])
    with pytest.raises(ValueError, match="positive temperature"):
        Ensemble([Fixed([0.0, 1.0]), Fixed([1.0, 0.0])], [1.0, 0.0])
