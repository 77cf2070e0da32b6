"""Inference: a trained run's model applied to new images (:class:`Predictor`, :func:`predict`)."""

from stylecast.lazy import lazy_exports

_EXPORTS = {
    "Predictor": "stylecast.inference.predictor",
    "predict": "stylecast.inference.predictor",
    "ImageLike": "stylecast.inference.predictor",
}

__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
