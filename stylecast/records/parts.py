"""The parts of ``evaluation.json``'s record: per class, averages, the majority baseline,
reliability bins, calibration, the breakdown by manifest column.

Each is a frozen dataclass whose attributes are the file's keys, with ``to_json`` (the
object as evaluation writes it) and ``from_json`` (lenient with files of earlier versions:
a block they lack is ``None``, a per-class number NaN).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

__all__ = [
    "AverageMetrics",
    "BreakdownRow",
    "Calibration",
    "ClassMetrics",
    "Majority",
    "ReliabilityBin",
    "Uncalibrated",
]

Interval = tuple[float, float]


def _interval(value: Any) -> Interval | None:
    if value is None:
        return None
    lo, hi = value
    return float(lo), float(hi)


def _listed(ci: Interval | None) -> list[float] | None:
    return None if ci is None else [ci[0], ci[1]]


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


def _object(value: Any, what: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise TypeError(f"{what} must be an object, not {type(value).__name__}")
    return value


@dataclass(frozen=True)
class ClassMetrics:
    """One class's row: precision, recall, F1 (NaN where a file lacks them), its image
    count and Wilson 95 % intervals of recall and precision."""

    precision: float = math.nan
    recall: float = math.nan
    f1: float = math.nan
    support: int = 0
    recall_ci: Interval | None = None
    precision_ci: Interval | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "precision": self.precision,
            "recall": self.recall,
            "f1": self.f1,
            "support": self.support,
            "recall_ci": _listed(self.recall_ci),
            "precision_ci": _listed(self.precision_ci),
        }

    @classmethod
    def from_json(cls, obj: Any) -> ClassMetrics:
        o = _object(obj, "a per_class entry")
        return cls(
            precision=float(o.get("precision", math.nan)),
            recall=float(o.get("recall", math.nan)),
            f1=float(o.get("f1", math.nan)),
            support=int(o.get("support", 0)),
            recall_ci=_interval(o.get("recall_ci")),
            precision_ci=_interval(o.get("precision_ci")),
        )


@dataclass(frozen=True)
class AverageMetrics:
    """``macro_avg`` / ``weighted_avg``: precision, recall and F1 over the classes."""

    precision: float
    recall: float
    f1: float

    def to_json(self) -> dict[str, Any]:
        return {"precision": self.precision, "recall": self.recall, "f1": self.f1}

    @classmethod
    def from_json(cls, obj: Any) -> AverageMetrics | None:
        o = _object(obj, "an average")
        if not o:
            return None
        return cls(*(float(o.get(k, math.nan)) for k in ("precision", "recall", "f1")))


@dataclass(frozen=True)
class Majority:
    """Always answering the largest class: its name, share, and the one-sided binomial p of
    the model's accuracy beating that share."""

    name: str | None
    share: float | None
    p_value: float | None

    def to_json(self) -> dict[str, Any]:
        return {"class": self.name, "share": self.share, "p_value": self.p_value}

    @classmethod
    def from_json(cls, obj: Any) -> Majority | None:
        o = _object(obj, "majority")
        if not o:
            return None
        name = o.get("class")
        return cls(
            None if name is None else str(name), _number(o.get("share")), _number(o.get("p_value"))
        )


@dataclass(frozen=True)
class ReliabilityBin:
    """One confidence band of the reliability diagram (``confidence``/``accuracy`` None when
    the band is empty)."""

    lo: float
    hi: float
    count: int
    confidence: float | None
    accuracy: float | None

    def to_json(self) -> dict[str, Any]:
        return {
            "lo": self.lo,
            "hi": self.hi,
            "count": self.count,
            "confidence": self.confidence,
            "accuracy": self.accuracy,
        }

    @classmethod
    def from_json(cls, obj: Any) -> ReliabilityBin:
        o = _object(obj, "a reliability bin")
        return cls(
            float(o["lo"]),
            float(o["hi"]),
            int(o["count"]),
            _number(o.get("confidence")),
            _number(o.get("accuracy")),
        )


def _bins(value: Any) -> tuple[ReliabilityBin, ...]:
    return tuple(ReliabilityBin.from_json(b) for b in value or ())


