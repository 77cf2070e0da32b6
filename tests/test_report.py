"""report: every section renders from a real run; optional sections come and go with files."""

from __future__ import annotations

import json
import os
import re
import sys
import types
from pathlib import Path

import pandas as pd
import pytest

from stylecast.errors import DataError, RunError
from stylecast.report.build import build_report
from tests._runs import evaluated_run
from tests.conftest import run_cli

ALL = [
    "overview",
    "data",
    "model",
    "training",
    "evaluation",
    "calibration",
    "galleries",
    "reproduce",
]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory, lookbook: Path) -> Path:
    return evaluated_run(tmp_path_factory, lookbook)


@pytest.fixture
def no_data_report(monkeypatch: pytest.MonkeyPatch) -> None:
    """Behave as if stylecast.data.report did not exist (None in sys.modules -> ImportError)."""
    monkeypatch.setitem(sys.modules, "stylecast.data.report", None)


def _html(run: Path, **kw) -> tuple[list[str], str]:
    result = build_report(run, **kw)
    return result.sections, result.path.read_text(encoding="utf-8")


def test_every_section_renders(run: Path, no_data_report: None) -> None:
    sections, html = _html(run)
    assert sections == ALL
    for s in sections:
        assert f'<section id="{s}">' in html and f'href="#{s}"' in html
    ev = json.loads((run / "evaluation.json").read_text())
    assert f"{100 * ev['accuracy']:.1f}%" in html  # the headline number
    assert "95% CI" in html and "Wilson" in html
    for name in ev["class_names"]:
        assert name in html
    # Self-contained: every image is embedded, nothing is fetched.
    srcs = re.findall(r'<img[^>]*\ssrc="([^"]*)"', html)
    assert len(srcs) >= 8
    assert all(s.startswith(("data:image/png;base64,", "data:image/jpeg;base64,")) for s in srcs)
    assert not re.search(r'(src|href)="(https?:)?//', html)
    assert "<link" not in html
    # Galleries: one figure per gallery file, photo grids as JPEG.
    index = json.loads((run / "galleries.json").read_text())
    assert html.count('alt="correct ') == sum(g["kind"] == "correct" for g in index["galleries"])
    assert "data:image/jpeg;base64," in html
    # Data fallback: class distribution, samples and the split table.
    assert 'alt="class distribution"' in html and 'alt="sample images"' in html
    assert "<th>train</th><th>val</th><th>test</th><th>total</th>" in html
    # Calibration before/after and the reproduce commands.
    assert "before</th><th>after" in html and 'alt="reliability diagram before and after' in html
    source = json.loads((run / "run.json").read_text())["data"]
    assert f"stylecast train {source} --config {run / 'config.yaml'} --out NEW_RUN" in html
    assert f"stylecast evaluate {run}" in html and f"stylecast report {run}" in html
    assert "stylecast explain" in html
    assert "Tuning" not in html  # no RUN/tuning: no section, no link


def test_tuning_section_from_trials_csv(run: Path, tmp_path: Path, no_data_report: None) -> None:
    from stylecast.plots.core import plot_optimization_history, save_figure

    tuned = tmp_path / "tuned"
    import shutil

    shutil.copytree(run, tuned)
    folder = tuned / "tuning"
    folder.mkdir()
    n = 25
    values = [0.5 + 0.01 * ((i * 7) % n) for i in range(n)]
    trials = pd.DataFrame(
        {
            "number": range(n),
            "value": values,
            "datetime_start": "2024-01-01 00:00:00",
            "duration": "0 days 00:01:05.250000",
            "params_head_lr": [1e-3 * (i + 1) for i in range(n)],
            "params_batch_size": [16, 32, 64, 32, 16] * 5,
            "state": ["COMPLETE"] * 23 + ["PRUNED", "FAIL"],
        }
    )
    trials.loc[24, "value"] = float("nan")
    trials.loc[23, "value"] = 0.99  # pruned trials never rank first
    trials.to_csv(folder / "trials.csv", index=False)
    save_figure(plot_optimization_history(values), folder / "optimization_history.png")
    (folder / "study.json").write_text(
        json.dumps(
            {
                "study_name": "looks",
                "metric": "val_accuracy",
                "direction": "maximize",
                "best_trial": 3,
            }
        )
    )
    sections, html = _html(tuned)
    assert sections == ALL[:4] + ["tuning"] + ALL[4:]
    section = html[html.index('<section id="tuning">') : html.index('<section id="evaluation">')]
    assert "study, <code>looks</code>: 25 hyperparameter trials (23 completed)" in section
    assert "maximising val_accuracy" in section and "the best, trial 3, was retrained" in section
    rows = re.findall(r"<tr><td>(\d+)</td><td>([\d.]+)</td>", section)
    assert len(rows) == 20  # the 20 best
    got = [float(v) for _, v in rows]
    assert got == sorted(got, reverse=True) and got[0] == max(values[:23])
    assert "head_lr" in section and "batch_size" in section and "params_" not in section
    assert "1:05" in section  # pandas' timedelta text, readable
    assert 'alt="optimization history"' in section
    assert 'alt="hyperparameter importances"' not in section  # that PNG is absent


