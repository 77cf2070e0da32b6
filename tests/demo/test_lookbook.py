"""Tests for the synthetic lookbook: layout, manifest, determinism, structure and separability."""

from __future__ import annotations

import csv
import pathlib
from collections import Counter, defaultdict

import numpy as np
import pytest
from PIL import Image

from stylecast.demo.lookbook import make_lookbook
from stylecast.errors import ConfigError

COLUMNS = ["path", "label", "group", "brand", "period", "garment", "colour"]
CLASSES = ("FallWinter", "SpringSummer")


def read_manifest(path: pathlib.Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        assert reader.fieldnames == COLUMNS
        return list(reader)


@pytest.fixture(scope="module")
def lookbook(tmp_path_factory: pytest.TempPathFactory) -> tuple[pathlib.Path, list[dict]]:
    out = tmp_path_factory.mktemp("lookbook")
    manifest = make_lookbook(out, 80, seed=0)
    return manifest, read_manifest(manifest)


def test_files_and_manifest(lookbook: tuple[pathlib.Path, list[dict]]) -> None:
    manifest, rows = lookbook
    root = manifest.parent
    assert manifest.name == "manifest.csv"
    assert len(rows) == 80 * len(CLASSES)
    assert Counter(r["label"] for r in rows) == {c: 80 for c in CLASSES}
    for r in rows:
        assert "\\" not in r["path"]
        folder, name = r["path"].split("/")
        assert folder == r["label"]
        assert name.startswith(f"{r['label']}_") and name.endswith(".jpg")
        assert (root / r["path"]).is_file()
        assert r["brand"] and r["colour"] and r["group"]
        assert r["period"] in ("2021", "2022", "2023", "2024")
        assert r["garment"] in ("tee", "dress", "coat", "trousers")
    # Indices run 0000..0079 in each folder, and nothing else (no temp files) is left behind.
    for c in CLASSES:
        names = sorted(p.name for p in (root / c).iterdir())
        assert names == [f"{c}_{i:04d}.jpg" for i in range(80)]
    assert sorted(p.name for p in root.iterdir()) == sorted([*CLASSES, "manifest.csv"])


def test_season_cues_and_garments(lookbook: tuple[pathlib.Path, list[dict]]) -> None:
    _, rows = lookbook
    colours = defaultdict(set)
    garments = defaultdict(Counter)
    for r in rows:
        colours[r["label"]].add(r["colour"])
        garments[r["label"]][r["garment"]] += 1
    deep = {"burgundy", "navy", "forest", "charcoal", "camel", "brown"}
    light = {"mint", "sky", "lemon", "blush", "white", "coral"}
    assert colours["FallWinter"] <= deep and len(colours["FallWinter"]) >= 4
    assert colours["SpringSummer"] <= light and len(colours["SpringSummer"]) >= 4
    # Every garment occurs in both seasons, so the category alone does not give the label...
    for c in CLASSES:
        assert set(garments[c]) == {"tee", "dress", "coat", "trousers"}
    # ...but coats lean FallWinter and tees/dresses lean SpringSummer.
    fw, ss = garments["FallWinter"], garments["SpringSummer"]
    assert fw["coat"] + fw["trousers"] > ss["coat"] + ss["trousers"]
    assert ss["tee"] + ss["dress"] > fw["tee"] + fw["dress"]


def test_brands_are_a_small_invented_list(lookbook: tuple[pathlib.Path, list[dict]]) -> None:
    _, rows = lookbook
    brands = {r["brand"] for r in rows}
    assert 3 <= len(brands) <= 8
    assert "Kestrel" in brands


def test_images_have_requested_size_and_mode(lookbook: tuple[pathlib.Path, list[dict]]) -> None:
    manifest, rows = lookbook
    for r in rows[::10]:
        with Image.open(manifest.parent / r["path"]) as im:
            assert im.format == "JPEG"
            assert im.mode == "RGB"
            assert im.size == (96, 128)


def test_custom_size_and_png(tmp_path: pathlib.Path) -> None:
    manifest = make_lookbook(tmp_path, 3, seed=1, image_size=(64, 80), fmt="png")
    rows = read_manifest(manifest)
    assert len(rows) == 6
    for r in rows:
        assert r["path"].endswith(".png")
        with Image.open(tmp_path / r["path"]) as im:
            assert (im.format, im.mode, im.size) == ("PNG", "RGB", (64, 80))


def test_images_are_not_blank(lookbook: tuple[pathlib.Path, list[dict]]) -> None:
    manifest, rows = lookbook
    for r in rows[::20]:
        pixels = np.asarray(Image.open(manifest.parent / r["path"]), dtype=np.float32)
        # A garment on a backdrop: strong contrast and many distinct colours.
        assert pixels.std() > 15
        assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 100


def _all_bytes(root: pathlib.Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_same_seed_is_byte_identical(tmp_path: pathlib.Path) -> None:
    a = make_lookbook(tmp_path / "a", 6, seed=7).parent
    b = make_lookbook(tmp_path / "b", 6, seed=7).parent
    files_a, files_b = _all_bytes(a), _all_bytes(b)
    assert len(files_a) == 13  # 12 images + manifest
    assert files_a == files_b


def test_other_seed_differs(tmp_path: pathlib.Path) -> None:
    a = _all_bytes(make_lookbook(tmp_path / "a", 6, seed=7).parent)
    b = _all_bytes(make_lookbook(tmp_path / "b", 6, seed=8).parent)
    assert a.keys() == b.keys()
    differing = [k for k in a if k.endswith(".jpg") and a[k] != b[k]]
    assert len(differing) == 12


def test_does_not_touch_global_random_state(tmp_path: pathlib.Path) -> None:
    np.random.seed(123)
    expected = np.random.random()
    np.random.seed(123)
    make_lookbook(tmp_path, 2, seed=0)
    assert np.random.random() == expected


def test_groups_are_product_variants(lookbook: tuple[pathlib.Path, list[dict]]) -> None:
    _, rows = lookbook
    by_group = defaultdict(list)
    for r in rows:
        by_group[r["group"]].append(r)
    sizes = Counter(len(v) for v in by_group.values())
    assert set(sizes) == {1, 2}
    # Roughly one product in four has two variants.
    share = sizes[2] / (sizes[1] + sizes[2])
    assert 0.1 < share < 0.4
    for members in by_group.values():
        # A product never spans two labels, and its variants share everything but the pixels.
        for key in ("label", "brand", "period", "garment", "colour"):
            assert len({m[key] for m in members}) == 1, (key, members)


def test_variants_look_alike_but_differ(lookbook: tuple[pathlib.Path, list[dict]]) -> None:
    manifest, rows = lookbook
    by_group = defaultdict(list)
    for r in rows:
        by_group[r["group"]].append(r["path"])
    pairs = [v for v in by_group.values() if len(v) == 2][:5]
    assert pairs
    for p, q in pairs:
        a = (manifest.parent / p).read_bytes()
        b = (manifest.parent / q).read_bytes()
        assert a != b


def test_springsummer_share_rises_over_periods(lookbook: tuple[pathlib.Path, list[dict]]) -> None:
    _, rows = lookbook
    counts = defaultdict(Counter)
    for r in rows:
        counts[r["period"]][r["label"]] += 1
    share = {p: c["SpringSummer"] / sum(c.values()) for p, c in counts.items()}
    assert set(share) == {"2021", "2022", "2023", "2024"}
    assert share["2024"] > share["2021"] + 0.2


def test_four_seasons(tmp_path: pathlib.Path) -> None:
    classes = ("Fall", "Winter", "Spring", "Summer")
    rows = read_manifest(make_lookbook(tmp_path, 5, seed=2, classes=classes))
    assert Counter(r["label"] for r in rows) == {c: 5 for c in classes}
    # Each class has its own palette.
    colours = {c: {r["colour"] for r in rows if r["label"] == c} for c in classes}
    for i, c in enumerate(classes):
        for d in classes[i + 1 :]:
            assert not colours[c] & colours[d]


def test_single_image_per_class(tmp_path: pathlib.Path) -> None:
    rows = read_manifest(make_lookbook(tmp_path, 1, periods=("2024",)))
    assert [r["label"] for r in rows] == list(CLASSES)
    assert len({r["group"] for r in rows}) == 2


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_per_class": 0}, "n_per_class"),
        ({"n_per_class": -3}, "n_per_class"),
        ({"classes": ("A", "B", "C", "D", "E")}, "at most 4 classes"),
        ({"classes": ("Only",)}, "at least 2 classes"),
        ({"classes": ("A", "A")}, "unique"),
        ({"classes": ("A", "b/c")}, "folder name"),
        ({"periods": ()}, "periods"),
        ({"image_size": (8, 8)}, "image_size"),
        ({"fmt": "gif"}, "fmt"),
    ],
)
def test_invalid_arguments(tmp_path: pathlib.Path, kwargs: dict, match: str) -> None:
    kwargs = {"n_per_class": 2, **kwargs}
    with pytest.raises(ValueError, match=match) as info:
        make_lookbook(tmp_path, **kwargs)
    assert isinstance(info.value, ConfigError)
    assert not any(tmp_path.iterdir())  # nothing written on bad input


def _brightness_features(path: pathlib.Path) -> np.ndarray:
    px = np.asarray(Image.open(path).convert("RGB"), dtype=np.float32) / 255.0
    luma = px @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    return np.concatenate(
        [px.mean(axis=(0, 1)), px.std(axis=(0, 1)), np.percentile(luma, [5, 25, 50])]
    )


def test_seasons_separable_from_brightness(lookbook: tuple[pathlib.Path, list[dict]]) -> None:
    pytest.importorskip("sklearn")
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    manifest, rows = lookbook
    x = np.stack([_brightness_features(manifest.parent / r["path"]) for r in rows])
    y = np.array([r["label"] == "SpringSummer" for r in rows], dtype=int)
    x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=0.3, stratify=y, random_state=0)
    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    clf.fit(x_tr, y_tr)
    assert clf.score(x_te, y_te) > 0.85
