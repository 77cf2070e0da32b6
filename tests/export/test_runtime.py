"""stylecast.export.runtime: ONNX Runtime logits, stale exports, the missing extra."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from stylecast.errors import MissingDependencyError, RunError
from stylecast.export import OnnxLogits, export_status, find_export, load_onnx, session_options
from stylecast.run import RunFolder


def _pixels(n: int, size: int = 48) -> np.ndarray:
    rng = np.random.default_rng(3)
    return rng.integers(0, 256, (n, size, size, 3), dtype=np.uint8)


def test_onnx_logits_equal_the_torch_path(exported_base: Path) -> None:
    from stylecast.models import load_model
    from stylecast.training import predict_logits

    model, info = load_model(exported_base)
    pixels = _pixels(5)
    torch_logits = predict_logits(model, pixels, info.preprocessing.mean, info.preprocessing.std)
    onnx = load_onnx(exported_base)
    assert isinstance(onnx, OnnxLogits) and onnx.classes_ == list(info.classes)
    # Batches of 2 (a dynamic batch axis: 2, 2, 1) give the same numbers as one batch.
    out = onnx.logits(pixels, batch_size=2)
    assert out.dtype == np.float32 and out.shape == (5, 2)
    np.testing.assert_allclose(out, torch_logits, atol=1e-4)
    assert onnx.logits(pixels[:0]).shape == (0, 2)


def test_pixels_of_the_wrong_size_or_type_are_refused(exported_base: Path) -> None:
    onnx = load_onnx(exported_base)
    with pytest.raises(ValueError, match=r"uint8 of shape \(N, 48, 48, 3\)"):
        onnx.logits(_pixels(1, 64))
    with pytest.raises(ValueError, match="got float32"):
        onnx.logits(_pixels(1).astype(np.float32))


def test_session_uses_every_usable_core() -> None:
    import os

    so = session_options()
    assert so.intra_op_num_threads == len(os.sched_getaffinity(0))
    assert session_options(1).intra_op_num_threads == 1


def test_a_current_export_is_found(exported_base: Path) -> None:
    run = RunFolder(exported_base)
    status = export_status(run.path)
    assert status.usable and status.stale == ""
    assert (status.onnx, status.int8) == (run.onnx_file, run.onnx_int8_file)
    assert find_export(run.path) == run.onnx_file
    assert find_export(run.path, int8=True) == run.onnx_int8_file


def test_an_export_of_other_weights_is_stale(exported: Path) -> None:
    from stylecast.models import load_model, save_model

    model, info = load_model(exported)
    with __import__("torch").no_grad():
        model.get_classifier().bias.add_(1.0)
    save_model(model, exported, info)  # what retraining the run leaves
    status = export_status(exported)
    assert (status.onnx, status.int8) == (None, None)
    assert "exported from other weights than model.safetensors" in status.stale
    warned: list[str] = []
    assert find_export(exported, warn=warned.append) is None
    assert len(warned) == 1 and "run `stylecast export" in warned[0]
    with pytest.raises(RunError, match="exported from other weights"):
        load_onnx(exported)


def test_the_default_warning_is_one_line_on_stderr(
    exported: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    RunFolder(exported).onnx_file.write_bytes(b"not the exported file")
    assert find_export(exported) is None
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("warning: ")
    assert "is not the file export.json describes" in err and err.strip().endswith("using torch")


def test_no_export_is_no_warning(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert export_status(tmp_path) == export_status(tmp_path)
    assert find_export(tmp_path) is None and capsys.readouterr().err == ""
    with pytest.raises(RunError, match="write one with `stylecast export"):
        load_onnx(tmp_path)


def test_a_half_finished_export_is_ignored(exported: Path) -> None:
    run = RunFolder(exported)
    run.export_file.write_text('{"format": 1, "in_progress": true}')
    assert export_status(exported).onnx is None
    run.export_file.write_text("{broken")
    assert "no readable export.json" in export_status(exported).stale


def test_missing_onnxruntime_names_the_extra(
    exported_base: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from stylecast.export import ExportConfig, export_run

    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import onnxruntime -> ImportError
    with pytest.raises(MissingDependencyError, match=r"pip install 'stylecast\[onnx\]'"):
        load_onnx(exported_base)
    with pytest.raises(MissingDependencyError, match=r"pip install 'stylecast\[onnx\]'"):
        export_run(exported_base, ExportConfig(), progress=False)
