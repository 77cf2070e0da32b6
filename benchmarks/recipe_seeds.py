"""A recipe change judged over several seeds: the defaults and each variant, on one split.

One training run of fpi-season moves by about two points of validation accuracy from one
seed to the next (initialisation, batch order and augmentation; measured: 0.814-0.836 at
the last epoch over seeds 0-2), as much as most recipe changes are worth, so a variant
trained once beside the defaults (``benchmarks/accuracy.py --variant``) cannot tell a
small gain from luck. Here the default mode and every ``--variant NAME KEY=VALUE ...`` are
trained with each of ``--seeds`` on the same grouped split (the one the first seed makes), and the
table gives, per seed, validation accuracy at the last epoch (what a train+val retrain
keeps) and at the chosen epoch, test accuracy and McNemar's p against the defaults of the
same seed; then per variant the means, the mean paired difference from the defaults, and the test
accuracy of the seeds' averaged probabilities (an ensemble of the runs).
Choose by the validation columns; the test columns are the one look at held-out data.

``--runs DIR`` keeps the run folders (``DIR/<name>-s<seed>``) and reuses one whose saved
configuration and split are the ones asked for, so an interrupted comparison resumes.

Usage:  python benchmarks/recipe_seeds.py [--data DIR] [--seeds 0 1 2] [--runs DIR]
        [--variant NAME KEY=VALUE ...] [--write-doc]
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from _doc import machine_line, require, runs_root, write_section  # noqa: E402
from accuracy import _variant_config, mcnemar_p  # noqa: E402

from stylecast import TrainConfig, evaluate, train  # noqa: E402
from stylecast.config import diff_configs, load_config  # noqa: E402

SECTION = "Recipe variants over seeds"


def _reusable(run: Path, cfg: TrainConfig, splits: Path | None) -> bool:
    """``run`` finished with exactly ``cfg`` on exactly ``splits``' split."""
    if not (run / "model.safetensors").is_file() or not (run / "config.yaml").is_file():
        return False
    try:
        saved = load_config(TrainConfig, run / "config.yaml", {})
    except Exception:  # an unreadable or older config: train again
        return False
    if diff_configs(saved, cfg):
        return False
    if splits is None:
        return True
    return (run / "splits.csv").read_bytes() == splits.read_bytes()


def _one(data: str, cfg: TrainConfig, run: Path, splits: Path | None) -> dict:
    """Train (or reuse) one run, evaluate it on test: its row and per-image correctness."""
    import pandas as pd

    t0 = time.perf_counter()
    reused = _reusable(run, cfg, splits)
    if not reused:
        if run.exists():
            raise SystemExit(f"error: {run} exists and is not a finished run of this config")
        train(data, cfg, run, progress=False, splits_csv=splits)
    seconds = time.perf_counter() - t0
    ev = evaluate(run, progress=False)
    m = pd.read_csv(run / "metrics.csv")
    ft = m[m["phase"] == "finetune"]
    pred = pd.read_csv(ev.predictions_csv, dtype={"path": str}).set_index("path")
    return {
        "val_last": float(ft["val_accuracy"].iloc[-1]),
        "val_best": float(ft["val_accuracy"].max()),
        "test": float(ev.metrics["accuracy"]),
        "minutes": float("nan") if reused else seconds / 60,
        "correct": pred["correct"].astype(bool).to_dict(),
        "pred": pred,  # per test image: true class, p_<class> probabilities
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(HERE.parent.parent / "shared" / "data" / "fpi-season"))
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    ap.add_argument("--runs", help="keep the run folders here (and reuse finished ones)")
    ap.add_argument("--variant", nargs="+", action="append", default=[], metavar="NAME K=V")
    ap.add_argument("--write-doc", action="store_true", help="write docs/benchmarks.md")
    args = ap.parse_args()
    require(args.data)
    if not args.variant:
        raise SystemExit("error: give at least one --variant NAME KEY=VALUE ...")
    plan = [("defaults", TrainConfig(group_column="group"))]
    plan += [(v[0], _variant_config(v[1:])) for v in args.variant]
    machine = machine_line()
    results: dict[tuple[str, int], dict] = {}
    with contextlib.ExitStack() as stack:
        root = runs_root(stack, args.runs)
        splits: Path | None = None
        for seed in args.seeds:
            for name, cfg in plan:
                run = root / f"{name}-s{seed}"
                r = _one(args.data, dataclasses.replace(cfg, seed=seed), run, splits)
                splits = splits or run / "splits.csv"
                results[name, seed] = r
                print(
                    f"{name:<10} seed {seed}: val last {r['val_last']:.3f} best "
                    f"{r['val_best']:.3f}  test {r['test']:.3f}  {r['minutes']:.1f} min",
                    flush=True,
                )
    table = _table([n for n, _ in plan], args.seeds, results)
    print("\n" + "\n".join(table))
    if args.write_doc:
        shown = " ".join(f"--variant {' '.join(v)}" for v in args.variant)
        seeds = " ".join(map(str, args.seeds))
        runs = f" --runs {args.runs}" if args.runs else ""
        body = "\n".join(
            [
                f"Command: `python benchmarks/recipe_seeds.py --seeds {seeds}{runs} {shown} "
                f"--write-doc` on {machine}.",
                "",
                "Every configuration is trained with each seed on the same grouped split "
                "(the first seed's); McNemar's p pairs a variant with the defaults of the same "
                "seed. Choose by validation; test is reported once. A wall time is blank for a "
                "run reused from `--runs`.",
                "",
                *table,
            ]
        )
        print(f"wrote {write_section(SECTION, body)}")


