"""The distillation loss and the soft labels' file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from stylecast.errors import RunError
from stylecast.training.soft import SoftTargets, batch_pixels, distill_loss


def test_alpha_mixes_the_soft_and_the_hard_loss() -> None:
    torch.manual_seed(0)
    s, t = torch.randn(6, 3), torch.randn(6, 3)
    y = torch.tensor([0, 1, 2, 0, 1, 2])
    ce = F.cross_entropy(s, y, reduction="none")
    kl = (F.softmax(t / 2, 1) * (F.log_softmax(t / 2, 1) - F.log_softmax(s / 2, 1))).sum(1) * 4
    torch.testing.assert_close(distill_loss(s, t, y, temperature=2, alpha=0.0), ce)
    torch.testing.assert_close(distill_loss(s, t, y, temperature=2, alpha=1.0), kl)
    mixed = distill_loss(s, t, y, temperature=2, alpha=0.25)
    torch.testing.assert_close(mixed, 0.25 * kl + 0.75 * ce)
    # An image without a label learns from the teacher alone, whatever alpha says.
    unlabelled = distill_loss(s, t, torch.full((6,), -1), temperature=2, alpha=0.25)
    torch.testing.assert_close(unlabelled, kl)
    # A student that already says what the teacher says has nothing left to learn softly.
    assert distill_loss(t, t, y, temperature=3, alpha=1.0).abs().max() < 1e-5


def test_soft_labels_round_trip_and_are_verified(tmp_path: Path) -> None:
    soft = SoftTargets(
        paths=("a.jpg", "b.jpg"),
        logits=np.array([[1.0, -1.0], [0.0, 2.0]], np.float32),
        temperature=3.0,
        alpha=0.6,
        extra_logits=np.array([[0.5, 0.5]], np.float32),
        extra_paths=("/x/c.jpg",),
    )
    path = tmp_path / "t.npz"
    soft.save(path)
    back = SoftTargets.load(path, {"teacher": "t"})
    assert back.paths == soft.paths and back.extra_paths == soft.extra_paths
    assert back.temperature == 3.0 and back.alpha == 0.6 and back.record == {"teacher": "t"}
    np.testing.assert_array_equal(back.logits, soft.logits)
    assert back.digest() == soft.digest()
    assert back.n_extra == 0  # pixels are decoded again by the caller
    with pytest.raises(RunError, match="1 extra images were labelled"):
        back.with_extra_pixels(np.zeros((2, 8, 8, 3), np.uint8))
    data = bytearray(path.read_bytes())
    at = bytes(data).index(soft.logits.tobytes())  # a teacher logit, changed in place
    data[at + 2] ^= 0x40
    path.write_bytes(bytes(data))
    with pytest.raises(RunError, match="damaged"):  # the zip's own CRC finds this one
        SoftTargets.load(path, {})
    with np.load(_copy(soft, tmp_path), allow_pickle=False) as z:
        arrays = dict(z)
    arrays["logits"] = arrays["logits"] + 1.0  # rewritten whole: only the digest can tell
    np.savez(path, **arrays)
    with pytest.raises(RunError, match="does not match its own digest: it is damaged"):
        SoftTargets.load(path, {})
    path.write_bytes(bytes(data[: len(data) // 2]))  # cut off
    with pytest.raises(RunError, match="unreadable .* damaged"):
        SoftTargets.load(path, {})


def _copy(soft: SoftTargets, folder: Path) -> Path:
    path = folder / "intact.npz"
    soft.save(path)
    return path


def test_soft_labels_align_with_a_runs_rows() -> None:
    soft = SoftTargets(paths=("b", "a"), logits=np.array([[0.0, 1.0], [2.0, 0.0]], np.float32))
    got = soft.aligned(["a", "b", "c"], np.array([True, True, False]))
    np.testing.assert_array_equal(got[:2], [[2.0, 0.0], [0.0, 1.0]])
    assert np.isnan(got[2]).all()
    with pytest.raises(RunError, match="lack 1 training image"):
        soft.aligned(["a", "c"], np.array([True, True]))


def test_batch_pixels_reads_the_run_and_the_extra_images() -> None:
    own = np.arange(3)[:, None, None, None] * np.ones((3, 2, 2, 3), np.uint8)
    extra = 10 + np.arange(2)[:, None, None, None] * np.ones((2, 2, 2, 3), np.uint8)
    got = batch_pixels(own, extra, np.array([0, 4, 2, 3]))
    assert [int(g[0, 0, 0]) for g in got] == [0, 11, 2, 10]
    assert batch_pixels(own, None, np.array([1])).shape == (1, 2, 2, 3)
