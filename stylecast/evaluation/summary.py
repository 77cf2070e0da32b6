"""What an evaluation says: its headline numbers (typed) and the console summary.

``evaluation.json`` holds every number (per class, confusion matrix, reliability bins,
...); :class:`Headline` holds the few people read first, so code that reports on an
evaluation reads ``headline.accuracy`` instead of string keys.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from stylecast.errors import RunError
from stylecast.run import RunFolder

__all__ = ["Headline", "format_evaluation"]


@dataclass(frozen=True)
class Headline:
    """The numbers of one evaluation that people read first.

    ``log_loss``, ``ece`` and the accuracies are those of the calibrated probabilities
    (after temperature scaling with ``temperature``); ``log_loss_before`` and
    ``ece_before`` are those of the network's own probabilities, ``None`` when the
    evaluation did not record them. Intervals are 95 % ``(lo, hi)``, ``None`` when the
    bootstrap was skipped. ``split`` is ``test``, ``val`` or ``external`` (other data).
    """

    n: int
    accuracy: float
    accuracy_ci: tuple[float, float] | None
    balanced_accuracy: float
    balanced_accuracy_ci: tuple[float, float] | None
    macro_f1: float | None
    log_loss: float
    ece: float
    log_loss_before: float | None
    ece_before: float | None
    temperature: float
    split: str | None

    @classmethod
    def from_metrics(
        cls, metrics: Mapping[str, Any], where: str = RunFolder.EVALUATION
    ) -> Headline:
        """The headline of ``evaluation.json``'s content (or of ``classification_metrics``).

        A missing number raises RunError naming ``where``.
        """
        try:
            before = metrics.get("calibration") or {}
            raw = metrics.get("uncalibrated") or {}
            macro = metrics.get("macro_avg") or {}
            return cls(
                n=int(metrics["n"]),
                accuracy=float(metrics["accuracy"]),
                accuracy_ci=_interval(metrics.get("accuracy_ci")),
                balanced_accuracy=float(metrics["balanced_accuracy"]),
                balanced_accuracy_ci=_interval(metrics.get("balanced_accuracy_ci")),
                macro_f1=_number(macro.get("f1")),
                log_loss=float(metrics["log_loss"]),
                ece=float(metrics["ece"]),
                log_loss_before=_number(before.get("log_loss_before", raw.get("log_loss"))),
                ece_before=_number(before.get("ece_before", raw.get("ece"))),
                temperature=float(metrics.get("temperature", before.get("temperature", 1.0))),
                split=None if metrics.get("split") is None else str(metrics["split"]),
            )
        except KeyError as exc:
            raise RunError(f"{where} lacks {exc.args[0]!r}; run stylecast evaluate again") from None
        except (TypeError, ValueError) as exc:
            raise RunError(f"{where} is malformed ({exc}); run stylecast evaluate again") from None


def _interval(value: Any) -> tuple[float, float] | None:
    if value is None:
        return None
    lo, hi = value
    return float(lo), float(hi)


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


def _ci(values: tuple[float, float] | None) -> str:
    return f" (95% CI {values[0]:.3f}-{values[1]:.3f})" if values else ""


def format_evaluation(metrics: Mapping[str, Any]) -> str:
    """The console summary printed by ``stylecast evaluate``, from ``evaluation.json``'s content."""
    h = Headline.from_metrics(metrics)
    lines = [
        f"split: {h.split}  images: {h.n}",
        f"accuracy: {h.accuracy:.3f}{_ci(h.accuracy_ci)}",
        f"balanced accuracy: {h.balanced_accuracy:.3f}{_ci(h.balanced_accuracy_ci)}",
    ]
    if metrics.get("top_k"):
        lines.append(
            "  ".join(
                f"{k.replace('_', '-')} accuracy: {v:.3f}" for k, v in metrics["top_k"].items()
            )
        )
    cal = metrics.get("calibration")
    if cal and h.log_loss_before is not None and h.ece_before is not None:
        how = {
            "val": f"fitted on {cal['n_val']} validation images",
            "separable": f"kept: all {cal['n_val']} validation images right, nothing to fit",
            RunFolder.MODEL: f"from {RunFolder.MODEL}",
            "none": "not fitted",
        }.get(cal["source"], cal["source"])
        lines += [
            f"calibration: temperature {h.temperature:.2f} ({how})",
            f"  log loss {h.log_loss_before:.3f} -> {h.log_loss:.3f}   "
            f"ECE {h.ece_before:.3f} -> {h.ece:.3f}   (before -> after)",
        ]
    else:
        lines.append(
            f"log loss: {h.log_loss:.3f}  ECE: {h.ece:.3f} (temperature {h.temperature:.2f})"
        )
    names = metrics["class_names"]
    width = max(max(len(n) for n in names), len("weighted avg")) + 2
    lines += ["", "confusion matrix (rows = true, columns = predicted):"]
    lines.append(" " * width + "".join(f"{n:>{width}}" for n in names))
    for n, row in zip(names, metrics["confusion_matrix"], strict=True):
        lines.append(f"{n:<{width}}" + "".join(f"{v:>{width}}" for v in row))
    lines.append("")
    lines.append(f"{'class':<{width}}precision  recall     f1  support")
    for n in names:
        pc = metrics["per_class"][n]
        lines.append(
            f"{n:<{width}}{pc['precision']:>9.3f}{pc['recall']:>8.3f}{pc['f1']:>7.3f}"
            f"{pc['support']:>9d}"
        )
    for key, label in (("macro_avg", "macro avg"), ("weighted_avg", "weighted avg")):
        avg = metrics.get(key)
        if avg:
            lines.append(
                f"{label:<{width}}{avg['precision']:>9.3f}{avg['recall']:>8.3f}"
                f"{avg['f1']:>7.3f}{h.n:>9d}"
            )
    return "\n".join(lines)