def _table(names: list[str], seeds: list[int], res: dict[tuple[str, int], dict]) -> list[str]:
    """Per-seed rows, then per-variant means and mean paired differences from the defaults."""
    table = [
        "| configuration | seed | val (last epoch) | val (chosen epoch) | test | McNemar p vs "
        "defaults | wall time |",
        "|---|---|---|---|---|---|---|",
    ]
    for name in names:
        for seed in seeds:
            r, d = res[name, seed], res["defaults", seed]
            p = "" if name == "defaults" else f"{mcnemar_p(r['correct'], d['correct']):.3f}"
            mins = "" if r["minutes"] != r["minutes"] else f"{r['minutes']:.1f} min"
            table.append(
                f"| `{name}` | {seed} | {r['val_last']:.3f} | {r['val_best']:.3f} "
                f"| {r['test']:.3f} | {p} | {mins} |"
            )
    table += [
        "",
        "| configuration | mean val (last) | mean val (chosen) | mean test | test sd "
        "| val (last) − defaults | test − defaults | test, seeds' mean probabilities |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name in names:
        rows = [res[name, s] for s in seeds]
        base = [res["defaults", s] for s in seeds]

        def mean(key: str, rs: list[dict] = rows) -> float:
            return statistics.fmean(r[key] for r in rs)

        sd = statistics.stdev(r["test"] for r in rows) if len(rows) > 1 else 0.0
        dv = mean("val_last") - mean("val_last", base)
        dt = mean("test") - mean("test", base)
        diff = "" if name == "defaults" else f"{dv:+.3f} | {dt:+.3f}"
        table.append(
            f"| `{name}` | {mean('val_last'):.3f} | {mean('val_best'):.3f} | {mean('test'):.3f} "
            f"| {sd:.3f} | {diff or ' |'} | {_ensemble(rows):.3f} |"
        )
    return table


def _ensemble(rows: list[dict]) -> float:
    """Test accuracy of the runs' averaged class probabilities (all share the classes)."""
    preds = [r["pred"] for r in rows]
    cols = [c for c in preds[0].columns if c.startswith("p_")]
    mean = sum(p[cols] for p in preds) / len(preds)
    chosen = mean.idxmax(axis=1).str.removeprefix("p_")
    return float((chosen == preds[0]["true"]).mean())


if __name__ == "__main__":
    main()
