"""stylecast.records: the epochs and skipped files a training run hands on, typed."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from stylecast.records import EpochRecord, SkippedFile
from tests._runs import evaluated_run


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory, lookbook: Path) -> Path:
    return evaluated_run(tmp_path_factory, lookbook)


def test_metrics_csv_rows_round_trip(run: Path) -> None:
    table = pd.read_csv(run / "metrics.csv")
    rows = table.to_dict("records")
    records = [EpochRecord.from_json(r) for r in rows]
    assert [r.to_json() for r in records] == rows
    assert pd.DataFrame([r.to_json() for r in records]).to_csv(index=False) == table.to_csv(
        index=False
    )
    first = records[0]
    assert (first.phase, first.epoch) == ("head", 1)
    assert first["val_accuracy"] == first.val_accuracy == rows[0]["val_accuracy"]
    assert first.get("nothing") is None
    # An ensemble's rows name their member first, as its metrics.csv does.
    assert list(first.with_member(2).to_json())[:2] == ["member", "phase"]


def test_skipped_file() -> None:
    s = SkippedFile.from_json({"path": "a/x.jpg", "kind": "truncated", "reason": "truncated"})
    assert s.to_json() == {"path": "a/x.jpg", "kind": "truncated", "reason": "truncated"}
    assert s["path"] == s.path == "a/x.jpg"
    assert SkippedFile.from_json({"path": "b.jpg"}).kind == "unreadable"
