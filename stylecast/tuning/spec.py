"""What the tuning workers are handed, below the worker and its trial loop.

:class:`WorkerSpec` (everything a worker process needs), the pruner's resource
(:class:`TrialResource`) and the user attribute that marks the trial of the default
configuration: :mod:`stylecast.tuning.worker` builds and runs on them,
:mod:`stylecast.tuning.loop` and :mod:`stylecast.tuning.prepare` read them, so neither has
to import the worker.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from stylecast.config import TrainConfig, TuneConfig
from stylecast.tuning.space import ParamSpec, space_modes

__all__ = ["DEFAULTS_ATTR", "TrialResource", "WorkerSpec", "trial_resource"]

# User attribute of the trial that trains the default configuration (enqueued first).
DEFAULTS_ATTR = "defaults"


@dataclass(frozen=True)
class TrialResource:
    """What a trial reports to the pruner: the epochs of one phase, as steps 1, 2, ..."""

    phase: str  # "finetune" where trials train the backbone, "head" in a head-only study
    max_epochs: int  # the most steps a trial reports: Hyperband's max_resource


def trial_resource(space: dict[str, ParamSpec], base: TrainConfig) -> TrialResource:
    """The pruner's resource for a study of ``space`` over ``base``."""
    if space_modes(space, base) == {"head"}:
        key, phase = "head_epochs", "head"
    else:
        key, phase = "epochs", "finetune"
    top = int(space[key].high) if key in space and space[key].high is not None else 0
    return TrialResource(phase, max(top, int(getattr(base, key))))


@dataclass(frozen=True)
class WorkerSpec:
    """Everything a worker process needs (picklable, for spawned children)."""

    data: str
    out: str
    storage_url: str
    study_name: str
    tune_cfg: TuneConfig
    base: TrainConfig
    space: dict[str, ParamSpec]
    splits_csv: str
    cache_root: str
    n_trials: int | None  # this command's trials, shared by its workers; None: until deadline
    worker_index: int
    n_workers: int
    session: str
    progress: bool
    sampler: Any = None
    pruner: Any = None
    deadline: float | None = None  # time.time() after which no trial starts
    resource: TrialResource = TrialResource("finetune", TrainConfig().epochs)
