"""stylecast.records.DataCheckRecord: data_check.json typed, read by both of its renderings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stylecast.data import format_report
from stylecast.errors import RunError
from stylecast.records import DataCheckRecord
from tests._runs import evaluated_run


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory, lookbook: Path) -> Path:
    return evaluated_run(tmp_path_factory, lookbook)


def test_a_run_data_check_round_trips_byte_for_byte(run: Path) -> None:
    path = run / "data_check.json"
    text = path.read_text(encoding="utf-8")
    record = DataCheckRecord.read_if_present(path)
    assert record is not None
    assert json.dumps(record.to_json(), indent=2) + "\n" == text
    raw = json.loads(text)
    assert record.n_images == raw["n_images"] and record.classes == raw["classes"]
    assert record.duplicates.clusters == raw["duplicates"]["clusters"]
    assert record.groups.column == raw["groups"]["column"] == "group"
    assert record.split == raw["split"]  # the run's own addition
    # Both renderings read the one record: the text gives the same lines from it or its JSON.
    assert format_report(record) == format_report(raw)


def test_a_partial_file_loads_and_a_bad_one_names_itself(tmp_path: Path) -> None:
    record = DataCheckRecord.from_json({"n_images": 4, "converted_to_rgb": {"alpha": 2}})
    assert record.duplicates is None and record.groups is None
    assert record.converted_text == "2 alpha"
    path = tmp_path / "data_check.json"
    path.write_text("[1]")
    with pytest.raises(RunError, match="data_check.json is malformed") as err:
        DataCheckRecord.read_if_present(path)
    assert str(path) in str(err.value)
    path.write_text("{")
    with pytest.raises(RunError, match="is unreadable"):
        DataCheckRecord.read_if_present(path)
