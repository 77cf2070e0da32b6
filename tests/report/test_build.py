"""stylecast.report.build: every section renders from a real run; optional sections come and go
with files; the Data section is stylecast.data's fragment (or the error it raised)."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pandas as pd
import pytest

import stylecast.data
from stylecast.errors import DataError, RunError
from stylecast.plots import plot_optimization_history, save_figure
from stylecast.report import build_report
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


def _html(run: Path, **kw) -> tuple[list[str], str]:
    result = build_report(run, **kw)
    return result.sections, result.path.read_text(encoding="utf-8")


def test_every_section_renders(run: Path) -> None:
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
    # Data (stylecast.data's section): class distribution, samples and the split table.
    assert 'alt="class distribution"' in html
    assert 'alt="samples of FallWinter"' in html and 'alt="samples of SpringSummer"' in html
    assert "<th>train</th><th>val</th><th>test</th><th>total</th>" in html
    # Calibration before/after and the reproduce commands.
    assert "before (temperature 1)</th><th>after (temperature " in html
    assert 'alt="reliability diagram before and after' in html
    # Which temperature was kept and why: the same sentence stylecast evaluate prints.
    assert f"This evaluation: {ev['calibration']['reason']}." in html
    source = json.loads((run / "run.json").read_text())["data"]
    assert f"stylecast train {source} --config {run / 'config.yaml'} --out NEW_RUN" in html
    assert f"stylecast evaluate {run}" in html and f"stylecast report {run}" in html
    assert "stylecast explain" in html
    assert "Tuning" not in html  # no RUN/tuning: no section, no link


def test_tuning_section_from_trials_csv(run: Path, tmp_path: Path) -> None:
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


def test_data_section_is_the_data_fragment_or_its_error(
    run: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        stylecast.data,
        "render_data_section",
        lambda run_dir: '<div id="dr">duplicates: <b>3</b></div>',
    )
    _, html = _html(run)
    data = html[html.index('<section id="data">') : html.index('<section id="model">')]
    assert '<div id="dr">duplicates: <b>3</b></div>' in data  # not escaped
    # The fragment is the whole data summary: the report draws no figure or table of its own.
    assert 'alt="class distribution"' not in data and "<th>train</th>" not in data
    assert "Manifest columns kept with every image: group, brand, period" in data

    def broken(run_dir: Path) -> str:
        raise DataError("manifest.csv vanished; re-run stylecast data check")

    monkeypatch.setattr(stylecast.data, "render_data_section", broken)
    _, html = _html(run)
    data = html[html.index('<section id="data">') : html.index('<section id="model">')]
    assert "manifest.csv vanished; re-run stylecast data check" in data
    assert (
        '<p class="note error">The data summary could not be drawn: manifest.csv vanished' in data
    )
    assert "Manifest columns kept with every image: group, brand, period" in data
    assert '<section id="reproduce">' in html  # the rest still renders


def test_skipped_files_and_data_checks_are_shown(run: Path, tmp_path: Path) -> None:
    import shutil

    other = tmp_path / "r"
    shutil.copytree(run, other)
    (other / "skipped.json").write_text(
        json.dumps([{"path": "FallWinter/broken.jpg", "reason": "truncated file"}])
    )
    check = {
        "n_images": 48,
        "imbalance": 1.5,
        "duplicates": {
            "clusters": 1,
            "images_in_clusters": 2,
            "exact_copies": 1,
            "conflicting_labels": 0,
            "threshold": -1,
        },
    }
    (other / "data_check.json").write_text(json.dumps(check))
    _, html = _html(other)
    assert "FallWinter/broken.jpg" in html and "truncated file" in html
    assert "1 file(s) could not be used (unreadable: 1)" in html
    # The recorded data checks: imbalance and the near-duplicate clusters.
    assert "imbalance (largest / smallest class): 1.50x" in html
    assert "1 cluster(s) of 2 images (exact file copies); 1 exact copies" in html


def test_report_before_evaluation(run: Path, tmp_path: Path) -> None:
    import shutil

    fresh = tmp_path / "fresh"
    shutil.copytree(run, fresh)
    for name in ("evaluation.json", "predictions.csv", "galleries.json"):
        (fresh / name).unlink()
    sections, html = _html(fresh)
    assert sections == ["overview", "data", "model", "training", "reproduce"]
    assert f"stylecast evaluate {fresh}" in html and "not been evaluated yet" in html


def test_stale_galleries_are_redrawn(run: Path) -> None:
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
