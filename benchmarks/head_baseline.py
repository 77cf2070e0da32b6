"""Head mode against a logistic regression on the same frozen features (issue #10).

Trains ``stylecast train --mode head --group-column group`` (every other setting at its
default) on ../shared/data/fpi-season, then reads the frozen EfficientNet-Lite0 features of
that run's own train, validation and test images back through the training room's feature
cache (the head's own inputs; the test split's are computed once). On them it fits the
textbook baseline independently of stylecast: scikit-learn's StandardScaler +
LogisticRegression (L-BFGS, fitted from scratch for each of 33 values of C from 1e-5 to 1e3),
C chosen on validation accuracy, ties by log loss. It prints validation and test accuracy of
both and the difference in points; the target is a gap of at most 1 point.

Usage:  python benchmarks/head_baseline.py [--data DIR] [--limit N]

``--limit N`` trains and compares on a stratified sample of N images (a quick check that
the script works; the figures to trust come from the whole set).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from _doc import machine_line, require  # noqa: E402

from stylecast import TrainConfig, train  # noqa: E402
from stylecast.models import load_model  # noqa: E402
from stylecast.training.features import run_features  # noqa: E402

BASELINE_CS = np.logspace(-5, 3, 33)


def limited_manifest(data: Path, n: int, out: Path) -> Path:
    """A manifest of ``n`` images of ``data`` (stratified by label, absolute paths)."""
    table = pd.read_csv(data / "manifest.csv", dtype=str, keep_default_na=False)
    share = n / len(table)
    sample = table.groupby("label", group_keys=False).sample(frac=share, random_state=0)
    sample["path"] = [str((data / p).resolve()) for p in sample["path"]]
    out.mkdir(parents=True, exist_ok=True)
    sample.to_csv(out / "manifest.csv", index=False)
    return out / "manifest.csv"


def sklearn_baseline(
    x: dict[str, np.ndarray], y: dict[str, np.ndarray]
) -> tuple[float, float, float]:
    """(C, val accuracy, test accuracy) of StandardScaler + LogisticRegression, C on val."""
    from threadpoolctl import threadpool_limits

    labels = np.unique(np.concatenate(list(y.values())))
    # One BLAS thread, as stylecast's head uses: more only wait on each other on 2 cores.
    with threadpool_limits(1, user_api="blas"):
        return _baseline_grid(x, y, labels)


def _baseline_grid(
    x: dict[str, np.ndarray], y: dict[str, np.ndarray], labels: np.ndarray
) -> tuple[float, float, float]:
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import log_loss
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    best: tuple[float, float, float] | None = None  # (val acc, -val loss, C)
    for c in BASELINE_CS:
        clf = make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=5000))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf.fit(x["train"], y["train"])
        proba = clf.predict_proba(x["val"])
        acc = float((clf.classes_[proba.argmax(1)] == y["val"]).mean())
        score = (acc, -log_loss(y["val"], proba, labels=labels), float(c))
        if best is None or score[:2] > best[:2]:
            best, chosen = score, clf
    assert best is not None
    test_acc = float((chosen.predict(x["test"]) == y["test"]).mean())
    return best[2], best[0], test_acc


def head_accuracy(run: Path, x: np.ndarray, y: np.ndarray) -> float:
    """Accuracy of the run's saved classifier on features ``x`` (what predict computes)."""
    model, _ = load_model(run)
    head = model.get_classifier()
    logits = x @ head.weight.detach().numpy().T + head.bias.detach().numpy()
    return float((logits.argmax(1) == y).mean())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(HERE.parent.parent / "shared" / "data" / "fpi-season"))
    ap.add_argument("--limit", type=int, default=0, help="a stratified sample of N images")
    args = ap.parse_args()
    data = Path(args.data)
    require(data / "manifest.csv")
    machine_line()
    cfg = TrainConfig(mode="head", group_column="group")
    with tempfile.TemporaryDirectory(prefix="head-baseline-") as tmp:
        source = limited_manifest(data, args.limit, Path(tmp) / "data") if args.limit else data
        t0 = time.perf_counter()
        res = train(source, cfg, Path(tmp) / "run", progress=False)
        t_head = time.perf_counter() - t0
        feats = run_features(source, cfg, splits_csv=res.run_dir / "splits.csv")
        x, y = feats.x, feats.y
        head_val = head_accuracy(res.run_dir, x["val"], y["val"])
        head_test = head_accuracy(res.run_dir, x["test"], y["test"])
        t1 = time.perf_counter()
        c, lr_val, lr_test = sklearn_baseline(x, y)
        t_lr = time.perf_counter() - t1
    sizes = ", ".join(f"{s} {len(v)}" for s, v in y.items())
    best = next(r for r in res.history if r["epoch"] == res.best_epoch)
    print(f"data: {source} ({sizes}; {x['train'].shape[1]} features, split by group)")
    print(
        f"stylecast head: val {head_val:.3f} (run: {res.best_val_accuracy:.3f}), "
        f"test {head_test:.3f}, C {best['lr']:.3g}, {t_head:.1f}s with features"
    )
    print(f"sklearn LR:     val {lr_val:.3f}, test {lr_test:.3f}, C {c:.3g}, {t_lr:.1f}s")
    print(
        f"difference (head - LR): val {100 * (head_val - lr_val):+.1f} points, "
        f"test {100 * (head_test - lr_test):+.1f} points"
    )


if __name__ == "__main__":
    main()
