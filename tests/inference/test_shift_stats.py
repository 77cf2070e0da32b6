"""stylecast.inference.shift_stats: the domain classifier's AUC, confidence and accuracy tests."""

from __future__ import annotations

import numpy as np
import pytest

from stylecast.inference.shift_stats import (
    accuracy_drop,
    balanced_sample,
    confidence_shift,
    domain_auc,
)


def _features(n: int, seed: int, shift: float = 0.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 40))
    x[:, :5] += shift  # a shift in a few of many features, as in image embeddings
    return x


def test_domain_auc_is_near_chance_for_the_same_distribution() -> None:
    score = domain_auc(_features(300, 0), _features(200, 1))
    assert score.n_per_side == 200 and score.folds == 5
    assert 0.4 < score.auc < 0.6
    assert score.auc_ci[0] < 0.5 < score.auc_ci[1]
    assert score.p_value > 0.01


def test_domain_auc_finds_a_shift_and_is_reproducible() -> None:
    ref, new = _features(300, 0), _features(300, 1, shift=1.0)
    score = domain_auc(ref, new, max_per_side=250)
    assert score.n_per_side == 250
    assert score.auc > 0.9 and score.auc_ci[0] > 0.85
    assert score.p_value < 1e-10
    assert domain_auc(ref, new, max_per_side=250) == score
    assert score.to_json()["auc_ci"] == list(score.auc_ci)


def test_domain_auc_needs_rows_on_both_sides() -> None:
    with pytest.raises(ValueError, match="at least 10 rows per side"):
        domain_auc(_features(100, 0), _features(6, 1))


def test_balanced_sample() -> None:
    assert balanced_sample(5, 10, 0).tolist() == [0, 1, 2, 3, 4]
    got = balanced_sample(100, 10, 3)
    assert len(set(got)) == 10 and list(got) == sorted(got)
    assert balanced_sample(100, 10, 3).tolist() == got.tolist()


def test_confidence_shift() -> None:
    same = confidence_shift(np.full(50, 0.8), np.full(40, 0.8))
    assert (same.mean_new, same.mean_reference, same.change) == (0.8, 0.8, 0.0)
    assert same.ks_statistic == 0.0 and same.p_value == 1.0
    lower = confidence_shift(np.linspace(0.5, 0.7, 100), np.linspace(0.8, 1.0, 100))
    assert lower.change == pytest.approx(-0.3)
    assert lower.ks_statistic == 1.0 and lower.p_value < 1e-10
    assert lower.to_json()["change"] == pytest.approx(-0.3)


def test_accuracy_drop() -> None:
    drop = accuracy_drop(43, 100, reference=0.84, n_reference=500)
    assert (drop.accuracy, drop.n, drop.reference, drop.n_reference) == (0.43, 100, 0.84, 500)
    assert drop.p_value < 1e-10
    assert drop.accuracy_ci[0] < 0.43 < drop.accuracy_ci[1]
    assert drop.reference_ci[0] < 0.84 < drop.reference_ci[1]
    same = accuracy_drop(84, 100, reference=0.84, n_reference=500)
    assert same.p_value == pytest.approx(0.5, abs=0.01)
    better = accuracy_drop(95, 100, reference=0.84, n_reference=500)
    assert better.p_value > 0.99
    assert drop.to_json()["accuracy_ci"] == list(drop.accuracy_ci)
