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
    assert isinstance(make_pruner(TuneConfig()), optuna.pruners.MedianPruner)
    assert isinstance(make_pruner(TuneConfig(pruner="none")), optuna.pruners.NopPruner)
    median = make_pruner(TuneConfig(pruner_startup_trials=3, pruner_warmup_epochs=2))
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
