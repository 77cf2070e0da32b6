"""What an evaluation says: its headline numbers (typed) and the console summary.

``evaluation.json`` holds every number (per class, confusion matrix, reliability bins,
...; typed as :class:`~stylecast.records.EvaluationRecord`); :class:`Headline` holds the
few people read first, so code that reports on an evaluation reads ``headline.accuracy``
instead of string keys.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from stylecast.evaluation.members import ensemble_lines
from stylecast.records import Calibration, EvaluationRecord
from stylecast.records.parts import (
    DECISIONS,
    FITTED,
    NO_GAIN,
    NOT_FITTED,
    SEPARABLE,
    STORED,
    TOO_FEW,
)
from stylecast.run import RunFolder

__all__ = [
    "DECISIONS",
    "FITTED",
    "NOT_FITTED",
    "NO_GAIN",
    "SEPARABLE",
    "STORED",
    "TOO_FEW",
    "Headline",
    "calibration_reason",
    "format_evaluation",
]

# What evaluation.json's ``calibration.decision`` says: stylecast.records.parts' words.


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
    majority_class: str | None = None  # always answering it is the baseline to beat
    majority_share: float | None = None
    p_vs_majority: float | None = None  # one-sided binomial p of accuracy > majority_share
    small_sample: bool = False  # too few images to say much

    @property
    def beats_majority(self) -> bool | None:
        """Better than always answering the largest class (p < 0.05); None if unknown."""
        return None if self.p_vs_majority is None else self.p_vs_majority < 0.05

    @classmethod
    def from_metrics(
        cls, metrics: EvaluationRecord | Mapping[str, Any], where: str = RunFolder.EVALUATION
    ) -> Headline:
        """The headline of ``evaluation.json``'s record or content (or of
        ``classification_metrics``). A missing number raises RunError naming ``where``.
        """
        return cls.from_record(EvaluationRecord.of(metrics, where))

    @classmethod
    def from_record(cls, ev: EvaluationRecord) -> Headline:
        """The headline of an evaluation's record."""
        cal, raw = ev.calibration, ev.uncalibrated
        before_ll = cal.log_loss_before if cal is not None else None
        before_ece = cal.ece_before if cal is not None else None
        majority = ev.majority
        return cls(
            n=ev.n,
            accuracy=ev.accuracy,
            accuracy_ci=ev.accuracy_ci,
            balanced_accuracy=ev.balanced_accuracy,
            balanced_accuracy_ci=ev.balanced_accuracy_ci,
            macro_f1=ev.macro_avg.f1 if ev.macro_avg is not None else None,
            log_loss=ev.log_loss,
            ece=ev.ece,
            log_loss_before=before_ll if before_ll is not None or raw is None else raw.log_loss,
            ece_before=before_ece if before_ece is not None or raw is None else raw.ece,
            temperature=ev.applied_temperature,
            split=ev.split,
            majority_class=majority.name if majority else None,
            majority_share=majority.share if majority else None,
            p_vs_majority=majority.p_value if majority else None,
            small_sample=ev.small_sample,
        )


def _ci(values: tuple[float, float] | None) -> str:
    return f" (95% CI {values[0]:.3f}-{values[1]:.3f})" if values else ""


def _pair(before: float, after: float) -> str:
    """``before -> after`` with enough decimals (3 to 5) to show that they differ."""
    digits = 3
    while digits < 5 and f"{before:.{digits}f}" == f"{after:.{digits}f}" and before != after:
        digits += 1
    return f"{before:.{digits}f} -> {after:.{digits}f}"


def calibration_reason(cal: Calibration | Mapping[str, Any], split: str | None = None) -> str:
    """One sentence: which temperature an evaluation kept and why (``calibration`` block of
    ``evaluation.json``; ``split`` is the evaluation's split). The console summary prints
    it and the report's Calibration section shows it."""
    if not isinstance(cal, Calibration):
        cal = Calibration.from_json(cal) or Calibration()
    decision = cal.kept_decision
    t = cal.temperature
    n_val = cal.n_val
    cv = ""
    if cal.cv_nll_one is not None:
        cv = (
            f" ({cal.folds}-fold cross-validation on the validation split, without -> with "
            f"the fitted temperature: log loss {cal.cv_nll_one:.3f} -> "
            f"{cal.cv_nll_fitted:.3f}, ECE {cal.cv_ece_one:.3f} -> "
            f"{cal.cv_ece_fitted:.3f})"
        )
    if decision == FITTED:
        return (
            f"temperature {t:.2f} fitted on {n_val} validation images and kept: "
            f"it helped out of sample{cv}"
        )
    if decision == NO_GAIN:
        fitted = cal.fitted
        which = f" ({fitted:.2f})" if fitted is not None else ""
        return (
            f"temperature 1 kept: the temperature fitted on {n_val} validation images"
            f"{which} did not help out of sample{cv}"
        )
    if decision == TOO_FEW:
        return f"temperature 1 kept: {n_val} validation images are too few to fit one"
    if decision == SEPARABLE:
        return f"temperature 1 kept: all {n_val} validation images right, nothing to fit"
    if decision == "val":  # evaluation.json of an earlier version: always fitted
        return f"temperature {t:.2f} fitted on {n_val} validation images"
    if split == "external":
        if decision == STORED:
            return (
                f"temperature {t:.2f} from {RunFolder.MODEL}, kept by the run's own "
                "evaluation on its validation split (nothing is fitted on other data)"
            )
        return (
            "temperature 1: the run's own evaluation kept none "
            f"({RunFolder.MODEL} holds 1; nothing is fitted on other data)"
        )
    if decision == STORED:
        return (
            f"temperature {t:.2f} from {RunFolder.MODEL} (not refitted: calibration "
            "switched off or no separate validation split)"
        )
    return "temperature 1: not fitted (calibration switched off or no separate validation split)"


