"""Accuracy broken down by any manifest column (article type, gender, colour, brand, period).

An analyst's first question after "how good is it" is "where is it bad": accuracy per value of
every manifest column that groups the images, each with a Wilson 95 % interval, so that a
value seen on 6 images is not read like one seen on 600.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from stylecast.evaluation.intervals import wilson_interval

__all__ = ["MAX_VALUES", "accuracy_by", "breakdown_columns"]

# A column with more distinct values than this names products, not groups (ids, names).
MAX_VALUES = 30
_OWN = {"path", "true", "predicted", "confidence", "correct", "split", "label", "relpath"}


def breakdown_columns(predictions: pd.DataFrame) -> list[str]:
    """Manifest columns worth breaking accuracy down by: 2..MAX_VALUES distinct values that
    group at least two images each on average."""
    out = []
    for col in predictions.columns:
        if col in _OWN or col.startswith("p_"):
            continue
        values = predictions[col].astype(str).replace({"nan": "", "None": ""})
        distinct = values[values != ""].nunique()
        if 2 <= distinct <= MAX_VALUES and len(values) >= 2 * distinct:
            out.append(col)
    return out


def accuracy_by(
    predictions: pd.DataFrame, columns: Sequence[str] | None = None
) -> dict[str, list[dict[str, Any]]]:
    """``{column: [{value, n, accuracy, ci}, ...]}``, values by descending count.

    ``predictions`` needs a boolean ``correct`` column (``predictions.csv``); ``columns``
    default to :func:`breakdown_columns`. Blank values are grouped as ``"(blank)"``.
    """
    columns = breakdown_columns(predictions) if columns is None else list(columns)
    correct = predictions["correct"].astype(str).str.lower().isin(("true", "1"))
    out: dict[str, list[dict[str, Any]]] = {}
    for col in columns:
        values = predictions[col].astype(str).replace({"nan": "", "None": ""})
        values = values.where(values != "", "(blank)")
        rows = []
        for value, group in correct.groupby(values, sort=False):
            n, k = int(len(group)), int(group.sum())
            rows.append(
                {"value": str(value), "n": n, "accuracy": k / n, "ci": wilson_interval(k, n)}
            )
        out[col] = sorted(rows, key=lambda r: (-r["n"], r["value"]))
    return out
