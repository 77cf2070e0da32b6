"""Forecasting one share series: three baselines and four models, each with intervals.

Every model takes the series so far (``y``), the season position of each point and of
each step ahead, and returns the point forecast with a prediction interval. The models
are registered in :mod:`stylecast.trends.models` (``fit_<name>`` here for the built-in
ones); :func:`stylecast.trends.models.forecast_series` runs any registered model:

* ``naive``: the last value.
* ``seasonal_naive``: the last value of the same season (the last Fall for a Fall); with
  gaps in the calendar it is the latest earlier point in that season, and the last value
  when the season was never seen.
* ``mean``: the mean of the series so far.
* ``drift``: the last value plus the average change per period.
* ``ets``: exponential smoothing with additive errors (ETS(A,N,N), statsmodels ``ETSModel``).
* ``ets_damped``: ETS(A,Ad,N), a damped additive trend (needs 6 points).
* ``theta``: the Theta method (statsmodels ``ThetaModel``, not deseasonalised: the
  periods are not evenly spaced in general).

The baselines' intervals are the textbook normal intervals from their in-sample one-step
residuals (Hyndman & Athanasopoulos, *Forecasting: Principles and Practice*, 5.5: ``sigma
sqrt(h)`` for naive, ``sigma sqrt(1 + 1/T)`` for the mean, ``sigma sqrt(h (1 + h/T))``
for drift, ``sigma sqrt(k + 1)`` for seasonal naive with ``k`` full years ahead); the
statsmodels models give their own (Theta's with a cheaper variance estimate, see
``_statsmodels``). Shares are clipped to [0, 1].
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

__all__ = ["Forecast"]


@dataclass(frozen=True)
class Forecast:
    """Point forecasts and interval bounds, one per step ahead."""

    mean: np.ndarray
    low: np.ndarray
    high: np.ndarray


def _rms(residuals: np.ndarray) -> float:
    residuals = residuals[np.isfinite(residuals)]
    return float(np.sqrt(np.mean(residuals**2))) if residuals.size else float("nan")


def _same_season_before(positions: np.ndarray) -> np.ndarray:
    """For each point, the index of the latest earlier point in its season (-1: none)."""
    last: dict[int, int] = {}
    out = np.full(len(positions), -1)
    for i, p in enumerate(positions):
        out[i] = last.get(int(p), -1)
        last[int(p)] = i
    return out


def seasonal_naive_errors(y: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """In-sample one-step errors of seasonal naive (naive where a season has no past)."""
    prev = _same_season_before(positions)
    idx = np.arange(len(y))
    base = np.where(prev >= 0, prev, idx - 1)
    ok = base >= 0
    return y[idx[ok]] - y[base[ok]]


def _normal(mean: np.ndarray, se: np.ndarray, interval: float) -> Forecast:
    z = NormalDist().inv_cdf((1 + interval) / 2)
    return Forecast(mean, mean - z * se, mean + z * se)


def fit_naive(
    y: np.ndarray, positions: np.ndarray, ahead: np.ndarray, *, interval: float, season_length: int
) -> Forecast:
    h = np.arange(1, len(ahead) + 1, dtype=float)
    return _normal(np.full(h.size, y[-1]), _rms(np.diff(y)) * np.sqrt(h), interval)


def fit_mean(
    y: np.ndarray, positions: np.ndarray, ahead: np.ndarray, *, interval: float, season_length: int
) -> Forecast:
    t, h = len(y), len(ahead)
    sd = float(np.std(y, ddof=1))
    return _normal(np.full(h, y.mean()), np.full(h, sd * np.sqrt(1 + 1 / t)), interval)


def fit_drift(
    y: np.ndarray, positions: np.ndarray, ahead: np.ndarray, *, interval: float, season_length: int
) -> Forecast:
    t = len(y)
    h = np.arange(1, len(ahead) + 1, dtype=float)
    slope = (y[-1] - y[0]) / (t - 1)
    sigma = _rms(np.diff(y) - slope)
    return _normal(y[-1] + h * slope, sigma * np.sqrt(h * (1 + h / (t - 1))), interval)


def fit_seasonal_naive(
    y: np.ndarray, positions: np.ndarray, ahead: np.ndarray, *, interval: float, season_length: int
) -> Forecast:
    positions, ahead = np.asarray(positions), np.asarray(ahead)
    h = np.arange(1, len(ahead) + 1, dtype=float)
    mean = np.empty(h.size)
    for k, pos in enumerate(ahead):
        same = np.flatnonzero(positions == pos)
        mean[k] = y[same[-1]] if same.size else y[-1]
    sigma = _rms(seasonal_naive_errors(y, positions))
    return _normal(mean, sigma * np.sqrt(np.floor((h - 1) / season_length) + 1), interval)


def fit_ets(
    y: np.ndarray, positions: np.ndarray, ahead: np.ndarray, *, interval: float, season_length: int
) -> Forecast:
    return _statsmodels("ets", y, len(ahead), interval)


def fit_ets_damped(
    y: np.ndarray, positions: np.ndarray, ahead: np.ndarray, *, interval: float, season_length: int
) -> Forecast:
    return _statsmodels("ets_damped", y, len(ahead), interval)


def fit_theta(
    y: np.ndarray, positions: np.ndarray, ahead: np.ndarray, *, interval: float, season_length: int
) -> Forecast:
    return _statsmodels("theta", y, len(ahead), interval)


def _statsmodels(model: str, y: np.ndarray, steps: int, interval: float) -> Forecast:
    import pandas as pd

    series = pd.Series(y)  # a plain RangeIndex: statsmodels then needs no dates
    if model == "theta":
        from statsmodels.tsa.forecasting.theta import ThetaModel

        fit = ThetaModel(series, period=1, deseasonalize=False).fit()
        mean = fit.forecast(steps).to_numpy()
        alpha = float(fit.params["alpha"])
        # statsmodels' own interval (ThetaResults.prediction_intervals) takes sigma^2 from
        # an ARIMA(0,1,1) fit: 0.1-2 s a call, most of the backtest's time. The same
        # innovations are the one-step errors of exponential smoothing with the fitted
        # alpha and Theta's drift (b0 / 2), so sigma^2 is taken from those; the variance
        # over h steps is statsmodels' formula.
        level, errors = y[0], []
        for value in y[1:]:
            errors.append(value - level - fit.params["b0"] / 2)
            level += alpha * (value - level)
        sigma2 = float(np.mean(np.square(errors)))
        var = (1 + np.arange(steps) * (1 + (alpha - 1) ** 2)) * sigma2
        z = NormalDist().inv_cdf((1 + interval) / 2)
        return Forecast(mean, mean - z * np.sqrt(var), mean + z * np.sqrt(var))
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    damped = model == "ets_damped"
    fit = ETSModel(series, error="add", trend="add" if damped else None, damped_trend=damped).fit(
        disp=False
    )
    frame = fit.get_prediction(start=len(y), end=len(y) + steps - 1).summary_frame(
        alpha=1 - interval
    )
    return Forecast(
        frame["mean"].to_numpy(), frame["pi_lower"].to_numpy(), frame["pi_upper"].to_numpy()
    )
