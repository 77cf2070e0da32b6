"""Decoding an image for its palette: RGB pixels and which of them are opaque.

Unlike the training decoder (:func:`stylecast.data.load_image`, which composites
transparency on white), a palette needs to know which pixels are transparent: they are
backdrop, whatever their colour. Tiny images (even 1x1) are kept; huge photos are reduced
to ``max_side`` (JPEGs already while decoding, which is what makes a 4000x3000 photo fast).
"""

from __future__ import annotations

import contextlib
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from stylecast.data import rgb_or_rgba
from stylecast.errors import DataError

__all__ = ["Pixels", "read_pixels"]


@dataclass(frozen=True)
class Pixels:
    """Decoded pixels: ``rgb`` (h, w, 3) uint8 and ``opaque`` (h, w) bool, or None."""

    rgb: np.ndarray
    opaque: np.ndarray | None = field(default=None)


def read_pixels(path: str | os.PathLike[str], max_side: int = 256) -> Pixels:
    """Decode ``path`` to RGB with its transparency, reduced to ``max_side`` (DataError if not)."""
    from PIL import Image, ImageOps

    p = Path(path)
    if p.is_file() and p.stat().st_size == 0:
        raise DataError(f"{p}: empty file (0 bytes)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(p) as im:
                if im.format == "JPEG":
                    im.draft("RGB", (max_side, max_side))  # decode huge JPEGs at 1/2..1/8
                im.seek(0)
                im.load()
                # A broken EXIF block is not a broken image: keep it as it is.
                with contextlib.suppress(Exception):
                    im = ImageOps.exif_transpose(im) or im
                im = rgb_or_rgba(im)
                if max(im.size) > max_side:
                    im.thumbnail((max_side, max_side), Image.BOX)
                arr = np.asarray(im)
    except FileNotFoundError:
        raise DataError(f"{p}: no such file") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise DataError(f"{p}: larger than Pillow's pixel limit (decompression bomb?)") from None
    except Image.UnidentifiedImageError:
        raise DataError(f"{p}: not an image Pillow can open") from None
    except Exception as exc:  # noqa: BLE001 - PIL raises OSError, SyntaxError, ValueError ...
        raise DataError(f"{p}: unreadable image ({type(exc).__name__}: {exc})") from None
    if arr.ndim != 3 or min(arr.shape[:2]) < 1:
        raise DataError(f"{p}: an image without pixels")
    if arr.shape[2] == 4:
        return Pixels(np.ascontiguousarray(arr[:, :, :3]), arr[:, :, 3] >= 128)
    return Pixels(np.ascontiguousarray(arr))
