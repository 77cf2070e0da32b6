"""The tuning stage: an Optuna study over training configurations, pruned, durable, parallel."""

from stylecast.lazy import lazy_exports

_EXPORTS = {
    "RetrainComparison": "stylecast.tuning.retrain",
    "TuneResult": "stylecast.tuning.outcome",
    "format_trials": "stylecast.tuning.results",
    "trials_table": "stylecast.tuning.results",
    "tune": "stylecast.tuning.study",
    "redact": "stylecast.tuning.storage",
}

__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