def verdict_sentence(h: Headline) -> str | None:
    """Better than guessing the largest class or not, with its p-value and the next step."""
    if h.p_vs_majority is None or h.majority_share is None:
        return None
    base = f"always answering {h.majority_class} scores {h.majority_share:.1%}"
    if h.beats_majority:
        text = f"better than guessing: {base} (p = {h.p_vs_majority:.2g})."
    else:
        text = (
            f"NOT shown to be better than guessing: {base} (p = {h.p_vs_majority:.2g}). "
            "Next: check the data (stylecast data check), add images per class, or train "
            "longer / fine-tune (--mode finetune, --epochs)."
        )
    if h.small_sample:
        text += (
            f" Only {h.n} images: the accuracy is rough (95% interval "
            f"{h.accuracy_ci[0]:.0%}-{h.accuracy_ci[1]:.0%}); score more images to say more."
            if h.accuracy_ci
            else f" Only {h.n} images: score more to say more."
        )
    return text


def format_evaluation(metrics: EvaluationRecord | Mapping[str, Any]) -> str:
    """The console summary printed by ``stylecast evaluate``, from ``evaluation.json``'s
    record (or content)."""
    ev = EvaluationRecord.of(metrics)
    h = Headline.from_record(ev)
    lines = [
        f"split: {h.split}  images: {h.n}" + (f"  model: {ev.backend}" if ev.backend else ""),
        f"accuracy: {h.accuracy:.3f}{_ci(h.accuracy_ci)}",
        f"balanced accuracy: {h.balanced_accuracy:.3f}{_ci(h.balanced_accuracy_ci)}",
    ]
    verdict = verdict_sentence(h)
    if verdict:
        lines.append(f"verdict: {verdict}")
    if ev.top_k:
        lines.append(
            "  ".join(f"{k.replace('_', '-')} accuracy: {v:.3f}" for k, v in ev.top_k.items())
        )
    cal = ev.calibration
    if cal and h.log_loss_before is not None and h.ece_before is not None:
        lines.append(f"calibration: {cal.reason or calibration_reason(cal, h.split)}")
        if h.temperature == 1.0:
            lines.append(
                f"  log loss {h.log_loss:.3f}   ECE {h.ece:.3f}   "
                "(temperature 1: the network's own probabilities)"
            )
        else:
            lines.append(
                f"  log loss {_pair(h.log_loss_before, h.log_loss)}   "
                f"ECE {_pair(h.ece_before, h.ece)}   "
                f"(before: T = 1 -> after: T = {h.temperature:.2f})"
            )
    else:
        lines.append(
            f"log loss: {h.log_loss:.3f}  ECE: {h.ece:.3f} (temperature {h.temperature:.2f})"
        )
    if ev.ensemble:
        lines += ["", *ensemble_lines(dict(ev.ensemble))]
    names = ev.class_names
    width = max(max(len(n) for n in names), len("weighted avg")) + 2
    lines += ["", "confusion matrix (rows = true, columns = predicted):"]
    lines.append(" " * width + "".join(f"{n:>{width}}" for n in names))
    for n, row in zip(names, ev.confusion_matrix, strict=True):
        lines.append(f"{n:<{width}}" + "".join(f"{v:>{width}}" for v in row))
    lines.append("")
    lines.append(f"{'class':<{width}}precision  recall     f1  support")
    for n in names:
        pc = ev.per_class[n]
        lines.append(
            f"{n:<{width}}{pc.precision:>9.3f}{pc.recall:>8.3f}{pc.f1:>7.3f}{pc.support:>9d}"
        )
    for avg, label in ((ev.macro_avg, "macro avg"), (ev.weighted_avg, "weighted avg")):
        if avg:
            lines.append(
                f"{label:<{width}}{avg.precision:>9.3f}{avg.recall:>8.3f}{avg.f1:>7.3f}{h.n:>9d}"
            )
    return "\n".join(lines)
