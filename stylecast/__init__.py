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
    "Dataset": "stylecast.data",
    "ImageCache": "stylecast.data",
    "discover": "stylecast.data",
    "split_dataset": "stylecast.data",
    "check_data": "stylecast.data",
    "render_data_section": "stylecast.data",
    "make_lookbook": "stylecast.demo",
    # the run folder contract
    "RunFolder": "stylecast.run",
    "RunInfo": "stylecast.run",
    "ModelInfo": "stylecast.run",
    "Preprocessing": "stylecast.run",
    # model
    "create_model": "stylecast.models",
    "load_model": "stylecast.models",
    "model_summary": "stylecast.models",
    "list_backbones": "stylecast.models",
    # stages
    "train": "stylecast.training",
    "TrainResult": "stylecast.training",
    "evaluate": "stylecast.evaluation",
    "EvaluationResult": "stylecast.evaluation",
    "build_report": "stylecast.report",
    "tune": "stylecast.tuning",
    "TuneResult": "stylecast.tuning",
    "explain": "stylecast.evaluation",
    "Explanation": "stylecast.evaluation",
    "compare": "stylecast.evaluation",
    "CompareResult": "stylecast.evaluation",
    "build_galleries": "stylecast.evaluation",
    "Predictor": "stylecast.inference",
    "predict": "stylecast.inference",
    "predict_batch": "stylecast.inference",
    "PredictOptions": "stylecast.inference",
    "BatchPrediction": "stylecast.inference",
    "check_shift": "stylecast.inference",
    "ShiftReport": "stylecast.inference",
    "SeasonClassifier": "stylecast.classifier",
    "analyse_trends": "stylecast.trends",
    "trend_report": "stylecast.trends",
    "TrendsConfig": "stylecast.trends",
    "TrendsResult": "stylecast.trends",
    "Ensemble": "stylecast.ensemble",
    "build_ensemble": "stylecast.ensemble",
    "distill": "stylecast.distill",
    "DistillConfig": "stylecast.distill",
    "DistillResult": "stylecast.distill",
    "export_run": "stylecast.export",
    "ExportConfig": "stylecast.export",
    "ExportResult": "stylecast.export",
    "OnnxLogits": "stylecast.export",
    "load_onnx": "stylecast.export",
    "find_export": "stylecast.export",
    "run_demo": "stylecast.demo",
    "palette": "stylecast.palette",
    "PaletteResult": "stylecast.palette",
    "PaletteConfig": "stylecast.palette",
    "extract_palette": "stylecast.palette",
    "create_app": "stylecast.serve",
    "ServeSettings": "stylecast.serve",
    # numbers
    "classification_metrics": "stylecast.evaluation",
    "mcnemar_test": "stylecast.evaluation",
}

__all__ = ["__version__", *_EXPORTS]
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
