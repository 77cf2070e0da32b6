"""Slopes with intervals: a known trend is flagged, a flat noisy series is not."""

from __future__ import annotations

import numpy as np
import pytest

from stylecast.trends import slope_signal
from stylecast.trends.signals import rank_signals


def test_known_trend_is_rising_flat_is_not() -> None:
    rng = np.random.default_rng(1)
    t = np.arange(2010, 2022, dtype=float)
    rising = slope_signal(
        t, 0.1 + 0.02 * (t - 2010) + rng.normal(0, 0.01, t.size), level=0.95, tests=3
    )
    assert rising["direction"] == "rising"
    assert rising["low"] > 0 and rising["slope"] == pytest.approx(0.02, abs=0.005)
    flat = slope_signal(t, 0.3 + rng.normal(0, 0.03, t.size), level=0.95, tests=3)
    assert flat["direction"] == "flat" and flat["low"] < 0 < flat["high"]
    falling = slope_signal(
        t, 0.5 - 0.02 * (t - 2010) + rng.normal(0, 0.01, t.size), level=0.95, tests=3
    )
    assert falling["direction"] == "falling" and falling["high"] < 0


def test_more_tests_widen_the_interval_and_short_series() -> None:
    t = np.arange(6, dtype=float)
    y = np.array([0.1, 0.15, 0.12, 0.2, 0.22, 0.25])
    one = slope_signal(t, y, level=0.95, tests=1)
    many = slope_signal(t, y, level=0.95, tests=40)
    assert many["high"] - many["low"] > one["high"] - one["low"]
    assert slope_signal(t[:2], y[:2], level=0.95, tests=1)["direction"] == "too short"


def test_rank_movers_first() -> None:
    rows = [
        {"category": "a", "direction": "flat", "slope": 0.5},
        {"category": "b", "direction": "rising", "slope": 0.1},
        {"category": "c", "direction": "falling", "slope": -0.3},
    ]
    assert [r["category"] for r in rank_signals(rows)] == ["c", "b", "a"]


def test_the_p_value_shown_is_the_one_the_decision_used() -> None:
    """Bonferroni over the series tested: flagged exactly when p < 1 - level (issue 25)."""
    t = np.arange(8, dtype=float)
    y = np.array([0.10, 0.13, 0.12, 0.16, 0.15, 0.19, 0.18, 0.21])
    one = slope_signal(t, y, level=0.95, tests=1)
    many = slope_signal(t, y, level=0.95, tests=40)
    assert many["p_value"] == pytest.approx(min(1.0, 40 * one["p_value"]))
    assert many["p_raw"] == pytest.approx(one["p_value"])
    for s in (one, many):
        assert (s["direction"] != "flat") == (s["p_value"] < 0.05)
