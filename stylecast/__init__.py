"""stylecast: fashion images in folders -> a season and trend classifier you can trust.

The public API is re-exported here; heavy modules (torch, timm) load on first use, so
``import stylecast`` and ``stylecast --help`` stay fast.
"""

from __future__ import annotations

from stylecast.lazy import lazy_exports

__version__ = "0.1.0"

_EXPORTS = {
    # configuration and errors
    "TrainConfig": "stylecast.config",
    "EvaluateConfig": "stylecast.config",
    "TuneConfig": "stylecast.config",
    "load_config": "stylecast.config",
    "StylecastError": "stylecast.errors",
    "ConfigError": "stylecast.errors",
    "DataError": "stylecast.errors",
    "ModelError": "stylecast.errors",
    "RunError": "stylecast.errors",
    "MissingDependencyError": "stylecast.errors",
    "NotFittedError": "stylecast.errors",
    # data
    "Dataset": "stylecast.data.pipeline",
    "ImageCache": "stylecast.data.pipeline",
    "discover": "stylecast.data.pipeline",
    "split_dataset": "stylecast.data.pipeline",
    "check_data": "stylecast.data.pipeline",
    "render_data_section": "stylecast.data.report",
    "make_lookbook": "stylecast.demo.lookbook",
    # model
    "create_model": "stylecast.models",
    "load_model": "stylecast.models",
    "model_summary": "stylecast.models",
    "list_backbones": "stylecast.models",
    # stages
    "train": "stylecast.training.engine",
    "TrainResult": "stylecast.training.engine",
    "evaluate": "stylecast.evaluation.scoring",
    "EvaluationResult": "stylecast.evaluation.scoring",
    "build_report": "stylecast.report.build",
    "tune": "stylecast.tuning.study",
    "TuneResult": "stylecast.tuning.study",
    "explain": "stylecast.evaluation.gradcam",
    "Explanation": "stylecast.evaluation.gradcam",
    "compare": "stylecast.evaluation.comparison",
    "CompareResult": "stylecast.evaluation.comparison",
    "build_galleries": "stylecast.evaluation.galleries",
    "Predictor": "stylecast.inference.predictor",
    "predict": "stylecast.inference.predictor",
    "SeasonClassifier": "stylecast.classifier",
    "run_demo": "stylecast.demo.pipeline",
    # numbers
    "classification_metrics": "stylecast.evaluation.metrics",
    "mcnemar_test": "stylecast.evaluation.metrics",
}

__all__ = ["__version__", *_EXPORTS]
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
