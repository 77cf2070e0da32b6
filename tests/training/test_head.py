"""The head phase: a standardised, L2-regularised logistic regression folded into the
classifier, its C chosen on validation, and head mode against scikit-learn on the same
cached features."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from torch import nn

from stylecast import TrainConfig, train
from stylecast.data import ImageCache
from stylecast.errors import DataError
from stylecast.models import load_model
from stylecast.run import RunFolder
from stylecast.training.features import run_features
from stylecast.training.head import (
    HeadProblem,
    c_grid,
    fit_head,
    fit_standardiser,
    fold_standardisation,
    logistic_path,
)
from stylecast.training.state import TrainState


def _blobs(n: int, d: int, k: int, shift: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``k`` Gaussian classes in ``d`` raw (unstandardised) dimensions, ``shift`` apart."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % k
    centres = rng.normal(size=(k, d)) * shift
    scale = rng.uniform(0.01, 5.0, size=d)  # features on very different scales
    offset = rng.uniform(-3.0, 3.0, size=d)
    x = (centres[y] + rng.normal(size=(n, d))) * scale + offset
    return x.astype(np.float32), y


def _problem(k: int, shift: float, seed: int = 0, d: int = 20) -> HeadProblem:
    x, y = _blobs(450, d, k, shift, seed)  # one draw: training and validation share centres
    return HeadProblem(x[:300], y[:300], x[300:], y[300:], n_classes=k)


def _fit(problem: HeadProblem, tmp_path: Path, cs: np.ndarray) -> tuple[nn.Linear, TrainState]:
    head = nn.Linear(problem.x_train.shape[1], problem.n_classes)
    state = TrainState(RunFolder(tmp_path / "run"), head, seed=0, patience=3)
    state.start_phase("head")
    fit_head(problem, head, state, cs=cs)
    return head, state


def _probs(head: nn.Linear, x: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return torch.softmax(head(torch.from_numpy(x)).double(), 1).numpy()


def test_the_grid_runs_from_strong_to_weak_regularisation() -> None:
    grid = c_grid(10)
    assert grid[0] == pytest.approx(1e-4) and grid[-1] == pytest.approx(1e2)
    assert np.allclose(np.diff(np.log10(grid)), 6 / 9)
    assert c_grid(1).tolist() == pytest.approx([0.1])


def test_folding_the_standardisation_is_exact() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(50, 6)) * [1, 10, 0.1, 3, 1, 1] + [0, 5, -2, 1, 7, 0]
    x[:, 5] = 4.0  # a constant feature keeps scale 1, as in StandardScaler
    mean, std = fit_standardiser(x)
    scaler = StandardScaler().fit(x)
    assert np.allclose(mean, scaler.mean_) and np.allclose(std, scaler.scale_)
    w, b = rng.normal(size=(3, 6)), rng.normal(size=3)
    fw, fb = fold_standardisation(w, b, mean, std)
    assert np.allclose(x @ fw.T + fb, ((x - mean) / std) @ w.T + b)


def test_a_separable_problem_reaches_high_validation_accuracy(tmp_path: Path) -> None:
    problem = _problem(k=3, shift=2.0)
    cs = c_grid(8)
    head, state = _fit(problem, tmp_path, cs)
    assert state.best is not None and state.best["val_accuracy"] >= 0.97
    # Every C is a row, even after `patience` rows without improvement.
    assert [r["epoch"] for r in state.history] == list(range(1, 9))
    assert [r["lr"] for r in state.history] == pytest.approx(cs.tolist())
    assert all(r["phase"] == "head" for r in state.history)
    logits = head(torch.from_numpy(problem.x_val)).detach().numpy()
    assert (logits.argmax(1) == problem.y_val).mean() == pytest.approx(state.best["val_accuracy"])


@pytest.mark.parametrize("k", [2, 3])
@pytest.mark.parametrize("balanced", [False, True])
def test_the_folded_head_gives_the_probabilities_of_sklearn(
    k: int, balanced: bool, tmp_path: Path
) -> None:
    """nn.Linear on raw features == StandardScaler + LogisticRegression (same C, weights)."""
    x, y = _blobs(200, 12, k, shift=0.7, seed=k)
    keep = (y != 0) | (np.arange(len(y)) % 3 == 0)  # class 0 is rarer: weights matter
    x, y = x[keep], y[keep]
    counts = np.bincount(y)
    cw = len(y) / (k * counts) if balanced else None
    c = 0.05
    mean, std = fit_standardiser(x)
    _, w, b = next(
        logistic_path(
            (x - mean) / std,
            y,
            np.array([c]),
            n_classes=k,
            sample_weight=None if cw is None else cw[y],
        )
    )
    fw, fb = fold_standardisation(w, b, mean, std)
    head = nn.Linear(12, k)
    head.load_state_dict({"weight": torch.tensor(fw).float(), "bias": torch.tensor(fb).float()})
    ref = make_pipeline(
        StandardScaler(),
        LogisticRegression(
            C=c,
            tol=1e-10,
            max_iter=10_000,
            class_weight=None if cw is None else dict(enumerate(cw)),
        ),
    ).fit(x, y)
    assert np.allclose(_probs(head, x), ref.predict_proba(x), atol=2e-4)


def test_the_chosen_c_has_the_best_validation_accuracy(tmp_path: Path) -> None:
    problem = _problem(k=2, shift=0.25, seed=3, d=40)  # overlapping: C matters
    cs = c_grid(7)
    head, state = _fit(problem, tmp_path, cs)
    scores = []
    for c in cs:
        ref = make_pipeline(
            StandardScaler(), LogisticRegression(C=c, tol=1e-10, max_iter=10_000)
        ).fit(problem.x_train, problem.y_train)
        proba = ref.predict_proba(problem.x_val)
        acc = (proba.argmax(1) == problem.y_val).mean()
        scores.append((acc, -log_loss(problem.y_val, proba)))
    accs = [a for a, _ in scores]
    assert len(set(accs)) > 2, accs  # a problem where the choice is a real one
    expected = max(range(len(cs)), key=lambda i: scores[i])
    assert state.best is not None and state.best["epoch"] == expected + 1
    assert state.best["val_accuracy"] == pytest.approx(max(accs), abs=1e-6)
    assert state.history[expected]["lr"] == pytest.approx(cs[expected])
    # The head keeps the chosen C's weights, not the last one's (warmup starts from it).
    ref = make_pipeline(
        StandardScaler(), LogisticRegression(C=cs[expected], tol=1e-10, max_iter=10_000)
    ).fit(problem.x_train, problem.y_train)
    assert np.allclose(_probs(head, problem.x_val), ref.predict_proba(problem.x_val), atol=1e-3)
    assert state.best_weights is not None
    assert torch.equal(state.best_weights["weight"], head.weight.detach())


def test_one_class_in_training_is_a_data_error() -> None:
    x = np.zeros((5, 3))
    with pytest.raises(DataError, match="one class only"):
        next(logistic_path(x, np.zeros(5, dtype=int), np.array([1.0]), n_classes=2))


def test_head_mode_matches_sklearn_on_the_same_cached_features(
    lookbook: Path, tmp_path: Path
) -> None:
    cfg = TrainConfig(
        mode="head", img_size=48, head_epochs=10, group_column="group", val_fraction=0.3
    )
    result = train(lookbook, cfg, tmp_path / "run", progress=False)
    metrics = pd.read_csv(tmp_path / "run" / "metrics.csv")
    assert list(metrics["epoch"]) == list(range(1, 11))
    assert metrics["lr"].to_numpy() == pytest.approx(c_grid(10))

    features = ImageCache().root / "features"
    before = set(features.glob("*.npy"))
    feats = run_features(lookbook, cfg, splits_csv=tmp_path / "run" / "splits.csv")
    added = set(features.glob("*.npy")) - before
    assert len(added) == 1  # train and val were the head's own cached features; test is new
    x, y = feats.x, feats.y

    best = None
    for c in np.logspace(-5, 3, 17):
        ref = make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=5000))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref.fit(x["train"], y["train"])
        proba = ref.predict_proba(x["val"])
        score = ((proba.argmax(1) == y["val"]).mean(), -log_loss(y["val"], proba, labels=[0, 1]))
        if best is None or score > best[0]:
            best = (score, ref)
    assert best is not None
    (lr_val, _), ref = best
    assert abs(result.best_val_accuracy - lr_val) <= 0.02
    model, _ = load_model(tmp_path / "run")
    with torch.no_grad():
        head_test = model.get_classifier()(torch.from_numpy(x["test"])).argmax(1).numpy()
    lr_test = (ref.predict(x["test"]) == y["test"]).mean()
    assert abs((head_test == y["test"]).mean() - lr_test) <= 0.02
