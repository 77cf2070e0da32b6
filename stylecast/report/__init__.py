"""The report stage: one self-contained HTML file per run (Jinja2), figures embedded.

Its sections are registered (:func:`register_section`): a new one is a module that
registers a :class:`Section` plus its partial template.
"""

from stylecast.lazy import lazy_exports

_EXPORTS = {
    "ReportResult": "stylecast.report.build",
    "build_report": "stylecast.report.build",
    "ReportRun": "stylecast.report.registry",
    "Section": "stylecast.report.registry",
    "register_section": "stylecast.report.registry",
    "registered_sections": "stylecast.report.sections",
    "unregister_section": "stylecast.report.registry",
}

__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
