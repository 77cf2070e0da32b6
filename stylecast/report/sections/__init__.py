"""The report's built-in sections, one module each; importing this registers them all.

Each module builds its section's material from the run folder and registers a
:class:`~stylecast.report.registry.Section` naming its partial in ``report/templates/``.
"""

from stylecast.report.registry import registered_sections
from stylecast.report.sections import (  # noqa: F401  (each registers its section)
    data,
    ensemble,
    evaluation,
    model,
    overview,
    palette,
    reproduce,
    training,
    tuning,
)
from stylecast.report.sections.common import data_uri, read_json_or_none, when
from stylecast.report.sections.data import data_section
from stylecast.report.sections.evaluation import cam_grid_of, gallery_section
from stylecast.report.sections.model import param_count
from stylecast.report.sections.overview import overview_sentences
from stylecast.report.sections.reproduce import reproduce_commands
from stylecast.report.sections.training import training_phases
from stylecast.report.sections.tuning import tuning_section

# The modules above, each of which registered its section on import.
BUILT_IN = (data, ensemble, evaluation, model, overview, palette, reproduce, training, tuning)

__all__ = [
    "BUILT_IN",
    "registered_sections",
    "cam_grid_of",
    "data_section",
    "data_uri",
    "gallery_section",
    "overview_sentences",
    "param_count",
    "read_json_or_none",
    "reproduce_commands",
    "training_phases",
    "tuning_section",
    "when",
]
