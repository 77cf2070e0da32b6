"""stylecast.inference.batch: whole folders and manifests, streamed, carrying every column."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from stylecast.errors import ConfigError, DataError, MissingDependencyError, RunError
from stylecast.inference import (
    PredictOptions,
    Predictor,
    check_output_path,
    predict_batch,
    shift_file_for,
    write_predictions,
)
from tests.conftest import run_cli

QUIET = {"progress": False, "shift_check": False}


def test_a_manifest_is_predicted_with_every_column(head_run: Path, same_looks: Path) -> None:
    result = predict_batch(head_run, [same_looks], PredictOptions(precision="fp32", **QUIET))
    t = result.table
    manifest = pd.read_csv(same_looks / "manifest.csv", dtype=str)
    assert list(t.columns) == [
        *manifest.columns,
        "predicted",
        "confidence",
        "p_FallWinter",
        "p_SpringSummer",
    ]
    assert t["path"].tolist() == manifest["path"].tolist()
    assert t["brand"].tolist() == manifest["brand"].tolist()
    assert result.classes == ["FallWinter", "SpringSummer"] and result.calibrated
    assert result.engine == "fp32, channels_last" and result.shift is None
    # The same numbers as the in-memory Predictor (fp32, calibrated).
    want = Predictor.from_run(head_run).predict_proba([same_looks / p for p in t["path"][:8]])
    got = t[["p_FallWinter", "p_SpringSummer"]].to_numpy()[:8]
    np.testing.assert_allclose(got, want, atol=1e-4)
    np.testing.assert_allclose(t["confidence"], got_max(t), atol=1e-6)
    assert (t["predicted"] == t["label"]).mean() > 0.9
    assert result.seconds["total"] >= result.seconds["predict"] > 0
    assert result.images_per_s > 0 and result.predict_images_per_s >= result.images_per_s


def got_max(t: pd.DataFrame) -> np.ndarray:
    return t[["p_FallWinter", "p_SpringSummer"]].to_numpy().max(axis=1)


def test_bf16_agrees_with_fp32_and_batches_do_not_matter(head_run: Path, same_looks: Path) -> None:
    fp32 = predict_batch(head_run, [same_looks], PredictOptions(precision="fp32", **QUIET)).table
    small = PredictOptions(precision="fp32", batch_size=7, trace_min_images=0, **QUIET)
    traced = predict_batch(head_run, [same_looks], small)
    assert traced.engine == "fp32, channels_last, TorchScript-frozen"
    np.testing.assert_allclose(traced.table["p_FallWinter"], fp32["p_FallWinter"], atol=1e-4)
    bf16 = predict_batch(head_run, [same_looks], PredictOptions(precision="bf16", **QUIET))
    assert bf16.engine.startswith("bf16")
    agree = (bf16.table["predicted"] == fp32["predicted"]).mean()
    assert agree >= 0.99
    assert np.abs(bf16.table["p_FallWinter"] - fp32["p_FallWinter"]).max() < 0.03


def test_images_decoded_by_training_are_not_decoded_again(
    head_run: Path, shift_lookbook: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_decoding(jobs: list, **kwargs: object) -> list:
        if jobs:
            raise AssertionError(f"{len(jobs)} image(s) were decoded again")
        return []

    monkeypatch.setattr("stylecast.data.cache.inspect_many", no_decoding)
    # The whole training manifest, and one season's folder: both come from the cache.
    whole = predict_batch(head_run, [shift_lookbook], PredictOptions(**QUIET))
    assert len(whole.table) == 120
    part = predict_batch(head_run, [shift_lookbook / "FallWinter"], PredictOptions(**QUIET))
    assert len(part.table) == 60


def test_unreadable_files_are_skipped_and_none_readable_is_one_line(
    head_run: Path, same_looks: Path, tmp_path: Path
) -> None:
    import shutil

    folder = tmp_path / "mixed"
    shutil.copytree(same_looks / "FallWinter", folder)
    (folder / "broken.jpg").write_text("not a picture")
    result = predict_batch(head_run, [folder], PredictOptions(**QUIET))
    assert len(result.table) == 40
    assert [s["path"] for s in result.skipped] == [str(folder / "broken.jpg")]
    assert "not an image" in result.skipped[0]["reason"]
    with pytest.raises(DataError, match=r"none of the 1 image\(s\) could be read"):
        predict_batch(head_run, [folder / "broken.jpg"], PredictOptions(**QUIET))


def test_write_csv_and_parquet_with_the_shift_check_beside(
    head_run: Path, same_looks: Path, tmp_path: Path
) -> None:
    result = predict_batch(head_run, [same_looks], PredictOptions(progress=False))
    assert result.shift is not None
    written = write_predictions(result, tmp_path / "p.csv")
    assert written == [tmp_path / "p.csv", tmp_path / "p.shift.json"]
    back = pd.read_csv(tmp_path / "p.csv", dtype=str, keep_default_na=False)
    assert back["path"].tolist() == result.table["path"].tolist()
    side = json.loads((tmp_path / "p.shift.json").read_text())
    assert side["predictions"] == "p.csv" and side["n_images"] == 80
    assert side["shifted"] is False and side["domain"]["n_per_side"] == 80
    write_predictions(result, tmp_path / "p.parquet")
    assert pd.read_parquet(tmp_path / "p.parquet")["label"].tolist() == back["label"].tolist()
    assert shift_file_for(tmp_path / "p.parquet") == tmp_path / "p.shift.json"


def test_output_paths_are_checked_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert check_output_path(tmp_path / "a.CSV") == tmp_path / "a.CSV"
    with pytest.raises(ConfigError, match="give a .csv or .parquet file name"):
        check_output_path(tmp_path / "a.txt")
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda n, *a: None if n == "pyarrow" else real(n, *a)
    )
    with pytest.raises(MissingDependencyError, match=r"pip install 'stylecast\[parquet\]'"):
        check_output_path(tmp_path / "a.parquet")
    with pytest.raises(ConfigError, match="precision must be auto, fp32 or bf16"):
        PredictOptions(precision="fp16")


def test_cli_predict_manifest_to_csv(head_run: Path, same_looks: Path, tmp_path: Path) -> None:
    out = tmp_path / "preds.csv"
    res = run_cli("predict", str(head_run), str(same_looks), "--out", str(out), "--quiet")
    assert res.returncode == 0, res.stderr
    assert f"wrote 80 predictions to {out}" in res.stdout
    assert "warning" not in res.stderr and (tmp_path / "preds.shift.json").is_file()
    cols = pd.read_csv(out).columns.tolist()
    assert cols[:3] == ["path", "label", "group"] and cols[-3:] == [
        "confidence",
        "p_FallWinter",
        "p_SpringSummer",
    ]
    res = run_cli(
        "predict", str(head_run), str(same_looks), "--out", str(tmp_path / "p.txt"), "--quiet"
    )
    assert res.returncode == 1 and "give a .csv or .parquet file name" in res.stderr
    assert "Traceback" not in res.stderr


def test_a_usable_onnx_export_is_used_and_agrees(
    head_run: Path, same_looks: Path, tmp_path: Path
) -> None:
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    import shutil

    from stylecast.export import export_run

    run = tmp_path / "run"
    shutil.copytree(head_run, run)
    fp32 = predict_batch(
        run, [same_looks], PredictOptions(backend="torch", precision="fp32", **QUIET)
    )
    with pytest.raises(RunError, match="stylecast export"):
        predict_batch(run, [same_looks], PredictOptions(backend="onnx", **QUIET))
    export_run(run, progress=False)
    auto = predict_batch(run, [same_looks], PredictOptions(**QUIET))
    assert auto.engine == "ONNX Runtime fp32 (model.onnx)"
    np.testing.assert_allclose(auto.table["p_FallWinter"], fp32.table["p_FallWinter"], atol=1e-3)
    torch_only = predict_batch(run, [same_looks], PredictOptions(backend="torch", **QUIET))
    assert not torch_only.engine.startswith("ONNX")
    with pytest.raises(ConfigError, match="backend must be"):
        PredictOptions(backend="tensorrt")


def test_palette_columns_when_asked(head_run: Path, same_looks: Path, tmp_path: Path) -> None:
    opts = PredictOptions(palette=True, workers=1, **QUIET)
    t = predict_batch(head_run, [same_looks / "FallWinter"], opts).table
    assert t.columns[-4:].tolist() == ["palette_colour", "palette_family", "palette_hex", "palette"]
    assert (t["palette_hex"].str.match(r"^#[0-9a-f]{6}$")).all()
    assert (t["palette_family"] != "").all()
    first = t["palette"].iloc[0].split("; ")[0]
    assert first.startswith(t["palette_colour"].iloc[0] + " ") and first.endswith("%")
    manifest = tmp_path / "m.csv"
    manifest.write_text(f"path,palette_family\n{same_looks}/FallWinter/FallWinter_0000.jpg,red\n")
    with pytest.raises(DataError, match="already has column\\(s\\) palette_family"):
        predict_batch(head_run, [manifest], opts)
    plain = predict_batch(head_run, [manifest], PredictOptions(**QUIET)).table
    assert plain["palette_family"].tolist() == ["red"]
