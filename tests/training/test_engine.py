"""train(): the three modes, the run folder it writes, resume after a kill, refusals."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from stylecast import TrainConfig, evaluate, train
from stylecast.errors import RunError
from stylecast.run import RunFolder
from tests.conftest import run_cli

FAST = dict(img_size=48, head_epochs=10, epochs=2, batch_size=16, group_column="group", patience=0)


@pytest.mark.parametrize("mode", ["head", "finetune", "warmup"])
def test_each_mode_learns_separable_images(mode: str, lookbook: Path, tmp_path: Path) -> None:
    cfg = TrainConfig(**{**FAST, "mode": mode, "epochs": 10 if mode == "head" else 3})
    result = train(lookbook, cfg, tmp_path / "run", progress=False)
    assert result.mode == mode
    phases = {row["phase"] for row in result.history}
    assert (
        phases == {"head": {"head"}, "finetune": {"finetune"}, "warmup": {"head", "finetune"}}[mode]
    )
    ev = evaluate(tmp_path / "run", progress=False)
    assert ev.metrics["accuracy"] >= 0.8, ev.metrics["confusion_matrix"]
    metrics = pd.read_csv(tmp_path / "run" / "metrics.csv")
    assert len(metrics) == len(result.history)


def test_a_run_folder_holds_typed_run_files(lookbook: Path, tmp_path: Path) -> None:
    """run.json and model.json read back as RunInfo / ModelInfo with the run's values."""
    cfg = TrainConfig(**{**FAST, "mode": "head", "head_epochs": 3})
    result = train(lookbook, cfg, tmp_path / "run", progress=False)
    run = RunFolder(result.run_dir)
    assert run.path == tmp_path / "run"
    info = run.info()
    assert info.data == lookbook.resolve()
    assert info.data_kind == "manifest"
    assert info.image_root == lookbook.resolve()
    model = run.model_info()
    assert model.classes == ("FallWinter", "SpringSummer")
    assert model.preprocessing.img_size == 48 and model.preprocessing.fill == 255
    assert model.temperature == 1.0
    assert model.extra["mode"] == "head"
    assert model.extra["best"]["epoch"] == result.best_epoch
    assert model.extra["trained_on"] == str(lookbook.resolve())
    for path in (run.config_file, run.splits_file, run.metrics_file, run.summary_file):
        assert path.is_file(), path
    assert not run.checkpoint_dir.exists()
    splits = run.splits()
    assert list(splits.columns[:3]) == ["path", "label", "split"]
    assert set(splits["split"]) == {"train", "val", "test"}


def test_small_dataset_larger_than_batch_still_trains(lookbook: Path, tmp_path: Path) -> None:
    cfg = TrainConfig(**{**FAST, "mode": "finetune", "epochs": 1, "batch_size": 512})
    result = train(lookbook, cfg, tmp_path / "run", progress=False)
    assert result.history[0]["epoch"] == 1 and np.isfinite(result.history[0]["train_loss"])


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "stylecast", *args]


RESUME_FLAGS = [
    "--mode",
    "finetune",
    "--epochs",
    "6",
    "--img-size",
    "48",
    "--batch-size",
    "8",
    "--patience",
    "0",
    "--group-column",
    "group",
    "--no-evaluate",
    "--quiet",
]


