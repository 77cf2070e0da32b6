"""The study's time budget: what one trial costs on this machine, and how many fit.

Before the first trial the command says how long one trial of the default configuration
takes here. A continued study knows it already (its completed trials' durations); a new
one times a short real run: one head epoch on the cached features and one fine-tune epoch
over a few batches, through ``train()`` itself, scaled to the study's split and epochs.
The trial of the defaults then measures it for real (the worker prints that line).
"""

from __future__ import annotations

import dataclasses
import math
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from stylecast.config import TrainConfig, TuneConfig
from stylecast.data import ImageCache

__all__ = [
    "TrialEstimate",
    "budget_text",
    "defaults_line",
    "estimate_trial",
    "eta_text",
    "fmt_budget",
    "fmt_minutes",
    "say_budget",
]

# Fine-tune batches the probe trains on: enough to get past the first, slow step.
PROBE_BATCHES = 3


@dataclass(frozen=True)
class TrialEstimate:
    """How long one trial of the default configuration takes here, and how we know."""

    seconds: float
    how: str  # "the median of 4 completed trials", "timed from ..."


def estimate_trial(
    study: Any,
    data: Any,
    base: TrainConfig,
    *,
    splits_csv: Path,
    cache: ImageCache,
) -> TrialEstimate:
    """One trial's expected seconds: measured by the study's trials, else by a short run."""
    done = [
        t.duration.total_seconds()
        for t in study.trials
        if t.state.name == "COMPLETE" and t.duration is not None
    ]
    if done:
        n = len(done)
        return TrialEstimate(statistics.median(done), f"the median of {n} completed trial(s)")
    return _probe(data, base, splits_csv, cache)


def _run(data: Any, cfg: TrainConfig, run: Path, splits_csv: Path, cache: ImageCache) -> Any:
    from stylecast.training import train

    return train(
        data,
        cfg,
        run,
        progress=False,
        cache=cache,
        write_summary=False,
        splits_csv=splits_csv,
    )


def _probe(data: Any, base: TrainConfig, splits_csv: Path, cache: ImageCache) -> TrialEstimate:
    """Time one head epoch and one short fine-tune epoch, and scale them to a trial."""
    splits = pd.read_csv(splits_csv)
    n_train = int((splits["split"] == "train").sum())
    n_val = int((splits["split"] == "val").sum())
    seconds = 0.0
    with tempfile.TemporaryDirectory(prefix="stylecast-probe-") as tmp:
        if base.mode in ("head", "warmup"):
            # The features are cached already: this is what a trial's head phase costs.
            cfg = dataclasses.replace(base, mode="head", head_epochs=1, patience=0)
            res = _run(data, cfg, Path(tmp) / "head", splits_csv, cache)
            epoch = float(res.history[-1]["seconds"])
            seconds += base.head_epochs * epoch
            if base.mode == "head":
                seconds += res.seconds - epoch  # start-up: data, model, saving
                return TrialEstimate(seconds, "timed from one head epoch here")
        sub_csv = Path(tmp) / "probe-splits.csv"
        sub = _subset(splits, PROBE_BATCHES * base.batch_size, base.batch_size)
        sub.to_csv(sub_csv, index=False)
        cfg = dataclasses.replace(base, mode="finetune", epochs=1, patience=0)
        res = _run(data, cfg, Path(tmp) / "finetune", sub_csv, cache)
    row = res.history[-1]
    n_sub_train = int((sub["split"] == "train").sum())
    n_sub_val = max(1, int((sub["split"] == "val").sum()))
    ips = max(float(row["images_per_s"]), 1e-9)
    val_per_image = max(0.0, float(row["seconds"]) - n_sub_train / ips) / n_sub_val
    per_epoch = n_train / ips + n_val * val_per_image
    seconds += res.seconds - float(row["seconds"]) + base.epochs * per_epoch
    how = f"timed from a fine-tune epoch over {n_sub_train} images here"
    return TrialEstimate(seconds, how)


def _subset(splits: pd.DataFrame, n_train: int, n_val: int) -> pd.DataFrame:
    """A few train images of every class (training needs each) and a few val images."""
    parts = []
    for name, n in (("train", n_train), ("val", n_val)):
        rows = splits[splits["split"] == name]
        per_class = max(1, math.ceil(n / max(1, rows["label"].nunique())))
        parts.append(rows.groupby("label", group_keys=False).head(per_class))
    return pd.concat(parts)


def budget_text(est: TrialEstimate, left: float | None, trials: int | None, workers: int) -> str:
    """The line printed before the study: one trial's time and how many trials fit."""
    minutes = est.seconds / 60
    text = f"one trial of the default configuration takes about {minutes:.1f} min here"
    if workers > 1:
        # K workers share the cores: each trial takes about K times as long, K at a time.
        text += f" (about {minutes * workers:.1f} min each on {workers} workers at once)"
    text += f" ({est.how})"
    if left is None:
        total = (trials or 0) * est.seconds / 60
        return f"{text}; {trials} trials: about {total:.0f} min (fewer with pruning)"
    fit = max(1, int(left / est.seconds)) if est.seconds > 0 else 1
    text += f"; about {fit} trials fit in the {fmt_budget(left)} budget"
    if trials is not None and trials < fit:
        text += f" (this command runs {trials})"
    return text + "; frozen stages and pruning make most trials shorter"


def say_budget(
    study: Any,
    data: Any,
    base: TrainConfig,
    cfg: TuneConfig,
    *,
    splits_csv: Path,
    cache: ImageCache,
    deadline: float | None,
    say: Callable[[str], None],
) -> None:
    """Before the first trial: one trial's expected time here and how many fit."""
    say("timing a short run of the default configuration to plan the budget")
    try:
        est = estimate_trial(study, data, base, splits_csv=splits_csv, cache=cache)
    except Exception as exc:  # noqa: BLE001 - the trials will meet it and record it
        say(f"could not time a trial here ({type(exc).__name__}: {exc}); trial 0 will tell")
        return
    left = None if deadline is None else max(0.0, deadline - time.time())
    say(budget_text(est, left, cfg.trials, cfg.workers))


def eta_text(deadline: float | None, n_trials: int | None, finished: int, per_trial: float) -> str:
    """`` | 3/10, ETA 4m10s`` or, with a budget only, `` | 3 done, 41m00s of the budget left``."""
    left_s = None if deadline is None else max(0.0, deadline - time.time())
    if n_trials is None:
        return f" | {finished} done, {fmt_minutes(left_s or 0.0)} of the budget left"
    eta = per_trial * (n_trials - finished)
    if left_s is not None:
        eta = min(eta, left_s)
    return f" | {finished}/{n_trials}, ETA {fmt_minutes(eta)}"


def defaults_line(ft: Any, deadline: float | None, n_workers: int) -> str:
    """What the default configuration's trial measured: the time a trial costs here."""
    secs = ft.duration.total_seconds() if ft.duration else 0.0
    text = f"trial {ft.number} (defaults) took {secs / 60:.1f} min"
    if deadline is None:
        return text
    left = max(0.0, deadline - time.time())
    # K workers run K trials at once, each on 1/K of the threads: the measured time holds.
    fit = int(left / secs) * n_workers if secs > 0 else 0
    return f"{text}; about {fit} more trials fit in the remaining budget ({fmt_minutes(left)})"


def fmt_budget(seconds: float) -> str:
    """``60 min`` (or ``45 s`` for a budget under two minutes)."""
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min"


def fmt_minutes(seconds: float) -> str:
    """``4m10s``."""
    seconds = max(0, int(seconds))
    return f"{seconds // 60}m{seconds % 60:02d}s"
