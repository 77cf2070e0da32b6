"""``--retrain-best``: train the best configuration on train+val, score it once on test,
and do the same for the default configuration, so tuning is judged by what it gained.

The configuration was chosen on the validation split alone; the test split is looked at
exactly once per configuration: by the retrained best (``OUT/best-trial-<n>/``) and the
retrained defaults (``OUT/defaults-retrained/``). McNemar's test on their shared test
images says whether the difference is more than chance; ``OUT/retrain.json`` keeps it.
The best run's ``tuning/`` folder holds the study's table, figures and ``best.yaml`` so
that its report can show the study.

A best trial whose validation accuracy is within one standard error of the default
configuration's (``sqrt(p (1 - p) / n)`` on ``n`` validation images: the one-standard-error
rule of model selection) is not retrained: the gain is noise, and the defaults are retrained
instead. Measured on fpi-season: a trial one validation image ahead of the defaults (0.8399
against 0.8380 on 537) scored 0.771 on test against the defaults' 0.808 (McNemar p 0.034).
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stylecast.config import EvaluateConfig, TrainConfig, diff_configs
from stylecast.data import ImageCache
from stylecast.errors import DataError, RunError
from stylecast.fileio import atomic_write_json, atomic_write_text
from stylecast.records import EvaluationRecord
from stylecast.run import RunFolder
from stylecast.tuning.outcome import RetrainComparison, TuneResult
from stylecast.tuning.prepare import MACHINE_KEYS
from stylecast.tuning.results import BEST_YAML, TUNING_FILES

__all__ = ["DEFAULTS_RUN", "RETRAIN_JSON", "RetrainComparison", "retrain_best", "within_noise"]

STUDY_JSON = RunFolder.STUDY  # in RUN/tuning/: what the report says about the study
MERGED_SPLITS = "splits_train+val.csv"
DEFAULTS_RUN = "defaults-retrained"  # in the study folder: the defaults, retrained
RETRAIN_JSON = "retrain.json"  # in the study folder: best against defaults, on test


def retrain_best(
    data: Any,
    res: TuneResult,
    *,
    cache: ImageCache,
    progress: bool,
    say: Callable[[str], None],
    members: int = 1,
) -> tuple[Path, EvaluationRecord, RetrainComparison | None]:
    """The retrained best run, its test metrics, and its comparison with the defaults.

    ``members`` above 1 retrains both configurations as ensembles of that many members
    (``OUT/best-trial-<n>-ensemble<N>/``, ``OUT/defaults-retrained-ensemble<N>/``). Runs
    already there are reused; the comparison is written to ``OUT/retrain.json``.
    """
    number, best_cfg = res.best_number, res.best_config
    if number is None or best_cfg is None:
        raise RunError(f"study {res.study_name!r} has no completed trial to retrain")
    splits = RunFolder(res.out).splits()
    if not (splits["split"] == "test").any():
        raise DataError(
            "retraining the best trial needs a test split to score it once: set "
            "--test-fraction above 0"
        )
    rule = within_noise(res, int((splits["split"] == "val").sum()))
    if rule:
        say(rule)
        number, best_cfg = res.defaults_number, res.defaults_config
        assert number is not None and best_cfg is not None  # within_noise checked them
    merged = splits.assign(split=splits["split"].replace({"val": "train"}))
    atomic_write_text(res.out / MERGED_SPLITS, merged.to_csv(index=False))
    job = _Retrain(data, res.out / MERGED_SPLITS, cache, progress, say)
    suffix = f"-ensemble{members}" if members > 1 else ""
    what = f" as an ensemble of {members}" if members > 1 else ""
    run = RunFolder(res.out / f"best-trial-{number}{suffix}")
    metrics = job.run(
        dataclasses.replace(best_cfg, ensemble=members),
        run,
        f"trial {number}'s configuration{what}",
    )
    with contextlib.suppress(Exception):
        # Record where the configuration came from, beside the run's own run.json.
        info = run.info()
        tuned = {"study_folder": str(res.out.resolve()), "trial": number}
        run.write_info(dataclasses.replace(info, extra={**info.extra, "tuned": tuned}))
    _copy_study(res, number, run.path / RunFolder.TUNING)
    if res.defaults_config is None:
        return run.path, metrics, None
    if not diff_configs(best_cfg, res.defaults_config, ignore=MACHINE_KEYS):
        say(f"the best trial ({number}) is the default configuration: trained once")
        comparison = _same(number, run.path, metrics)
        if rule:
            comparison = dataclasses.replace(comparison, validation_best=res.best_number, rule=rule)
    else:
        defaults = RunFolder(res.out / f"{DEFAULTS_RUN}{suffix}")
        job.run(
            dataclasses.replace(res.defaults_config, ensemble=members),
            defaults,
            f"the default configuration{what}",
            galleries=False,
        )
        comparison = _compare(number, run.path, defaults.path)
    atomic_write_json(res.out / RETRAIN_JSON, comparison.to_dict())
    return run.path, metrics, comparison


@dataclass(frozen=True)
class _Retrain:
    """Train a configuration on train+val and score it once on test (or reuse the run)."""

    data: Any
    merged_csv: Path
    cache: ImageCache
    progress: bool
    say: Callable[[str], None]

    def run(
        self, cfg: TrainConfig, run: RunFolder, what: str, *, galleries: bool = True
    ) -> EvaluationRecord:
        from stylecast.evaluation import evaluate
        from stylecast.training import train

        if run.evaluation_file.is_file() and run.model_file.is_file():
            self.say(f"{run.path} already holds {what} retrained; reusing it")
            return EvaluationRecord.read(run.evaluation_file)
        if run.is_trained():
            self.say(f"{run.path} holds {what} retrained; evaluating it")
        elif run.holds_run() and run.config_file.is_file():
            # An interrupted retrain (of an ensemble: its finished members are kept).
            self.say(f"continuing the interrupted retrain of {what} in {run.path}")
            train(None, cfg, run.path, resume=True, progress=self.progress, cache=self.cache)
        else:
            if run.path.exists():  # a retrain killed before it wrote its configuration
                shutil.rmtree(run.path)
            self.say(f"retraining {what} on train+val into {run.path}")
            train(
                self.data,
                cfg,
                run.path,
                progress=self.progress,
                cache=self.cache,
                splits_csv=self.merged_csv,
            )
        # The one look at the test split: the configuration was chosen on validation alone.
        # A run that is only compared needs no galleries (Grad-CAM costs most of the time).
        ev_cfg = EvaluateConfig() if galleries else EvaluateConfig(gallery_size=0)
        return evaluate(run.path, cfg=ev_cfg, cache=self.cache, progress=self.progress).record


def within_noise(res: TuneResult, n_val: int) -> str:
    """Why the defaults are retrained instead of the best trial ("" when they are not): the
    best validation accuracy is within one standard error of the defaults' trial's."""
    best, base = res.best_value, res.defaults_value
    if (
        res.metric != "val_accuracy"  # a mean log loss has no standard error from counts
        or best is None
        or base is None
        or res.defaults_config is None
        or res.best_number == res.defaults_number
        or n_val < 1
    ):
        return ""
    se = math.sqrt(best * (1 - best) / n_val)
    if best - base > se:
        return ""
    return (
        f"trial {res.best_number} is best on validation ({best:.4f}) but within one standard "
        f"error ({se:.4f} on {n_val} images) of the default configuration's {base:.4f} (trial "
        f"{res.defaults_number}): retraining the defaults (the one-standard-error rule: a gain "
        "that small is noise)"
    )


def _same(number: int, run: Path, record: EvaluationRecord) -> RetrainComparison:
    from stylecast.evaluation import Headline

    head = Headline.from_record(record)
    return RetrainComparison(
        best_trial=number,
        best_run=str(run),
        best_accuracy=float(head.accuracy),
        defaults_run=str(run),
        defaults_accuracy=float(head.accuracy),
        same_config=True,
        n_test=int(head.n),
        best_only_right=0,
        defaults_only_right=0,
        pvalue=1.0,
        method="none",
        verdict="the best trial is the default configuration",
    )


def _compare(number: int, best: Path, defaults: Path) -> RetrainComparison:
    from stylecast.evaluation import compare

    result = compare([best, defaults])
    pair = result.pairs[0]
    return RetrainComparison(
        best_trial=number,
        best_run=str(best),
        best_accuracy=float(result.runs[0].accuracy),
        defaults_run=str(defaults),
        defaults_accuracy=float(result.runs[1].accuracy),
        same_config=False,
        n_test=pair.n_shared,
        best_only_right=pair.b_only_a_right,
        defaults_only_right=pair.c_only_b_right,
        pvalue=pair.pvalue,
        method=pair.method,
        verdict=pair.verdict,
    )


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
