"""Compare evaluated runs: a metrics table, and McNemar's test on the images they share.

Accuracies measured on different test images are not comparable, and two accuracies
measured on the same images are not independent: McNemar's test looks only at the
images where exactly one of two models is right (``b``: A right and B wrong, ``c``: A
wrong and B right) and asks whether ``b`` and ``c`` differ by more than chance. Rows of
``predictions.csv`` are matched by ``path`` (relative to the data source), so runs
trained on the same data with the same split (``stylecast train --config`` or a tuned
retrain) share their whole test split.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from stylecast.errors import DataError, RunError
from stylecast.evaluation.metrics import mcnemar_test
from stylecast.evaluation.summary import Headline
from stylecast.fileio import atomic_write_json
from stylecast.records import EvaluationRecord
from stylecast.run import RunFolder

__all__ = ["CompareResult", "PairTest", "RunSummary", "compare", "format_comparison"]

_ALPHA = 0.05


@dataclass(frozen=True)
class RunSummary:
    """One run's headline numbers (from its ``evaluation.json``)."""

    run: str
    name: str
    model: str | None
    split: str
    n: int
    accuracy: float
    accuracy_ci: tuple[float, float] | None
    balanced_accuracy: float
    macro_f1: float
    log_loss: float
    ece: float


@dataclass(frozen=True)
class PairTest:
    """McNemar's test of run ``a`` against run ``b`` on their shared images."""

    a: str
    b: str
    n_shared: int
    accuracy_a: float  # on the shared images
    accuracy_b: float
    b_only_a_right: int  # McNemar's b
    c_only_b_right: int  # McNemar's c
    statistic: float
    pvalue: float
    method: str
    verdict: str
    note: str | None = None  # set when the runs share only part of their test images


@dataclass(frozen=True)
class CompareResult:
    runs: list[RunSummary]
    pairs: list[PairTest]

    def to_dict(self) -> dict[str, Any]:
        """The runs, the pairs and the significance level, as JSON-ready values."""
        return {
            "runs": [asdict(r) for r in self.runs],
            "pairs": [asdict(p) for p in self.pairs],
            "alpha": _ALPHA,
        }


def _load(run: Path) -> tuple[Headline, pd.DataFrame]:
    folder = RunFolder(run)
    folder.require_dir()
    ev_json, pred_csv = folder.evaluation_file, folder.predictions_file
    if not ev_json.is_file() or not pred_csv.is_file():
        raise RunError(
            f"{run} has not been evaluated (no {RunFolder.EVALUATION}/{RunFolder.PREDICTIONS}): "
            f"run `stylecast evaluate {run}` first"
        )
    headline = Headline.from_record(EvaluationRecord.read(ev_json))
    try:
        preds = pd.read_csv(pred_csv, dtype={"path": str, "true": str, "predicted": str})
    except (
        ValueError,
        OSError,
        UnicodeDecodeError,
    ) as exc:  # pandas' parser errors are ValueErrors
        raise RunError(f"{pred_csv} is unreadable ({exc}); re-run evaluate") from None
    missing = {"path", "true", "predicted"} - set(preds.columns)
    if missing:
        raise RunError(f"{pred_csv} lacks columns {sorted(missing)}; re-run evaluate")
    if preds["path"].duplicated().any():
        raise DataError(f"{pred_csv} lists an image twice; re-run evaluate")
    preds["correct"] = preds["true"] == preds["predicted"]
    return headline, preds


def _names(runs: list[Path]) -> list[str]:
    """Short, unique labels: folder names, with parents added where they clash."""
    names = [r.name or str(r) for r in runs]
    if len(set(names)) < len(names):
        names = [str(r) for r in runs]
    return names


def compare(runs: Sequence[str | os.PathLike[str]]) -> CompareResult:
    """Metrics of every run, and McNemar's test for every pair on their shared images.

    Raises ``RunError`` for a missing or unevaluated run, and ``DataError`` when two
    runs share no evaluated image or disagree on an image's true label.
    """
    paths = [Path(r) for r in runs]
    if len(paths) < 2:
        raise RunError("compare needs at least two runs")
    if len({p.resolve() for p in paths}) < len(paths):
        raise RunError("the same run is given twice; compare different runs")
    names = _names(paths)
    loaded = [_load(p) for p in paths]
    summaries = []
    for path, name, (h, _) in zip(paths, names, loaded, strict=True):
        summaries.append(
            RunSummary(
                run=str(path),
                name=name,
                model=_model_name(path),
                split=h.split or "?",
                n=h.n,
                accuracy=h.accuracy,
                accuracy_ci=h.accuracy_ci,
                balanced_accuracy=h.balanced_accuracy,
                macro_f1=float("nan") if h.macro_f1 is None else h.macro_f1,
                log_loss=h.log_loss,
                ece=h.ece,
            )
        )
    pairs = []
    for i in range(len(paths)):
        for j in range(i + 1, len(paths)):
            pairs.append(_pair(names[i], loaded[i][1], names[j], loaded[j][1]))
    return CompareResult(summaries, pairs)


