"""`stylecast distill`: one student on an ensemble's soft labels, an ordinary run, resumable."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from stylecast.config import TrainConfig
from stylecast.distill import DistillConfig, distill
from stylecast.errors import ConfigError, RunError
from stylecast.run import RunFolder
from tests._runs import evaluated_ensemble, evaluated_run
from tests.conftest import run_cli


@pytest.fixture(scope="module")
def teacher(tmp_path_factory: pytest.TempPathFactory, lookbook: Path) -> Path:
    return evaluated_ensemble(tmp_path_factory, lookbook)


@pytest.fixture(scope="module")
def unlabelled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Other lookbook photos, in one folder without labels."""
    from stylecast.demo.lookbook import make_lookbook

    root = tmp_path_factory.mktemp("unlabelled")
    make_lookbook(root / "lb", 6, seed=99, image_size=(72, 96))
    flat = root / "photos"
    flat.mkdir()
    for p in (root / "lb").rglob("*.jpg"):
        shutil.copy2(p, flat / p.name)
    return flat


def test_a_student_learns_from_the_ensemble_and_extra_images(
    teacher: Path, lookbook: Path, unlabelled: Path, tmp_path: Path
) -> None:
    test_images = [
        str(lookbook / p)
        for p, s in pd.read_csv(Path(teacher) / "splits.csv")[["path", "split"]].values
        if s == "test"
    ]
    extra = tmp_path / "extra"
    extra.mkdir()
    for p in [*unlabelled.iterdir(), *map(Path, test_images[:3])]:
        shutil.copy2(p, extra / p.name)
    out = tmp_path / "student"
    res = run_cli(
        "distill",
        str(teacher),
        str(extra),
        "--out",
        str(out),
        "--temperature",
        "3",
        "--alpha",
        "0.5",
    )
    assert res.returncode == 0, res.stderr
    student = RunFolder(out)
    info = student.model_info()
    assert not info.is_ensemble and student.weights_file.is_file()  # an ordinary run
    record = json.loads(student.distill_file.read_text())
    assert record["teacher"] == str(Path(teacher).resolve())
    assert record["temperature"] == 3.0 and record["alpha"] == 0.5
    n_train = int((student.splits()["split"] == "train").sum())
    assert record["n_soft"] == n_train
    # The teacher's test images given as "extra" are never trained on.
    dropped = {Path(d["path"]).name for d in record["dropped"]}
    assert {Path(p).name for p in test_images[:3]} <= dropped
    assert 0 < record["n_extra"] <= len(list(unlabelled.iterdir()))
    assert "left out" in res.stderr and "near-duplicate" in res.stderr
    # The same split as the teacher: graded on the same test images, side by side.
    cols = ["path", "label", "split"]
    pd.testing.assert_frame_equal(student.splits()[cols], RunFolder(teacher).splits()[cols])
    ev = json.loads(student.evaluation_file.read_text())
    assert ev["accuracy"] >= 0.7  # separable seasons: far above chance (0.5)
    assert "the student against its teacher:" in res.stdout and "McNemar" in res.stdout
    assert student.distill_targets_file.is_file()


def test_only_an_ensemble_can_be_distilled(
    tmp_path_factory: pytest.TempPathFactory, lookbook: Path, tmp_path: Path
) -> None:
    single = evaluated_run(tmp_path_factory, lookbook)
    res = run_cli("distill", str(single), "--out", str(tmp_path / "s"))
    assert res.returncode == 1
    (line,) = res.stderr.strip().splitlines()
    assert "is a single model, not an ensemble" in line and "--ensemble 3" in line
    assert not (tmp_path / "s").exists()


def test_bad_settings_are_refused_before_any_work(teacher: Path, tmp_path: Path) -> None:
    for flags, message in (
        (["--mode", "head"], "use --mode warmup"),
        (["--balance", "weights"], "--balance does not apply"),
        (["--alpha", "2"], "alpha must be in [0, 1]"),
        (["--ensemble", "3"], "a student is one model"),
    ):
        res = run_cli("distill", str(teacher), "--out", str(tmp_path / "s"), *flags)
        assert res.returncode == 1, flags
        assert message in res.stderr and len(res.stderr.strip().splitlines()) == 1
    with pytest.raises(ConfigError):
        DistillConfig(temperature=0.0)
    with pytest.raises(RunError, match="not a distilled student"):
        distill(None, teacher, resume=True)


def test_a_killed_student_resumes_with_its_soft_labels(teacher: Path, tmp_path: Path) -> None:
    out = tmp_path / "student"
    flags = ["--epochs", "6", "--patience", "0", "--no-evaluate", "--quiet"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "stylecast", "distill", str(teacher), "--out", str(out), *flags],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 300
    metrics = out / "metrics.csv"
    while time.time() < deadline and proc.poll() is None:
        if metrics.is_file() and "finetune,2," in metrics.read_text():
            break
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert (out / "checkpoint" / "last.pt").is_file()
    res = run_cli("train", "--resume", str(out))
    assert res.returncode == 1 and "stylecast distill --resume" in res.stderr
    res = run_cli("distill", "--resume", str(out), "--no-evaluate", "--quiet")
    assert res.returncode == 0, res.stderr
    rows = pd.read_csv(metrics)
    assert list(rows[rows["phase"] == "finetune"]["epoch"]) == [1, 2, 3, 4, 5, 6]
    assert RunFolder(out).is_trained()
    cfg = (out / "config.yaml").read_text()
    assert "ensemble: 1" in cfg and "epochs: 6" in cfg


def test_the_student_defaults_to_the_teachers_configuration(teacher: Path) -> None:
    from stylecast.config import load_config
    from stylecast.distill import student_config

    saved = load_config(TrainConfig, Path(teacher) / "config.yaml")
    cfg = student_config(RunFolder(teacher), {"lr": 0.002})
    assert cfg.ensemble == 1 and cfg.lr == 0.002
    assert (cfg.img_size, cfg.seed, cfg.epochs) == (saved.img_size, saved.seed, saved.epochs)
