"""The study's time budget: what one trial costs on this machine, and how many fit.

Before the first trial the command says how long one trial of the default configuration
takes here. A continued study knows it already (its completed trials' durations). A new
one times short real runs through ``train()`` itself and adds up the parts of a trial:

* the backbone features of the train and val images (warmup mode): a head run on the
  study's split makes and caches them first (as the study's own warm-up does), so the trial
  only reads them back;
* the start-up of a run (data, model, run files) and its end (the model saved), as timed;
* ``head_epochs`` AdamW head epochs (warmup mode), timed on a subset and scaled to the
  train split;
* ``epochs`` fine-tune epochs: training and validation images/s from the *warm* epochs of a
  probe over a few batches, scaled to the train and val splits, and the checkpoint after
  each epoch.

A probe's first epoch is left out of its rates: the first training steps in a process are
several times slower than the rest (oneDNN creates its kernels, the allocator warms up).
On fpi-season (128 px, 2 idle cores) a first epoch over 96 images ran at 8-33 img/s and
the next ones at 62-80 img/s; scaling the first epoch to a trial made it several times too
long. The trial runs in the same process after the probe (one worker), warm too.
A head-mode trial costs seconds and is timed whole.
"""

from __future__ import annotations

import dataclasses
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

# The fine-tune probe: PROBE_EPOCHS epochs of PROBE_BATCHES full batches, PROBE_VAL val images
# (one batch of the validation pass). Its first epoch is cold; the others are measured.
PROBE_BATCHES = 3
PROBE_EPOCHS = 4
PROBE_VAL = 64
# The warmup probe's head epochs: the first is cold again, the others measured.
PROBE_HEAD_EPOCHS = 3


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
    """One trial's expected seconds: measured by the study's trials, else by short runs."""
    done = [
        t.duration.total_seconds()
        for t in study.trials
        if t.state.name == "COMPLETE" and t.duration is not None
    ]
    if done:
        n = len(done)
        return TrialEstimate(statistics.median(done), f"the median of {n} completed trial(s)")
    return _probe(data, base, splits_csv, cache)


@dataclass(frozen=True)
class _Timed:
    """A short training run: its history rows, when each row's epoch ended (seconds from
    the run's start), and the whole run's seconds."""

    rows: list[dict[str, Any]]
    ends: list[float]
    seconds: float

    def phase(self, name: str) -> list[int]:
        return [i for i, r in enumerate(self.rows) if r["phase"] == name]

    def before(self, i: int) -> float:
        """Seconds between epoch ``i - 1``'s end (the run's start for ``i = 0``) and epoch
        ``i``'s start: a checkpoint, a phase's set-up, or the run's start-up."""
        last = self.ends[i - 1] if i > 0 else 0.0
        return max(0.0, self.ends[i] - last - float(self.rows[i]["seconds"]))

    @property
    def tail(self) -> float:
        """Seconds after the last epoch: its checkpoint, the model saved."""
        return max(0.0, self.seconds - self.ends[-1])


def _run(data: Any, cfg: TrainConfig, run: Path, splits_csv: Path, cache: ImageCache) -> _Timed:
    from stylecast.training import train

    ends: list[float] = []
    t0 = time.perf_counter()
    res = train(
        data,
        cfg,
        run,
        progress=False,
        on_epoch=lambda _row: ends.append(time.perf_counter() - t0),
        cache=cache,
        write_summary=False,
        splits_csv=splits_csv,
    )
    return _Timed(list(res.history), ends, time.perf_counter() - t0)


@dataclass(frozen=True)
class _Sizes:
    """Images of the study's split and of the probe's subset."""

    train: int
    val: int
    sub_train: int
    sub_val: int


