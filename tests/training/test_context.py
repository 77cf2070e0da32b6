"""The epoch row, its progress line, and the metrics both phases compute."""

from __future__ import annotations

import numpy as np
import pytest

from stylecast.training.context import (
    Progress,
    epoch_line,
    epoch_row,
    evaluate_logits,
    fmt_eta,
)


def test_epoch_row_rounds_for_metrics_csv() -> None:
    row = epoch_row(
        "head",
        3,
        train_loss=0.123456789,
        val_loss=0.5,
        val_accuracy=2 / 3,
        lr=1e-3,
        images_per_s=123.4567,
        seconds=1.23456,
    )
    assert row == {
        "phase": "head",
        "epoch": 3,
        "train_loss": 0.123457,
        "val_loss": 0.5,
        "val_accuracy": 0.666667,
        "lr": 1e-3,
        "images_per_s": 123.46,
        "seconds": 1.235,
    }
    line = epoch_line(row, 10, eta=125)
    assert line == (
        "[head] epoch 3/10  train_loss 0.1235  val_loss 0.5000  val_acc 0.667  "
        "123.5 img/s  ETA 2m05s"
    )


def test_fmt_eta() -> None:
    assert [fmt_eta(0), fmt_eta(59.9), fmt_eta(61), fmt_eta(-3)] == [
        "0m00s",
        "0m59s",
        "1m01s",
        "0m00s",
    ]


def test_evaluate_logits() -> None:
    logits = np.array([[2.0, 0.0], [0.0, 2.0], [2.0, 0.0]], np.float32)
    loss, acc = evaluate_logits(logits, np.array([0, 1, 1]))
    assert acc == pytest.approx(2 / 3)
    expected = -np.mean(np.log([1 / (1 + np.exp(-2))] * 2 + [1 / (1 + np.exp(2))]))
    assert loss == pytest.approx(expected, rel=1e-5)


def test_progress_prints_only_when_enabled(capsys: pytest.CaptureFixture[str]) -> None:
    Progress(False).line("hidden")
    Progress(False).early_stop(3)
    assert Progress(False).bar(10, "x") is None
    Progress(True).early_stop(3)
    assert capsys.readouterr().err == "early stop: val_accuracy did not improve for 3 epochs\n"
