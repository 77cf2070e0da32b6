"""The built-in demo: a synthetic lookbook with known season cues, and the whole pipeline on it."""

from stylecast.lazy import lazy_exports

_EXPORTS = {
    "DEMO_OUT": "stylecast.demo.config",
    "DemoConfig": "stylecast.demo.config",
    "SummaryConfig": "stylecast.demo.config",
    "make_lookbook": "stylecast.demo.lookbook",
    "run_demo": "stylecast.demo.pipeline",
}

__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
