"""What a tuning command hands back: :class:`TuneResult` and, with ``--retrain-best``, its
:class:`RetrainComparison` (below the study, which makes the first, and the retraining,
which makes the second).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from stylecast.config import TrainConfig
from stylecast.records import EvaluationRecord
from stylecast.tuning.results import BEST_YAML

__all__ = ["RetrainComparison", "TuneResult"]


@dataclass(frozen=True)
class RetrainComparison:
    """The best and the default configuration, both trained on train+val, scored on test."""

    best_trial: int
    best_run: str
    best_accuracy: float
    defaults_run: str  # the best run itself when the best is the default configuration
    defaults_accuracy: float
    same_config: bool  # the best trial is the default configuration: trained once
    n_test: int  # shared test images McNemar's test counts
    best_only_right: int  # McNemar's b: the best right, the defaults wrong
    defaults_only_right: int  # McNemar's c
    pvalue: float
    method: str  # "exact" (binomial), "chi2" or "none" (no image where they differ)
    verdict: str
    # When the one-standard-error rule kept the defaults: the trial best on validation,
    # and the rule's sentence.
    validation_best: int | None = None
    rule: str = ""

    def to_dict(self) -> dict[str, Any]:
        """What ``retrain.json`` holds."""
        return dataclasses.asdict(self)

    def lines(self) -> list[str]:
        """The side-by-side comparison ``stylecast tune --retrain-best`` prints."""
        if self.same_config:
            who = f"the best trial ({self.best_trial}) is the default configuration"
            if self.rule:
                who = (
                    f"the default configuration (trial {self.best_trial}) was kept over trial "
                    f"{self.validation_best}"
                )
            return [
                *([self.rule] if self.rule else []),
                f"{who}: trained once; test accuracy {self.best_accuracy:.4f} on "
                f"{self.n_test} images",
            ]
        return [
            f"test accuracy on {self.n_test} images (each trained on train+val, scored once):",
            f"  best (trial {self.best_trial})  {self.best_accuracy:.4f}  {self.best_run}",
            f"  defaults           {self.defaults_accuracy:.4f}  {self.defaults_run}",
            f"  McNemar's {self.method} test: p = {self.pvalue:.3g} (best only right on "
            f"{self.best_only_right}, defaults only right on {self.defaults_only_right}): "
            f"{self.verdict}",
        ]


@dataclass(frozen=True)
class TuneResult:
    """What a tuning command produced (the study holds every trial, of every worker)."""

    out: Path
    study_name: str
    storage: str  # password redacted
    metric: str
    direction: str
    n_trials: int  # trials in the study, all workers and runs together
    new_trials: list[int]  # numbers of the trials this call ran
    best_number: int | None
    best_value: float | None
    best_params: dict[str, Any]
    best_config: TrainConfig | None
    trials: pd.DataFrame  # the trials.csv table
    files: dict[str, Path]
    seconds: float
    retrained_run: Path | None = None
    test_metrics: EvaluationRecord | None = None  # the retrained run's evaluation.json
    counts: dict[str, int] = field(default_factory=dict)
    # What `stylecast train` would train with the same flags: the study's baseline trial
    # (its number and score once it completed).
    defaults_config: TrainConfig | None = None
    defaults_number: int | None = None
    defaults_value: float | None = None
    # With retrain_best: the best and the default configuration, both on test.
    comparison: RetrainComparison | None = None

    @property
    def best_yaml(self) -> Path:
        """``best.yaml``: the best TrainConfig, ready for ``stylecast train --config``."""
        return self.files[BEST_YAML]
