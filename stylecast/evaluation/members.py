"""An ensemble's members beside the ensemble, on the same images.

What a user of an ensemble asks first: is it better than its members, and is the gain more
than chance? :func:`member_table` answers with every member's accuracy (Wilson 95%), log
loss and calibration error at its own temperature, McNemar's test of the ensemble against
each member on the same images, and the ensemble's gain over the *best member*, the one a
user would have kept without an ensemble: the member with the highest validation accuracy
(chosen without looking at the test split; a tie goes to the earlier member). The gain's
95% interval is a paired bootstrap over the test images.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from stylecast.config import EvaluateConfig
from stylecast.evaluation.calibration import reliability_bins
from stylecast.evaluation.intervals import wilson_interval
from stylecast.evaluation.metrics import mcnemar_test
from stylecast.evaluation.temperature import choose_temperature
from stylecast.records.parts import STORED, TOO_FEW
from stylecast.run import ModelInfo

__all__ = [
    "MemberFit",
    "best_member",
    "ensemble_block",
    "ensemble_lines",
    "fit_member_temperatures",
    "member_table",
    "paired_gain_interval",
]


def _log_loss(p: np.ndarray, y: np.ndarray) -> float:
    return float(-np.log(np.clip(p[np.arange(len(y)), y], 1e-12, 1.0)).mean())


def paired_gain_interval(
    better: np.ndarray, base: np.ndarray, *, n_boot: int = 2000, seed: int = 0
) -> list[float] | None:
    """95% percentile bootstrap interval of ``mean(better) - mean(base)`` over paired images."""
    a, b = np.asarray(better, dtype=float), np.asarray(base, dtype=float)
    n = len(a)
    if n == 0 or n_boot <= 0:
        return None
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n, size=(n_boot, n))
    diffs = (a[idx] - b[idx]).mean(axis=1)
    lo, hi = np.percentile(diffs, [2.5, 97.5])
    return [float(lo), float(hi)]


def best_member(val_accuracy: Sequence[float | None]) -> int:
    """The member a user keeps without an ensemble: highest validation accuracy, earliest on
    a tie; member 0 when no validation accuracy is known."""
    known = [(-(v if v is not None else -1.0), k) for k, v in enumerate(val_accuracy)]
    return min(known)[1] if known else 0


def member_table(
    member_proba: np.ndarray,
    ensemble_proba: np.ndarray,
    y: np.ndarray,
    *,
    paths: Sequence[str],
    val_accuracy: Sequence[float | None],
    temperatures: Sequence[float],
    decisions: Sequence[str] = (),
    extra: Sequence[dict[str, Any]] = (),
    n_bins: int = 15,
    seed: int = 0,
    n_boot: int = 2000,
) -> dict[str, Any]:
    """The ``ensemble`` block of an ensemble's ``evaluation.json``.

    ``member_proba`` is ``(N, M, C)`` (each member at its temperature), ``ensemble_proba``
    ``(N, C)``, ``y`` the true class indices. ``extra`` adds keys per member (seed, variant).
    """
    n, m = member_proba.shape[:2]
    ens_correct = ensemble_proba.argmax(1) == y
    rows = []
    for k in range(m):
        p = member_proba[:, k]
        correct = p.argmax(1) == y
        test = mcnemar_test(ens_correct, correct)
        rows.append(
            {
                "member": paths[k],
                "accuracy": float(correct.mean()) if n else float("nan"),
                "accuracy_ci": wilson_interval(int(correct.sum()), n),
                "log_loss": _log_loss(p, y) if n else float("nan"),
                "ece": reliability_bins(y, p, n_bins)[0] if n else float("nan"),
                "val_accuracy": val_accuracy[k],
                "temperature": float(temperatures[k]),
                "temperature_decision": decisions[k] if k < len(decisions) else "",
                # McNemar: b = the ensemble right where this member is wrong, c = the reverse.
                "ensemble_only_right": test["b"],
                "member_only_right": test["c"],
                "pvalue": test["pvalue"],
                "method": test["method"],
                **(extra[k] if k < len(extra) else {}),
            }
        )
    best = best_member(val_accuracy)
    best_correct = member_proba[:, best].argmax(1) == y
    accs = [r["accuracy"] for r in rows]
    test = mcnemar_test(ens_correct, best_correct)
    return {
        "n_members": m,
        "n": n,
        "members": rows,
        "ensemble": {
            "accuracy": float(ens_correct.mean()) if n else float("nan"),
            "accuracy_ci": wilson_interval(int(ens_correct.sum()), n),
            "log_loss": _log_loss(ensemble_proba, y) if n else float("nan"),
            "ece": reliability_bins(y, ensemble_proba, n_bins)[0] if n else float("nan"),
        },
        "best_member": best,
        "best_member_rule": "highest validation accuracy (the test split is not looked at)",
        "mean_member_accuracy": float(np.mean(accs)) if accs else float("nan"),
        "gain": {
            "over": paths[best],
            "points": 100.0 * (float(ens_correct.mean()) - rows[best]["accuracy"]) if n else 0.0,
            "ci_points": [
                100.0 * v
                for v in (
                    paired_gain_interval(ens_correct, best_correct, n_boot=n_boot, seed=seed) or []
                )
            ]
            or None,
            "pvalue": test["pvalue"],
            "method": test["method"],
            "ensemble_only_right": test["b"],
            "member_only_right": test["c"],
        },
    }


@dataclass(frozen=True)
class MemberFit:
    """An ensemble's member temperatures for this evaluation, and its validation logits."""

    temperatures: list[float]
    decisions: list[str]
    val_accuracy: list[float | None]
    val_logits: Callable[[pd.DataFrame], tuple[np.ndarray, pd.DataFrame]]


