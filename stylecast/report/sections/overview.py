"""The Overview section: the verdict and the numbers in words, and the headline cards."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from stylecast.evaluation import FITTED, NO_GAIN, Headline, verdict_sentence
from stylecast.records import EvaluationRecord
from stylecast.report.registry import ReportRun, Section, register_section

__all__ = ["overview_sentences"]


def overview_sentences(
    ev: EvaluationRecord | Mapping[str, Any] | None, headline: Headline | None
) -> list[str]:
    """The report's first paragraph, in words a merchandising team reads."""
    if not ev or headline is None:
        return []
    ev = EvaluationRecord.of(ev)
    names = ev.class_names
    out = []
    where = {"test": "held-out test", "val": "validation"}.get(headline.split, headline.split)
    ci = headline.accuracy_ci
    ci_txt = f" (95% interval {ci[0]:.0%} to {ci[1]:.0%})" if ci else ""
    out.append(
        f"On {headline.n:,} {where} images the model names the right class "
        f"{headline.accuracy:.0%} of the time{ci_txt}; picking the largest class every time "
        f"would score {_majority_share(ev):.0%}."
    )
    verdict = verdict_sentence(headline)
    if verdict:
        out.insert(0, "Verdict: " + verdict[0].upper() + verdict[1:])
    recalls = {n: ev.per_class[n].recall for n in names if ev.per_class[n].support}
    if recalls:
        best = max(recalls, key=recalls.get)
        worst = min(recalls, key=recalls.get)
        if best != worst:
            out.append(
                f"It recognises {best} best ({recalls[best]:.0%} of those images found) and "
                f"{worst} least well ({recalls[worst]:.0%})."
            )
    cm = ev.confusion_matrix
    pairs = [(cm[i][j], names[i], names[j]) for i in range(len(names)) for j in range(len(names))]
    pairs = [p for p in pairs if p[1] != p[2] and p[0] > 0]
    if pairs:
        k, t, p = max(pairs)
        out.append(f"The most common mistake is reading {t} as {p} ({k} images).")
    if ev.calibration:
        gap = headline.ece  # after temperature scaling
        if gap <= 0.05:
            out.append(
                f"Its confidence can be taken at face value: stated confidence and observed "
                f"accuracy differ by {gap:.1%} on average, so predictions made with 80% "
                "confidence are right about 80% of the time."
            )
        else:
            out.append(
                f"Treat its confidence with care: stated confidence and observed accuracy "
                f"differ by {gap:.1%} on average (see Calibration)."
            )
        kept = _calibration_sentence(ev.calibration.kept_decision, headline)
        if kept:
            out.append(kept)
    return out


def _calibration_sentence(decision: str | None, headline: Headline) -> str | None:
    """Which temperature the probabilities use and why, in one sentence (the Calibration
    section and ``stylecast evaluate`` give the numbers)."""
    t = headline.temperature
    if headline.split == "external" and t != 1.0:
        return (
            f"These probabilities use the temperature {t:.2f} that the run's own evaluation "
            "fitted on its validation split and stored with the model."
        )
    if decision == FITTED:
        return (
            f"Its probabilities are rescaled by a temperature of {t:.2f}, kept because it "
            "made them better calibrated on validation images it was not fitted on."
        )
    if decision == NO_GAIN:
        return (
            "A temperature fitted on the validation split did not help on validation "
            "images it was not fitted on, so the probabilities are the network's own."
        )
    return None


def _majority_share(ev: EvaluationRecord) -> float:
    support = [pc.support for pc in ev.per_class.values()]
    return max(support) / max(sum(support), 1)


def _build(run: ReportRun) -> dict[str, Any]:
    return {"overview": overview_sentences(run.evaluation, run.headline)}


register_section(Section("overview", "Overview", 10, _build, "section_overview.html.j2"))
