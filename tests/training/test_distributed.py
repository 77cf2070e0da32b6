"""Data-parallel training: torchrun with 2 CPU processes (gloo), a single-process result,
resume after a kill; the helpers a single process uses."""

from __future__ import annotations

import contextlib
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

from stylecast import evaluate
from stylecast.errors import RunError
from stylecast.run import RunFolder
from stylecast.training.distributed import SINGLE, PeerFailed, launch_processes
from stylecast.training.finetune import batch_rows, share
from stylecast.training.tensors import augment_batch

# 64 px and a global batch of 32 (16 a process): BatchNorm statistics of a handful of tiny
# images per process are too noisy to learn from in a few steps. Epochs of a fraction of a
# second: enough of them that the kill lands before the run ends.
EPOCHS = 6
FLAGS = [
    *("--mode", "finetune", "--img-size", "64", "--epochs", str(EPOCHS), "--batch-size", "32"),
    *("--group-column", "group", "--patience", "0", "--no-evaluate"),
]
# Exactly what a single-process run of these flags writes (no second writer, no leftovers).
RUN_FILES = {
    ".stylecast.lock",
    "config.yaml",
    "data_check.json",
    "metrics.csv",
    "model.json",
    "model.safetensors",
    "model_summary.txt",
    "run.json",
    "splits.csv",
}


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": "1"}


def _torchrun(*args: str) -> list[str]:
    return [
        sys.executable,
        *("-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"),
        *("-m", "stylecast", "train", *args),
    ]


