"""The evaluation stage: numbers (metrics, calibration), galleries, Grad-CAM and comparisons."""

from stylecast.lazy import lazy_exports

_EXPORTS = {
    "CompareResult": "stylecast.evaluation.comparison",
    "compare": "stylecast.evaluation.comparison",
    "build_galleries": "stylecast.evaluation.galleries",
    "Explanation": "stylecast.evaluation.gradcam",
    "explain": "stylecast.evaluation.gradcam",
    "classification_metrics": "stylecast.evaluation.metrics",
    "mcnemar_test": "stylecast.evaluation.metrics",
    "EvaluationResult": "stylecast.evaluation.scoring",
    "evaluate": "stylecast.evaluation.scoring",
    "format_comparison": "stylecast.evaluation.comparison",
    "write_comparison": "stylecast.evaluation.comparison",
    "format_evaluation": "stylecast.evaluation.scoring",
    "galleries_are_stale": "stylecast.evaluation.galleries",
    "softmax": "stylecast.evaluation.metrics",
}

__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
