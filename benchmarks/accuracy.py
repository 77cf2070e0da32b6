"""Accuracy of the default settings on ../shared/data/fpi-season, split by product group.

Trains ``head``, ``finetune`` and ``warmup`` (the default mode) with every other setting at
its default, evaluates each once on the same untouched test split (grouped by the
manifest's ``group`` column, so colour variants of a product never straddle the split),
and prints test accuracy with its 95% bootstrap interval and wall time. The reference in
../shared/data/README.md is 0.76 for a logistic regression on frozen ImageNet features.

Usage:  python benchmarks/accuracy.py [--data DIR] [--modes head finetune warmup] [--write-doc]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from _doc import write_section  # noqa: E402

from stylecast import TrainConfig, evaluate, train  # noqa: E402

REFERENCE = 0.76


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(HERE.parent.parent / "shared" / "data" / "fpi-season"))
    ap.add_argument("--modes", nargs="+", default=["head", "finetune", "warmup"])
    ap.add_argument(
        "--write-doc", action="store_true", help="write the table into docs/benchmarks.md"
    )
    args = ap.parse_args()
    if not Path(args.data).exists():
        sys.exit(f"error: {args.data} does not exist (this benchmark needs ../shared/data)")
    machine = (
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"torch {torch.__version__}"
    )
    print(f"machine: {machine}")
    defaults = TrainConfig()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for mode in args.modes:
            cfg = TrainConfig(mode=mode, group_column="group")
            t0 = time.perf_counter()
            result = train(args.data, cfg, Path(tmp) / mode, progress=False)
            seconds = time.perf_counter() - t0
            ev = evaluate(result.run_dir, progress=False)
            m = ev.metrics
            lo, hi = m["accuracy_ci"]
            rows.append((mode, m["accuracy"], lo, hi, m["n"], result.best_val_accuracy, seconds))
            print(
                f"{mode:<9} test accuracy {m['accuracy']:.3f} (95% CI {lo:.3f}-{hi:.3f}, "
                f"n={m['n']})  val {result.best_val_accuracy:.3f}  wall {seconds / 60:.1f} min",
                flush=True,
            )
    table = [
        "| mode | test accuracy | 95% CI | test images | wall time |",
        "|---|---|---|---|---|",
    ]
    for mode, acc, lo, hi, n, _val, secs in rows:
        table.append(f"| `{mode}` | {acc:.3f} | {lo:.3f}–{hi:.3f} | {n} | {secs / 60:.1f} min |")
    table.append(f"| reference: logistic regression on frozen features | {REFERENCE:.2f} | | | |")
    print("\n" + "\n".join(table))
    if args.write_doc:
        body = "\n".join(
            [
                f"Command: `python benchmarks/accuracy.py --write-doc` on {machine}.",
                "",
                f"Defaults: {defaults.img_size} px letterboxed, batch {defaults.batch_size}, "
                f"lr {defaults.lr}, weight decay {defaults.weight_decay}, label smoothing "
                f"{defaults.label_smoothing}, head epochs {defaults.head_epochs}, fine-tune epochs "
                f"{defaults.epochs}, patience {defaults.patience}; split 70/15/15 grouped by the "
                "manifest's `group` column (seed 0); wall time includes feature extraction and "
                "checkpoints.",
                "",
                *table,
            ]
        )
        print(f"wrote {write_section('Accuracy on fpi-season', body)}")


if __name__ == "__main__":
    main()
