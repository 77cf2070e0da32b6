"""stylecast.palette.extract and .pixels: garments apart from their backdrop, clustered and
named; every image the data check accepts (and smaller) gets a palette, never a crash."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from stylecast.errors import ConfigError, DataError
from stylecast.palette import PaletteConfig, Pixels, extract_palette, read_pixels
from stylecast.palette.extract import backdrop_mask
from stylecast.palette.naming import rgb_to_lab
from tests.palette.conftest import square_on


def _save(img: Image.Image, path: Path, **kw) -> Path:
    img.save(path, **kw)
    return path


def test_red_square_on_white_is_red_with_the_white_excluded(tmp_path: Path) -> None:
    pal = extract_palette(_save(square_on((255, 0, 0)), tmp_path / "red.png"))
    assert pal.fallback == ""
    assert pal.first.name.family == "red"
    assert not pal.first.name.neutral
    assert pal.first.share == pytest.approx(1.0, abs=0.02)
    assert all(c.name.family != "white" for c in pal.colours)
    assert sum(c.share for c in pal.colours) == pytest.approx(1.0)
    assert pal.garment_share == pytest.approx(0.25, abs=0.03)


def test_jpeg_square_on_white_survives_compression(tmp_path: Path) -> None:
    path = _save(square_on((20, 40, 200)), tmp_path / "blue.jpg", quality=75)
    pal = extract_palette(path)
    assert pal.first.name.family in ("blue", "violet blue")
    assert pal.first.share > 0.9


def test_two_colours_get_their_shares(tmp_path: Path) -> None:
    arr = np.full((80, 80, 3), 255, dtype=np.uint8)
    arr[20:60, 20:50] = (20, 160, 40)  # green, 30 columns
    arr[20:60, 50:60] = (250, 220, 30)  # yellow, 10 columns
    pal = extract_palette(Pixels(arr), PaletteConfig(centre_sigma=0))
    shares = {c.name.family: c.share for c in pal.colours}
    assert pal.first.name.family == "green"
    assert shares["green"] == pytest.approx(0.75, abs=0.06)
    assert pal.colours[1].name.family == "yellow"


def test_grey_graded_backdrop_is_removed() -> None:
    h, w = 96, 72
    ramp = np.linspace(210, 180, h)[:, None, None]  # like the demo lookbook's backdrops
    arr = np.broadcast_to(ramp, (h, w, 3)).astype(np.uint8).copy()
    arr[30:70, 20:50] = (30, 110, 60)
    pal = extract_palette(Pixels(arr))
    assert pal.first.name.family in ("green", "blue green")
    assert pal.first.share > 0.9


def test_white_garment_inside_its_outline_stays() -> None:
    img = Image.new("RGB", (80, 100), (255, 255, 255))
    ImageDraw.Draw(img).rectangle(
        (15, 15, 65, 85), fill=(250, 250, 250), outline=(60, 60, 60), width=2
    )
    pal = extract_palette(Pixels(np.asarray(img)), PaletteConfig(centre_sigma=0))
    assert pal.fallback == ""
    assert pal.first.name.family == "white"
    assert pal.first.share > 0.8


def test_all_white_image_falls_back_to_the_centre(tmp_path: Path) -> None:
    pal = extract_palette(_save(Image.new("RGB", (60, 80), "white"), tmp_path / "w.png"))
    assert pal.fallback == "centre"
    assert [c.name.family for c in pal.colours] == ["white"]
    assert pal.first.share == pytest.approx(1.0)


def test_a_photo_filling_the_frame_counts_every_pixel() -> None:
    rng = np.random.default_rng(0)
    arr = rng.integers(0, 256, (40, 40, 3)).astype(np.uint8)
    pal = extract_palette(Pixels(arr))
    assert pal.fallback == "all"
    assert sum(c.share for c in pal.colours) == pytest.approx(1.0)


def test_grayscale_image(tmp_path: Path) -> None:
    img = square_on((40, 40, 40)).convert("L")
    pal = extract_palette(_save(img, tmp_path / "g.png"))
    assert pal.first.name.neutral
    assert pal.first.name.family in ("black", "grey", "olive")
    assert pal.first.share > 0.95


def test_palette_mode_png(tmp_path: Path) -> None:
    img = square_on((255, 0, 0)).convert("P", palette=Image.Palette.ADAPTIVE, colors=4)
    pal = extract_palette(_save(img, tmp_path / "p.png"))
    assert pal.first.name.family == "red"


def test_transparency_is_backdrop_even_when_white(tmp_path: Path) -> None:
    # A white shirt on a transparent background: the alpha, not the colour, is backdrop.
    arr = np.zeros((80, 60, 4), dtype=np.uint8)
    arr[20:60, 15:45] = (255, 255, 255, 255)
    pal = extract_palette(_save(Image.fromarray(arr, "RGBA"), tmp_path / "a.png"))
    assert pal.fallback == ""
    assert [c.name.family for c in pal.colours] == ["white"]
    assert pal.garment_share == pytest.approx(0.25, abs=0.01)


def test_one_pixel_image(tmp_path: Path) -> None:
    pal = extract_palette(_save(Image.new("RGB", (1, 1), (255, 0, 0)), tmp_path / "1.png"))
    assert len(pal.colours) == 1
    assert pal.first.share == pytest.approx(1.0)
    assert pal.first.name.family == "red"


def test_huge_photo_is_reduced_first(tmp_path: Path) -> None:
    path = _save(square_on((20, 40, 200), size=(4000, 3000)), tmp_path / "big.jpg", quality=90)
    t0 = time.perf_counter()
    pixels = read_pixels(path, 256)
    pal = extract_palette(path)
    assert max(pixels.rgb.shape[:2]) <= 256
    assert time.perf_counter() - t0 < 5
    assert pal.first.name.family in ("blue", "violet blue")


def test_skin_is_dropped_beside_a_garment_but_kept_alone() -> None:
    skin = (224, 172, 140)
    arr = np.full((100, 80, 3), 255, dtype=np.uint8)
    arr[10:30, 30:50] = skin  # a face
    arr[30:90, 20:60] = (20, 40, 200)  # a blue shirt
    pal = extract_palette(Pixels(arr))
    assert [c.name.family for c in pal.colours] == ["blue"]
    alone = extract_palette(Pixels(np.asarray(square_on(skin))))
    assert len(alone.colours) == 1 and alone.first.share == pytest.approx(1.0)


def test_first_colour_prefers_a_colour_over_neutrals() -> None:
    arr = np.full((80, 80, 3), 255, dtype=np.uint8)
    arr[10:70, 10:55] = (30, 30, 30)  # black, the larger
    arr[10:70, 55:70] = (255, 0, 0)  # red
    pal = extract_palette(Pixels(arr))
    assert pal.first.name.neutral
    assert pal.first_colour.name.family == "red"


def test_palettes_are_deterministic(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    arr = rng.integers(0, 256, (50, 50, 3)).astype(np.uint8)
    assert extract_palette(Pixels(arr)) == extract_palette(Pixels(arr))


def test_backdrop_mask_of_a_cielab_image() -> None:
    lab = rgb_to_lab(np.asarray(square_on((255, 0, 0)), dtype=float))
    mask = backdrop_mask(lab)
    assert mask is not None
    assert mask.mean() == pytest.approx(0.75, abs=0.03)


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"", "empty file"), (b"not an image at all", "not an image")],
)
def test_unreadable_files_raise_data_error(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.jpg"
    path.write_bytes(content)
    with pytest.raises(DataError, match=message):
        extract_palette(path)
    with pytest.raises(DataError, match="no such file"):
        extract_palette(tmp_path / "missing.jpg")


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"n_colours": 0}, "n_colours"),
        ({"max_side": 4}, "max_side"),
        ({"min_share": 0.5}, "min_share"),
    ],
)
def test_config_is_validated(kw: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        PaletteConfig(**kw)
