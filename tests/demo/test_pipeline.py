from __future__ import annotations

import json
from pathlib import Path

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
