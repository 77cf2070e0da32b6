"""The model card: limits as integers, and what it says of calibration."""

from __future__ import annotations

import json
from pathlib import Path

from stylecast.run import RunFolder
from stylecast.serve import ServeSettings
from stylecast.serve.card import build_card


def test_api_model_limits_are_integers(serve_run: Path, predictor) -> None:  # noqa: ANN001
    from fastapi.testclient import TestClient

    from stylecast.serve import create_app

    app = create_app(serve_run, settings=ServeSettings(), predictor=predictor)
    with TestClient(app) as client:
        limits = client.get("/api/model").json()["limits"]
        schema = client.get("/openapi.json").json()
    assert limits == {
        "max_upload_bytes": 10 * 1024 * 1024,
        "max_pixels": 40_000_000,
        "max_files": 8,
        "min_side": 8,
        "timeout_s": 30,
    }
    assert all(type(v) is int for v in limits.values()), limits
    props = schema["components"]["schemas"]["Limits"]["properties"]
    assert all(props[k]["type"] == "integer" for k in limits if k != "timeout_s")


def test_a_fractional_timeout_stays_a_number(serve_run: Path) -> None:
    assert ServeSettings(timeout=2.5).limits()["timeout_s"] == 2.5
    assert type(ServeSettings(timeout=30).limits()["timeout_s"]) is int


def test_the_card_says_not_recalibrated_at_temperature_one(serve_run: Path, tmp_path: Path) -> None:
    import shutil

    run = tmp_path / "run"
    shutil.copytree(serve_run, run)
    model = json.loads((run / "model.json").read_text())
    model["temperature"] = 1.0
    (run / "model.json").write_text(json.dumps(model))
    card = build_card(RunFolder(run), ServeSettings(), backend="torch")
    assert card["model"]["calibration"] == "not recalibrated (temperature 1)"
    model["temperature"] = 1.37
    (run / "model.json").write_text(json.dumps(model))
    card = build_card(RunFolder(run), ServeSettings(), backend="torch")
    assert card["model"]["calibration"].startswith("calibrated (temperature 1.37")


def test_the_page_does_not_claim_calibration_by_itself() -> None:
    from stylecast.serve.app import page_html

    html = page_html()
    assert "Probabilities are calibrated" not in html
