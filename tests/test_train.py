"""Training engine: the three modes, frozen BatchNorm, checkpoints and resume, the facade."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from stylecast import SeasonClassifier, TrainConfig, evaluate, train
from stylecast.errors import NotFittedError, RunError
from stylecast.models import create_model

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


def test_frozen_layers_keep_their_batchnorm_statistics() -> None:
    """Block-wise unfreezing: frozen groups stay in eval mode, so BN statistics never move."""
    from stylecast.training.engine import _block_groups, _set_trainable
    from stylecast.training.tensors import predict_logits

    model = create_model("efficientnet_lite0", 2)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    _set_trainable(model, _block_groups(model), n_trainable=1)  # epoch 1: head group only
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-2)
    gen = torch.Generator().manual_seed(0)
    for _ in range(3):
        x = torch.randn(4, 3, 48, 48, generator=gen)
        loss = torch.nn.functional.cross_entropy(model(x), torch.tensor([0, 1, 0, 1]))
        opt.zero_grad()
        loss.backward()
        opt.step()
        # Validation in between must not flip frozen layers back into training mode.
        predict_logits(model, np.zeros((2, 48, 48, 3), np.uint8), [0.5] * 3, [0.5] * 3)
    after = model.state_dict()
    assert not model.bn1.training and model.bn2.training
    assert torch.equal(after["bn1.running_mean"], before["bn1.running_mean"])
    assert torch.equal(after["blocks.6.0.bn3.running_var"], before["blocks.6.0.bn3.running_var"])
    assert torch.equal(after["conv_stem.weight"], before["conv_stem.weight"])
    assert not torch.equal(after["bn2.running_mean"], before["bn2.running_mean"])
    assert not torch.equal(after["conv_head.weight"], before["conv_head.weight"])


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
    res = subprocess.run(
        _cli("train", str(lookbook), "--out", str(full), *RESUME_FLAGS),
        capture_output=True,
        text=True,
        timeout=600,
    )
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

    res = subprocess.run(
        _cli("train", "--resume", str(killed), "--quiet", "--no-evaluate"),
        capture_output=True,
        text=True,
        timeout=600,
    )
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
    res = subprocess.run(
        _cli("train", "--resume", str(run), "--epochs", "5", "--lr", "0.01"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 1
    assert "epochs (run: 2, now: 5)" in res.stderr and "lr (run: 0.001, now: 0.01)" in res.stderr


def test_new_run_refuses_to_overwrite(lookbook: Path, tmp_path: Path) -> None:
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "config.yaml").write_text("epochs: 1\n")
    with pytest.raises(RunError, match="already holds a run"):
        train(lookbook, TrainConfig(**FAST), tmp_path / "run", progress=False)


def test_facade_fit_predict_and_errors(lookbook: Path, tmp_path: Path) -> None:
    clf = SeasonClassifier(mode="head", img_size=48, head_epochs=15, out=tmp_path / "run")
    with pytest.raises(NotFittedError, match="call fit"):
        clf.predict(["x.jpg"])
    assert not hasattr(clf, "classes_")
    clf.fit(lookbook)
    assert clf.classes_ == ["FallWinter", "SpringSummer"]
    table = pd.read_csv(lookbook / "manifest.csv")
    paths = [lookbook / p for p in table["path"]]
    proba = clf.predict_proba(paths)
    assert proba.shape == (len(paths), 2) and np.allclose(proba.sum(1), 1, atol=1e-5)
    accuracy = np.mean(np.array(clf.predict(paths)) == table["label"].to_numpy())
    assert accuracy >= 0.85
    again = SeasonClassifier.load(tmp_path / "run")
    assert np.allclose(again.predict_proba(paths[:4]), proba[:4], atol=1e-5)
    with pytest.raises(Exception, match="unknown key 'epoch'"):
        SeasonClassifier(epoch=3)


def test_predict_cli_skips_unreadable_files(lookbook: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    train(lookbook, TrainConfig(**{**FAST, "mode": "head"}), run, progress=False)
    folder = tmp_path / "new"
    folder.mkdir()
    first = sorted((lookbook / "FallWinter").iterdir())[0]
    (folder / "look.jpg").write_bytes(first.read_bytes())
    (folder / "broken.jpg").write_bytes(b"not an image")
    out = tmp_path / "pred.csv"
    res = subprocess.run(
        _cli("predict", str(run), str(folder), "--out", str(out)),
        capture_output=True,
        text=True,
        timeout=120,
    )
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
    res = subprocess.run(
        _cli(
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
        ),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 0, res.stderr
    second = pd.read_csv(tmp_path / "second" / "splits.csv")
    merged = second.merge(splits, on="path", suffixes=("_run", "_given"))
    assert len(merged) == len(splits)
    assert (merged["split_run"] == merged["split_given"]).all()
    bad = tmp_path / "bad.csv"
    bad.write_text("file,fold\na.jpg,1\n")
    res = subprocess.run(
        _cli("train", str(lookbook), "--out", str(tmp_path / "third"), "--splits", str(bad)),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 1 and "needs columns path and split" in res.stderr
    assert not (tmp_path / "third").exists()
