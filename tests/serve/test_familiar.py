"""The out-of-domain signal: photos that are not garments are flagged, held-out garments not."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from stylecast.serve.familiar import Familiarity


def _jpeg(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="JPEG")
    return buf.getvalue()


def _not_garments() -> dict[str, bytes]:
    data = pytest.importorskip("skimage.data")
    return {
        "astronaut.jpg": _jpeg(data.astronaut()),
        "chelsea.jpg": _jpeg(data.chelsea()),
        "coffee.jpg": _jpeg(data.coffee()),
        "rocket.jpg": _jpeg(data.rocket()),
    }


@pytest.fixture(scope="module")
def held_out(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Garments the run never saw: the same lookbook generator, another seed."""
    from stylecast.demo.lookbook import make_lookbook

    root = tmp_path_factory.mktemp("held-out")
    make_lookbook(root, 10, seed=7, image_size=(72, 96))
    return sorted(root.rglob("*.jpg"))


@pytest.mark.parametrize("backend", ["torch", "onnx"])
def test_non_garments_are_unusual_and_garments_are_not(
    serve_run: Path, held_out: list[Path], backend: str, request: pytest.FixtureRequest
) -> None:
    from fastapi.testclient import TestClient

    from stylecast.serve import ServeSettings, create_app

    # onnx: the run as a first start exported it (shared with tests/serve/test_backend.py)
    run = request.getfixturevalue("first_start")[0] if backend == "onnx" else serve_run
    app = create_app(run, settings=ServeSettings(backend=backend))
    with TestClient(app) as client:
        card = client.get("/api/model").json()["familiarity"]
        assert card["available"] is True and card["reference_images"] >= 12
        assert backend in card["features"].lower()
        files = [("file", (n, b, "image/jpeg")) for n, b in _not_garments().items()]
        res = client.post("/api/predict", files=files)
        assert res.status_code == 200, res.text
        for r in res.json()["results"]:
            assert r["unusual"] is True, r
            fam = r["familiarity"]
            assert fam["distance"] > fam["threshold"] and fam["percentile"] == 100.0
        flagged = 0
        for s in range(0, len(held_out), 8):
            part = held_out[s : s + 8]
            res = client.post(
                "/api/predict",
                files=[("file", (p.name, p.read_bytes(), "image/jpeg")) for p in part],
            )
            assert res.status_code == 200, res.text
            flagged += sum(r["unusual"] for r in res.json()["results"])
        assert flagged <= 0.1 * len(held_out), f"{flagged} of {len(held_out)} garments flagged"


def test_probabilities_are_those_of_the_predictor(serve_run: Path, held_out: list[Path]) -> None:
    from fastapi.testclient import TestClient

    from stylecast.inference import Predictor
    from stylecast.serve import ServeSettings, create_app

    app = create_app(serve_run, settings=ServeSettings(backend="torch"))
    expected = Predictor.from_run(serve_run, "torch").predict_proba(held_out[:4])
    with TestClient(app) as client:
        files = [("file", (p.name, p.read_bytes(), "image/jpeg")) for p in held_out[:4]]
        got = [
            list(r["probabilities"].values())
            for r in client.post("/api/predict", files=files).json()["results"]
        ]
    assert np.allclose(got, expected, atol=1e-5)


def test_without_a_signal_the_fields_are_null_and_the_card_says_why(
    serve_run: Path, predictor
) -> None:  # noqa: ANN001
    from fastapi.testclient import TestClient

    from stylecast.serve import ServeSettings, create_app

    class Plain:  # a predictor that gives probabilities only
        classes_ = predictor.classes_

        def predict_proba(self, images):  # noqa: ANN001, ANN202
            return predictor.predict_proba(images)

    app = create_app(serve_run, settings=ServeSettings(), predictor=Plain())
    with TestClient(app) as client:
        card = client.get("/api/model").json()["familiarity"]
        assert card == {"available": False, "reason": "the predictor gives no features"}
        res = client.post(
            "/api/predict",
            files=[("file", ("a.jpg", _jpeg(np.full((64, 48, 3), 128, np.uint8)), "image/jpeg"))],
        )
        assert res.status_code == 200, res.text
        (r,) = res.json()["results"]
        assert r["unusual"] is None and r["familiarity"] is None


def test_threshold_is_the_99th_percentile_of_leave_one_out_distances() -> None:
    rng = np.random.default_rng(0)
    ref = rng.normal(size=(200, 16)) + 5.0  # a cloud around one direction
    fam = Familiarity(ref, features="test")
    near = fam.score(ref[:20] + rng.normal(scale=0.01, size=(20, 16)))
    far = fam.score(-ref[:3])
    assert sum(s["unusual"] for s in near) == 0
    assert all(s["unusual"] and s["percentile"] == 100.0 for s in far)
    assert fam.card()["k"] == 5 and fam.card()["reference_images"] == 200
    assert Familiarity(None, "why").score(ref[:2]) == [None, None]


def test_the_reference_is_kept_in_the_run_and_checked(serve_run: Path, tmp_path: Path) -> None:
    """Computed once and kept in RUN/familiarity_reference.npz; a later start reads it, a
    damaged or foreign file is recomputed, never trusted."""
    import shutil

    from stylecast.inference import Predictor
    from stylecast.run import RunFolder
    from stylecast.serve import familiar

    shutil.copytree(serve_run, tmp_path / "run")
    run = RunFolder(tmp_path / "run")
    run.familiarity_file.unlink(missing_ok=True)
    predictor = Predictor.from_run(run.path, "torch")
    model = familiar.feature_model(predictor)
    said: list[str] = []
    first = familiar.build_familiarity(run, predictor, model, said.append)
    assert run.familiarity_file.is_file() and len(said) == 1 and "computing" in said[0]
    familiar._CACHE.clear()
    said.clear()
    again = familiar.build_familiarity(run, predictor, model, said.append)
    assert said == [] and np.allclose(again.reference, first.reference)
    assert again.threshold == first.threshold
    with np.load(run.familiarity_file) as z:
        kept = {k: z[k] for k in z.files}
    kept["features"] = np.ones_like(kept["features"])  # the digest no longer matches
    np.savez(run.familiarity_file, **kept)
    familiar._CACHE.clear()
    said.clear()
    third = familiar.build_familiarity(run, predictor, model, said.append)
    assert len(said) == 1 and np.allclose(third.reference, first.reference)
