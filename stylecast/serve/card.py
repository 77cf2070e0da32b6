"""The model card: what the page shows beside the predictions and ``GET /api/model`` returns.

Read once at startup from the run folder: ``model.json`` (architecture, classes, input size,
temperature), ``evaluation.json`` (test accuracy with its 95% interval, the majority-class
baseline) and ``run.json`` (the data source and when the run was made). Only the *name* of
the data source is shown, never the server's path to it.
"""

from __future__ import annotations

from typing import Any

from stylecast.errors import RunError
from stylecast.records import EvaluationRecord
from stylecast.run import RunFolder
from stylecast.serve.settings import ServeSettings

__all__ = ["build_card", "calibration"]


def _round(x: float | None, digits: int = 4) -> float | None:
    return None if x is None else round(float(x), digits)


def _interval(ci: tuple[float, float] | None) -> list[float] | None:
    return None if ci is None else [round(float(ci[0]), 4), round(float(ci[1]), 4)]


def _test(run: RunFolder) -> dict[str, Any] | None:
    from stylecast.evaluation import Headline

    record = EvaluationRecord.read_if_present(run.evaluation_file)
    if record is None:
        return None
    h = Headline.from_record(record)
    return {
        "split": h.split,
        "n": h.n,
        "accuracy": _round(h.accuracy),
        "accuracy_ci": _interval(h.accuracy_ci),
        "balanced_accuracy": _round(h.balanced_accuracy),
        "balanced_accuracy_ci": _interval(h.balanced_accuracy_ci),
        "majority_class": h.majority_class,
        "majority_share": _round(h.majority_share),
        "beats_majority": h.beats_majority,
        "log_loss": _round(h.log_loss),
        "ece": _round(h.ece),
        "small_sample": h.small_sample,
    }


def calibration(temperature: float) -> str:
    """What the probabilities are: recalibrated by a kept temperature, or the network's own."""
    if abs(float(temperature) - 1.0) < 1e-9:
        return "not recalibrated (temperature 1)"
    return (
        f"calibrated (temperature {float(temperature):.2f}, fitted on the run's validation "
        "split and kept because it helped out of sample)"
    )


def build_card(run: RunFolder, settings: ServeSettings, *, backend: str) -> dict[str, Any]:
    """The card of ``run`` as the JSON ``GET /api/model`` answers (RunError if no model)."""
    info = run.model_info()
    try:
        run_info = run.info()
    except RunError:  # a model copied without its run.json: the card says less
        run_info = None
    data = None
    if run_info is not None:
        data = {"name": run_info.data.name, "kind": run_info.data_kind or None}
    return {
        "run": run.path.resolve().name,
        "model": {
            "name": info.name,
            "timm_name": info.timm_name,
            "img_size": info.preprocessing.img_size,
            "temperature": round(info.temperature, 6),
            "calibration": calibration(info.temperature),
            "backend": backend,
            "description": info.describe(),
            "members": len(info.members) or None,
        },
        "classes": list(info.classes),
        "test": _test(run),
        "data": data,
        "trained": (run_info.created or None) if run_info else None,
        "stylecast_version": (run_info.stylecast_version or None) if run_info else None,
        "limits": settings.limits(),
        "api_key_required": settings.api_key is not None,
    }
