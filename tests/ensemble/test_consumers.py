"""Every consumer takes an ensemble run folder unchanged: predict, export, explain, serve,
report, compare."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from stylecast.run import RunFolder
from tests._runs import evaluated_ensemble
from tests.conftest import run_cli


@pytest.fixture(scope="module")
def ens(tmp_path_factory: pytest.TempPathFactory, lookbook: Path) -> Path:
    return evaluated_ensemble(tmp_path_factory, lookbook)


@pytest.fixture(scope="module")
def exported(ens: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("onnxruntime", reason="the onnx extra is not installed")
    from stylecast.export import ExportConfig, export_run

    copy = tmp_path_factory.mktemp("ens-export") / "ens"
    shutil.copytree(ens, copy)
    export_run(
        copy, ExportConfig(int8=True, max_int8_loss=100.0, calibration_images=16), progress=False
    )
    return copy


def test_predict_writes_one_row_per_image_with_the_members_disagreement(
    ens: Path, lookbook: Path, tmp_path: Path
) -> None:
    out = tmp_path / "preds.csv"
    res = run_cli(
        "predict",
        str(ens),
        str(lookbook / "manifest.csv"),
        "--out",
        str(out),
        "--backend",
        "torch",
        "--quiet",
    )
    assert res.returncode == 0, res.stderr
    table = pd.read_csv(out)
    n_images = len(pd.read_csv(lookbook / "manifest.csv"))
    assert len(table) == n_images and table["path"].is_unique
    assert {"group", "brand", "disagreement", "member_std"} <= set(table.columns)
    assert table["disagreement"].isin([0.0, 0.3333, 0.6667]).all()
    # The test split's probabilities are the evaluation's (same calibration, same members).
    ev = pd.read_csv(RunFolder(ens).predictions_file).set_index("path")
    both = table.set_index("path").loc[ev.index]
    np.testing.assert_allclose(both["p_FallWinter"], ev["p_FallWinter"], atol=1e-4)
    np.testing.assert_allclose(both["disagreement"], ev["disagreement"], atol=1e-4)


def test_predictor_and_predict_batch_agree(ens: Path, lookbook: Path) -> None:
    from stylecast.inference import PredictOptions, Predictor, predict_batch

    photos = sorted((lookbook / "SpringSummer").glob("*.jpg"))[:5]
    p = Predictor.from_run(ens, backend="torch")
    proba, spread = p.predict_proba_members(photos)
    assert spread.shape == (5, 2)
    np.testing.assert_allclose(proba, p.predict_proba(photos), atol=1e-6)
    batch = predict_batch(
        ens, photos, PredictOptions(backend="torch", shift_check=False, progress=False)
    )
    np.testing.assert_allclose(batch.table["p_SpringSummer"], proba[:, 1], atol=1e-5)
    np.testing.assert_allclose(batch.table["disagreement"], spread[:, 0], atol=1e-4)


def test_one_onnx_graph_for_the_ensemble_matches_torch(exported: Path, lookbook: Path) -> None:
    record = json.loads((exported / "export.json").read_text())
    assert record["model"]["members"] == 3
    assert record["output"]["members"]["shape"] == ["batch", 3, 2]
    assert record["weights_file"] == [f"members/{k}/model.safetensors" for k in range(3)]
    assert record["parity"]["max_abs_diff"] < 1e-3
    assert record["parity"]["top1_agreement"] == 1.0
    assert record["int8"]["accepted"] is True
    from stylecast.inference import Predictor

    photos = sorted((lookbook / "FallWinter").glob("*.jpg"))[:6]
    torch_p = Predictor.from_run(exported, backend="torch").predict_proba_members(photos)
    onnx_p = Predictor.from_run(exported, backend="onnx").predict_proba_members(photos)
    np.testing.assert_allclose(torch_p[0], onnx_p[0], atol=1e-4)
    np.testing.assert_allclose(torch_p[1], onnx_p[1], atol=1e-3)
    int8 = Predictor.from_run(exported, backend="onnx-int8").predict_proba(photos)
    assert int8.shape == (6, 2)


def test_refitting_member_temperatures_does_not_stale_the_export(exported: Path) -> None:
    from stylecast.export import export_status

    info = RunFolder(exported).model_info()
    RunFolder(exported).write_model_info(info.with_member_temperatures([1.7, 0.9, 1.1]))
    assert export_status(exported).usable
    # Changed member weights do.
    weights = exported / "members" / "1" / "model.safetensors"
    other = exported / "members" / "0" / "model.safetensors"
    shutil.copy2(other, weights)
    from stylecast.ensemble import weights_digest

    members = list(info.members)
    import dataclasses

    members[1] = dataclasses.replace(
        members[1], weights_digest=weights_digest(RunFolder(exported / "members" / "1"))
    )
    RunFolder(exported).write_model_info(dataclasses.replace(info, members=tuple(members)))
    status = export_status(exported)
    assert not status.usable and "other weights" in status.stale


def test_explain_averages_the_members_grad_cam(ens: Path, lookbook: Path) -> None:
    import torch

    from stylecast.evaluation import explain
    from stylecast.evaluation.gradcam import grad_cam
    from stylecast.models import load_model

    photo = sorted((lookbook / "FallWinter").glob("*.jpg"))[0]
    e = explain(ens, photo)
    assert e.out.is_file() and e.cam.shape == (48, 48)
    assert e.cam.max() == pytest.approx(1.0) and e.cam.min() >= 0.0
    model, info = load_model(ens)
    x = torch.randn(2, 3, 48, 48)
    cams, logits = grad_cam(model, x, [0, 0])
    per_member = np.mean([grad_cam(m, x, [0, 0])[0] for m in model.members], axis=0)
    peak = per_member.reshape(2, -1).max(1)[:, None, None]
    np.testing.assert_allclose(cams, per_member / peak, atol=1e-5)
    np.testing.assert_allclose(logits, model(x).detach().numpy(), atol=1e-5)


def test_serve_answers_for_the_ensemble(ens: Path, lookbook: Path) -> None:
    pytest.importorskip("fastapi", reason="the serve extra is not installed")
    from fastapi.testclient import TestClient

    from stylecast.serve import ServeSettings, create_app

    photo = sorted((lookbook / "SpringSummer").glob("*.jpg"))[0]
    with TestClient(create_app(ens, settings=ServeSettings(backend="torch"))) as client:
        card = client.get("/api/model").json()
        assert card["model"]["members"] == 3
        assert card["model"]["description"] == "ensemble of 3 x efficientnet_lite0"
        res = client.post(
            "/api/predict?cam=1", files=[("file", (photo.name, photo.read_bytes(), "image/jpeg"))]
        )
        assert res.status_code == 200, res.text
        (r,) = res.json()["results"]
        assert 0.0 <= r["disagreement"] <= 1.0 and r["member_std"] >= 0.0
        assert r["cam"].startswith("data:image/png;base64,")
        assert sum(r["probabilities"].values()) == pytest.approx(1.0, abs=1e-5)
        # Through the batcher (the default), the members' numbers of the Predictor.
        from stylecast.inference import Predictor

        proba, spread = Predictor.from_run(ens, "torch").predict_proba_members([photo])
        assert list(r["probabilities"].values()) == pytest.approx(list(proba[0]), abs=1e-5)
        assert r["disagreement"] == pytest.approx(spread[0, 0], abs=1e-4)
        assert r["member_std"] == pytest.approx(spread[0, 1], abs=1e-5)
        assert client.get("/healthz").json()["queue"]["batched_images"] == 1


def test_the_report_has_an_ensemble_section(ens: Path) -> None:
    res = run_cli("report", str(ens))
    assert res.returncode == 0, res.stderr
    page = (Path(ens) / "report.html").read_text()
    assert '<section id="ensemble">' in page and "ensemble of 3 members" in page
    assert "the member one would have kept without an ensemble" in page
    assert page.count("(kept on validation)") == 1
    assert (Path(ens) / "ensemble_members.png").is_file()
    assert "ensemble of 3 x efficientnet_lite0" in page  # the overview card


def test_compare_names_the_ensemble(ens: Path) -> None:
    member = Path(ens) / "members" / "0"
    res = run_cli("evaluate", str(member), "--gallery-size", "0", "--quiet")
    assert res.returncode == 0, res.stderr
    from stylecast.evaluation import compare

    result = compare([ens, member])
    assert result.runs[0].model == "ensemble of 3 x efficientnet_lite0"
    assert result.pairs[0].n_shared == json.loads((Path(ens) / "evaluation.json").read_text())["n"]
