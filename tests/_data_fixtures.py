"""Generated images for the data tests: every bad-file kind, every colour mode, near-duplicates."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
from PIL import Image


def noise_image(seed: int, size: tuple[int, int] = (64, 80)) -> Image.Image:
    """A smooth random picture: distinct per seed, stable under resizing and re-encoding."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (6, 5, 3), dtype=np.uint8)
    return Image.fromarray(small, "RGB").resize(size, Image.BICUBIC)


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that declares ``width`` x ``height`` (a decompression bomb when large)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\0" * 16))
        + chunk(b"IEND", b"")
    )


def jpeg_bytes(img: Image.Image, quality: int = 90, **kw: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality, **kw)
    return buf.getvalue()


# relative path -> expected skip kind
BAD_FILES = {
    "a/empty.jpg": "empty",
    "a/truncated.jpg": "truncated",
    "a/page.jpg": "not_image",
    "b/tiny.png": "too_small",
    "b/bomb.png": "too_large",
    "b/garbage.png": "not_image",
}


def write_bad_files(root: Path) -> None:
    (root / "a").mkdir(parents=True, exist_ok=True)
    (root / "b").mkdir(parents=True, exist_ok=True)
    (root / "a/empty.jpg").write_bytes(b"")
    data = jpeg_bytes(noise_image(99, (200, 200)))
    (root / "a/truncated.jpg").write_bytes(data[: len(data) // 2])
    (root / "a/page.jpg").write_text("<html><body>404 not found</body></html>")
    Image.new("RGB", (4, 4), (9, 9, 9)).save(root / "b/tiny.png")
    (root / "b/bomb.png").write_bytes(png_header_only(20000, 20000))
    (root / "b/garbage.png").write_bytes(bytes(range(256)) * 4)


def write_good_files(root: Path, n_per_class: int = 6) -> None:
    """Readable images in every mode and format stylecast converts (classes a and b)."""
    for c, label in enumerate(("a", "b")):
        d = root / label / "nested" / "deeper"
        d.mkdir(parents=True, exist_ok=True)
        for i in range(n_per_class):
            noise_image(100 * c + i).save(d / f"plain_{i}.JPG", quality=90)  # upper case
    a, b = root / "a", root / "b"
    noise_image(501).convert("P", palette=Image.ADAPTIVE).save(a / "palette.png")
    rgba = Image.new("RGBA", (40, 40), (200, 0, 0, 0))
    rgba.paste((200, 0, 0, 255), (0, 0, 20, 40))
    rgba.save(a / "alpha.png")
    Image.new("L", (40, 40), 77).save(a / "gray.png")
    noise_image(503).save(a / "photo.webp", lossless=True)
    Image.new("CMYK", (40, 40), (0, 255, 255, 0)).save(a / "cmyk.jpg", quality=95)
    Image.fromarray(np.full((40, 40), 65535 // 2, dtype=np.uint16)).save(b / "deep16.png")
    frames = [Image.new("RGB", (40, 40), col) for col in ((0, 0, 250), (250, 0, 0))]
    frames[0].save(b / "anim.gif", save_all=True, append_images=frames[1:], duration=50)
    Image.new("RGB", (40, 40), (0, 128, 0)).save(b / "green.bmp")
    Image.new("RGB", (40, 40), (0, 0, 128)).save(b / "navy.tiff")
    # A PNG named .jpg: readable, kept, reported as named after another format.
    noise_image(507).save(b / "actually_png.jpg", format="PNG")
    # EXIF orientation 6 (rotate 90° clockwise): a 60x30 landscape file shows as 30x60.
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.new("RGB", (60, 30), (10, 20, 30)).save(b / "rotated.jpg", exif=exif.tobytes())
