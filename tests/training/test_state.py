"""TrainState: recording epochs, the best epoch, checkpoints that resume exactly."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import torch

from stylecast.errors import RunError
from stylecast.run import RunFolder
from stylecast.training.state import (
    TrainState,
    is_better,
    load_checkpoint,
    save_checkpoint,
)


def _row(epoch: int, acc: float, loss: float, phase: str = "finetune") -> dict:
    return {
        "phase": phase,
        "epoch": epoch,
        "train_loss": 1.0,
        "val_loss": loss,
        "val_accuracy": acc,
        "lr": 0.1,
        "images_per_s": 10.0,
        "seconds": 1.0,
    }


def _state(path: Path, patience: int = 2, seed: int = 3, **kw: object) -> TrainState:
    torch.manual_seed(0)
    return TrainState(RunFolder(path), torch.nn.Linear(2, 2), seed=seed, patience=patience, **kw)


def test_is_better_prefers_accuracy_then_lower_loss() -> None:
    best = {"val_accuracy": 0.8, "val_loss": 0.5}
    assert is_better(_row(1, 0.8, 0.5), None)
    assert is_better(_row(1, 0.9, 0.9), best)
    assert not is_better(_row(1, 0.7, 0.1), best)
    assert is_better(_row(1, 0.8, 0.4), best)
    assert not is_better(_row(1, 0.8, 0.5), best)


def test_record_keeps_the_best_epoch_and_stops_after_patience(tmp_path: Path) -> None:
    seen: list[int] = []
    state = _state(tmp_path, patience=2, on_epoch=lambda row: seen.append(row["epoch"]))
    state.start_phase("finetune")
    assert state.record(_row(1, 0.6, 0.7)) is False
    with torch.no_grad():
        state.model.weight.fill_(1.0)
    assert state.record(_row(2, 0.8, 0.5)) is False
    best_weight = state.best_weights["weight"].clone()
    with torch.no_grad():
        state.model.weight.fill_(2.0)  # later, worse epochs must not replace the best weights
    assert state.record(_row(3, 0.8, 0.6)) is False and state.bad == 1
    assert state.record(_row(4, 0.7, 0.4)) is True and state.bad == 2
    assert state.best == {"phase": "finetune", "epoch": 2, "val_accuracy": 0.8, "val_loss": 0.5}
    assert torch.equal(state.best_weights["weight"], best_weight)
    assert torch.equal(best_weight, torch.ones(2, 2))
    assert seen == [1, 2, 3, 4] and [r["epoch"] for r in state.history] == [1, 2, 3, 4]
    assert _state(tmp_path, patience=0).record(_row(1, 0.5, 0.5)) is False


def test_checkpoint_then_resume_restores_everything(tmp_path: Path) -> None:
    state = _state(tmp_path)
    state.start_phase("head")
    state.record(_row(1, 0.7, 0.6, phase="head"))
    state.finish_phase()
    state.start_phase("finetune")
    state.record(_row(1, 0.9, 0.3))
    state.epoch = 1
    opt = torch.optim.AdamW(state.model.parameters(), lr=0.1)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda step: 0.5)
    state.model(torch.ones(1, 2)).sum().backward()
    opt.step()
    sched.step()
    state.checkpoint(opt, sched)
    next_np = state.np_rng.integers(0, 1 << 30, 4).tolist()
    next_gen = torch.randint(0, 1 << 30, (4,), generator=state.gen).tolist()
    next_torch = torch.randint(0, 1 << 30, (4,)).tolist()

    payload = load_checkpoint(RunFolder(tmp_path).last_checkpoint)
    assert set(payload) == {"state", "model", "rng", "optimizer", "scheduler"}
    assert payload["state"]["completed"] == ["head"] and payload["state"]["epoch"] == 1
    metrics = pd.read_csv(RunFolder(tmp_path).metrics_file)
    assert list(metrics["phase"]) == ["head", "finetune"]
    assert list(metrics["val_accuracy"]) == [0.7, 0.9]

    again = _state(tmp_path, seed=99)  # other seed and weights: all of it comes from the file
    assert again.resume() is True
    assert (again.phase, again.epoch, again.bad, again.completed) == ("finetune", 1, 0, ["head"])
    assert again.history == state.history and again.best == state.best
    assert torch.equal(again.model.weight, state.model.weight)
    assert torch.equal(again.best_weights["weight"], state.best_weights["weight"])
    assert again.np_rng.integers(0, 1 << 30, 4).tolist() == next_np
    assert torch.randint(0, 1 << 30, (4,), generator=again.gen).tolist() == next_gen
    assert torch.randint(0, 1 << 30, (4,)).tolist() == next_torch
    opt2 = torch.optim.AdamW(again.model.parameters(), lr=0.1)
    sched2 = torch.optim.lr_scheduler.LambdaLR(opt2, lambda step: 0.5)
    again.restore_optimizer(opt2, sched2)
    assert sched2.last_epoch == 1 and opt2.state_dict()["state"][0]["step"] == 1

    again.start_phase("finetune")  # the phase it was in: continue, optimizer kept
    assert again.epoch == 1 and again.resumed_optimizer is not None
    again.start_phase("other")  # a new phase starts from scratch
    assert (again.epoch, again.bad, again.resumed_optimizer) == (0, 0, None)


def test_resume_without_a_checkpoint_and_an_old_checkpoint(tmp_path: Path) -> None:
    state = _state(tmp_path)
    assert state.resume() is False and state.phase is None and state.history == []
    # Checkpoints of earlier versions lacked "completed" (and the optimizer in the head phase).
    old = {"phase": "head", "epoch": 0, "history": [], "best": None, "bad": 0}
    payload = {"state": old, "model": state.model.state_dict(), "rng": state.rng_state()}
    save_checkpoint(state.run.last_checkpoint, payload)
    again = _state(tmp_path)
    assert again.resume() is True
    assert again.completed == [] and again.phase == "head" and again.resumed_optimizer is None
    assert again.best_weights is None


def test_a_damaged_checkpoint_is_a_run_error(tmp_path: Path) -> None:
    path = RunFolder(tmp_path).last_checkpoint
    path.parent.mkdir()
    path.write_bytes(b"not a checkpoint")
    with pytest.raises(RunError, match=r"(?s)last.pt is unreadable .*delete it to start over"):
        _state(tmp_path).resume()


def test_a_tie_in_the_head_grid_keeps_the_stronger_regularisation() -> None:
    from stylecast.training.state import is_better

    strong = {"phase": "head", "val_accuracy": 1.0, "val_loss": 0.5}
    weak = {"phase": "head", "val_accuracy": 1.0, "val_loss": 0.001}
    assert not is_better(weak, strong)  # same accuracy: the earlier (stronger) C stays
    assert is_better({**weak, "val_accuracy": 1.01}, strong)
    tuned = {"phase": "finetune", "val_accuracy": 1.0, "val_loss": 0.1}
    assert is_better(tuned, strong)  # across phases a tie still goes to the lower loss
    assert not is_better({**tuned, "val_loss": 0.6}, strong)


def test_patience_counts_within_the_phase(tmp_path: Path) -> None:
    """A fine-tune whose first epochs are below the warmed-up head's best, but improving,
    is not stopped: patience counts epochs without improvement within the phase, while the
    best weights are still chosen over all phases (the head here)."""
    state = _state(tmp_path, patience=2)
    state.start_phase("head")
    assert state.record(_row(1, 0.70, 0.60, phase="head")) is False
    assert state.record(_row(2, 0.72, 0.55, phase="head")) is False
    state.finish_phase()
    state.start_phase("finetune")
    # Below the head's 0.72 (the learning rate at its peak), but rising: keep going.
    assert state.record(_row(1, 0.60, 0.90)) is False
    assert state.record(_row(2, 0.66, 0.80)) is False
    assert state.record(_row(3, 0.70, 0.70)) is False
    assert state.best["phase"] == "head"  # still the best over all phases
    assert state.record(_row(4, 0.69, 0.75)) is False and state.bad == 1
    assert state.record(_row(5, 0.68, 0.72)) is True and state.bad == 2
    # Resumed from the checkpoint of epoch 2, the phase's best comes back with the history.
    again = _state(tmp_path, patience=2)
    again.start_phase("head")
    again.record(_row(1, 0.72, 0.55, phase="head"))
    again.start_phase("finetune")
    again.history.append(_row(1, 0.60, 0.90))
    assert again.record(_row(2, 0.59, 0.95)) is False and again.bad == 1