def test_killed_run_resumes_and_matches_an_uninterrupted_one(
    lookbook: Path, tmp_path: Path
) -> None:
    full = tmp_path / "full"
    res = run_cli("train", str(lookbook), "--out", str(full), *RESUME_FLAGS)
    assert res.returncode == 0, res.stderr

    killed = tmp_path / "killed"
    proc = subprocess.Popen(
        _cli("train", str(lookbook), "--out", str(killed), *RESUME_FLAGS),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 300
    metrics = killed / "metrics.csv"
    while time.time() < deadline:
        if metrics.is_file() and len(metrics.read_text().splitlines()) >= 3:  # 2 epochs done
            break
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert (killed / "checkpoint" / "last.pt").is_file()
    assert not (killed / "model.safetensors").exists()
    # A crash in the middle of writing a checkpoint leaves only a temp file beside it.
    (killed / "checkpoint" / ".last.pt.half.tmp").write_bytes(b"partial")

    res = run_cli("train", "--resume", str(killed), "--quiet", "--no-evaluate")
    assert res.returncode == 0, res.stderr
    a = pd.read_csv(full / "metrics.csv")
    b = pd.read_csv(killed / "metrics.csv")
    assert list(b["epoch"]) == list(a["epoch"]) == [1, 2, 3, 4, 5, 6]
    assert np.allclose(a["train_loss"], b["train_loss"], atol=0.05)
    assert abs(a["val_accuracy"].iloc[-1] - b["val_accuracy"].iloc[-1]) <= 0.1
    assert (killed / "model.safetensors").is_file() and not (killed / "checkpoint").exists()


def test_resume_with_a_different_config_names_the_keys(lookbook: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    (run / "checkpoint").mkdir(parents=True)
    (run / "config.yaml").write_text("epochs: 2\nlr: 0.001\n")
    (run / "run.json").write_text(json.dumps({"data": str(lookbook)}))
    with pytest.raises(RunError, match=r"different config: epochs \(run: 2, now: 5\)"):
        train(None, TrainConfig(epochs=5, lr=0.001), run, resume=True)
    res = run_cli("train", "--resume", str(run), "--epochs", "5", "--lr", "0.01", timeout=120)
    assert res.returncode == 1
    assert "epochs (run: 2, now: 5)" in res.stderr and "lr (run: 0.001, now: 0.01)" in res.stderr


def test_resume_refuses_other_data_a_finished_run_and_a_plain_folder(
    lookbook: Path, tmp_path: Path
) -> None:
    run = tmp_path / "run"
    (run / "checkpoint").mkdir(parents=True)
    (run / "config.yaml").write_text("epochs: 2\n")
    (run / "run.json").write_text(json.dumps({"data": str(lookbook.resolve())}))
    with pytest.raises(
        RunError, match="on other data: it was trained on " + re.escape(str(lookbook.resolve()))
    ):
        train(tmp_path, None, run, resume=True)
    (run / "model.json").write_text("{}")
    (run / "model.safetensors").write_bytes(b"")
    with pytest.raises(RunError, match="already complete; nothing to resume"):
        train(None, None, run, resume=True)
    with pytest.raises(RunError, match=r"not a stylecast run folder \(no config.yaml/run.json\)"):
        train(None, None, tmp_path / "elsewhere", resume=True)
    with pytest.raises(RunError, match="needs the run folder"):
        train(None, None, None, resume=True)


def test_new_run_refuses_to_overwrite(lookbook: Path, tmp_path: Path) -> None:
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "config.yaml").write_text("epochs: 1\n")
    with pytest.raises(RunError, match="already holds a run"):
        train(lookbook, TrainConfig(**FAST), tmp_path / "run", progress=False)


def test_predict_cli_skips_unreadable_files(lookbook: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    train(lookbook, TrainConfig(**{**FAST, "mode": "head"}), run, progress=False)
    folder = tmp_path / "new"
    folder.mkdir()
    first = sorted((lookbook / "FallWinter").iterdir())[0]
    (folder / "look.jpg").write_bytes(first.read_bytes())
    (folder / "broken.jpg").write_bytes(b"not an image")
    out = tmp_path / "pred.csv"
    res = run_cli("predict", str(run), str(folder), "--out", str(out), timeout=120)
    assert res.returncode == 0, res.stderr
    assert "skipped" in res.stderr and "broken.jpg" in res.stderr
    pred = pd.read_csv(out)
    assert list(pred["path"]) == [str(folder / "look.jpg")]
    assert {"predicted", "confidence", "p_FallWinter", "p_SpringSummer"} <= set(pred.columns)


def test_train_with_a_given_splits_file(lookbook: Path, tmp_path: Path) -> None:
    first = tmp_path / "first"
    train(lookbook, TrainConfig(**{**FAST, "mode": "head"}), first, progress=False)
    splits = pd.read_csv(first / "splits.csv")
    splits.loc[splits["split"] == "val", "split"] = "train"  # e.g. retrain on train+val
    given = tmp_path / "given.csv"
    splits.to_csv(given, index=False)
    res = run_cli(
        "train",
        str(lookbook),
        "--out",
        str(tmp_path / "second"),
        "--splits",
        str(given),
        "--mode",
        "head",
        "--img-size",
        "48",
        "--no-evaluate",
        "--quiet",
        timeout=300,
    )
    assert res.returncode == 0, res.stderr
    second = pd.read_csv(tmp_path / "second" / "splits.csv")
    merged = second.merge(splits, on="path", suffixes=("_run", "_given"))
    assert len(merged) == len(splits)
    assert (merged["split_run"] == merged["split_given"]).all()
    bad = tmp_path / "bad.csv"
    bad.write_text("file,fold\na.jpg,1\n")
    res = run_cli(
        "train", str(lookbook), "--out", str(tmp_path / "third"), "--splits", str(bad), timeout=300
    )
    assert res.returncode == 1 and "needs columns path and split" in res.stderr
    assert not (tmp_path / "third").exists()
