"""Every figure stylecast draws: functions take numbers (and an optional matplotlib ``ax``)
and return a Figure; :func:`save_figure` writes it atomically."""

from stylecast.lazy import lazy_exports

_EXPORTS = {
    "image_grid": "stylecast.plots.data",
    "plot_class_distribution": "stylecast.plots.data",
    "overlay_heatmap": "stylecast.plots.evaluation",
    "plot_calibration": "stylecast.plots.evaluation",
    "plot_confusion_matrix": "stylecast.plots.evaluation",
    "plot_explanation": "stylecast.plots.evaluation",
    "plot_member_accuracy": "stylecast.plots.ensemble",
    "plot_reliability": "stylecast.plots.evaluation",
    "plot_training_curves": "stylecast.plots.training",
    "plot_optimization_history": "stylecast.plots.tuning",
    "plot_param_importances": "stylecast.plots.tuning",
    "save_figure": "stylecast.plots.style",
    "Swatch": "stylecast.plots.palette",
    "SwatchRow": "stylecast.plots.palette",
    "plot_palettes": "stylecast.plots.palette",
    "ShareSeries": "stylecast.plots.trends",
    "plot_share_fan": "stylecast.plots.trends",
    "plot_share_grid": "stylecast.plots.trends",
    "plot_share_mix": "stylecast.plots.trends",
}

__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
