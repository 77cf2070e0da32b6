"""stylecast: fashion images in folders -> a season and trend classifier you can trust.

The public API is re-exported here; heavy modules (torch, timm) load on first use, so
``import stylecast`` and ``stylecast --help`` stay fast.
"""

from __future__ import annotations

import importlib
from typing import Any

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
    "render_data_section": "stylecast.data_report",
    "make_lookbook": "stylecast.synthetic",
    # model
    "create_model": "stylecast.models",
    "load_model": "stylecast.models",
    "model_summary": "stylecast.models",
    "list_backbones": "stylecast.models",
    # stages
    "train": "stylecast.train",
    "TrainResult": "stylecast.train",
    "evaluate": "stylecast.evaluate",
    "EvaluationResult": "stylecast.evaluate",
    "build_report": "stylecast.report",
    "tune": "stylecast.tune",
    "TuneResult": "stylecast.tune",
    "explain": "stylecast.explain",
    "Explanation": "stylecast.explain",
    "compare": "stylecast.compare",
    "CompareResult": "stylecast.compare",
    "build_galleries": "stylecast.galleries",
    "Predictor": "stylecast.predict",
    "predict": "stylecast.predict",
    "SeasonClassifier": "stylecast.classifier",
    "run_demo": "stylecast.demo",
    # numbers
    "classification_metrics": "stylecast.metrics",
    "mcnemar_test": "stylecast.metrics",
}

__all__ = ["__version__", *_EXPORTS]

# Functions named like their module (stylecast.train.train, ...): once the submodule is
# imported, Python sets ``stylecast.<name>`` to the *module*. A lazy lookup would then return
# the module, so these are imported eagerly and always name the function.
_SAME_NAME = ("train", "evaluate", "predict", "explain", "compare", "tune")


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'stylecast' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


def _bind_same_name_functions() -> None:
    for name in _SAME_NAME:
        globals()[name] = getattr(importlib.import_module(_EXPORTS[name]), name)


_bind_same_name_functions()
