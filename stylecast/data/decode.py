"""Decoding one image: open it as RGB (or say in words why not), letterbox it, inspect it.

Every image is decoded with its EXIF orientation applied; palette, alpha (composited on
white), grayscale, CMYK and 16-bit images are converted to RGB. A file that cannot be
used becomes a reason (``empty``, ``not_image``, ``truncated``, ``unreadable``,
``too_small``, ``too_large``), never a crash. :func:`inspect_many` decodes many files in
parallel processes.
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import PIL
from PIL import Image, ImageOps

from stylecast.errors import DataError

__all__ = [
    "MIN_SIDE",
    "PREPROCESS_VERSION",
    "facts_context",
    "info_context",
    "inspect_image",
    "inspect_many",
    "letterbox",
    "load_image",
]

# Bumped whenever decoding, letterboxing or the cache layout changes (3: large JPEGs are
# decoded at a reduced scale).
PREPROCESS_VERSION = 3
MIN_SIDE = 8
# A JPEG whose short side is at least twice this is decoded at 1/2, 1/4 or 1/8 scale (libjpeg's
# DCT scaling), keeping both sides at least this long: a 1200x1600 photo decodes as 600x800
# about three times faster, and what comes after (the letterbox to --img-size at most 1024,
# the 32x32 perceptual hash, the 8x8 colour) loses nothing that matters. Fixed, not derived
# from --img-size, so a file's hash is the same in every run.
DRAFT_SIDE = 512


class _BadImage(Exception):
    def __init__(self, kind: str, reason: str) -> None:
        super().__init__(reason)
        self.kind = kind
        self.reason = reason


def _looks_like_text(head: bytes) -> str | None:
    """``head`` as text when it is UTF-8 of printable characters (a cut-off last one allowed)."""
    if b"\0" in head:
        return None
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.reason != "unexpected end of data":
            return None
        text = head[: exc.start].decode("utf-8")
    text = text.removeprefix("\ufeff")
    if all(c.isprintable() or c in "\t\n\r\f\v" for c in text):
        return text
    return None


def _sniff(path: Path) -> str:
    """Why a file that Pillow cannot identify is not an image, in words.

    Its bytes are never echoed (they may be anything: a terminal escape, a secret).
    """
    try:
        with open(path, "rb") as f:
            head = f.read(512)
    except OSError as exc:
        return f"cannot read it ({exc.strerror or exc})"
    text = _looks_like_text(head)
    if text is None:
        return "not an image (unknown binary)"
    start = text.lstrip().lower()
    if start.startswith(("<!doctype", "<html")):
        return "not an image (HTML: a web page saved under an image name?)"
    return "not an image (text)"


def _open_rgb(path: Path) -> tuple[Image.Image, dict[str, Any]]:
    """Decode ``path`` to RGB, or raise ``_BadImage(kind, reason)``.

    kinds: empty, not_image, truncated, unreadable, too_small, too_large.
    """
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise _BadImage("unreadable", f"cannot read it ({exc.strerror or exc})") from None
    if size == 0:
        raise _BadImage("empty", "empty file (0 bytes)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as im:
                facts: dict[str, Any] = {
                    "format": im.format,
                    "width": im.size[0],
                    "height": im.size[1],
                    "mode": im.mode,
                    "frames": int(getattr(im, "n_frames", 1) or 1),
                }
                im.seek(0)  # first frame of a GIF
                if im.format == "JPEG" and min(im.size) >= 2 * DRAFT_SIDE:
                    im.draft(None, (DRAFT_SIDE, DRAFT_SIDE))
                im.load()
                orientation = 1
                try:
                    orientation = int(im.getexif().get(0x0112, 1) or 1)
                    oriented = ImageOps.exif_transpose(im) if orientation != 1 else im
                except Exception:  # noqa: BLE001 - a broken EXIF block is not a broken image
                    oriented = im
                facts["rotated"] = orientation != 1
                rgb = _to_rgb(oriented)
    except _BadImage:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _BadImage(
            "too_large",
            f"larger than Pillow's limit of {Image.MAX_IMAGE_PIXELS:,} pixels "
            "(decompression bomb?)",
        ) from None
    except Image.UnidentifiedImageError:
        raise _BadImage("not_image", _sniff(path)) from None
    except Exception as exc:  # noqa: BLE001 - PIL raises OSError, SyntaxError, ValueError ...
        msg = str(exc)
        if "truncated" in msg.lower() or isinstance(exc, EOFError):
            raise _BadImage("truncated", f"truncated file ({msg})") from None
        raise _BadImage("unreadable", f"unreadable image ({type(exc).__name__}: {msg})") from None
    if min(rgb.size) < MIN_SIDE:
        raise _BadImage("too_small", f"too small ({rgb.size[0]}x{rgb.size[1]} px)")
    return rgb, facts


def load_image(path: str | os.PathLike[str]) -> Image.Image:
    """Open an image as RGB: EXIF orientation applied, alpha composited on white; a large
    JPEG at a reduced scale with both sides still at least ``DRAFT_SIDE`` (512) pixels.

    Raises ``DataError`` for empty, unreadable, truncated, non-image, too small or
    decompression-bomb files.
    """
    p = Path(path)
    try:
        return _open_rgb(p)[0]
    except _BadImage as bad:
        raise DataError(f"{p}: {bad.reason}") from None


def eight_bit(im: Image.Image) -> Image.Image:
    """16-bit, 32-bit integer and float images as 8-bit grey; other modes unchanged.

    16-bit data scales by its full range (a dark 16-bit photo stays dark); wider integer or
    float data of unknown range by its own maximum.
    """
    if im.mode not in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        return im
    arr = np.asarray(im, dtype=np.float64)
    top = float(arr.max()) if arr.size else 0.0
    if im.mode.startswith("I;16") or 255 < top <= 65535:
        hi = 65535.0
    else:
        hi = max(top, 255.0) if im.mode == "I" or top > 1.0 else 1.0
    return Image.fromarray((arr / hi * 255).round().clip(0, 255).astype(np.uint8), "L")


def rgb_or_rgba(im: Image.Image) -> Image.Image:
    """8-bit RGBA when the image has any transparency (palette, alpha, a transparent colour),
    else RGB: for callers that treat transparent pixels themselves (palettes, the server)."""
    im = eight_bit(im)
    if im.mode in ("P", "PA", "LA", "La", "RGBa", "RGBA") or "transparency" in im.info:
        return im.convert("RGBA")
    return im.convert("RGB")


def _to_rgb(im: Image.Image) -> Image.Image:
    im = rgb_or_rgba(im)
    if im.mode == "RGBA":  # transparency composited on white, the catalogue backdrop
        white = Image.new("RGBA", im.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, im).convert("RGB")
    return im


def letterbox(img: Image.Image, size: int, fill: int = 255) -> np.ndarray:
    """Scale the whole image into a ``size`` square and pad; never crop (hems stay)."""
    w, h = img.size
    scale = size / max(w, h)
    nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
    resized = img.resize((nw, nh), Image.BICUBIC, reducing_gap=3.0 if scale < 0.5 else None)
    canvas = Image.new("RGB", (size, size), (fill, fill, fill))
    canvas.paste(resized, ((size - nw) // 2, (size - nh) // 2))
    return np.asarray(canvas, dtype=np.uint8)


def info_context() -> str:
    """Everything besides the file's bytes that decides what inspecting it finds."""
    import imagehash

    return (
        f"v{PREPROCESS_VERSION}:pil{PIL.__version__}:imagehash{imagehash.__version__}:"
        f"max{Image.MAX_IMAGE_PIXELS}:min{MIN_SIDE}"
    )


