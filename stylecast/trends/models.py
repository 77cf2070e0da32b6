"""The forecasting models of ``stylecast trends``: one registry.

Everything that names trend models reads it: the forecast itself
(:func:`stylecast.trends.forecast.forecast_series`), the backtest (its order breaks ties:
simplest first), the allowed and default ``TrendsConfig.models``, ``--models``' help, the
printed text and the HTML report. A new model is one call::

    def fit_predict(y, positions, ahead, *, interval, season_length) -> Forecast: ...

    register_forecaster("holt", fit_predict, "Holt's linear trend", min_points=4)

``fit_predict`` gets the series so far (``y``, finite floats, at least ``min_points``),
the season position of each of its points and of each step ``ahead``, the prediction
interval (e.g. 0.8) and the periods per year; it returns a
:class:`~stylecast.trends.forecast.Forecast` with one value per step ahead. A
``ValueError``, ``LinAlgError``, ``IndexError`` or ``ZeroDivisionError``, or a non-finite
forecast, means "cannot be fitted to this series"; shares are clipped to [0, 1] after.
A model registered after ``stylecast.trends.config`` was imported is a candidate when
named in ``models`` / ``--models``. Importing this module imports no numpy.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from stylecast.errors import ConfigError

__all__ = [
    "Forecaster",
    "baseline_names",
    "display_name",
    "forecast_series",
    "forecaster",
    "forecaster_names",
    "min_points",
    "register_forecaster",
    "unregister_forecaster",
]


@dataclass(frozen=True)
class Forecaster:
    """A registered forecasting model."""

    name: str
    fit_predict: Callable[..., Any]
    description: str  # its name in the HTML report, e.g. "ETS(A,N,N)"
    min_points: int = 3  # the shortest series it is fitted to
    baseline: bool = False  # scored beside every series' chosen model (report, trends.json)
    seasonal: bool = False  # left out when a year holds one period (it would repeat another)
    short: str | None = None  # its name in the printed text (default: ``name``)

    @property
    def label(self) -> str:
        return self.short or self.name


_FORECASTERS: dict[str, Forecaster] = {}


def register_forecaster(
    name: str,
    fit_predict: Callable[..., Any],
    description: str,
    *,
    min_points: int = 3,
    baseline: bool = False,
    seasonal: bool = False,
    short: str | None = None,
    replace: bool = False,
) -> Forecaster:
    """Register trend model ``name`` (see the module doc for ``fit_predict``)."""
    if not name or not name.isidentifier() or name == "selected":
        raise ConfigError(f"a forecaster needs a plain name (not 'selected'), got {name!r}")
    if name in _FORECASTERS and not replace:
        raise ConfigError(f"forecaster {name!r} is already registered (pass replace=True)")
    if not callable(fit_predict):
        raise ConfigError(f"forecaster {name!r}: fit_predict must be callable")
    if isinstance(min_points, bool) or not isinstance(min_points, int) or min_points < 2:
        raise ConfigError(f"forecaster {name!r}: min_points must be an integer >= 2")
    spec = Forecaster(name, fit_predict, description, min_points, baseline, seasonal, short)
    _FORECASTERS[name] = spec
    return spec


def unregister_forecaster(name: str) -> None:
    """Remove trend model ``name`` (a no-op when it is not registered)."""
    _FORECASTERS.pop(name, None)


def forecaster(name: str) -> Forecaster:
    """The registered model ``name``."""
    try:
        return _FORECASTERS[name]
    except KeyError:
        raise ConfigError(
            f"unknown forecasting model {name!r}; choose from {', '.join(_FORECASTERS)}"
        ) from None


def forecaster_names() -> tuple[str, ...]:
    """Every registered model, in registration order (simplest first)."""
    return tuple(_FORECASTERS)


def baseline_names() -> tuple[str, ...]:
    """The baselines, in registration order."""
    return tuple(n for n, f in _FORECASTERS.items() if f.baseline)


def display_name(name: str, *, long: bool = False) -> str:
    """How the HTML report (``long``) or the printed text names model ``name`` (or the
    backtest's nested choice, ``selected``); an unregistered name as it is."""
    if name == "selected":
        return "chosen per origin (nested)" if long else "chosen"
    spec = _FORECASTERS.get(name)
    if spec is None:
        return name
    return spec.description if long else spec.label


def _builtin(function: str) -> Callable[..., Any]:
    """A built-in model's ``fit_predict`` from ``forecast.py``, imported on first use."""

    def fit_predict(y: Any, positions: Any, ahead: Any, *, interval: float, season_length: int):
        from stylecast.trends import forecast

        return getattr(forecast, function)(
            y, positions, ahead, interval=interval, season_length=season_length
        )

    fit_predict.__name__ = function
    return fit_predict


for _name, _description, _options in (
    ("naive", "naive (last value)", {"baseline": True}),
    ("seasonal_naive", "seasonal naive", {"baseline": True, "seasonal": True}),
    ("mean", "mean", {"baseline": True}),
    ("drift", "drift", {}),
    ("ets", "ETS(A,N,N)", {}),
    ("ets_damped", "ETS(A,Ad,N)", {"min_points": 6}),
    ("theta", "Theta", {}),
):
    _short = "seasonal-naive" if _name == "seasonal_naive" else None
    register_forecaster(_name, _builtin(f"fit_{_name}"), _description, short=_short, **_options)


def min_points(model: str) -> int:
    """The shortest series ``model`` is fitted to."""
    return forecaster(model).min_points


def forecast_series(
    model: str,
    y: Any,
    positions: Any,
    ahead: Any,
    *,
    interval: float = 0.8,
    season_length: int = 1,
) -> Any:
    """``len(ahead)`` steps of ``model`` fitted to ``y`` (a :class:`~stylecast.trends.forecast.
    Forecast`, shares clipped to [0, 1]); None when it cannot be fitted.

    ``positions`` are the season positions of ``y``'s points, ``ahead`` those of the steps
    to forecast; ``season_length`` is the number of positions in a year.
    """
    import numpy as np

    from stylecast.trends.forecast import Forecast

    spec = forecaster(model)
    y = np.asarray(y, dtype=float)
    if len(y) < spec.min_points or not np.isfinite(y).all():
        return None
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")  # convergence chatter on short series
            fc = spec.fit_predict(
                y,
                np.asarray(positions),
                np.asarray(ahead),
                interval=interval,
                season_length=season_length,
            )
    except (ValueError, np.linalg.LinAlgError, IndexError, ZeroDivisionError):
        return None
    if not np.isfinite(fc.mean).all():
        return None
    return Forecast(
        np.clip(fc.mean, 0.0, 1.0), np.clip(fc.low, 0.0, 1.0), np.clip(fc.high, 0.0, 1.0)
    )
