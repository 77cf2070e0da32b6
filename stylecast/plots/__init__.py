"""Every figure stylecast draws: functions take numbers (and an optional matplotlib ``ax``)
and return a Figure; :func:`save_figure` writes it atomically."""

from stylecast.lazy import lazy_exports

_EXPORTS = {
    "image_grid": "stylecast.plots.core",
    "overlay_heatmap": "stylecast.plots.core",
    "plot_calibration": "stylecast.plots.core",
    "plot_class_distribution": "stylecast.plots.core",
    "plot_confusion_matrix": "stylecast.plots.core",
    "plot_explanation": "stylecast.plots.core",
    "plot_optimization_history": "stylecast.plots.core",
    "plot_param_importances": "stylecast.plots.tuning",
    "plot_reliability": "stylecast.plots.core",
    "plot_training_curves": "stylecast.plots.core",
    "save_figure": "stylecast.plots.core",
}

__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
