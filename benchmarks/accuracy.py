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

``--variant NAME KEY=VALUE ...`` (repeatable) also trains the default mode with those
settings changed (e.g. ``--variant ema ema=0.998 --variant 160px img_size=160``) and compares
each variant with the defaults by McNemar's exact test on the same test images: how a recipe
change earns its place in docs/training.md. With variants, ``--write-doc`` writes the
"Recipe variants" section instead of "Accuracy on fpi-season".

Usage:  python benchmarks/accuracy.py [--data DIR] [--modes head finetune warmup] [--no-plain]
        [--variant NAME KEY=VALUE ...] [--write-doc]
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
from stylecast.config import load_config  # noqa: E402
from stylecast.errors import ConfigError  # noqa: E402
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
    ap.add_argument(
        "--variant",
        nargs="+",
        action="append",
        default=[],
        metavar="NAME KEY=VALUE",
        help="also train the default mode with these TrainConfig settings changed",
    )
    args = ap.parse_args()
    require(args.data)
    # Every variant is checked before the first (long) training starts.
    variants = [(v[0], _variant_config(v[1:])) for v in args.variant]
    machine = machine_line()
    defaults = TrainConfig()
    rows, correct = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        plan = [(mode, TrainConfig(mode=mode, group_column="group")) for mode in args.modes]
        for mode, cfg in plan + variants:
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
    table = _table(rows, correct, defaults.mode if variants else None)
    print("\n" + "\n".join(table))
    if args.write_doc and variants:
        shown = " ".join(f"--variant {v[0]} {' '.join(v[1:])}" for v in args.variant)
        body = "\n".join(
            [
                f"Command: `python benchmarks/accuracy.py --modes {' '.join(args.modes)} "
                f"{shown}{' --no-plain' if args.no_plain else ''} --write-doc` on {machine}.",
                "",
                "Each variant is the default configuration with the settings in its name "
                "changed, trained and tested on the same grouped split (seed 0); McNemar's "
                "exact test pairs it with the defaults image by image.",
                "",
                *table,
            ]
        )
        print(f"wrote {write_section('Recipe variants', body)}")
    elif args.write_doc:
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


def _variant_config(pairs: list[str]) -> TrainConfig:
    """The default configuration with ``KEY=VALUE`` settings changed, read the way the
    command line reads its flags (``load_config``: keys checked, values typed)."""
    given: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise SystemExit(f"error: --variant takes TrainConfig KEY=VALUE pairs, got {pair!r}")
        given[key.replace("-", "_")] = value
    try:
        return load_config(TrainConfig, None, {"group_column": "group", **given})
    except ConfigError as exc:
        raise SystemExit(f"error: --variant {' '.join(pairs)}: {exc}") from None


def mcnemar_p(a: dict[str, bool], b: dict[str, bool]) -> float:
    """McNemar's p of two models' per-image correctness (path -> right), on shared images."""
    keys = sorted(set(a) & set(b))
    return float(mcnemar_test([a[k] for k in keys], [b[k] for k in keys])["pvalue"])


def _table(rows: list[tuple], correct: dict[str, dict], base: str | None) -> list[str]:
    """The markdown table: McNemar's p against the plain script, and against ``base`` (the
    default mode) when variants were trained."""
    head = (
        "| mode | val accuracy | test accuracy | 95% CI | test images | wall time "
        "| McNemar p vs plain |"
    )
    rule = "|---|---|---|---|---|---|---|"
    if base is not None:
        head, rule = head + " McNemar p vs defaults |", rule + "---|"
    table = [head, rule]

    def pvalue(a: str, b: str) -> str:
        if b not in correct or a == b:
            return ""
        return f"{mcnemar_p(correct[a], correct[b]):.3f}"

    for mode, acc, lo, hi, n, val, secs in rows:
        shown = "" if val != val else f"{val:.3f}"  # the plain script selects nothing: NaN
        line = f"| `{mode}` | {shown} | {acc:.3f} | {lo:.3f}–{hi:.3f} | {n} "
        line += f"| {secs / 60:.1f} min | {pvalue(mode, 'plain script')} |"
        if base is not None:
            line += f" {pvalue(mode, base) if mode != 'plain script' else ''} |"
        table.append(line)
    cells = " |" * (6 if base is not None else 5)
    table.append(f"| reference: logistic regression on frozen features | | {REFERENCE:.2f}{cells}")
    return table


if __name__ == "__main__":
    main()
