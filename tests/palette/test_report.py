"""stylecast.palette.report: a run's report gets a Palette section once it has palettes."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from stylecast.palette import palette, render_palette_section
from stylecast.report import build_report
from stylecast.run import ModelInfo, Preprocessing, RunFolder, RunInfo


@pytest.fixture
def run(tmp_path: Path, lookbook: Path) -> RunFolder:
    """A run folder as training leaves it, without the weights (the report needs none)."""
    run = RunFolder(tmp_path / "run")
    run.path.mkdir()
    table = pd.read_csv(lookbook / "manifest.csv", dtype=str, keep_default_na=False)
    table["split"] = ["train", "val", "test"] * (len(table) // 3) + ["train"] * (len(table) % 3)
    table.to_csv(run.splits_file, index=False)
    run.write_info(RunInfo(data=lookbook / "manifest.csv", data_kind="manifest"))
    prep = Preprocessing(img_size=48, mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5))
    run.write_model_info(
        ModelInfo(
            "efficientnet_lite0", "tf_efficientnet_lite0", ("FallWinter", "SpringSummer"), prep
        )
    )
    return run


def test_report_shows_the_palettes(run: RunFolder) -> None:
    before = build_report(run.path)
    assert "palette" not in before.sections
    assert render_palette_section(run.path) is None

    result = palette(run.path, ["label", "brand"], workers=1, progress=False)
    report = build_report(run.path)
    assert report.sections[-2:] == ["palette", "reproduce"]
    html = report.path.read_text(encoding="utf-8")
    section = html[html.index('<section id="palette">') : html.index('<section id="reproduce">')]
    assert "<h2>Palette</h2>" in section
    assert "By label" in section and "By brand" in section
    assert section.count("data:image/png;base64,") == 2
    fw = next(p for p in result.groupings[0].groups if p.value == "FallWinter")
    assert fw.key_colours[0].name in section
    assert f"{fw.n_images:,}" in section


def test_a_damaged_summary_is_a_note_not_a_failed_report(run: RunFolder) -> None:
    run.palette_summary_file.write_text("{not json")
    html = render_palette_section(run.path)
    assert html is not None and "unreadable" in html and "stylecast palette" in html
    assert "palette" in build_report(run.path).sections
