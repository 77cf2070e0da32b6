"""The trends stage: shares per period, backtested forecasts and rising/falling signals.

Modules: ``config`` (:class:`TrendsConfig`, :class:`TrendsResult`, the output file names),
``periods`` (reading a table, ordering its periods), ``shares`` (shares with bootstrap
intervals, colour families), ``forecast`` (baselines and statsmodels models), ``backtest``
(rolling origins, the nested model choice, WAPE/MASE/coverage), ``skill`` (whether the
forecasts beat the baselines, shares that add up, the predictions' shift warning),
``signals`` (slopes),
``analysis`` (:func:`trends`, :func:`trend_report`), ``output`` and ``report`` (files and
the HTML report), ``text`` (what the command prints).
"""

from stylecast.lazy import lazy_exports

_EXPORTS = {
    "MODELS": "stylecast.trends.config",
    "SeriesStatus": "stylecast.trends.config",
    "TrendsConfig": "stylecast.trends.config",
    "TrendsFolder": "stylecast.trends.config",
    "TrendsResult": "stylecast.trends.config",
    "PeriodAxis": "stylecast.trends.periods",
    "order_periods": "stylecast.trends.periods",
    "read_table": "stylecast.trends.periods",
    "COLOUR_FAMILIES": "stylecast.trends.shares",
    "colour_family": "stylecast.trends.shares",
    "PeriodShares": "stylecast.trends.shares",
    "period_shares": "stylecast.trends.shares",
    "Forecast": "stylecast.trends.forecast",
    "forecast_series": "stylecast.trends.models",
    "backtest_series": "stylecast.trends.backtest",
    "required_points": "stylecast.trends.backtest",
    "slope_signal": "stylecast.trends.signals",
    "ForecastSkill": "stylecast.trends.skill",
    "analyse_trends": "stylecast.trends.analysis",
    "trend_report": "stylecast.trends.analysis",
    "format_trends": "stylecast.trends.text",
}

__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
