"""The report's dataset section, drawn only from what the run folder holds."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from stylecast.data import render_data_section
from stylecast.data.report import DATA_FIGURES
from stylecast.errors import RunError
from stylecast.run import RunFolder


def test_render_data_section_is_self_contained(dirty_run: Path) -> None:
    frag = render_data_section(dirty_run)
    assert frag.startswith('<div class="stylecast-data">') and frag.endswith("</div>")
    for heading in (
        "Data summary",
        "Class distribution",
        "Random samples per class",
        "Near-duplicate clusters",
        "Skipped files",
    ):
        assert f"<h3>{heading}</h3>" in frag
    # chart + one sample grid per class + the duplicate cluster (dup.jpg still exists)
    assert frag.count("data:image/png;base64,") == 4
    assert 'src="http' not in frag and "<script" not in frag
    assert "SpringSummer/broken.jpg" in frag and "truncated" in frag
    assert "duplicates left out (--drop-duplicates): 1" in frag
    assert "<td>FallWinter</td><td>" in frag  # the per-split table
    for name in (
        "data_classes.png",
        "data_samples_0.png",
        "data_samples_1.png",
        "data_duplicates.png",
    ):
        assert (dirty_run / name).stat().st_size > 1000


def test_images_are_found_where_the_run_says(dirty_run: Path, dirty_lookbook: Path) -> None:
    # run.json names the manifest file; the images sit beside it.
    assert RunFolder(dirty_run).image_root() == dirty_lookbook
    frag = render_data_section(dirty_run)
    assert f"from <code>{dirty_lookbook}</code>" in frag
    assert DATA_FIGURES == ("data_classes.png", "data_duplicates.png")


def test_a_run_without_run_json_renders_without_images(dirty_run: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    for name in (RunFolder.SPLITS, RunFolder.DATA_CHECK, RunFolder.SKIPPED):
        shutil.copy(dirty_run / name, run / name)
    frag = render_data_section(run)
    assert frag.count("data:image/png;base64,") == 1  # the class chart only
    assert "The images are not at None any more; no samples." in frag
    assert "<li>48 images in 2 classes</li>" in frag  # no source to name
    assert (run / "data_classes.png").is_file() and not (run / "data_duplicates.png").exists()


def test_a_folder_without_splits_is_not_a_run(tmp_path: Path) -> None:
    with pytest.raises(RunError, match=r"has no splits\.csv; train a run first"):
        render_data_section(tmp_path)