@dataclass(frozen=True)
class Uncalibrated:
    """The network's own probabilities (temperature 1): log loss, ECE, reliability bins."""

    log_loss: float
    ece: float
    reliability: tuple[ReliabilityBin, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "log_loss": self.log_loss,
            "ece": self.ece,
            "reliability": [b.to_json() for b in self.reliability],
        }

    @classmethod
    def from_json(cls, obj: Any) -> Uncalibrated | None:
        o = _object(obj, "uncalibrated")
        if not o:
            return None
        return cls(float(o["log_loss"]), float(o["ece"]), _bins(o.get("reliability")))


# What the ``calibration`` block's ``decision`` says (the evaluation stage decides; the
# summary, the report and the model card read it).
FITTED = "fitted"  # fitted on the validation split, kept: it helped out of sample
NO_GAIN = "kept 1: did not help out of sample"
TOO_FEW = "kept 1: too few validation images"
SEPARABLE = "separable"  # no validation error: nothing to fit, T = 1
STORED = "model.json"  # the temperature already in model.json (other data, --no-calibrate)
NOT_FITTED = "none"  # T = 1, nothing fitted (calibration off or no separate validation split)
DECISIONS = (FITTED, NO_GAIN, TOO_FEW, SEPARABLE, STORED, NOT_FITTED)


@dataclass(frozen=True)
class TemperatureFit:
    """The temperature kept, why (``decision``), and the cross-validation behind it:
    ``fitted`` is the ``T`` fitted on all ``n_val`` validation images (kept or not);
    ``cv_nll_*`` / ``cv_ece_*`` are the log loss and ECE of the held-out folds pooled, with
    the fold's fitted ``T`` (``fitted``) and with ``T = 1`` (``one``), ``cv_nll_se`` the
    standard error of the mean per-image log-loss gain; ``None`` where no cross-validation
    ran. The evaluation stage's choice (``evaluation.temperature.TemperatureChoice``) and
    the start of evaluation.json's ``calibration`` block (:class:`Calibration`)."""

    temperature: float = 1.0
    decision: str | None = None
    n_val: int = 0
    fitted: float | None = None
    folds: int = 0
    cv_nll_fitted: float | None = None
    cv_nll_one: float | None = None
    cv_ece_fitted: float | None = None
    cv_ece_one: float | None = None
    cv_nll_se: float | None = None


@dataclass(frozen=True)
class Calibration(TemperatureFit):
    """The ``calibration`` block: a :class:`TemperatureFit` (files of earlier versions said
    ``source`` for ``decision``), then the gain it had to show, ECE and log loss before
    (temperature 1) and after, and ``reason``, the sentence people read."""

    min_nll_gain: float | None = None
    source: str | None = None
    ece_before: float | None = None
    ece_after: float | None = None
    log_loss_before: float | None = None
    log_loss_after: float | None = None
    reason: str | None = None

    @property
    def kept_decision(self) -> str | None:
        """``decision``, or ``source`` of a file written before decisions had a name."""
        return self.decision if self.decision is not None else self.source

    def to_json(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_json(cls, obj: Any) -> Calibration | None:
        o = _object(obj, "calibration")
        if not o:
            return None
        text = ("decision", "source", "reason")
        whole = ("n_val", "folds")
        values: dict[str, Any] = {}
        for k in (f.name for f in fields(cls)):
            v = o.get(k)
            if v is None:
                continue
            values[k] = str(v) if k in text else int(v) if k in whole else float(v)
        return cls(**values)


@dataclass(frozen=True)
class BreakdownRow:
    """Accuracy on the images sharing one value of a manifest column."""

    value: str
    n: int
    accuracy: float
    ci: Interval | None

    def to_json(self) -> dict[str, Any]:
        return {"value": self.value, "n": self.n, "accuracy": self.accuracy, "ci": _listed(self.ci)}

    @classmethod
    def from_json(cls, obj: Any) -> BreakdownRow:
        o = _object(obj, "a breakdown row")
        return cls(str(o["value"]), int(o["n"]), float(o["accuracy"]), _interval(o.get("ci")))
