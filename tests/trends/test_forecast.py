"""Baselines and statsmodels models: values, intervals, clipping."""

from __future__ import annotations

import numpy as np
import pytest

from stylecast.trends import forecast_series


def _fc(model: str, y: list[float], positions=None, ahead=None, m: int = 1):
    positions = np.zeros(len(y), int) if positions is None else np.asarray(positions)
    ahead = np.zeros(2, int) if ahead is None else np.asarray(ahead)
    return forecast_series(model, np.asarray(y), positions, ahead, season_length=m)


def test_baselines() -> None:
    y = [0.1, 0.2, 0.3, 0.4]
    assert _fc("naive", y).mean.tolist() == pytest.approx([0.4, 0.4])
    assert _fc("mean", y).mean.tolist() == pytest.approx([0.25, 0.25])
    assert _fc("drift", y).mean.tolist() == pytest.approx([0.5, 0.6])
    # Seasonal naive: the last value of the same season, the last value for a new season.
    fc = _fc("seasonal_naive", [0.1, 0.5, 0.2, 0.6], [0, 1, 0, 1], [0, 1], m=2)
    assert fc.mean.tolist() == pytest.approx([0.2, 0.6])
    fc = _fc("seasonal_naive", [0.1, 0.5, 0.2], [0, 1, 0], [2, 1], m=3)
    assert fc.mean.tolist() == pytest.approx([0.2, 0.5])


def test_intervals_widen_and_clip() -> None:
    fc = _fc("naive", [0.1, 0.3, 0.2, 0.4, 0.3])
    widths = fc.high - fc.low
    assert widths[1] > widths[0] > 0
    fc = _fc("drift", [0.0, 0.01, 0.02, 0.0])
    assert fc.low.min() >= 0.0 and fc.high.max() <= 1.0


@pytest.mark.parametrize("model", ["ets", "ets_damped", "theta"])
def test_statsmodels_models(model: str) -> None:
    rng = np.random.default_rng(0)
    y = 0.2 + 0.01 * np.arange(10) + rng.normal(0, 0.01, 10)
    fc = _fc(model, list(y))
    assert fc is not None
    assert np.all(np.isfinite(fc.mean)) and np.all(fc.low <= fc.mean) and np.all(fc.mean <= fc.high)
    assert 0.2 < fc.mean[0] < 0.4


def test_too_short_or_broken_series_give_none() -> None:
    assert _fc("ets_damped", [0.1, 0.2, 0.3, 0.4, 0.5]) is None  # needs 6 points
    assert _fc("naive", [0.1, 0.2]) is None
    assert _fc("mean", [0.1, float("nan"), 0.2, 0.3]) is None
