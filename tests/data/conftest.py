"""Data sets the data-stage tests share: messy files, planted near-duplicates, a dirty run.

Session-scoped, so each is generated (and the dirty run trained) once for all modules.
"""

from __future__ import annotations

import io
import os
import shutil
from pathlib import Path

import pandas as pd
import pytest
from PIL import Image

from stylecast.data import ImageCache
from tests._data_fixtures import write_bad_files, write_good_files
from tests.conftest import run_cli

# Planted copies: (source image, copy name, how it was made).
PLANTED = [
    ("FallWinter/FallWinter_0003.jpg", "FallWinter/copy_resized.png", "resized"),
    ("FallWinter/FallWinter_0010.jpg", "FallWinter/copy_reencoded.jpg", "reencoded"),
    ("SpringSummer/SpringSummer_0005.jpg", "SpringSummer/copy_cropped.jpg", "cropped"),
    ("SpringSummer/SpringSummer_0012.jpg", "SpringSummer/copy_exact.jpg", "exact"),
    # A copy filed under the other season: a duplicate with a conflicting label.
    ("SpringSummer/SpringSummer_0020.jpg", "FallWinter/copy_mislabelled.jpg", "exact"),
]


@pytest.fixture(scope="session")
def messy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An ImageFolder with nested folders, upper-case extensions, every mode and bad files."""
    root = tmp_path_factory.mktemp("messy")
    write_good_files(root)
    write_bad_files(root)
    (root / "a" / "notes.txt").write_text("not an image by its name: ignored")
    return root


def _copy(src: Path, dst: Path, how: str) -> None:
    im = Image.open(src).convert("RGB")
    w, h = im.size
    if how == "resized":
        im.resize((w * 3 // 2, h * 3 // 2), Image.BICUBIC).save(dst)
    elif how == "reencoded":
        buf = io.BytesIO()
        im.save(buf, "JPEG", quality=40)
        dst.write_bytes(buf.getvalue())
    elif how == "cropped":
        im.crop((1, 1, w - 1, h - 1)).save(dst, quality=92)  # about 1.4% off each side
    else:
        shutil.copyfile(src, dst)


@pytest.fixture(scope="session")
def planted(lookbook: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The lookbook plus near-duplicate copies, each in a product group of its own."""
    root = tmp_path_factory.mktemp("planted")
    for label in ("FallWinter", "SpringSummer"):
        shutil.copytree(lookbook / label, root / label)
    m = pd.read_csv(lookbook / "manifest.csv", dtype=str)
    rows = []
    for k, (src, dst, how) in enumerate(PLANTED):
        _copy(root / src, root / dst, how)
        row = m[m["path"] == src].iloc[0].copy()
        row["path"], row["label"], row["group"] = dst, dst.split("/")[0], f"copy{k}"
        rows.append(row)
    pd.concat([m, pd.DataFrame(rows)], ignore_index=True).to_csv(root / "manifest.csv", index=False)
    return root


@pytest.fixture(scope="session")
def cache(tmp_path_factory: pytest.TempPathFactory) -> ImageCache:
    """One image cache for the planted-duplicate tests (as one run would share it)."""
    return ImageCache(tmp_path_factory.mktemp("cache-split"))


@pytest.fixture(scope="session")
def dirty_lookbook(lookbook: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The lookbook with an exact copy (own group), a broken file and an extra column."""
    root = tmp_path_factory.mktemp("dirty")
    for label in ("FallWinter", "SpringSummer"):
        shutil.copytree(lookbook / label, root / label)
    shutil.copyfile(root / "FallWinter/FallWinter_0001.jpg", root / "FallWinter/dup.jpg")
    (root / "SpringSummer/broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 cut short")
    m = pd.read_csv(lookbook / "manifest.csv", dtype=str)
    extra = pd.DataFrame(
        [
            {"path": "FallWinter/dup.jpg", "label": "FallWinter", "group": "dup"},
            {"path": "SpringSummer/broken.jpg", "label": "SpringSummer", "group": "broken"},
        ]
    )
    m = pd.concat([m, extra], ignore_index=True).fillna("x")
    m["shoot"] = [f"shoot-{i % 5}" for i in range(len(m))]
    m.to_csv(root / "manifest.csv", index=False)
    return root


@pytest.fixture(scope="session")
def dirty_run(dirty_lookbook: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A head-only run trained by the CLI on ``dirty_lookbook`` (its manifest file)."""
    run = tmp_path_factory.mktemp("dirty-run") / "run"
    res = run_cli(
        "train",
        str(dirty_lookbook / "manifest.csv"),  # a manifest file: images sit beside it
        "--out",
        str(run),
        "--mode",
        "head",
        "--head-epochs",
        "2",
        "--img-size",
        "32",
        "--no-pretrained",
        "--group-column",
        "group",
        "--drop-duplicates",
        "--no-evaluate",
        "--quiet",
    )
    assert res.returncode == 0, res.stderr
    assert "skipped 1 unreadable file(s)" in res.stdout
    return run


def write_unreadable_name(folder: Path, data: bytes, name: bytes = b"caf\xe9.jpg") -> str:
    """A file whose name is not valid UTF-8 (Linux allows any bytes); its str path."""
    raw = os.path.join(os.fsencode(folder), name)
    with open(raw, "wb") as f:
        f.write(data)
    return os.fsdecode(raw)


@pytest.fixture(scope="session")
def leaky(lookbook_folder: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An ImageFolder with inputs that used to vanish or stop everything (issue #11)."""
    root = tmp_path_factory.mktemp("leaky")
    for label in ("FallWinter", "SpringSummer"):
        shutil.copytree(lookbook_folder / label, root / label)
    good = (root / "FallWinter" / "FallWinter_0000.jpg").read_bytes()
    write_unreadable_name(root / "FallWinter", good)
    (root / "SpringSummer" / "gone.jpg").symlink_to(root / "nowhere.jpg")
    (root / "SpringSummer" / "gone.txt").symlink_to(root / "nowhere.txt")
    (root / "stray.jpg").write_bytes(good)
    return root
