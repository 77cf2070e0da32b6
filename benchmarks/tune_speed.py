"""How much the shared caches save a tuning study: one run, both ways, and the ratio.

    .venv/bin/python benchmarks/tune_speed.py                  # fpi-season, 20 trials
    .venv/bin/python benchmarks/tune_speed.py --baseline-trials 20   # no extrapolation

1. *Shared caches*: ``stylecast.tuning.study`` runs a 20-trial head-mode study from an EMPTY
   cache, so its time includes decoding every image and computing the backbone features
   once; every later trial reuses them.
2. *Recomputing features in every trial*: the same trials (the study's own configurations,
   stopped at the same epoch where the study pruned them) are trained again with
   ``stylecast.training.engine``, each with a fresh, empty features cache. Decoded pixels are shared
   (symlinked) so that only the features are recomputed; Optuna's own bookkeeping is not
   counted. Both choices make the baseline cheaper, so the ratio is a lower bound.

On 2 CPU cores the baseline costs minutes per trial, so by default it measures the first
``--baseline-trials`` trials and extrapolates their mean to the whole study; the output
says which it did.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data" / "fpi-season"


def _parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", default=str(DEFAULT_DATA), help="dataset (default fpi-season)")
    p.add_argument("--trials", type=int, default=20, help="trials of the study (default 20)")
    p.add_argument(
        "--baseline-trials",
        type=int,
        default=3,
        help="trials the no-cache baseline measures; the rest is extrapolated (default 3)",
    )
    p.add_argument("--img-size", type=int, default=224, help="input side in pixels (default 224)")
    p.add_argument("--group-column", default="group", help="manifest group column")
    p.add_argument("--seed", type=int, default=0, help="sampler seed")
    p.add_argument("--keep", action="store_true", help="keep the temporary folders")
    return p.parse_args()


def _fresh_features_cache(shared: Path, root: Path) -> Any:
    """An ImageCache whose decoded pixels are the shared ones but with no features at all."""
    from stylecast.data import ImageCache

    root.mkdir(parents=True)
    os.symlink(shared / "decoded", root / "decoded")
    return ImageCache(root)


def main() -> int:
    args = _parse()
    data = Path(args.data)
    if not data.exists():
        print(f"{data} is absent: the benchmark needs ../shared/data/fpi-season", file=sys.stderr)
        return 1
    import optuna
    import torch

    from stylecast.config import TrainConfig, TuneConfig
    from stylecast.data import ImageCache
    from stylecast.training import train
    from stylecast.tuning import format_trials, tune

    tmp = Path(tempfile.mkdtemp(prefix="stylecast-tune-bench-"))
    try:
        cache = ImageCache(tmp / "cache")
        base = TrainConfig(img_size=args.img_size, group_column=args.group_column, mode="head")
        cfg = TuneConfig(trials=args.trials, sampler_seed=args.seed, space="head")
        out = tmp / "study"

        # --- 1. the study with shared caches, from an empty cache
        t0 = time.perf_counter()
        res = tune(data, cfg, base, out, cache=cache, progress=True)
        t_cached = time.perf_counter() - t0
        load_cached = os.getloadavg()[1]  # other processes on the machine skew both timings
        print(format_trials(res.trials))

        # --- 2. the same trials, each recomputing the features
        study = optuna.load_study(study_name=res.study_name, storage=f"sqlite:///{out}/study.db")
        done = [
            t
            for t in sorted(study.trials, key=lambda t: t.number)
            if t.state.name in ("COMPLETE", "PRUNED")
        ]
        measured = done[: max(1, min(args.baseline_trials, len(done)))]
        times = []
        for t in measured:
            trial_cfg = TrainConfig(**t.user_attrs["train_config"])
            stop_at = t.user_attrs.get("epochs_run") if t.state.name == "PRUNED" else None
            seen = 0

            def on_epoch(row: dict[str, Any], stop_at: int | None = stop_at) -> None:
                nonlocal seen
                seen += 1
                if stop_at is not None and seen >= stop_at:
                    raise optuna.TrialPruned()

            fresh = _fresh_features_cache(cache.root, tmp / "nocache" / str(t.number))
            t1 = time.perf_counter()
            with contextlib.suppress(optuna.TrialPruned):  # stopped where the study pruned it
                train(
                    data,
                    trial_cfg,
                    tmp / "baseline" / str(t.number),
                    progress=False,
                    on_epoch=on_epoch,
                    cache=fresh,
                    write_summary=False,
                    splits_csv=out / "splits.csv",
                )
            times.append(time.perf_counter() - t1)
            print(
                f"baseline trial {t.number} ({t.state.name}): {times[-1]:.1f}s "
                "(features recomputed)",
                file=sys.stderr,
                flush=True,
            )
        load_base = os.getloadavg()[1]
        per_trial = sum(times) / len(times)
        n = len(study.trials)
        t_base = per_trial * n

        images = len((out / "splits.csv").read_text(encoding="utf-8").splitlines()) - 1
        exact = len(measured) == n
        print()
        print(
            f"Tuning speed: {n}-trial head-mode study on {data.name} ({images} images, "
            f"{args.img_size} px, {torch.get_num_threads()} CPU threads, "
            f"{os.cpu_count()} cores)"
        )
        print(
            f"  shared caches (stylecast tune, empty cache at start): {t_cached:8.1f} s "
            f"({t_cached / n:.1f} s/trial, features computed once, {dict(res.counts)}; "
            f"load average {load_cached:.1f})"
        )
        how = (
            f"measured all {n} trials"
            if exact
            else f"measured {len(measured)} of {n} trials ({per_trial:.1f} s/trial), "
            f"extrapolated to {n}"
        )
        print(
            f"  recomputing features in every trial:                  {t_base:8.1f} s "
            f"({how}; load average {load_base:.1f})"
        )
        print(f"  speed-up: {t_base / t_cached:.1f}x")
        return 0
    finally:
        if args.keep:
            print(f"kept {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
