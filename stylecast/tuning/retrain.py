"""``--retrain-best``: train the best configuration on train+val, score it once on test.

The configuration was chosen on the validation split alone; the test split is looked at
exactly once, by the retrained run (``OUT/best-trial-<n>/``). Its ``tuning/`` folder holds
the study's table, figures and ``best.yaml`` so that its report can show the study.
"""

from __future__ import annotations

import contextlib
import dataclasses
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stylecast.data import ImageCache
from stylecast.errors import DataError, RunError
from stylecast.fileio import atomic_write_json, atomic_write_text
from stylecast.run import RunFolder
from stylecast.tuning.results import BEST_YAML, TUNING_FILES

if TYPE_CHECKING:
    from stylecast.tuning.study import TuneResult

__all__ = ["retrain_best"]

STUDY_JSON = RunFolder.STUDY  # in RUN/tuning/: what the report says about the study
MERGED_SPLITS = "splits_train+val.csv"


def retrain_best(
    data: Any,
    res: TuneResult,
    *,
    cache: ImageCache,
    progress: bool,
    say: Callable[[str], None],
) -> tuple[Path, dict[str, Any]]:
    """The retrained run's folder and its test metrics (reused when already there)."""
    from stylecast.evaluation import evaluate
    from stylecast.training import train

    number, best_cfg = res.best_number, res.best_config
    if number is None or best_cfg is None:
        raise RunError(f"study {res.study_name!r} has no completed trial to retrain")
    run = RunFolder(res.out / f"best-trial-{number}")
    splits = RunFolder(res.out).splits()
    if not (splits["split"] == "test").any():
        raise DataError(
            "retraining the best trial needs a test split to score it once: set "
            "--test-fraction above 0"
        )
    done = run.evaluation_file.is_file() and run.model_file.is_file()
    if done:
        say(f"{run.path} already holds the retrained best trial {number}; reusing it")
    else:
        if run.path.exists():  # an interrupted earlier retrain
            shutil.rmtree(run.path)
        merged = splits.assign(split=splits["split"].replace({"val": "train"}))
        merged_csv = res.out / MERGED_SPLITS
        atomic_write_text(merged_csv, merged.to_csv(index=False))
        say(f"retraining trial {number}'s configuration on train+val into {run.path}")
        train(data, best_cfg, run.path, progress=progress, cache=cache, splits_csv=merged_csv)
        with contextlib.suppress(Exception):
            # Record where the configuration came from, beside the run's own run.json.
            info = run.info()
            tuned = {"study_folder": str(res.out.resolve()), "trial": number}
            run.write_info(dataclasses.replace(info, extra={**info.extra, "tuned": tuned}))
    _copy_study(res, number, run.path / RunFolder.TUNING)
    if done:
        return run.path, run.read_json_if_present(RunFolder.EVALUATION)
    # The one look at the test split: the configuration was chosen on validation alone.
    return run.path, evaluate(run.path, cache=cache, progress=progress).metrics


def _copy_study(res: TuneResult, number: int, tuning: Path) -> None:
    """The study's table, figures, best.yaml and a summary, for the retrained run's report."""
    tuning.mkdir(exist_ok=True)
    for name in (*TUNING_FILES, BEST_YAML):
        if (res.out / name).is_file():
            shutil.copy2(res.out / name, tuning / name)
    atomic_write_json(
        tuning / STUDY_JSON,
        {
            "study_name": res.study_name,
            "storage": res.storage,
            "metric": res.metric,
            "direction": res.direction,
            "n_trials": res.n_trials,
            "counts": res.counts,
            "best_trial": number,
            "best_value": res.best_value,
            "best_params": res.best_params,
            "study_folder": str(res.out.resolve()),
        },
    )
