"""The report stage: one self-contained HTML file per run (Jinja2), figures embedded."""

from stylecast.lazy import lazy_exports

_EXPORTS = {
    "ReportResult": "stylecast.report.build",
    "build_report": "stylecast.report.build",
}

__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