def _model_name(run: Path) -> str | None:
    """The backbone's name (``ensemble of 3 x NAME`` for an ensemble), or None when the
    run's model.json is absent or unreadable."""
    folder = RunFolder(run)
    if not folder.model_file.is_file():
        return None
    try:
        return folder.model_info().describe()
    except RunError:
        return None  # the table still compares the numbers in evaluation.json


def _pair(name_a: str, a: pd.DataFrame, name_b: str, b: pd.DataFrame) -> PairTest:
    shared = a.merge(b, on="path", suffixes=("_a", "_b"))
    if shared.empty:
        raise DataError(
            f"{name_a} and {name_b} share no evaluated images (predictions.csv paths differ); "
            "evaluate both on the same test split or the same DATA"
        )
    clash = shared[shared["true_a"] != shared["true_b"]]
    if len(clash):
        raise DataError(
            f"{name_a} and {name_b} disagree on the true label of {len(clash)} shared images "
            f"(first: {clash['path'].iloc[0]}); they were evaluated on different data"
        )
    test = mcnemar_test(shared["correct_a"].to_numpy(), shared["correct_b"].to_numpy())
    acc_a, acc_b = float(shared["correct_a"].mean()), float(shared["correct_b"].mean())
    if test["pvalue"] < _ALPHA:
        better, worse = (name_a, name_b) if test["b"] > test["c"] else (name_b, name_a)
        verdict = f"{better} is better than {worse} (p = {test['pvalue']:.3g})"
    else:
        verdict = f"no significant difference at the 5% level (p = {test['pvalue']:.3g})"
    note = None
    if len(shared) < 0.9 * min(len(a), len(b)):
        note = (
            f"only {len(shared)} of their {len(a)} and {len(b)} evaluated images are shared "
            "(different splits?): the test speaks for those images only"
        )
    return PairTest(
        a=name_a,
        b=name_b,
        n_shared=len(shared),
        accuracy_a=acc_a,
        accuracy_b=acc_b,
        b_only_a_right=int(test["b"]),
        c_only_b_right=int(test["c"]),
        statistic=float(test["statistic"]),
        pvalue=float(test["pvalue"]),
        method=str(test["method"]),
        verdict=verdict,
        note=note,
    )


def write_comparison(result: CompareResult, out: str | os.PathLike[str]) -> Path:
    """Write ``result`` as JSON (``stylecast compare --out``)."""
    return atomic_write_json(out, result.to_dict())


def format_comparison(result: CompareResult) -> str:
    """The console table printed by ``stylecast compare``."""
    w = max(8, *(len(r.name) for r in result.runs)) + 2
    lines = [
        f"{'run':<{w}}{'split':>8}{'images':>8}{'accuracy':>10}  {'95% CI':<13}"
        f"{'bal.acc':>8}{'macro F1':>10}{'log loss':>10}{'ECE':>7}"
    ]
    for r in result.runs:
        ci = f"{r.accuracy_ci[0]:.3f}-{r.accuracy_ci[1]:.3f}" if r.accuracy_ci else ""
        lines.append(
            f"{r.name:<{w}}{r.split:>8}{r.n:>8}{r.accuracy:>10.3f}  {ci:<13}"
            f"{r.balanced_accuracy:>8.3f}{r.macro_f1:>10.3f}{r.log_loss:>10.3f}{r.ece:>7.3f}"
        )
    lines += ["", "McNemar's test on shared images (b = only A right, c = only B right):"]
    for p in result.pairs:
        lines.append(
            f"  {p.a} vs {p.b}: {p.n_shared} shared images, accuracy {p.accuracy_a:.3f} vs "
            f"{p.accuracy_b:.3f}, b = {p.b_only_a_right}, c = {p.c_only_b_right}, "
            f"{p.method} test p = {p.pvalue:.4g}"
        )
        if p.note:
            lines.append(f"    note: {p.note}")
        lines.append(f"    -> {p.verdict}")
    return "\n".join(lines)