def _tree(pid: int) -> list[int]:
    """``pid`` and every process below it (torchrun starts its workers in new sessions)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            ppid = int(stat[stat.rfind(")") + 2 :].split()[1])
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        todo.extend(children.get(p, []))
    return found


def _run_files(run: Path) -> set[str]:
    return {p.name for p in run.iterdir()}


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="finds torchrun's workers through /proc")
def test_two_gloo_processes_train_one_model_that_resumes_and_evaluates_alone(
    lookbook: Path, tmp_path: Path
) -> None:
    full = tmp_path / "full"
    res = subprocess.run(
        _torchrun(str(lookbook), "--out", str(full), *FLAGS),
        capture_output=True,
        text=True,
        timeout=300,
        env=_env(),
    )
    assert res.returncode == 0, res.stderr[-3000:]
    # Rank 0 alone reports: one line of each, the global batch and lr said once.
    out = res.stdout + res.stderr
    assert out.count("trained finetune model on FallWinter, SpringSummer") == 1
    assert out.count("best val_accuracy") == 1
    assert (
        "data-parallel: 2 processes (gloo, cpu); global batch 32 = about 16 per process; "
        "learning rate 0.001 as given (--batch-size is the global batch, so no scaling)"
    ) in res.stderr
    assert _run_files(full) == RUN_FILES
    metrics = pd.read_csv(full / "metrics.csv")
    assert list(metrics["epoch"]) == list(range(1, EPOCHS + 1))  # one writer: no row twice
    loss = metrics["train_loss"].to_numpy()
    assert loss[-1] < loss[0] - 0.05 and loss[-2:].max() < loss[:2].min(), loss
    info = RunFolder(full).model_info()
    assert info.extra["processes"] == 2 and info.extra["global_batch_size"] == 32
    # The saved model is an ordinary one: a single process evaluates it.
    ev = evaluate(full, progress=False)
    assert ev.metrics["n"] > 0 and 0.0 <= ev.metrics["accuracy"] <= 1.0
    assert (full / "evaluation.json").is_file()

    # `--nproc 2` starts the same job; killed after its first checkpoint, it resumes.
    killed = tmp_path / "killed"
    cmd = [sys.executable, "-m", "stylecast", "train", str(lookbook), "--out", str(killed)]
    proc = subprocess.Popen(
        # --augment (the default, given): the flags travel to the processes as given.
        [*cmd, "--nproc", "2", *FLAGS, "--quiet", "--augment"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=_env(),
    )
    last, first_epoch = killed / "checkpoint" / "last.pt", killed / "metrics.csv"
    deadline = time.time() + 240
    # metrics.csv is written right after the first checkpoint.
    while time.time() < deadline and not first_epoch.is_file() and proc.poll() is None:
        time.sleep(0.02)
    for pid in reversed(_tree(proc.pid)):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    proc.wait()
    assert last.is_file() and not (killed / "model.safetensors").exists()
    done = pd.read_csv(killed / "metrics.csv")
    assert 1 <= len(done) < EPOCHS

    res = subprocess.run(
        [*cmd[:4], "--resume", str(killed), "--nproc", "2", "--no-evaluate"],
        capture_output=True,
        text=True,
        timeout=300,
        env=_env(),
    )
    assert res.returncode == 0, res.stderr[-3000:]
    assert f"resuming {killed}" in res.stderr
    assert _run_files(killed) == RUN_FILES  # the checkpoint folder is gone too
    resumed = pd.read_csv(killed / "metrics.csv")
    assert list(resumed["epoch"]) == list(range(1, EPOCHS + 1))
    # The same seeded batches, augmentations and per-rank dropout: the uninterrupted result.
    assert np.allclose(resumed["train_loss"], metrics["train_loss"], atol=1e-4)
    assert np.allclose(resumed["val_loss"], metrics["val_loss"], atol=1e-4)


def test_a_process_share_of_a_batch_gets_the_augmentation_of_the_whole() -> None:
    x = torch.randn(7, 3, 16, 16)
    whole = augment_batch(x, torch.Generator().manual_seed(3), scale=(0.5, 1.0), color_jitter=0.2)
    for rank in range(3):
        rows = batch_rows(rank, 3)
        part = augment_batch(
            x[rows],
            torch.Generator().manual_seed(3),
            scale=(0.5, 1.0),
            color_jitter=0.2,
            rows=(rows, 7),
        )
        assert len(part) == (3, 2, 2)[rank]
        assert torch.allclose(part, whole[rows], atol=1e-6)
    # Every world-th row, not blocks: a batch stored class by class gives each process both.
    labels = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    assert [sorted(set(labels[batch_rows(r, 2)])) for r in range(2)] == [[0, 1], [0, 1]]


def test_a_single_process_is_a_world_of_one() -> None:
    assert not SINGLE.active and SINGLE.is_main
    assert SINGLE.broadcast({"a": 1}) == {"a": 1} and SINGLE.gather(3) == [3]
    assert SINGLE.sum([1.5, 2]) == [1.5, 2.0]
    assert SINGLE.on_main(lambda: 7) == 7 and SINGLE.agree(lambda: 8) == 8
    assert SINGLE.first_then_rest(lambda: 9, first=True) == 9
    with pytest.raises(ValueError, match="boom"):
        SINGLE.agree(lambda: (_ for _ in ()).throw(ValueError("boom")))
    assert issubclass(PeerFailed, RunError)
    model = torch.nn.Linear(2, 2)
    assert SINGLE.wrap(model, torch.device("cpu")) is model
    assert SINGLE.sync_batchnorm(model, torch.device("cpu")) is model
    assert [share(10, r, 4) for r in range(4)] == [(0, 2), (2, 5), (5, 7), (7, 10)]


def test_nproc_below_one_is_refused_in_one_line(lookbook: Path, tmp_path: Path) -> None:
    from stylecast.errors import ConfigError

    with pytest.raises(ConfigError, match="--nproc must be at least 1, got 0"):
        launch_processes(0, ["train", str(lookbook)])
    res = subprocess.run(
        [sys.executable, "-m", "stylecast", "train", str(lookbook), "--nproc", "0"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 1 and res.stderr.strip() == "error: --nproc must be at least 1, got 0"
