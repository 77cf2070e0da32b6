"""An ensemble as one network: members' calibrated probabilities averaged.

:class:`Ensemble` returns the *logarithm of the mean probability* as its "logits", so
``softmax(ensemble(x))`` is the members' averaged probability and every consumer of a
classifier's ``(N, C)`` logits (evaluation, Grad-CAM, serving, the ONNX export, a
temperature on top) takes an ensemble unchanged. :class:`MemberLogits` exposes the members'
raw logits ``(N, M, C)`` for the places that need them: the calibration of each member, the
members' disagreement in predictions, the export's second output.

The same arithmetic on arrays (:func:`combine_logits`, :func:`member_disagreement`) serves
logits that came from ONNX Runtime or were computed once and reused.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
from scipy import special
from torch import nn

__all__ = ["Ensemble", "MemberLogits", "combine_logits", "member_disagreement", "member_probs"]


class Ensemble(nn.Module):
    """``members`` (each returning ``(N, C)`` logits) averaged in probability.

    Member ``k``'s logits are divided by ``temperatures[k]`` (its own calibration) before its
    softmax; the output is ``log(mean_k softmax(z_k / T_k))``, shape ``(N, C)``.
    """

    def __init__(self, members: Sequence[nn.Module], temperatures: Sequence[float] | None = None):
        super().__init__()
        if len(members) < 2:
            raise ValueError("an ensemble needs at least two members")
        temps = [1.0] * len(members) if temperatures is None else [float(t) for t in temperatures]
        if len(temps) != len(members) or not all(t > 0 for t in temps):
            raise ValueError("one positive temperature per member is needed")
        self.members = nn.ModuleList(members)
        inv = torch.tensor([1.0 / t for t in temps], dtype=torch.float32).view(-1, 1, 1)
        # Not a parameter, and not in the state dict: the temperatures live in model.json.
        self.register_buffer("inv_temperature", inv, persistent=False)

    @property
    def temperatures(self) -> list[float]:
        return [1.0 / float(v) for v in self.inv_temperature.flatten()]

    def member_logits(self, x: torch.Tensor) -> torch.Tensor:
        """The members' raw logits, ``(M, N, C)``."""
        return torch.stack([m(x) for m in self.members])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = self.member_logits(x).float() * self.inv_temperature.to(x.device)
        return torch.logsumexp(torch.log_softmax(z, dim=-1), dim=0) - math.log(len(self.members))


class MemberLogits(nn.Module):
    """An ensemble's members' raw logits stacked as ``(N, M, C)`` (batch first)."""

    def __init__(self, ensemble: Ensemble) -> None:
        super().__init__()
        self.ensemble = ensemble

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.ensemble.member_logits(x).transpose(0, 1)


def _as_members(member_logits: np.ndarray) -> np.ndarray:
    z = np.asarray(member_logits, dtype=np.float64)
    if z.ndim != 3:
        raise ValueError(f"member logits must be (N, M, C), got shape {z.shape}")
    return z


def member_probs(member_logits: np.ndarray, temperatures: Sequence[float]) -> np.ndarray:
    """Each member's calibrated probabilities, ``(N, M, C)``."""
    z = _as_members(member_logits)
    t = np.asarray(temperatures, dtype=np.float64).reshape(1, -1, 1)
    if t.shape[1] != z.shape[1]:
        raise ValueError(f"{z.shape[1]} members but {t.shape[1]} temperatures")
    return special.softmax(z / t, axis=2)


def combine_logits(member_logits: np.ndarray, temperatures: Sequence[float]) -> np.ndarray:
    """The ensemble's logits ``(N, C)``: log of the members' mean calibrated probability
    (what :class:`Ensemble` computes), in float32."""
    z = _as_members(member_logits)
    t = np.asarray(temperatures, dtype=np.float64).reshape(1, -1, 1)
    if t.shape[1] != z.shape[1]:
        raise ValueError(f"{z.shape[1]} members but {t.shape[1]} temperatures")
    logp = special.log_softmax(z / t, axis=2)
    return (special.logsumexp(logp, axis=1) - math.log(z.shape[1])).astype(np.float32)


def member_disagreement(
    member_logits: np.ndarray, temperatures: Sequence[float], predicted: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per image: the share of members whose top class is not the ensemble's ``predicted``
    class (0 = unanimous), and the standard deviation across members of the probability
    they give that class (how far they are from agreeing on its confidence)."""
    p = member_probs(member_logits, temperatures)
    pred = np.asarray(predicted, dtype=np.int64)
    votes = p.argmax(2)
    share = (votes != pred[:, None]).mean(1)
    p_pred = p[np.arange(len(pred)), :, pred]
    return share, p_pred.std(1)
