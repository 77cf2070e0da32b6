"""The typed record of ``evaluation.json``: :class:`EvaluationRecord`.

Evaluation builds one and writes ``record.to_json()`` (the file's keys, in the order they
have always had); the report, the console summary, ``compare``, the model card, the shift
check and the tuning retrain read it with :meth:`EvaluationRecord.read` or
:meth:`EvaluationRecord.from_json` and use its typed attributes, named as the file's keys.
Only the headline numbers are required; a block an earlier version did not write is
``None`` (or empty), so every existing run folder still loads.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stylecast.errors import RunError
from stylecast.records.parts import (
    AverageMetrics,
    BreakdownRow,
    Calibration,
    ClassMetrics,
    Interval,
    Majority,
    ReliabilityBin,
    Uncalibrated,
    _bins,
    _interval,
    _listed,
    _object,
)

__all__ = ["EvaluationRecord"]

_FIX = "run stylecast evaluate again"
# The file's keys, in order; any other key of a file is kept in ``extra`` and written last.
_KEYS = (
    "accuracy_ci_method",
    "majority",
    "small_sample",
    "n",
    "accuracy",
    "accuracy_ci",
    "balanced_accuracy",
    "balanced_accuracy_ci",
    "per_class",
    "macro_avg",
    "weighted_avg",
    "confusion_matrix",
    "confusion_matrix_normalized",
    "top_k",
    "log_loss",
    "ece",
    "reliability",
    "class_names",
    "uncalibrated",
    "calibration",
    "split",
    "backend",
    "temperature",
    "data",
    "image_root",
    "ensemble",
    "breakdown",
    "shift",
)
_OPTIONAL = ("ensemble", "shift")  # written only when the evaluation has them


@dataclass(frozen=True)
class EvaluationRecord:
    """Every number of one evaluation (``evaluation.json``).

    The accuracies, ``log_loss`` and ``ece`` are those of the calibrated probabilities
    (``temperature``); ``uncalibrated`` holds the network's own (temperature 1) and
    ``calibration`` which temperature was kept and why. ``split`` is ``test``, ``val`` or
    ``external`` (other data, ``data`` its source); ``ensemble`` (an ensemble's members
    beside it) and ``shift`` (the shift check of other data) stay the JSON objects their
    stages write.
    """

    n: int
    accuracy: float
    balanced_accuracy: float
    log_loss: float
    ece: float
    accuracy_ci: Interval | None = None
    balanced_accuracy_ci: Interval | None = None
    accuracy_ci_method: str | None = None
    majority: Majority | None = None
    small_sample: bool = False
    class_names: tuple[str, ...] = ()
    per_class: Mapping[str, ClassMetrics] = field(default_factory=dict)
    macro_avg: AverageMetrics | None = None
    weighted_avg: AverageMetrics | None = None
    confusion_matrix: tuple[tuple[int, ...], ...] = ()
    confusion_matrix_normalized: tuple[tuple[float, ...], ...] = ()
    top_k: Mapping[str, float] = field(default_factory=dict)
    reliability: tuple[ReliabilityBin, ...] = ()
    uncalibrated: Uncalibrated | None = None
    calibration: Calibration | None = None
    split: str | None = None
    backend: str | None = None
    temperature: float | None = None
    data: str | None = None
    image_root: str | None = None
    ensemble: Mapping[str, Any] | None = None
    breakdown: Mapping[str, tuple[BreakdownRow, ...]] = field(default_factory=dict)
    shift: Mapping[str, Any] | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def applied_temperature(self) -> float:
        """The temperature the probabilities use (the calibration block's, or 1, in files
        that do not say)."""
        if self.temperature is not None:
            return self.temperature
        return self.calibration.temperature if self.calibration is not None else 1.0

    def __getitem__(self, key: str) -> Any:
        """The file's value under ``key`` (JSON, not typed), for code written against the
        dict; new code reads the attributes."""
        return self.to_json()[key]

    def to_json(self) -> dict[str, Any]:
        """The object evaluation writes into ``evaluation.json``."""
        values = {
            "accuracy_ci_method": self.accuracy_ci_method,
            "majority": self.majority.to_json() if self.majority else None,
            "small_sample": self.small_sample,
            "n": self.n,
            "accuracy": self.accuracy,
            "accuracy_ci": _listed(self.accuracy_ci),
            "balanced_accuracy": self.balanced_accuracy,
            "balanced_accuracy_ci": _listed(self.balanced_accuracy_ci),
            "per_class": {k: v.to_json() for k, v in self.per_class.items()},
            "macro_avg": self.macro_avg.to_json() if self.macro_avg else None,
            "weighted_avg": self.weighted_avg.to_json() if self.weighted_avg else None,
            "confusion_matrix": [list(r) for r in self.confusion_matrix],
            "confusion_matrix_normalized": [list(r) for r in self.confusion_matrix_normalized],
            "top_k": dict(self.top_k),
            "log_loss": self.log_loss,
            "ece": self.ece,
            "reliability": [b.to_json() for b in self.reliability],
            "class_names": list(self.class_names),
            "uncalibrated": self.uncalibrated.to_json() if self.uncalibrated else None,
            "calibration": self.calibration.to_json() if self.calibration else None,
            "split": self.split,
            "backend": self.backend,
            "temperature": self.temperature,
            "data": self.data,
            "image_root": self.image_root,
            "ensemble": self.ensemble,
            "breakdown": {col: [r.to_json() for r in rows] for col, rows in self.breakdown.items()},
            "shift": self.shift,
        }
        out = {k: v for k, v in values.items() if not (k in _OPTIONAL and v is None)}
        return out | dict(self.extra)

    @classmethod
    def from_json(cls, obj: Any, where: str = "evaluation.json") -> EvaluationRecord:
        """Read ``evaluation.json``'s content (or ``classification_metrics``' dict).

        A missing headline number or a malformed value raises RunError naming ``where``.
        """
        if not isinstance(obj, Mapping):
            raise RunError(f"{where} is malformed (not a JSON object); {_FIX}")
        try:
            return cls._parse(obj)
        except KeyError as exc:
            raise RunError(f"{where} lacks {exc.args[0]!r}; {_FIX}") from None
        except (TypeError, ValueError, AttributeError) as exc:
            raise RunError(f"{where} is malformed ({exc}); {_FIX}") from None

    @classmethod
    def _parse(cls, o: Mapping[str, Any]) -> EvaluationRecord:
        def text(key: str) -> str | None:
            return None if o.get(key) is None else str(o[key])

        per_class = _object(o.get("per_class"), "per_class")
        breakdown = _object(o.get("breakdown"), "breakdown")
        ensemble, shift = o.get("ensemble"), o.get("shift")
        return cls(
            n=int(o["n"]),
            accuracy=float(o["accuracy"]),
            balanced_accuracy=float(o["balanced_accuracy"]),
            log_loss=float(o["log_loss"]),
            ece=float(o["ece"]),
            accuracy_ci=_interval(o.get("accuracy_ci")),
            balanced_accuracy_ci=_interval(o.get("balanced_accuracy_ci")),
            accuracy_ci_method=text("accuracy_ci_method"),
            majority=Majority.from_json(o.get("majority")),
            small_sample=bool(o.get("small_sample", False)),
            class_names=tuple(str(c) for c in o.get("class_names", per_class)),
            per_class={str(k): ClassMetrics.from_json(v) for k, v in per_class.items()},
            macro_avg=AverageMetrics.from_json(o.get("macro_avg")),
            weighted_avg=AverageMetrics.from_json(o.get("weighted_avg")),
            confusion_matrix=tuple(
                tuple(int(v) for v in row) for row in o.get("confusion_matrix") or ()
            ),
            confusion_matrix_normalized=tuple(
                tuple(float(v) for v in row) for row in o.get("confusion_matrix_normalized") or ()
            ),
            top_k={str(k): float(v) for k, v in _object(o.get("top_k"), "top_k").items()},
            reliability=_bins(o.get("reliability")),
            uncalibrated=Uncalibrated.from_json(o.get("uncalibrated")),
            calibration=Calibration.from_json(o.get("calibration")),
            split=text("split"),
            backend=text("backend"),
            temperature=None if o.get("temperature") is None else float(o["temperature"]),
            data=text("data"),
            image_root=text("image_root"),
            ensemble=None if ensemble is None else dict(_object(ensemble, "ensemble")),
            breakdown={
                str(col): tuple(BreakdownRow.from_json(r) for r in rows)
                for col, rows in breakdown.items()
            },
            shift=None if shift is None else dict(_object(shift, "shift")),
            extra={k: v for k, v in o.items() if k not in _KEYS},
        )

    @classmethod
    def of(cls, value: EvaluationRecord | Mapping[str, Any], where: str = "evaluation.json"):
        """``value`` itself, or the record of a JSON object (code written against the dict)."""
        return value if isinstance(value, EvaluationRecord) else cls.from_json(value, where)

    @classmethod
    def read(cls, path: str | os.PathLike[str]) -> EvaluationRecord:
        """Read and check ``evaluation.json`` at ``path`` (RunError naming it when it is
        missing, unreadable or malformed)."""
        p = Path(path)
        try:
            obj = json.loads(p.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise RunError(f"{p} is missing; {_FIX}") from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise RunError(f"{p} is unreadable ({exc}); {_FIX}") from None
        return cls.from_json(obj, str(p))

    @classmethod
    def read_if_present(cls, path: str | os.PathLike[str]) -> EvaluationRecord | None:
        """:meth:`read`, or None when there is no file at ``path``."""
        return cls.read(path) if Path(path).is_file() else None