def test_data_section_uses_data_report_when_present(
    run: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = types.ModuleType("stylecast.data.report")
    fake.render_data_section = lambda run_dir: '<div id="dr">duplicates: <b>3</b></div>'
    monkeypatch.setitem(sys.modules, "stylecast.data.report", fake)
    _, html = _html(run)
    data = html[html.index('<section id="data">') : html.index('<section id="model">')]
    assert '<div id="dr">duplicates: <b>3</b></div>' in data  # not escaped
    # The fragment replaces the fallback (it has its own distribution, split and samples).
    assert 'alt="class distribution"' not in data and "<th>train</th>" not in data
    assert "Manifest columns kept with every image: group, brand, period" in data

    def broken(run_dir: Path) -> str:
        raise DataError("manifest.csv vanished; re-run stylecast data check")

    fake.render_data_section = broken
    _, html = _html(run)
    data = html[html.index('<section id="data">') : html.index('<section id="model">')]
    assert "manifest.csv vanished; re-run stylecast data check" in data
    assert 'alt="class distribution"' in data  # and the fallback below the error
    assert '<section id="reproduce">' in html  # the rest still renders


def test_skipped_files_and_data_checks_are_shown(
    run: Path, tmp_path: Path, no_data_report: None
) -> None:
    import shutil

    other = tmp_path / "r"
    shutil.copytree(run, other)
    (other / "skipped.json").write_text(
        json.dumps([{"path": "FallWinter/broken.jpg", "reason": "truncated file"}])
    )
    (other / "data_check.json").write_text(
        json.dumps({"n_images": 48, "duplicates": {"clusters": [[1, 2]], "n_removed": 1}})
    )
    _, html = _html(other)
    assert "FallWinter/broken.jpg" in html and "truncated file" in html
    assert "1 file could not be read" in html
    assert "duplicates.n_removed" in html and "n_images" in html


def test_report_before_evaluation(run: Path, tmp_path: Path, no_data_report: None) -> None:
    import shutil

    fresh = tmp_path / "fresh"
    shutil.copytree(run, fresh)
    for name in ("evaluation.json", "predictions.csv", "galleries.json"):
        (fresh / name).unlink()
    sections, html = _html(fresh)
    assert sections == ["overview", "data", "model", "training", "reproduce"]
    assert f"stylecast evaluate {fresh}" in html and "not been evaluated yet" in html


def test_stale_galleries_are_redrawn(run: Path, no_data_report: None) -> None:
    index = run / "galleries.json"
    before = index.stat().st_mtime
    later = before + 1  # newer than the galleries, older than anything drawn now
    os.utime(run / "predictions.csv", (later, later))
    build_report(run)
    assert index.stat().st_mtime > before
    mtime = index.stat().st_mtime
    build_report(run)  # fresh now: left alone
    assert index.stat().st_mtime == mtime


def test_report_cli(run: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    res = run_cli("report", str(run), "--out", str(out))
    assert res.returncode == 0, res.stderr
    assert f"report: {out}" in res.stdout and out.stat().st_size > 10_000
    res = run_cli("report", str(tmp_path / "nope"))
    assert res.returncode == 1
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "does not exist" in lines[0]


def test_not_a_run(tmp_path: Path) -> None:
    with pytest.raises(RunError, match="holds no trained model"):
        build_report(tmp_path)


def test_tuning_table_for_a_minimised_metric(tmp_path: Path) -> None:
    from stylecast.report.build import _tuning

    folder = tmp_path / "tuning"
    folder.mkdir()
    pd.DataFrame(
        {
            "number": [0, 1, 2],
            "value": [0.7, 0.4, 0.5],
            "duration": [12.5, 3.0, 8.25],
            "params_lr": [1e-4, 3e-3, 5e-5],
            "state": ["COMPLETE"] * 3,
        }
    ).to_csv(folder / "trials.csv", index=False)
    (folder / "study.json").write_text(json.dumps({"metric": "val_loss", "direction": "minimize"}))
    t = _tuning(tmp_path)
    assert t["header"] == ["trial", "val_loss", "state", "duration (s)", "lr"]
    assert [r[0] for r in t["rows"]] == ["1", "2", "0"]  # lowest loss first
    assert t["rows"][0][4] == "0.003" and t["rows"][2][4] == "1.00e-04"
    assert _tuning(tmp_path / "nothing") is None