def fit_member_temperatures(
    info: ModelInfo,
    val: pd.DataFrame | None,
    cfg: EvaluateConfig,
    logits_for: Callable[[pd.DataFrame], tuple[np.ndarray, pd.DataFrame]],
) -> MemberFit:
    """Each member's temperature, chosen on the validation split by the rule a single model's
    is (:func:`choose_temperature`), or the stored ones (other data, ``--no-calibrate``).

    The validation logits are computed once: the ensemble's own temperature is then chosen
    on the combination of these members at these temperatures.
    """
    stored = [m.temperature for m in info.members]
    recorded = [m.val_accuracy for m in info.members]
    if val is not None and len(val) == 0:
        # No validation split (retrained on train + val): the members' training figures were
        # measured on training images, so they choose no best member (member 0 is kept).
        recorded = [None] * len(stored)
    if not cfg.calibrate or val is None:
        return MemberFit(stored, [STORED] * len(stored), recorded, logits_for)
    if len(val) < cfg.min_calibration_images:
        ones = [1.0] * len(stored)
        return MemberFit(ones, [TOO_FEW] * len(stored), recorded, logits_for)
    val_raw, val_scored = logits_for(val.reset_index(drop=True))
    classes = list(info.classes)
    y_val = np.array([classes.index(lbl) for lbl in val_scored["label"]], dtype=np.int64)
    choices = [
        choose_temperature(
            val_raw[:, k],
            y_val,
            folds=cfg.calibration_folds,
            seed=cfg.seed,
            min_images=cfg.min_calibration_images,
            n_bins=cfg.n_bins,
        )
        for k in range(val_raw.shape[1])
    ]
    temps = [round(c.temperature, 6) for c in choices]
    from stylecast.ensemble import combine_logits

    combined = combine_logits(val_raw, temps)
    return MemberFit(
        temps,
        [c.decision for c in choices],
        [float((val_raw[:, k].argmax(1) == y_val).mean()) for k in range(val_raw.shape[1])],
        lambda _table: (combined, val_scored),
    )


def ensemble_block(
    info: ModelInfo,
    fit: MemberFit,
    member_p: np.ndarray,
    proba: np.ndarray,
    y: np.ndarray,
    cfg: EvaluateConfig,
) -> dict[str, Any]:
    return member_table(
        member_p,
        proba,
        y,
        paths=[m.path for m in info.members],
        val_accuracy=fit.val_accuracy,
        temperatures=fit.temperatures,
        decisions=fit.decisions,
        extra=[{"seed": m.seed, "variant": m.variant} for m in info.members],
        n_bins=cfg.n_bins,
        seed=cfg.seed,
        n_boot=max(cfg.n_bootstrap, 200) if cfg.n_bootstrap else 0,
    )


def _ci_text(ci: Sequence[float] | None, scale: float = 1.0, fmt: str = ".3f") -> str:
    return f" [{ci[0] * scale:{fmt}}, {ci[1] * scale:{fmt}}]" if ci else ""


def ensemble_lines(block: dict[str, Any]) -> list[str]:
    """What ``stylecast evaluate`` prints of an ensemble: members and ensemble side by side,
    and the gain over the best member with its interval and McNemar's p."""
    ens, gain = block["ensemble"], block["gain"]
    best = block["best_member"]
    lines = [
        f"ensemble of {block['n_members']} members on the same {block['n']} images "
        "(accuracy [95% CI], log loss, ECE; McNemar's p against the ensemble):"
    ]
    for k, r in enumerate(block["members"]):
        tag = " (best on validation)" if k == best else ""
        variant = f" {r['variant']}" if r.get("variant") else ""
        lines.append(
            f"  {r['member']:<12}{r['accuracy']:.3f}{_ci_text(r['accuracy_ci'])}  "
            f"{r['log_loss']:.3f}  {r['ece']:.3f}  p {r['pvalue']:.3g}{variant}{tag}"
        )
    lines.append(
        f"  {'ensemble':<12}{ens['accuracy']:.3f}{_ci_text(ens['accuracy_ci'])}  "
        f"{ens['log_loss']:.3f}  {ens['ece']:.3f}"
    )
    lines.append(
        f"  gain over {gain['over']} (best on validation): {gain['points']:+.1f} points"
        f"{_ci_text(gain['ci_points'], fmt='+.1f')}, McNemar p = {gain['pvalue']:.3g} "
        f"(ensemble only right on {gain['ensemble_only_right']}, member only right on "
        f"{gain['member_only_right']}); mean member {block['mean_member_accuracy']:.3f}"
    )
    return lines
