"""The numbers of the shift check: a domain classifier's AUC, the confidence change, the
accuracy drop. Arrays in, frozen dataclasses out; no images, no torch.

* **Covariate shift**: a standardised logistic regression learns to tell the reference
  images' features (the training images) from the new ones, on a balanced subsample, and
  is scored by its out-of-fold ROC AUC (5 folds): 0.5 means it cannot tell them apart,
  1.0 that every new image is recognisably new. A one-sided Mann-Whitney test on the
  out-of-fold scores gives the p-value against 0.5 and a bootstrap of them the interval.
* **Confidence**: the new images' top probability against the run's test predictions
  (difference of means; two-sample Kolmogorov-Smirnov test).
* **Accuracy** (labelled data only): the new accuracy against the run's test accuracy,
  each with a Wilson interval, and a one-sided two-proportion z-test of "lower".
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

__all__ = [
    "AccuracyDrop",
    "ConfidenceShift",
    "DomainScore",
    "accuracy_drop",
    "balanced_sample",
    "confidence_shift",
    "domain_auc",
]


@dataclass(frozen=True)
class DomainScore:
    """How well a classifier tells reference features from new ones (out of fold)."""

    auc: float
    auc_ci: tuple[float, float]  # 95 %, bootstrap of the out-of-fold scores
    p_value: float  # one-sided: AUC > 0.5
    n_per_side: int
    folds: int

    def to_json(self) -> dict[str, Any]:
        return asdict(self) | {"auc_ci": list(self.auc_ci)}


@dataclass(frozen=True)
class ConfidenceShift:
    """The top probability of new images against the run's test predictions."""

    mean_new: float
    mean_reference: float
    ks_statistic: float
    p_value: float
    n_new: int
    n_reference: int

    @property
    def change(self) -> float:
        return self.mean_new - self.mean_reference

    def to_json(self) -> dict[str, Any]:
        return asdict(self) | {"change": self.change}


@dataclass(frozen=True)
class AccuracyDrop:
    """Accuracy on the new images against the run's test accuracy."""

    accuracy: float
    accuracy_ci: tuple[float, float] | None
    n: int
    reference: float
    reference_ci: tuple[float, float] | None
    n_reference: int
    p_value: float  # one-sided: the new accuracy is lower

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        for k in ("accuracy_ci", "reference_ci"):
            out[k] = list(out[k]) if out[k] is not None else None
        return out


def balanced_sample(n_available: int, n: int, seed: int) -> np.ndarray:
    """``n`` row numbers out of ``n_available`` (sorted, so a memory map is read in order)."""
    rng = np.random.default_rng(seed)
    if n >= n_available:
        return np.arange(n_available)
    return np.sort(rng.choice(n_available, size=n, replace=False))


def _auc(scores_new: np.ndarray, scores_ref: np.ndarray) -> float:
    """ROC AUC of "new" against "reference" from ranks (ties count half)."""
    from scipy.stats import rankdata

    ranks = rankdata(np.concatenate([scores_new, scores_ref]))
    n1, n0 = len(scores_new), len(scores_ref)
    return float((ranks[:n1].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def domain_auc(
    reference: np.ndarray,
    new: np.ndarray,
    *,
    max_per_side: int = 1000,
    folds: int = 5,
    seed: int = 0,
    n_bootstrap: int = 500,
) -> DomainScore:
    """Cross-validated AUC of a logistic regression telling ``new`` rows from ``reference``.

    Both sides are subsampled to the same size (at most ``max_per_side``), so 0.5 is the
    chance level whatever the sizes given. Needs at least ``2 * folds`` rows per side.
    """
    from scipy.stats import mannwhitneyu
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    n = min(len(reference), len(new), max_per_side)
    if n < 2 * folds:
        raise ValueError(f"need at least {2 * folds} rows per side, got {n}")
    ref = np.asarray(reference, np.float64)[balanced_sample(len(reference), n, seed)]
    nw = np.asarray(new, np.float64)[balanced_sample(len(new), n, seed + 1)]
    x = np.concatenate([ref, nw])
    y = np.r_[np.zeros(n, int), np.ones(n, int)]
    # Strong L2: features outnumber images; what separates must hold out of fold.
    clf = make_pipeline(
        StandardScaler(), LogisticRegression(C=0.05, solver="liblinear", max_iter=2000)
    )
    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    scores = cross_val_predict(clf, x, y, cv=cv, method="decision_function")
    s_new, s_ref = scores[y == 1], scores[y == 0]
    auc = _auc(s_new, s_ref)
    p = float(mannwhitneyu(s_new, s_ref, alternative="greater").pvalue)
    rng = np.random.default_rng(seed)
    boots = [
        _auc(s_new[rng.integers(0, n, n)], s_ref[rng.integers(0, n, n)]) for _ in range(n_bootstrap)
    ]
    lo, hi = (float(v) for v in np.percentile(boots, [2.5, 97.5]))
    return DomainScore(round(auc, 4), (round(lo, 4), round(hi, 4)), p, n, folds)


def confidence_shift(new: np.ndarray, reference: np.ndarray) -> ConfidenceShift:
    """The change of the top-probability distribution (means and a KS test)."""
    from scipy.stats import ks_2samp

    new = np.asarray(new, np.float64)
    reference = np.asarray(reference, np.float64)
    ks = ks_2samp(new, reference)
    return ConfidenceShift(
        mean_new=round(float(new.mean()), 4),
        mean_reference=round(float(reference.mean()), 4),
        ks_statistic=round(float(ks.statistic), 4),
        p_value=float(ks.pvalue),
        n_new=len(new),
        n_reference=len(reference),
    )


def accuracy_drop(correct: int, n: int, *, reference: float, n_reference: int) -> AccuracyDrop:
    """Is ``correct / n`` significantly below ``reference`` (measured on ``n_reference``)?"""
    from scipy.stats import norm

    from stylecast.evaluation import wilson_interval

    acc = correct / n
    ref_correct = round(reference * n_reference)
    pooled = (correct + ref_correct) / (n + n_reference)
    se = float(np.sqrt(pooled * (1 - pooled) * (1 / n + 1 / n_reference)))
    p = 0.5 if se == 0 else float(norm.cdf((acc - reference) / se))
    ci = wilson_interval(int(correct), int(n))
    ref_ci = wilson_interval(int(ref_correct), int(n_reference))
    return AccuracyDrop(
        accuracy=round(acc, 4),
        accuracy_ci=tuple(round(v, 4) for v in ci) if ci else None,  # type: ignore[arg-type]
        n=int(n),
        reference=round(float(reference), 4),
        reference_ci=tuple(round(v, 4) for v in ref_ci) if ref_ci else None,  # type: ignore[arg-type]
        n_reference=int(n_reference),
        p_value=p,
    )