# Bumped whenever what inspecting a file reports changes (its wording included), so facts
# cached in the index under an older wording are found again; decoded pixels stay valid.
_FACTS_VERSION = 2


def facts_context() -> str:
    """:func:`info_context` plus the version of what inspecting reports (the index's key)."""
    return f"{info_context()}:facts{_FACTS_VERSION}"


def inspect_image(job: tuple[str, int | None, int]) -> tuple[np.ndarray | None, dict[str, Any]]:
    """Decode ``job = (path, size, fill)``: the file's facts, and its pixels letterboxed to
    ``size`` when ``size`` is given (a top-level function, so worker processes can run it)."""
    import imagehash

    path, size, fill = job
    try:
        rgb, facts = _open_rgb(Path(path))
    except _BadImage as bad:
        return None, {"ok": False, "kind": bad.kind, "reason": bad.reason}
    info = {"ok": True, **facts}
    info["phash"] = str(imagehash.phash(rgb))
    info["colour"] = np.asarray(rgb.resize((8, 8), Image.BOX), dtype=np.uint8).tobytes().hex()
    return (letterbox(rgb, size, fill) if size else None), info


def _progress(iterable: Any, total: int, desc: str, enabled: bool) -> Any:
    if not enabled:
        return iterable
    from tqdm.auto import tqdm

    return tqdm(iterable, total=total, desc=desc, unit="img", leave=False, file=sys.stderr)


def _workers(workers: int | None) -> int:
    return max(1, workers or min(os.cpu_count() or 1, 8))


def inspect_many(
    jobs: list[tuple[str, int | None, int]], *, workers: int | None, progress: bool, desc: str
) -> Iterator[tuple[np.ndarray | None, dict[str, Any]]]:
    """:func:`inspect_image` of every job, in order: in parallel processes, serial for a few."""
    n = _workers(workers)
    if n > 1 and len(jobs) >= 64:
        chunk = max(1, min(64, len(jobs) // (n * 8)))
        with ProcessPoolExecutor(max_workers=n) as pool:
            yield from _progress(
                pool.map(inspect_image, jobs, chunksize=chunk), len(jobs), desc, progress
            )
    else:
        for job in _progress(jobs, len(jobs), desc, progress):
            yield inspect_image(job)