def _probe(data: Any, base: TrainConfig, splits_csv: Path, cache: ImageCache) -> TrialEstimate:
    """Time short runs of ``base`` and add up the parts of one trial (module docstring)."""
    splits = pd.read_csv(splits_csv)
    n_train = int((splits["split"] == "train").sum())
    n_val = int((splits["split"] == "val").sum())
    with tempfile.TemporaryDirectory(prefix="stylecast-probe-") as tmp:
        if base.mode == "head":
            whole = _run(data, base, Path(tmp) / "head", splits_csv, cache)
            return TrialEstimate(whole.seconds, "timed from a whole head-mode trial here")
        head = base.mode == "warmup"
        if head:
            # The features every trial's head phase reads (made once, if not cached yet).
            feats = dataclasses.replace(base, mode="head", head_epochs=1, patience=0)
            _run(data, feats, Path(tmp) / "features", splits_csv, cache)
        sub_csv = Path(tmp) / "probe-splits.csv"
        bs = max(1, min(base.batch_size, n_train))
        sub = _subset(splits, min(n_train, PROBE_BATCHES * bs), min(n_val, PROBE_VAL))
        sub.to_csv(sub_csv, index=False)
        cfg = dataclasses.replace(
            base,
            epochs=PROBE_EPOCHS,
            head_epochs=PROBE_HEAD_EPOCHS,
            patience=0,
            # Block-wise unfreezing trains more blocks every epoch: time the most, all.
            unfreeze="all",
        )
        probe = _run(data, cfg, Path(tmp) / "probe", sub_csv, cache)
    sizes = _Sizes(
        n_train,
        n_val,
        int((sub["split"] == "train").sum()),
        int((sub["split"] == "val").sum()),
    )
    seconds, warm = _add_up(probe, base, sizes)
    how = f"timed from {warm} warm fine-tune epochs over {sizes.sub_train} images"
    if head:
        how += f" and {PROBE_HEAD_EPOCHS - 1} head epochs"
    how += f" here, scaled to {base.epochs} epochs over {n_train} train + {n_val} val images" + (
        f"; backbone features of {n_train + n_val} images cached" if head else ""
    )
    return TrialEstimate(seconds, how)


def _add_up(probe: _Timed, base: TrainConfig, n: _Sizes) -> tuple[float, int]:
    """One trial's seconds from the probe's timings, and how many warm epochs they rest on."""
    ft = probe.phase("finetune")
    warm = ft[1:] or ft  # the first epoch's steps are cold
    # The median warm epoch: a burst of other work during one of them does not count.
    train_s, val_s = [], []
    for i in warm:
        row = probe.rows[i]
        ips = max(float(row["images_per_s"]), 1e-9)  # over the training steps alone
        train_s.append(n.sub_train / ips)
        val_s.append(max(0.0, float(row["seconds"]) - n.sub_train / ips))
    train_ips = n.sub_train / max(_median(train_s), 1e-9)
    val_per_image = _median(val_s) / max(1, n.sub_val)
    checkpoints = [probe.before(i) for i in warm if i - 1 in ft]
    per_epoch = n.train / train_ips + n.val * val_per_image
    seconds = base.epochs * per_epoch + (base.epochs - 1) * _median(checkpoints) + probe.tail
    head = probe.phase("head")
    if head:
        # The probe computed its subset's features before its first head epoch; the trial
        # reads the split's from the cache. Their forward passes cost about what the
        # validation's do.
        views = base.feature_views if base.augment else 1
        feats = (n.sub_train * views + n.sub_val) * val_per_image
        seconds += max(0.0, probe.before(0) - feats)  # the start-up
        warm_head = head[1:] or head
        epoch = _median([float(probe.rows[i]["seconds"]) for i in warm_head])
        record = _median([probe.before(i) for i in warm_head if i > 0])
        seconds += base.head_epochs * (epoch * n.train / max(1, n.sub_train) + record)
        seconds += probe.before(ft[0])  # the head's checkpoint, fine-tuning's set-up
    else:
        seconds += probe.before(0)  # the start-up
    return seconds, len(warm)


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


def _subset(splits: pd.DataFrame, n_train: int, n_val: int) -> pd.DataFrame:
    """``n_train`` train and ``n_val`` val rows, the classes taken in turn (training needs
    every class), in the split file's order."""
    parts = []
    for name, n in (("train", n_train), ("val", n_val)):
        rows = splits[splits["split"] == name]
        turn = rows.groupby("label").cumcount()
        parts.append(rows.iloc[turn.to_numpy().argsort(kind="stable")[:n]].sort_index())
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
    say("timing short runs of the default configuration to plan the budget")
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
