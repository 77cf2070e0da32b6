"""stylecast.export.pipeline: export, parity on the test split, the int8 rule, export.json."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from stylecast.errors import ConfigError, RunError
from stylecast.export import ExportConfig, export_run, export_status, format_export, load_onnx
from stylecast.fileio import read_json
from stylecast.run import RunFolder


def _fast_export(monkeypatch: pytest.MonkeyPatch, source: Path) -> list[int]:
    """Replace the torch export by a copy of an earlier one (the slow step is not under test)."""
    import stylecast.export.graph as graph

    calls: list[int] = []

    def copy_export(model, prep, path, *, opset, exporter):  # noqa: ANN001, ARG001
        calls.append(opset)
        shutil.copyfile(source / RunFolder.ONNX, path)
        return "dynamo"

    monkeypatch.setattr(graph, "export_onnx", copy_export)
    return calls


def test_export_matches_torch_on_the_test_split(exported_base: Path) -> None:
    run = RunFolder(exported_base)
    record = read_json(run.export_file)
    splits = run.splits()
    n_test = int((splits["split"] == "test").sum())
    parity = record["parity"]
    assert parity["split"] == "test" and parity["images"] == n_test > 0
    assert parity["max_abs_diff"] < 1e-3
    assert parity["top1_agreement"] == 1.0
    assert parity["accuracy_onnx"] == parity["accuracy_torch"]
    # The run's own evaluation scored the same images with torch.
    evaluation = read_json(run.evaluation_file)
    assert parity["accuracy_torch"] == pytest.approx(evaluation["accuracy"])


def test_export_json_describes_the_files_and_the_graph(exported_base: Path) -> None:
    from stylecast.data import file_digest

    run = RunFolder(exported_base)
    record = read_json(run.export_file)
    assert record["format"] == 1 and "in_progress" not in record
    assert record["weights_digest"] == file_digest(run.weights_file)
    assert record["onnx"] == {
        "file": "model.onnx",
        "bytes": run.onnx_file.stat().st_size,
        "digest": file_digest(run.onnx_file),
    }
    assert record["exporter"] in ("dynamo", "torchscript") and record["opset"] == 18
    assert record["model"] == {
        "timm_name": "tf_efficientnet_lite0",
        "classes": ["FallWinter", "SpringSummer"],
        "img_size": 48,
    }
    assert record["input"]["dtype"] == "uint8"
    assert record["input"]["shape"] == ["batch", 48, 48, 3]
    assert record["output"]["shape"] == ["batch", 2]
    assert {"torch", "onnxruntime", "onnx", "stylecast"} <= set(record["versions"])


def test_int8_is_calibrated_on_training_images_and_its_accuracy_recorded(
    exported_base: Path,
) -> None:
    run = RunFolder(exported_base)
    entry = read_json(run.export_file)["int8"]
    n_train = int((run.splits()["split"] == "train").sum())
    assert entry["accepted"] is True and entry["file"] == "model.int8.onnx"
    assert entry["calibration_images"] == min(16, n_train)
    assert entry["change_points"] == pytest.approx(
        100 * (entry["accuracy_int8"] - entry["accuracy_fp32"]), abs=1e-3
    )
    assert entry["max_loss_points"] == 100.0
    assert entry["quantisation"]["format"] == "QDQ"
    assert entry["quantisation"]["per_channel"] is True
    assert run.onnx_int8_file.is_file()
    # int8 weights: about a quarter of the fp32 file.
    assert run.onnx_int8_file.stat().st_size < 0.4 * run.onnx_file.stat().st_size
    assert not (run.path / run.ONNX_INT8_REJECTED).exists()
    assert export_status(run.path).int8 == run.onnx_int8_file
    assert load_onnx(run.path, int8=True).logits(np.zeros((2, 48, 48, 3), np.uint8)).shape == (
        2,
        2,
    )


def test_int8_losing_accuracy_is_kept_aside(
    exported: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fast_export(monkeypatch, exported)
    # A threshold no model can meet: int8 must beat fp32 by 100 points.
    cfg = ExportConfig(int8=True, max_int8_loss=-100.0, calibration_images=8)
    result = export_run(exported, cfg, progress=False)
    run = RunFolder(exported)
    assert result.int8 is not None and not result.int8.accepted
    assert result.int8.path == run.path / run.ONNX_INT8_REJECTED and result.int8.path.is_file()
    assert not run.onnx_int8_file.exists()
    entry = read_json(run.export_file)["int8"]
    assert entry["accepted"] is False and entry["file"] == run.ONNX_INT8_REJECTED
    assert export_status(exported).int8 is None
    assert export_status(exported).onnx == run.onnx_file
    with pytest.raises(RunError, match="holds no accepted int8 model"):
        load_onnx(exported, int8=True)
    text = format_export(result)
    assert "refused, it loses more than -100 point(s); kept aside as" in text
    assert str(result.int8.path) in text


def test_reexport_keeps_an_int8_model_of_the_same_weights(
    exported: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    calls = _fast_export(monkeypatch, exported)
    before = read_json(RunFolder(exported).export_file)["int8"]
    result = export_run(exported, ExportConfig(opset=17), progress=True)
    assert calls == [17] and result.int8 is None
    captured = capsys.readouterr()
    assert captured.out == ""  # progress goes to stderr, results are the caller's to print
    assert captured.err.splitlines() == [
        "exporting tf_efficientnet_lite0 at 48 px to ONNX (opset 17)",
        "checking parity on 14 test images",
    ]
    record = read_json(RunFolder(exported).export_file)
    assert record["int8"] == before and record["opset"] == 17
    assert export_status(exported).int8 == RunFolder(exported).onnx_int8_file


def test_reexport_of_new_weights_drops_the_old_int8_model(
    exported: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fast_export(monkeypatch, exported)
    _retrain(exported)
    export_run(exported, ExportConfig(), progress=False)
    run = RunFolder(exported)
    assert read_json(run.export_file)["int8"] is None
    assert not run.onnx_int8_file.exists()


def _retrain(run: Path) -> None:
    """New weights in the run (what a second training would leave)."""
    from stylecast.models import load_model, save_model

    model, info = load_model(run)
    with __import__("torch").no_grad():
        model.get_classifier().bias.add_(0.5)
    save_model(model, run, info)


def test_a_model_file_of_someone_else_is_never_replaced(exported: Path) -> None:
    run = RunFolder(exported)
    run.export_file.unlink()
    before = run.onnx_file.read_bytes()
    with pytest.raises(RunError, match="was not written by `stylecast export`; move it away"):
        export_run(exported, ExportConfig(), progress=False)
    assert run.onnx_file.read_bytes() == before


def test_a_run_without_a_model_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(RunError, match="holds no trained model"):
        export_run(tmp_path, ExportConfig(), progress=False)


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"format": "tflite"}, "--format 'tflite' is not supported"),
        ({"opset": 5}, "--opset must be between 11 and 23"),
        ({"calibration_images": 0}, "at least 1"),
        ({"exporter": "magic"}, "exporter must be"),
    ],
)
def test_config_is_validated(kw: dict, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        ExportConfig(**kw)


def test_unreadable_test_images_are_skipped_and_counted(
    exported: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dataclasses import replace

    _fast_export(monkeypatch, exported)
    run = RunFolder(exported)
    info = run.info()
    data = tmp_path / "data"
    shutil.copytree(info.image_root, data)
    run.write_info(replace(info, data=data / info.data.name if info.data.is_file() else data))
    test_rows = run.splits().query("split == 'test'")
    (run.image_root() / test_rows["path"].iloc[0]).write_bytes(b"")  # an emptied file
    result = export_run(exported, ExportConfig(), progress=False)
    assert (result.parity.images, result.parity.skipped) == (len(test_rows) - 1, 1)
    assert read_json(run.export_file)["parity"]["skipped"] == 1
    assert "(1 unreadable images skipped)" in format_export(result)
