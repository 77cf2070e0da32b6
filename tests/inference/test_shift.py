"""The shift check: alike images pass quietly, unlike ones warn with numbers, tiny sets are
skipped with a reason; evaluating other data keeps it in its own folder."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from stylecast.data import prepare_images
from stylecast.inference import PredictOptions, check_shift, predict_batch
from stylecast.run import RunFolder
from tests.conftest import run_cli


def _pixels(folder: Path) -> np.ndarray:
    files = sorted(str(p) for p in folder.rglob("*.jpg"))
    table = pd.DataFrame({"path": files, "relpath": files})
    return prepare_images(table, 48, progress=False).pixels


def test_images_like_the_training_images_get_no_warning(head_run: Path, same_looks: Path) -> None:
    pixels = _pixels(same_looks)
    report = check_shift(head_run, pixels, confidence=np.full(len(pixels), 0.6))
    assert not report.shifted and report.warning() is None and report.skipped is None
    assert report.features == "frozen ImageNet efficientnet_lite0 backbone"
    assert report.domain is not None and report.domain.n_per_side == 80
    assert report.domain.auc < 0.7
    assert report.summary().startswith("shift check: no distribution shift (a classifier")
    assert report.confidence is not None and report.confidence.mean_new == 0.6
    assert report.accuracy is None  # no labels given
    assert RunFolder(head_run).shift_reference_file.is_file()


def test_unlike_images_get_a_warning_with_numbers(head_run: Path, inverted_looks: Path) -> None:
    pixels = _pixels(inverted_looks)
    report = check_shift(head_run, pixels, confidence=np.full(len(pixels), 0.6))
    assert report.shifted and report.domain is not None
    assert report.domain.auc > 0.9 and report.domain.p_value < 1e-6
    line = report.warning()
    assert line is not None and line.startswith("warning: distribution shift: ")
    assert f"AUC {report.domain.auc:.2f}" in line and "\n" not in line
    assert report.to_json()["warning"] == line


def test_a_significant_accuracy_drop_warns_even_when_images_look_alike(
    head_run: Path, same_looks: Path
) -> None:
    pixels = _pixels(same_looks)
    wrong = np.zeros(len(pixels), bool)
    wrong[:20] = True  # 25% right, against the run's test accuracy
    report = check_shift(head_run, pixels, confidence=np.full(len(pixels), 0.6), correct=wrong)
    assert report.shifted and report.accuracy is not None
    assert report.accuracy.accuracy == 0.25 and report.accuracy.p_value < 0.01
    assert "accuracy 0.250 vs" in (report.warning() or "")


def test_tiny_sets_are_skipped_with_a_reason(head_run: Path, same_looks: Path) -> None:
    pixels = _pixels(same_looks)[:12]
    report = check_shift(head_run, pixels, confidence=np.full(12, 0.6))
    assert not report.shifted and report.domain is None
    assert report.skipped == "only 12 image(s); the check needs 50"
    assert report.summary() == "shift check skipped: only 12 image(s); the check needs 50"


def test_the_reference_is_kept_in_the_run_and_verified(
    head_run: Path, same_looks: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = tmp_path / "run"
    shutil.copytree(head_run, run)
    pixels = _pixels(same_looks)
    conf = np.full(len(pixels), 0.6)
    first = check_shift(run, pixels, confidence=conf)
    stored = RunFolder(run).shift_reference_file
    assert stored.is_file()
    # Kept: the training images are not read again, and the answer is the same.
    monkeypatch.setattr("stylecast.data.prepare_images", lambda *a, **k: pytest.fail("recomputed"))
    assert check_shift(run, pixels, confidence=conf) == first
    monkeypatch.undo()
    # A damaged file is not trusted: it is computed again (and rewritten).
    data = bytearray(stored.read_bytes())
    data[-200:-100] = bytes(100)
    stored.write_bytes(bytes(data))
    assert check_shift(run, pixels, confidence=conf) == first
    assert stored.read_bytes() != bytes(data)


def test_predict_on_a_labelled_manifest_checks_accuracy(head_run: Path, same_looks: Path) -> None:
    result = predict_batch(head_run, [same_looks], PredictOptions(progress=False))
    assert result.shift is not None and result.shift.accuracy is not None
    assert result.shift.accuracy.n == 80 and not result.shift.shifted


def test_cli_warns_on_unlike_images_only(
    head_run: Path, same_looks: Path, inverted_looks: Path, tmp_path: Path
) -> None:
    res = run_cli("predict", str(head_run), str(inverted_looks), "--out", str(tmp_path / "i.csv"))
    assert res.returncode == 0, res.stderr
    warnings = [ln for ln in res.stderr.splitlines() if "warning: distribution shift:" in ln]
    assert len(warnings) == 1 and "AUC" in warnings[0]
    side = json.loads((tmp_path / "i.shift.json").read_text())
    assert side["shifted"] is True and side["domain"]["auc"] > 0.9
    res = run_cli("predict", str(head_run), str(same_looks), "--out", str(tmp_path / "s.csv"))
    assert res.returncode == 0, res.stderr
    assert "warning: distribution shift" not in res.stderr
    assert "shift check: no distribution shift" in res.stderr
    res = run_cli("predict", str(head_run), str(inverted_looks), "--no-shift-check", "--quiet")
    assert res.returncode == 0 and "shift" not in res.stderr


def test_evaluating_other_data_writes_its_own_folder_with_the_shift_check(
    head_run: Path, inverted_looks: Path, tmp_path: Path
) -> None:
    run = tmp_path / "run"
    shutil.copytree(head_run, run)
    own = (run / "evaluation.json").read_bytes(), (run / "predictions.csv").read_bytes()
    res = run_cli("evaluate", str(run), str(inverted_looks), "--quiet", "--gallery-size", "0")
    assert res.returncode == 0, res.stderr
    assert "warning: distribution shift:" in res.stderr
    out = run / "evaluations" / inverted_looks.name
    shift = json.loads((out / "shift.json").read_text())
    assert shift["shifted"] is True and shift["accuracy"]["n"] == 80
    assert json.loads((out / "evaluation.json").read_text())["shift"] == shift
    assert ((run / "evaluation.json").read_bytes(), (run / "predictions.csv").read_bytes()) == own
