"""stylecast.records: evaluation.json as a typed record, round-tripped through a real run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stylecast.errors import RunError
from stylecast.records import Calibration, ClassMetrics, EvaluationRecord
from stylecast.run_records import EvaluationRecord as ReExported
from tests._runs import evaluated_run


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory, lookbook: Path) -> Path:
    return evaluated_run(tmp_path_factory, lookbook)


def test_a_real_evaluation_round_trips_byte_for_byte(run: Path) -> None:
    path = run / "evaluation.json"
    text = path.read_text(encoding="utf-8")
    record = EvaluationRecord.read(path)
    assert ReExported is EvaluationRecord
    # The file evaluate wrote is record.to_json(), key order and all.
    assert json.dumps(record.to_json(), indent=2) + "\n" == text
    assert EvaluationRecord.from_json(record.to_json()) == record
    # Typed attributes, named as the file's keys.
    raw = json.loads(text)
    assert record.n == raw["n"] and record.accuracy == raw["accuracy"]
    assert record.class_names == tuple(raw["class_names"])
    first = record.class_names[0]
    assert isinstance(record.per_class[first], ClassMetrics)
    assert record.per_class[first].recall == raw["per_class"][first]["recall"]
    assert record.confusion_matrix == tuple(tuple(r) for r in raw["confusion_matrix"])
    assert record.reliability[0].hi == raw["reliability"][0]["hi"]
    assert isinstance(record.calibration, Calibration)
    assert record.calibration.reason == raw["calibration"]["reason"]
    assert record.split == "test" and record.applied_temperature == raw["temperature"]
    assert record["calibration"] == raw["calibration"]  # the dict view, for older code


def test_an_older_file_loads_with_what_it_has() -> None:
    old = {
        "n": 10,
        "accuracy": 0.7,
        "balanced_accuracy": 0.65,
        "log_loss": 0.5,
        "ece": 0.04,
        "class_names": ["FW", "SS"],
        "per_class": {"FW": {"recall": 1.0, "support": 6}, "SS": {"recall": 0.25, "support": 4}},
        "calibration": {"source": "val", "n_val": 12, "temperature": 1.3},
    }
    record = EvaluationRecord.from_json(old)
    assert record.majority is None and record.uncalibrated is None and record.temperature is None
    assert record.applied_temperature == 1.3  # the calibration block's
    assert record.calibration.kept_decision == "val"
    assert record.per_class["SS"].support == 4 and record.breakdown == {}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ([1, 2], r"is malformed \(not a JSON object\)"),
        ({"n": 3}, "lacks 'accuracy'"),
        (
            {"n": 3, "accuracy": 0.5, "balanced_accuracy": 0.5, "log_loss": 1, "ece": "x"},
            "is malformed",
        ),
        (
            {
                "n": 3,
                "accuracy": 0.5,
                "balanced_accuracy": 0.5,
                "log_loss": 1,
                "ece": 0.1,
                "per_class": [1],
            },
            "is malformed",
        ),
    ],
)
def test_errors_name_the_file(tmp_path: Path, content: object, message: str) -> None:
    path = tmp_path / "run" / "evaluation.json"
    path.parent.mkdir()
    path.write_text(json.dumps(content))
    with pytest.raises(RunError, match=message) as err:
        EvaluationRecord.read(path)
    assert str(path) in str(err.value) and "stylecast evaluate" in str(err.value)
    path.write_text("{not json")
    with pytest.raises(RunError, match="is unreadable") as err:
        EvaluationRecord.read(path)
    assert str(path) in str(err.value)
    assert EvaluationRecord.read_if_present(tmp_path / "nothing.json") is None
