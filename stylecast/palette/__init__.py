"""The palette stage: every image's colours apart from its backdrop, named, and palettes per
group of images (season, brand, period, any manifest column) with what sets them apart.

Modules: ``pixels`` (decoding with transparency), ``extract`` (backdrop, clusters, one
image's palette), ``naming`` (colornamer's names and families), ``aggregate`` (group
palettes, family shares, distinguishing families), ``files`` (palettes.csv,
palette_summary.json, swatch figures), ``stage`` (``stylecast palette``), ``features``
(family histograms for a classifier) and ``report`` (the report's Palette section).
"""

import sys
import types

from stylecast.lazy import lazy_exports

_EXPORTS = {
    "FAMILIES": "stylecast.palette.naming",
    "ColourName": "stylecast.palette.naming",
    "name_colours": "stylecast.palette.naming",
    "Colour": "stylecast.palette.extract",
    "ImagePalette": "stylecast.palette.extract",
    "PaletteConfig": "stylecast.palette.extract",
    "extract_palette": "stylecast.palette.extract",
    "Pixels": "stylecast.palette.pixels",
    "read_pixels": "stylecast.palette.pixels",
    "GroupColour": "stylecast.palette.aggregate",
    "GroupPalette": "stylecast.palette.aggregate",
    "Grouping": "stylecast.palette.aggregate",
    "FamilyDifference": "stylecast.palette.aggregate",
    "FamilyShare": "stylecast.palette.aggregate",
    "read_summary": "stylecast.palette.files",
    "PALETTE_COLUMNS": "stylecast.palette.files",
    "PaletteResult": "stylecast.palette.stage",
    "palette": "stylecast.palette.stage",
    "format_palettes": "stylecast.palette.stage",
    "family_histogram": "stylecast.palette.features",
    "palette_features": "stylecast.palette.features",
    "render_palette_section": "stylecast.palette.report",
}

__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)


class _CallablePackage(types.ModuleType):
    """``stylecast.palette(...)`` is the API function, yet ``stylecast.palette`` is also this
    package: once the package is imported, Python binds that name to the package. Calling
    the package calls :func:`~stylecast.palette.stage.palette`, so both spellings work."""

    def __call__(self, *args, **kwargs):  # noqa: ANN002, ANN003, ANN204
        from stylecast.palette.stage import palette

        return palette(*args, **kwargs)


sys.modules[__name__].__class__ = _CallablePackage
