"""Decoding: every colour mode becomes RGB, bad files become reasons, letterboxing never crops."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from stylecast.data import letterbox, load_image
from stylecast.data.decode import (
    DRAFT_SIDE,
    MIN_SIDE,
    PREPROCESS_VERSION,
    info_context,
    inspect_image,
    inspect_many,
)
from stylecast.errors import DataError
from tests._data_fixtures import BAD_FILES


def test_letterbox_keeps_the_whole_image() -> None:
    img = Image.new("RGB", (60, 80), (200, 0, 0))
    arr = letterbox(img, 64)
    assert arr.shape == (64, 64, 3) and arr.dtype == np.uint8
    assert tuple(arr[32, 32]) == (200, 0, 0)  # centre is the image
    assert tuple(arr[32, 0]) == (255, 255, 255)  # sides are padding, nothing cropped
    assert (arr[:, :, 1] == 0).sum() == 48 * 64  # 60x80 scaled to 48x64


def test_load_image_converts_modes(tmp_path: Path) -> None:
    Image.new("RGBA", (20, 20), (0, 0, 0, 0)).save(tmp_path / "t.png")
    assert load_image(tmp_path / "t.png").getpixel((5, 5)) == (255, 255, 255)
    Image.new("L", (20, 20), 7).save(tmp_path / "g.png")
    assert load_image(tmp_path / "g.png").getpixel((5, 5)) == (7, 7, 7)
    (tmp_path / "z.jpg").write_bytes(b"")
    with pytest.raises(DataError, match="empty file"):
        load_image(tmp_path / "z.jpg")


@pytest.mark.parametrize(
    ("name", "pixel", "expected"),
    [
        ("a/alpha.png", (30, 5), (255, 255, 255)),  # transparent half composited on white
        ("a/alpha.png", (5, 5), (200, 0, 0)),
        ("a/gray.png", (5, 5), (77, 77, 77)),
        ("a/cmyk.jpg", (5, 5), (255, 0, 0)),  # C=0 M=255 Y=255 K=0 is red
        ("b/deep16.png", (5, 5), (127, 127, 127)),  # 32767 of 65535, not stretched to white
        ("b/anim.gif", (5, 5), (0, 0, 250)),  # the first frame
        ("b/green.bmp", (5, 5), (0, 128, 0)),
        ("b/navy.tiff", (5, 5), (0, 0, 128)),
    ],
)
def test_modes_are_converted_to_rgb(messy: Path, name: str, pixel, expected) -> None:  # noqa: ANN001
    img = load_image(messy / name)
    assert img.mode == "RGB"
    assert img.getpixel(pixel) == pytest.approx(expected, abs=2)


def test_palette_and_exif_rotation(messy: Path) -> None:
    pal = load_image(messy / "a/palette.png")
    ref = Image.open(messy / "a/palette.png").convert("RGB")
    assert pal.mode == "RGB" and pal.getpixel((10, 10)) == ref.getpixel((10, 10))
    assert load_image(messy / "b/rotated.jpg").size == (30, 60)  # stored 60x30, orientation 6


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_load_image_raises_a_data_error_naming_the_file(messy: Path, name: str) -> None:
    with pytest.raises(DataError, match=Path(name).name):
        load_image(messy / name)


def test_inspect_image_returns_facts_and_letterboxed_pixels(messy: Path) -> None:
    pixels, info = inspect_image((str(messy / "b/rotated.jpg"), 16, 0))
    assert pixels is not None and pixels.shape == (16, 16, 3) and pixels.dtype == np.uint8
    assert tuple(pixels[8, 0]) == (0, 0, 0)  # portrait after rotation: padded with fill 0
    assert info["ok"] is True and info["rotated"] is True
    assert (info["width"], info["height"], info["frames"]) == (60, 30, 1)  # as stored
    assert len(info["phash"]) == 16 and len(info["colour"]) == 8 * 8 * 3 * 2
    nothing, facts = inspect_image((str(messy / "a/alpha.png"), None, 255))
    assert nothing is None and facts["mode"] == "RGBA" and facts["format"] == "PNG"


def test_inspect_many_keeps_order_and_reports_bad_files(messy: Path) -> None:
    names = ["a/gray.png", *sorted(BAD_FILES), "b/green.bmp"]
    jobs = [(str(messy / n), None, 255) for n in names]
    results = list(inspect_many(jobs, workers=1, progress=False, desc="test"))
    kinds = [info.get("kind") for _, info in results]
    assert kinds == [None, *(BAD_FILES[n] for n in sorted(BAD_FILES)), None]
    assert [info["ok"] for _, info in results] == [True] + [False] * len(BAD_FILES) + [True]


def test_info_context_names_what_changes_the_facts() -> None:
    ctx = info_context()
    assert ctx.startswith(f"v{PREPROCESS_VERSION}:pil")
    assert ctx.endswith(f":max{Image.MAX_IMAGE_PIXELS}:min{MIN_SIDE}") and MIN_SIDE == 8


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"\n  <!DOCTYPE html><html><body>403 Forbidden</body></html>", "HTML"),
        (b"\xef\xbb\xbf<html lang='fr'>caf\xc3\xa9</html>", "HTML"),
        (b"404 page not found: see <html> below\n", "text"),
        (b"x" * 16 + b"\n" + b"path,label\ncaf\xc3\xa9.jpg,FW\n" * 40, "text"),  # cut in an é
        (b"SECRET-TOKEN-\x1b[31m" + bytes(range(256)), "unknown binary"),
        (b"\xde\xad\xbe\xef" * 20, "unknown binary"),
        (b"PK\x03\x04" + b"\0" * 60, "unknown binary"),  # a zip file
    ],
)
def test_a_non_image_is_named_by_its_kind_and_its_bytes_are_never_echoed(
    tmp_path: Path, content: bytes, reason: str
) -> None:
    f = tmp_path / "look.jpg"
    f.write_bytes(content)
    _, info = inspect_image((str(f), None, 0))
    assert info == {"ok": False, "kind": "not_image", "reason": info["reason"]}
    assert info["reason"].startswith(f"not an image ({reason}")
    assert content[:8].hex() not in info["reason"] and "SECRET" not in info["reason"]
    with pytest.raises(DataError, match=r"look\.jpg: not an image \("):
        load_image(f)


def test_facts_context_moves_with_the_wording_of_what_inspecting_reports() -> None:
    from stylecast.data.decode import facts_context

    assert facts_context().startswith(info_context() + ":facts")
    assert facts_context() != info_context()


def test_a_large_jpeg_is_decoded_at_a_reduced_scale_with_the_same_letterbox(
    tmp_path: Path,
) -> None:
    # A smooth 1200x1600 photo: decoded at half scale, both sides stay >= DRAFT_SIDE, and
    # the 128 px letterbox matches the one from the full decode to within JPEG noise.
    yy, xx = np.mgrid[0:1600, 0:1200]
    arr = np.stack([xx * 255 // 1199, yy * 255 // 1599, (xx + yy) * 255 // 2798], -1)
    path = tmp_path / "big.jpg"
    Image.fromarray(arr.astype(np.uint8)).save(path, quality=92)
    small = load_image(path)
    assert small.size == (600, 800) and min(small.size) >= DRAFT_SIDE
    pixels, facts = inspect_image((str(path), 128, 255))
    assert (facts["width"], facts["height"]) == (1200, 1600)  # the file's own size
    with Image.open(path) as im:
        full = letterbox(im.convert("RGB"), 128, 255)
    assert pixels is not None and pixels.shape == (128, 128, 3)
    assert np.abs(pixels.astype(int) - full.astype(int)).mean() < 2.0
    # Below twice DRAFT_SIDE on the short side nothing is reduced.
    Image.fromarray(arr[:1000, :1000].astype(np.uint8)).save(tmp_path / "mid.jpg")
    assert load_image(tmp_path / "mid.jpg").size == (1000, 1000)
