"""The evaluation stage: numbers (metrics, calibration), galleries, Grad-CAM and comparisons."""

from stylecast.lazy import lazy_exports

_EXPORTS = {
    "accuracy_by": "stylecast.evaluation.breakdown",
    "EvaluationResult": "stylecast.evaluation.scoring",
    "evaluate": "stylecast.evaluation.scoring",
    "Headline": "stylecast.evaluation.summary",
    "format_evaluation": "stylecast.evaluation.summary",
    "calibration_reason": "stylecast.evaluation.summary",
    "verdict_sentence": "stylecast.evaluation.summary",
    "FITTED": "stylecast.evaluation.summary",
    "NO_GAIN": "stylecast.evaluation.summary",
    "TemperatureChoice": "stylecast.evaluation.temperature",
    "choose_temperature": "stylecast.evaluation.temperature",
    "classification_metrics": "stylecast.evaluation.metrics",
    "mcnemar_test": "stylecast.evaluation.metrics",
    "expected_calibration_error": "stylecast.evaluation.calibration",
    "fit_temperature": "stylecast.evaluation.calibration",
    "softmax": "stylecast.evaluation.calibration",
    "wilson_interval": "stylecast.evaluation.intervals",
    "CompareResult": "stylecast.evaluation.comparison",
    "compare": "stylecast.evaluation.comparison",
    "format_comparison": "stylecast.evaluation.comparison",
    "write_comparison": "stylecast.evaluation.comparison",
    "build_galleries": "stylecast.evaluation.galleries",
    "evaluated_image_root": "stylecast.evaluation.galleries",
    "galleries_are_stale": "stylecast.evaluation.galleries",
    "Explanation": "stylecast.evaluation.gradcam",
    "explain": "stylecast.evaluation.gradcam",
    "gradcam_for_pixels": "stylecast.evaluation.gradcam",
    "upsample_cam": "stylecast.evaluation.gradcam",
}

__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
