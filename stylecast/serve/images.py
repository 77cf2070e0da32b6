"""Uploaded bytes -> an image the model can use, or a 4xx saying why not.

Two steps, so that a bad upload is refused before it costs anything:

1. :func:`sniff` (on the event loop, microseconds): the bytes' own magic decides the format
   (never the file name or the client's content type), among the formats a photo comes in;
   the header's width x height is checked against ``max_pixels`` *before* any pixel is
   decoded, so a 20000x20000 PNG of a few kilobytes is refused unread.
2. :func:`decode` (in a worker thread): the first frame, EXIF orientation applied, as RGB with
   transparency composited on white (what ``stylecast.data.load_image`` does with a file),
   and the same pixels with their transparency for the palette.

Everything happens in memory (``io.BytesIO``); nothing is written to disk.
"""

from __future__ import annotations

import base64
import contextlib
import io
import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from stylecast.data import rgb_or_rgba
from stylecast.serve.problems import ApiError
from stylecast.serve.settings import MIN_SIDE, ServeSettings
from stylecast.serve.upload import Upload

__all__ = ["FORMATS", "Decoded", "ImageHeader", "decode", "png_data_uri", "sniff"]

# What Pillow may open: formats photos come in. Anything else (EPS, which would start
# Ghostscript; PSD, ICO, PDF, ...) is refused as unsupported.
FORMATS = ("JPEG", "PNG", "WEBP", "GIF", "BMP", "TIFF")  # JPEG includes MPO (camera JPEGs)
_PALETTE_SIDE = 256  # the palette's decode size (stylecast.palette reduces to it as well)


@dataclass(frozen=True)
class ImageHeader:
    """What the header says, read without decoding a pixel."""

    format: str
    width: int
    height: int


@dataclass(frozen=True)
class Decoded:
    """A decoded upload: ``rgb`` for the model, ``palette_rgb``/``opaque`` for the palette."""

    filename: str
    header: ImageHeader
    rgb: Any  # PIL.Image.Image, mode RGB, transparency on white
    palette_rgb: np.ndarray  # (h, w, 3) uint8, at most 256 px a side
    opaque: np.ndarray | None  # (h, w) bool, None when the image has no transparency


def _open(upload: Upload) -> Any:
    from PIL import Image

    return Image.open(io.BytesIO(upload.data), formats=FORMATS)


def sniff(upload: Upload, settings: ServeSettings) -> ImageHeader:
    """The format and size of ``upload`` from its bytes, or ApiError (415, 413 or 422)."""
    from PIL import Image

    name = upload.filename
    if not upload.data:
        raise ApiError(422, "empty_file", f"{name} is empty (0 bytes)", filename=name)
    try:
        with _open(upload) as im:
            header = ImageHeader(str(im.format), int(im.size[0]), int(im.size[1]))
    except Image.UnidentifiedImageError:
        raise ApiError(
            415,
            "not_an_image",
            f"{name} is not an image in a supported format ({', '.join(FORMATS)})",
            filename=name,
        ) from None
    except Image.DecompressionBombError as exc:  # Pillow's own check, far above ours
        found = re.search(r"\((\d+) pixels\)", str(exc))
        count = f"{int(found.group(1)):,} pixels" if found else "more pixels than Pillow allows"
        raise ApiError(
            413,
            "too_many_pixels",
            f"{name} is {count}; the limit is {settings.max_pixels:,}",
            filename=name,
        ) from None
    except Exception as exc:  # noqa: BLE001 - Pillow raises OSError, SyntaxError, ValueError ...
        raise ApiError(
            422, "unreadable_image", f"{name}: unreadable header ({exc})", filename=name
        ) from None
    pixels = header.width * header.height
    if pixels > settings.max_pixels:
        raise ApiError(
            413,
            "too_many_pixels",
            f"{name} is {header.width}x{header.height} = {pixels:,} pixels; the limit is "
            f"{settings.max_pixels:,}",
            filename=name,
        )
    if min(header.width, header.height) < MIN_SIDE:
        raise ApiError(
            422,
            "too_small",
            f"{name} is {header.width}x{header.height} px; at least {MIN_SIDE} px a side",
            filename=name,
        )
    return header


def decode(upload: Upload, header: ImageHeader) -> Decoded:
    """Decode a sniffed upload (ApiError 422 when its pixels are broken)."""
    from PIL import Image, ImageOps

    name = upload.filename
    try:
        with _open(upload) as im:
            im.seek(0)  # the first frame of a GIF, WebP or TIFF
            im.load()
            with contextlib.suppress(Exception):  # a broken EXIF block is not a broken image
                im = ImageOps.exif_transpose(im) or im
            full = rgb_or_rgba(im)
    except Exception as exc:  # noqa: BLE001 - truncated data, bad chunks, ...
        text = str(exc)
        code = "truncated_image" if "truncated" in text.lower() else "unreadable_image"
        raise ApiError(
            422, code, f"{name}: cannot decode its pixels ({text})", filename=name
        ) from None
    if full.mode == "RGBA":
        white = Image.new("RGBA", full.size, (255, 255, 255, 255))
        rgb = Image.alpha_composite(white, full).convert("RGB")
    else:
        rgb = full
    small = full
    if max(full.size) > _PALETTE_SIDE:  # a reduced copy, never a full-size one
        scale = _PALETTE_SIDE / max(full.size)
        size = (max(1, round(full.size[0] * scale)), max(1, round(full.size[1] * scale)))
        small = full.resize(size, Image.BOX)
    arr = np.asarray(small)
    opaque = None
    if arr.shape[2] == 4:
        opaque = arr[:, :, 3] >= 128
        opaque = None if opaque.all() else opaque
        arr = arr[:, :, :3]
    return Decoded(name, header, rgb, np.ascontiguousarray(arr), opaque)


def png_data_uri(pixels: np.ndarray) -> str:
    """An (h, w, 3) uint8 array as a ``data:image/png;base64,...`` URI."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.asarray(pixels, dtype=np.uint8)).save(buf, format="PNG", optimize=False)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")
