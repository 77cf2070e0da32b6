"""``stylecast demo``: the whole pipeline on a synthetic lookbook, in about a minute on a CPU."""

from __future__ import annotations

import dataclasses
import os
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from stylecast.config import TrainConfig
from stylecast.data import discover
from stylecast.demo.lookbook import make_lookbook
from stylecast.evaluation import evaluate, format_evaluation
from stylecast.inference import PredictOptions, predict_batch, write_predictions
from stylecast.palette import palette
from stylecast.report import build_report
from stylecast.run import RunFolder
from stylecast.training import train
from stylecast.trends import format_trends, trend_report

__all__ = ["DemoResult", "run_demo", "DEMO_CONFIG"]

# Small inputs and a short schedule: the demo shows the pipeline, not a benchmark.
DEMO_CONFIG = TrainConfig(
    img_size=128,
    mode="warmup",
    head_epochs=15,
    epochs=1,
    batch_size=16,
    group_column="group",
)


@dataclass(frozen=True)
class DemoResult:
    lookbook: Path
    run_dir: Path
    report: Path
    accuracy: float
    seconds: float
    summary: str


def run_demo(
    out: str | os.PathLike[str] = "demo_runs",
    *,
    n_per_class: int = 60,
    seed: int = 0,
    progress: bool = True,
) -> DemoResult:
    """Draw the lookbook into ``out/lookbook``, train into ``out/run`` (replaced), report."""
    t0 = time.perf_counter()
    out = Path(out)
    lookbook = out / "lookbook"
    say = (lambda m: print(m, file=sys.stderr, flush=True)) if progress else (lambda m: None)
    say(f"1/5 drawing a synthetic lookbook ({n_per_class} looks per season) into {lookbook}")
    if lookbook.exists():
        shutil.rmtree(lookbook)
    make_lookbook(lookbook, n_per_class, seed=seed)
    ds = discover(lookbook)
    counts = ds.table["label"].value_counts().sort_index().to_dict()
    say(
        "2/5 data: "
        + ", ".join(f"{k} {v}" for k, v in counts.items())
        + f"; {ds.table['group'].nunique()} product groups (kept on one side of the split)"
    )
    run_dir = out / "run"
    if run_dir.exists():
        shutil.rmtree(run_dir)
    say(
        "3/5 training efficientnet_lite0 (ImageNet weights): head on frozen features, then "
        "one fine-tune epoch"
    )
    train(
        lookbook,
        dataclasses.replace(DEMO_CONFIG, seed=seed),
        run_dir,
        progress=progress,
    )
    say("4/5 evaluating on the held-out test split and writing the report")
    ev = evaluate(run_dir, progress=progress)
    # Palettes per season, so the report shows the colours the lookbook was drawn in.
    palette(run_dir, ["label"], progress=progress)
    rep = build_report(run_dir)
    trends = _business_view(run_dir, lookbook, out, say=say, progress=progress)
    seconds = time.perf_counter() - t0
    summary = "\n".join(
        [
            format_evaluation(ev.metrics),
            "",
            f"run folder: {run_dir}  ({RunFolder.CONFIG}, {RunFolder.SPLITS}, "
            f"{RunFolder.METRICS}, {RunFolder.MODEL}, ...)",
            f"report:     {rep.path.resolve()}",
            "",
            trends.summary,
            f"trends:     {trends.report}",
            f"done in {seconds:.0f}s. Next: stylecast train YOUR_FOLDER  (see README)",
        ]
    )
    return DemoResult(lookbook, run_dir, rep.path, ev.headline.accuracy, seconds, summary)


@dataclass(frozen=True)
class _BusinessView:
    report: Path
    summary: str


def _business_view(
    run_dir: Path, lookbook: Path, out: Path, *, say: Callable[[str], None], progress: bool
) -> _BusinessView:
    """Predict every look (season and main colour), then the season and colour mix per period."""
    say("5/5 the business view: every look predicted, then the season and colour mix per period")
    # The lookbook is the training data itself: no shift check needed.
    options = PredictOptions(palette=True, shift_check=False, progress=progress)
    result = predict_batch(run_dir, [lookbook / "manifest.csv"], options)
    predictions = out / "predictions.csv"
    if predictions.exists():
        predictions.unlink()  # the demo's own file from an earlier demo
    write_predictions(result, predictions)
    trends_dir = out / "trends"
    if trends_dir.exists():
        shutil.rmtree(trends_dir)
    res = trend_report(
        result.table,
        period_column="period",
        by=("predicted", "palette_family"),
        out=trends_dir,
    )
    return _BusinessView(Path(res.report or trends_dir), format_trends(res, rows=6))
