"""``stylecast export`` as a user runs it."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import run_cli


def test_export_writes_the_model_and_prints_the_check(exported: Path) -> None:
    (exported / "export.json").unlink()
    (exported / "model.onnx").unlink()
    (exported / "model.int8.onnx").unlink()
    res = run_cli("export", str(exported), "--quiet")
    assert res.returncode == 0, res.stderr
    lines = res.stdout.strip().splitlines()
    assert len(lines) == 3
    assert lines[0].startswith(f"exported {exported / 'model.onnx'} (")
    assert "letterboxed uint8 NHWC pixels in, logits out" in lines[0]
    assert "parity on the test split (14 images): max |logit difference|" in lines[1]
    assert "top-1 agreement 100.0%" in lines[1]
    assert lines[2] == f"wrote {exported / 'export.json'}"
    assert res.stderr == ""  # --quiet: no progress lines, and no exporter chatter
    record = json.loads((exported / "export.json").read_text())
    assert record["parity"]["top1_agreement"] == 1.0 and record["int8"] is None


def test_a_folder_without_a_model_is_one_line(tmp_path: Path) -> None:
    res = run_cli("export", str(tmp_path))
    assert res.returncode == 1
    assert res.stderr.count("\n") == 1 and res.stderr.startswith("error: ")
    assert "holds no trained model" in res.stderr and "Traceback" not in res.stderr


def test_a_bad_opset_is_one_line(exported: Path) -> None:
    res = run_cli("export", str(exported), "--opset", "3")
    assert res.returncode == 1
    assert res.stderr.strip() == "error: --opset must be between 11 and 23, got 3"


def test_an_unknown_format_is_refused_by_the_parser(tmp_path: Path) -> None:
    res = run_cli("export", str(tmp_path), "--format", "tflite")
    assert res.returncode == 1 and "invalid choice: 'tflite'" in res.stderr
