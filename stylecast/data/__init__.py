"""The data stage: find images, check them, decode them once into a verified cache, split them
without leakage, and prepare what a run needs (:class:`RunData`).

Modules: ``sources`` (finding images), ``decode`` (opening one image), ``store`` and
``cache`` (the decoded-image cache), ``dupes`` (near-duplicates), ``split`` (leakage-free
splits), ``check`` and ``check_report`` (``stylecast data check``), ``rundata`` (what a
run needs) and ``report`` (the report's dataset section).
"""

from stylecast.lazy import lazy_exports

_EXPORTS = {
    "IMAGE_EXTENSIONS": "stylecast.data.sources",
    "SPLITS": "stylecast.data.sources",
    "Dataset": "stylecast.data.sources",
    "discover": "stylecast.data.sources",
    "run_columns": "stylecast.data.sources",
    "printable_path": "stylecast.data.sources",
    "letterbox": "stylecast.data.decode",
    "load_image": "stylecast.data.decode",
    "eight_bit": "stylecast.data.decode",
    "rgb_or_rgba": "stylecast.data.decode",
    "file_digest": "stylecast.data.store",
    "ImageCache": "stylecast.data.cache",
    "PreparedImages": "stylecast.data.cache",
    "default_cache_dir": "stylecast.data.cache",
    "prepare_images": "stylecast.data.cache",
    "DEFAULT_DUP_THRESHOLD": "stylecast.data.dupes",
    "find_near_duplicates": "stylecast.data.dupes",
    "split_dataset": "stylecast.data.split",
    "DataCheck": "stylecast.data.check",
    "check_data": "stylecast.data.check",
    "format_report": "stylecast.data.check_report",
    "RunData": "stylecast.data.rundata",
    "prepare_run_data": "stylecast.data.rundata",
    "render_data_section": "stylecast.data.report",
}

__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
