"""Accuracy of the default settings on ../shared/data/fpi-season, split by product group.

Trains ``head``, ``finetune`` and ``warmup`` (the default mode) with every other setting at
its default, evaluates each once on the same untouched test split (grouped by the
manifest's ``group`` column, so colour variants of a product never straddle the split),
and prints test accuracy with its 95% bootstrap interval and wall time. The reference in
../shared/data/README.md is 0.76 for a logistic regression on frozen ImageNet features.

In the same run, a plain PyTorch script (about 60 lines below: AdamW 1e-3 with a one-cycle
schedule, label smoothing 0.1, horizontal flips, bf16 autocast, 128 px, batch 32, 8 epochs,
trained on the train and validation images of the same split since it selects nothing) is
scored on the same test images, and McNemar's exact test compares it with each mode.

Usage:  python benchmarks/accuracy.py [--data DIR] [--modes head finetune warmup] [--no-plain]
        [--write-doc]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from _doc import machine_line, require, write_section  # noqa: E402

from stylecast import TrainConfig, evaluate, train  # noqa: E402
from stylecast.evaluation import mcnemar_test, wilson_interval  # noqa: E402

REFERENCE = 0.76


def plain_finetune(run: Path, data: Path, epochs: int = 8, size: int = 128) -> tuple:
    """The script a practitioner writes: (per-test-image correctness, their paths)."""
    import numpy as np
    import pandas as pd
    from PIL import Image, ImageOps

    from stylecast.models import create_model

    splits = pd.read_csv(run / "splits.csv", dtype=str, keep_default_na=False)
    root = data.parent if data.is_file() else data
    classes = sorted(splits["label"].unique())

    def tensors(rows: pd.DataFrame) -> tuple[torch.Tensor, torch.Tensor]:
        imgs = [
            np.asarray(
                ImageOps.pad(Image.open(root / p).convert("RGB"), (size, size), color="white")
            )
            for p in rows["path"]
        ]
        x = torch.from_numpy(np.stack(imgs)).permute(0, 3, 1, 2).float().div(127.5).sub(1.0)
        return x, torch.tensor([classes.index(c) for c in rows["label"]])

    x_tr, y_tr = tensors(splits[splits["split"] != "test"])
    test = splits[splits["split"] == "test"]
    x_te, y_te = tensors(test)
    torch.manual_seed(0)
    model = create_model("efficientnet_lite0", len(classes)).to(memory_format=torch.channels_last)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=5e-4)
    steps = epochs * (len(x_tr) // 32)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=1e-3, total_steps=steps)
    for _ in range(epochs):
        model.train()
        perm = torch.randperm(len(x_tr))
        for i in range(0, len(perm) - 31, 32):
            b = perm[i : i + 32]
            x = x_tr[b]
            flip = torch.rand(len(b)) < 0.5
            x[flip] = x[flip].flip(-1)
            with torch.autocast("cpu", dtype=torch.bfloat16):
                out = model(x.contiguous(memory_format=torch.channels_last))
            loss = torch.nn.functional.cross_entropy(out.float(), y_tr[b], label_smoothing=0.1)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
    model.eval()
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        pred = torch.cat(
            [model(x_te[i : i + 64]).float().argmax(1) for i in range(0, len(x_te), 64)]
        )
    return (pred == y_te).numpy(), test["path"].to_numpy()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(HERE.parent.parent / "shared" / "data" / "fpi-season"))
    ap.add_argument("--modes", nargs="+", default=["head", "finetune", "warmup"])
    ap.add_argument("--no-plain", action="store_true", help="skip the plain PyTorch script")
    ap.add_argument(
        "--write-doc", action="store_true", help="write the table into docs/benchmarks.md"
    )
    args = ap.parse_args()
    require(args.data)
    machine = machine_line()
    defaults = TrainConfig()
    rows, correct = [], {}
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
            pred = __import__("pandas").read_csv(ev.predictions_csv, dtype={"path": str})
            correct[mode] = dict(zip(pred["path"], pred["correct"].astype(bool), strict=True))
            print(
                f"{mode:<9} test accuracy {m['accuracy']:.3f} (95% CI {lo:.3f}-{hi:.3f}, "
                f"n={m['n']})  val {result.best_val_accuracy:.3f}  wall {seconds / 60:.1f} min",
                flush=True,
            )
        if not args.no_plain:
            first = Path(tmp) / args.modes[0]
            t0 = time.perf_counter()
            ok, paths = plain_finetune(first, Path(args.data))
            seconds = time.perf_counter() - t0
            lo, hi = wilson_interval(int(ok.sum()), len(ok))
            rows.append(("plain script", float(ok.mean()), lo, hi, len(ok), float("nan"), seconds))
            correct["plain script"] = dict(zip(paths, ok, strict=True))
            print(f"plain script test accuracy {ok.mean():.3f}  wall {seconds / 60:.1f} min")
    table = [
        "| mode | test accuracy | 95% CI | test images | wall time | McNemar p vs plain |",
        "|---|---|---|---|---|---|",
    ]
    plain = correct.get("plain script")
    for mode, acc, lo, hi, n, _val, secs in rows:
        p = ""
        if plain is not None and mode != "plain script":
            keys = sorted(set(plain) & set(correct[mode]))
            test = mcnemar_test([correct[mode][k] for k in keys], [plain[k] for k in keys])
            p = f"{test['pvalue']:.3f}"
        table.append(
            f"| `{mode}` | {acc:.3f} | {lo:.3f}–{hi:.3f} | {n} | {secs / 60:.1f} min | {p} |"
        )
    table.append(f"| reference: logistic regression on frozen features | {REFERENCE:.2f} | | | | |")
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
