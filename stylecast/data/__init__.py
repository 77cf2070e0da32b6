"""The data stage: find images, check them, decode them once into a verified cache, split them
without leakage, and prepare what a run needs (:class:`RunData`)."""

from stylecast.lazy import lazy_exports

_EXPORTS = {
    "IMAGE_EXTENSIONS": "stylecast.data.pipeline",
    "SPLITS": "stylecast.data.pipeline",
    "DataCheck": "stylecast.data.pipeline",
    "Dataset": "stylecast.data.pipeline",
    "ImageCache": "stylecast.data.pipeline",
    "PreparedImages": "stylecast.data.pipeline",
    "RunData": "stylecast.data.pipeline",
    "check_data": "stylecast.data.pipeline",
    "default_cache_dir": "stylecast.data.pipeline",
    "discover": "stylecast.data.pipeline",
    "file_digest": "stylecast.data.pipeline",
    "find_near_duplicates": "stylecast.data.pipeline",
    "letterbox": "stylecast.data.pipeline",
    "load_image": "stylecast.data.pipeline",
    "prepare_images": "stylecast.data.pipeline",
    "prepare_run_data": "stylecast.data.pipeline",
    "split_dataset": "stylecast.data.pipeline",
    "DEFAULT_DUP_THRESHOLD": "stylecast.data.pipeline",
    "format_report": "stylecast.data.check",
    "render_data_section": "stylecast.data.report",
}

__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
