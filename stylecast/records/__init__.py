"""Typed records of the JSON files that stages hand each other through a run folder.

``evaluation.json`` is :class:`EvaluationRecord` (its parts in :mod:`.parts`),
``data_check.json`` :class:`DataCheckRecord`, ``metrics.csv``'s rows and ``skipped.json``
:class:`EpochRecord` and :class:`SkippedFile`; ``model.json``
and ``run.json`` are in :mod:`stylecast.run_records`, which re-exports these. Light on
purpose: no numpy, no torch.
"""

from stylecast.records.data_check import (
    DataCheckRecord,
    DuplicateCluster,
    DuplicateSummary,
    GroupSummary,
)
from stylecast.records.evaluation import EvaluationRecord
from stylecast.records.parts import (
    AverageMetrics,
    BreakdownRow,
    Calibration,
    ClassMetrics,
    Majority,
    ReliabilityBin,
    Uncalibrated,
)
from stylecast.records.training import EpochRecord, SkippedFile

__all__ = [
    "AverageMetrics",
    "BreakdownRow",
    "Calibration",
    "ClassMetrics",
    "DataCheckRecord",
    "DuplicateCluster",
    "DuplicateSummary",
    "EpochRecord",
    "EvaluationRecord",
    "GroupSummary",
    "Majority",
    "ReliabilityBin",
    "SkippedFile",
    "Uncalibrated",
]
