"""Do palette features help the season classifier? (issue #12: the talk's claim, tested)

On ../shared/data/fpi-season, split as ``stylecast train`` splits it (group column
``group``, the default validation and test fractions, seed 0), two classifiers are fitted
on the same images: a logistic regression on the frozen EfficientNet-Lite0 features that
head mode uses (the training room's feature cache, default image size), and the same on
those features plus each image's palette family histogram (26 shares, one per colornamer
family, ``stylecast.palette.palette_features``). Both: StandardScaler + LogisticRegression,
C chosen on validation accuracy from the same grid. Printed: validation and test accuracy
of both, McNemar's test on the test images, and the histogram alone for scale.

Usage:  python benchmarks/palette_features.py [--data DIR] [--limit N] [--write-doc]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from _doc import require, shared_data  # noqa: E402

from stylecast import TrainConfig  # noqa: E402
from stylecast.data import prepare_run_data  # noqa: E402
from stylecast.evaluation import mcnemar_test, wilson_interval  # noqa: E402
from stylecast.palette import palette_features  # noqa: E402
from stylecast.training.features import run_features  # noqa: E402

CS = np.logspace(-4, 2, 13)


def fit_best(x: dict[str, np.ndarray], y: dict[str, np.ndarray]) -> tuple[float, float, np.ndarray]:
    """(C, val accuracy, test predictions) of StandardScaler + LogisticRegression, C on val."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from threadpoolctl import threadpool_limits

    best = None
    with threadpool_limits(1, user_api="blas"):
        for c in CS:
            clf = make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=3000))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                clf.fit(x["train"], y["train"])
            acc = float((clf.predict(x["val"]) == y["val"]).mean())
            if best is None or acc > best[1]:
                best = (float(c), acc, clf.predict(x["test"]))
    assert best is not None
    return best


def limited_manifest(data: Path, n: int, out: Path) -> Path:
    import pandas as pd

    table = pd.read_csv(data / "manifest.csv", dtype=str, keep_default_na=False)
    sample = table.groupby("label", group_keys=False).sample(frac=n / len(table), random_state=0)
    sample["path"] = [str((data / p).resolve()) for p in sample["path"]]
    sample.to_csv(out / "manifest.csv", index=False)
    return out / "manifest.csv"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=shared_data("fpi-season"))
    ap.add_argument("--limit", type=int, default=0, help="a stratified sample of N images")
    ap.add_argument("--write-doc", action="store_true", help="write into docs/benchmarks.md")
    args = ap.parse_args()
    require(args.data)
    tmp = Path(tempfile.mkdtemp(prefix="palette-features-"))
    data = limited_manifest(Path(args.data), args.limit, tmp) if args.limit else Path(args.data)
    cfg = TrainConfig(mode="head", group_column="group")
    t0 = time.perf_counter()
    rd = prepare_run_data(data, cfg, progress=False)
    splits = tmp / "splits.csv"
    rd.table.assign(path=rd.table["relpath"])[["path", "split"]].to_csv(splits, index=False)
    feats = run_features(data, cfg, splits_csv=splits, progress=True)
    rd = prepare_run_data(data, cfg, splits_csv=splits, progress=False)  # the same rows
    hist = palette_features(list(rd.table["path"]), workers=2)
    idx = {s: rd.indices(s) for s in ("train", "val", "test")}
    x_img = feats.x
    x_both = {s: np.hstack([feats.x[s], hist[idx[s]]]) for s in idx}
    c_a, val_a, pred_a = fit_best(x_img, feats.y)
    c_b, val_b, pred_b = fit_best(x_both, feats.y)
    c_p, val_p, pred_p = fit_best({s: hist[idx[s]] for s in idx}, feats.y)
    y = feats.y["test"]
    right_a, right_b = pred_a == y, pred_b == y
    test = mcnemar_test(right_a, right_b)
    n = len(y)

    def line(name: str, c: float, val: float, right: np.ndarray) -> str:
        lo, hi = wilson_interval(int(right.sum()), n)
        return (
            f"{name:<34} C {c:<8.3g} val {val:.3f}  test {right.mean():.3f} (95% {lo:.3f}-{hi:.3f})"
        )

    text = "\n".join(
        [
            f"data: {data} ({len(rd.table):,} images; train {len(idx['train'])}, "
            f"val {len(idx['val'])}, test {n}), {cfg.model} at {cfg.img_size} px",
            line("backbone features", c_a, val_a, right_a),
            line("backbone + palette histogram (26)", c_b, val_b, right_b),
            f"difference on test: {100 * (right_b.mean() - right_a.mean()):+.1f} points; "
            f"McNemar b={test['b']} c={test['c']} p={test['pvalue']:.3f} ({test['method']})",
            line("palette histogram alone", c_p, val_p, pred_p == y),
            f"wall time {time.perf_counter() - t0:.0f}s",
        ]
    )
    print(text)
    if args.write_doc:
        from _doc import write_section

        body = (
            "Command: `python benchmarks/palette_features.py`. The talk's claim (a palette "
            "per season makes the classifier more precise), tested: a logistic regression on "
            "frozen backbone features against the same plus each image's 26-family palette "
            "histogram, on the split `stylecast train` makes (group column `group`, seed 0), "
            "C chosen on validation for each.\n\n```text\n" + text + "\n```\n"
        )
        print(f"wrote {write_section('Palette features for the season classifier', body)}")


if __name__ == "__main__":
    main()
