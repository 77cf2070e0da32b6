from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from tests.conftest import run_cli


def test_demo_runs_the_whole_pipeline(tmp_path: Path) -> None:
    res = run_cli("demo", "--out", str(tmp_path / "demo"), "--n-per-class", "30")
    assert res.returncode == 0, res.stderr
    run = tmp_path / "demo" / "run"
    for name in (
        "config.yaml",
        "splits.csv",
        "metrics.csv",
        "model.safetensors",
        "model.json",
        "evaluation.json",
        "confusion_matrix.png",
        "report.html",
    ):
        assert (run / name).is_file(), name
    assert (tmp_path / "demo" / "lookbook" / "manifest.csv").is_file()
    ev = json.loads((run / "evaluation.json").read_text())
    assert ev["accuracy"] >= 0.8
    assert "report:" in res.stdout and str(run / "report.html") in res.stdout
    assert "confusion matrix" in res.stdout
    html = (run / "report.html").read_text()
    assert "data:image/png;base64," in html and 'src="http' not in html
    # The palette section: the lookbook's seasons are drawn in known colours.
    assert 'id="palette"' in html
    # The business view: every look predicted, then the mix per period.
    demo = tmp_path / "demo"
    preds = pd.read_csv(demo / "predictions.csv")
    assert {"period", "colour", "predicted", "palette_family"} <= set(preds.columns)
    assert len(preds) == 60
    assert (demo / "trends" / "trend_report.html").is_file()
    trends = pd.read_csv(demo / "trends" / "trends.csv")
    assert set(trends["period"].astype(str)) >= {"2021", "2022", "2023", "2024"}
    assert "share per period" in res.stdout and "trends:" in res.stdout
