"""A tuning worker's pieces: pruners, samplers, and what a trial folder keeps."""

from __future__ import annotations

from pathlib import Path

import optuna

from stylecast.config import TuneConfig
from stylecast.run import RunFolder
from stylecast.tuning.worker import (
    KEEP_IN_TRIAL,
    TRIALS_DIR,
    make_pruner,
    make_sampler,
    strip_trial_dir,
)


def test_pruners_from_the_config() -> None:
    assert isinstance(make_pruner(TuneConfig(pruner="hyperband")), optuna.pruners.HyperbandPruner)
    assert isinstance(make_pruner(TuneConfig(pruner="median")), optuna.pruners.MedianPruner)
    assert isinstance(make_pruner(TuneConfig(pruner="none")), optuna.pruners.NopPruner)
    median = make_pruner(
        TuneConfig(pruner="median", pruner_startup_trials=3, pruner_warmup_epochs=2)
    )
    assert median._n_startup_trials == 3 and median._n_warmup_steps == 2


def test_workers_and_reruns_draw_different_startup_trials() -> None:
    cfg = TuneConfig(sampler_seed=7)

    def first_draws(worker_index: int, n_done: int) -> list[float]:
        study = optuna.create_study(sampler=make_sampler(cfg, worker_index, n_done))
        return [study.ask().suggest_float("x", 0, 1) for _ in range(3)]

    assert first_draws(0, 0) == first_draws(0, 0)  # seeded: reproducible
    assert first_draws(1, 0) != first_draws(0, 0)  # another worker
    assert first_draws(0, 5) != first_draws(0, 0)  # a re-run after 5 trials


def test_a_stripped_trial_keeps_config_metrics_and_run_json(tmp_path: Path) -> None:
    run = tmp_path / TRIALS_DIR / "3"
    (run / RunFolder.CHECKPOINTS).mkdir(parents=True)
    (run / RunFolder.CHECKPOINTS / "last.pt").write_bytes(b"x")
    for name in (*KEEP_IN_TRIAL, RunFolder.WEIGHTS, RunFolder.MODEL, RunFolder.SPLITS):
        (run / name).write_text("x")
    strip_trial_dir(run)
    assert sorted(p.name for p in run.iterdir()) == ["config.yaml", "metrics.csv", "run.json"]
    strip_trial_dir(tmp_path / "missing")  # nothing to strip: no error


def test_hyperband_over_fine_tune_epochs_is_the_default_pruner() -> None:
    from stylecast.config import TrainConfig
    from stylecast.tuning.space import resolve_space
    from stylecast.tuning.worker import TrialResource, trial_resource

    space, base = resolve_space("default", TrainConfig(), fixed=())
    resource = trial_resource(space, base)
    assert resource == TrialResource("finetune", 8)  # steps: fine-tune epochs
    pruner = make_pruner(TuneConfig(), resource)
    assert isinstance(pruner, optuna.pruners.HyperbandPruner)
    assert (pruner._min_resource, pruner._max_resource, pruner._reduction_factor) == (2, 8, 3)
    small = make_pruner(TuneConfig(), TrialResource("finetune", 2))
    assert (small._min_resource, small._max_resource) == (1, 2)
    # median stays selectable; a head-only study prunes over head epochs with it by default.
    assert isinstance(
        make_pruner(TuneConfig(pruner="median"), resource), optuna.pruners.MedianPruner
    )
    space, base = resolve_space("head", TrainConfig(), fixed=())
    assert trial_resource(space, base) == TrialResource("head", 60)
    assert isinstance(
        make_pruner(TuneConfig(), trial_resource(space, base)), optuna.pruners.MedianPruner
    )
    space, base = resolve_space("full", TrainConfig(), fixed=())
    assert trial_resource(space, base) == TrialResource("finetune", 8)
