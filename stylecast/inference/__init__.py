"""Inference: a trained run's model applied to new images.

:class:`Predictor` and :func:`predict` (a few images, in memory); :func:`predict_batch`
(whole folders or manifests: streamed, fast, carrying the manifest's columns) and the
shift check (:func:`check_shift`: do the new images look like the training images?).
"""

from stylecast.lazy import lazy_exports

_EXPORTS = {
    "Predictor": "stylecast.inference.predictor",
    "predict": "stylecast.inference.predictor",
    "ImageLike": "stylecast.inference.predictor",
    "BatchPrediction": "stylecast.inference.batch",
    "PredictOptions": "stylecast.inference.options",
    "backend_option": "stylecast.inference.options",
    "device_option": "stylecast.inference.options",
    "check_output_path": "stylecast.inference.batch",
    "predict_batch": "stylecast.inference.batch",
    "shift_file_for": "stylecast.inference.batch",
    "write_predictions": "stylecast.inference.batch",
    "BACKENDS": "stylecast.inference.engine",
    "OnnxEngine": "stylecast.export.engine",
    "onnx_engine": "stylecast.export.engine",
    "ShiftOptions": "stylecast.inference.shift",
    "ShiftReport": "stylecast.inference.shift",
    "check_shift": "stylecast.inference.shift",
    "PredictionInput": "stylecast.inference.sources",
    "read_prediction_input": "stylecast.inference.sources",
}

__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
