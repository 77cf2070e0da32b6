"""The app against a real trained run: predictions, the model card, the page, the docs."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from tests.serve._uploads import image_bytes


@pytest.fixture(scope="module")
def client(serve_run: Path, predictor):  # noqa: ANN001, ANN201
    from fastapi.testclient import TestClient

    from stylecast.serve import ServeSettings, create_app

    app = create_app(serve_run, settings=ServeSettings(), predictor=predictor)
    with TestClient(app) as c:
        yield c


def _files(paths: list[Path]) -> list[tuple[str, tuple[str, bytes, str]]]:
    # The client's content type is deliberately wrong: the bytes decide.
    return [("file", (p.name, p.read_bytes(), "text/plain")) for p in paths]


def test_predict_one_image(client, serve_run: Path, photos: list[Path], predictor) -> None:  # noqa: ANN001
    res = client.post("/api/predict", files=_files(photos[:1]))
    assert res.status_code == 200, res.text
    body = res.json()
    classes = json.loads((serve_run / "model.json").read_text())["classes"]
    assert body["classes"] == classes and body["model"] == "efficientnet_lite0"
    (r,) = body["results"]
    assert r["filename"] == photos[0].name and r["format"] == "JPEG"
    assert (r["width"], r["height"]) == (72, 96)
    assert list(r["probabilities"]) == classes
    assert sum(r["probabilities"].values()) == pytest.approx(1.0, abs=1e-5)
    assert r["predicted"] == max(r["probabilities"], key=r["probabilities"].get)
    assert r["confidence"] == r["probabilities"][r["predicted"]]
    # The same calibrated probabilities as the Predictor on the file.
    expected = predictor.predict_proba([photos[0]])[0]
    assert np.allclose(list(r["probabilities"].values()), expected, atol=1e-5)
    # The palette: shares of the garment that sum to 1, named colours.
    shares = [c["share"] for c in r["palette"]]
    assert r["palette"] and sum(shares) == pytest.approx(1.0, abs=1e-3)
    assert all(re.fullmatch(r"#[0-9a-f]{6}", c["hex"]) and c["name"] for c in r["palette"])
    assert "cam" not in r  # Grad-CAM only on request
    assert res.headers["x-content-type-options"] == "nosniff"
    assert res.headers["cache-control"] == "no-store"


def test_predict_several_images_with_cam(client, photos: list[Path]) -> None:  # noqa: ANN001
    import base64
    import io

    from PIL import Image

    res = client.post("/api/predict?cam=1&palette=0", files=_files(photos))
    assert res.status_code == 200, res.text
    results = res.json()["results"]
    assert [r["filename"] for r in results] == [p.name for p in photos]
    for r in results:
        assert sum(r["probabilities"].values()) == pytest.approx(1.0, abs=1e-5)
        assert "palette" not in r and r["cam_class"] == r["predicted"]
        assert r["cam"].startswith("data:image/png;base64,")
        png = Image.open(io.BytesIO(base64.b64decode(r["cam"].split(",", 1)[1])))
        assert png.size == (224, 224) and png.mode == "RGB"


def test_png_with_transparency_and_a_grey_image(client) -> None:  # noqa: ANN001
    import io

    from PIL import Image

    rgba = Image.new("RGBA", (40, 40), (0, 0, 0, 0))
    rgba.paste((200, 20, 20, 255), (10, 10, 30, 30))
    buf = io.BytesIO()
    rgba.save(buf, format="PNG")
    files = [
        ("file", ("cut-out.png", buf.getvalue(), "image/png")),
        ("file", ("grey.webp", image_bytes("WEBP", colour=(90, 90, 90)), "image/webp")),
    ]
    res = client.post("/api/predict", files=files)
    assert res.status_code == 200, res.text
    cut_out, grey = res.json()["results"]
    assert cut_out["format"] == "PNG" and grey["format"] == "WEBP"
    # Transparent pixels are backdrop: the cut-out's palette is its red square alone.
    assert cut_out["palette"][0]["family"] in ("red", "orange red", "violet red")
    assert cut_out["palette"][0]["share"] > 0.9


def test_model_card_matches_the_run(client, serve_run: Path) -> None:  # noqa: ANN001
    card = client.get("/api/model").json()
    evaluation = json.loads((serve_run / "evaluation.json").read_text())
    run_info = json.loads((serve_run / "run.json").read_text())
    model = json.loads((serve_run / "model.json").read_text())
    assert card["classes"] == model["classes"] == evaluation["class_names"]
    assert card["test"]["n"] == evaluation["n"]
    assert card["test"]["accuracy"] == pytest.approx(evaluation["accuracy"], abs=1e-4)
    assert card["test"]["accuracy_ci"] == pytest.approx(evaluation["accuracy_ci"], abs=1e-4)
    assert card["test"]["split"] == "test"
    assert card["test"]["majority_class"] == evaluation["majority"]["class"]
    assert card["data"] == {"name": Path(run_info["data"]).name, "kind": run_info["data_kind"]}
    assert card["trained"] == run_info["created"]
    assert card["model"]["img_size"] == model["preprocessing"]["img_size"] == 48
    assert card["model"]["temperature"] == pytest.approx(model["temperature"])
    assert card["run"] == serve_run.name
    assert card["limits"]["max_upload_bytes"] == 10 * 1024 * 1024
    assert card["api_key_required"] is False
    assert str(serve_run.parent) not in json.dumps(card)  # no server path leaks


def test_healthz_docs_and_unknown_paths(client) -> None:  # noqa: ANN001
    health = client.get("/healthz").json()
    assert health["status"] == "ok" and health["queue"]["capacity"] == 65
    assert health["queue"]["max_batch"] == 32 and "batched_images" in health["queue"]
    schema = client.get("/openapi.json").json()
    assert {"/api/predict", "/api/model", "/healthz"} <= set(schema["paths"])
    upload = schema["paths"]["/api/predict"]["post"]["requestBody"]["content"]
    assert "file" in upload["multipart/form-data"]["schema"]["properties"]
    assert client.get("/docs").status_code == 200
    missing = client.get("/api/nothing-here")
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"
    wrong_method = client.get("/api/predict")
    assert wrong_method.status_code == 405 and wrong_method.json()["error"]
    bad_query = client.post("/api/predict?cam=maybe", files=[("file", ("a.jpg", image_bytes()))])
    assert bad_query.status_code == 422 and bad_query.json()["error"] == "invalid_request"


def test_page_is_self_contained(client) -> None:  # noqa: ANN001
    res = client.get("/")
    assert res.status_code == 200 and res.headers["content-type"].startswith("text/html")
    html = res.text
    assert 'type="file"' in html and "multiple" in html and "api/predict" in html
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", html)
    assert "http://" not in html and "https://" not in html
    assert "<link" not in html and "@import" not in html
    csp = res.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "connect-src 'self'" in csp
    assert "unsafe-inline" not in csp and csp.count("'sha256-") == 2
