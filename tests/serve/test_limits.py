"""Every limit holds: each bad upload gets a 4xx JSON error, and the server keeps serving."""

from __future__ import annotations

import io
import time
from pathlib import Path

import pytest

from tests.serve._uploads import BOUNDARY, asgi_post, image_bytes, multipart, part_header, png_bomb

MB = 1024 * 1024


@pytest.fixture(scope="module")
def app(serve_run: Path, predictor):  # noqa: ANN001, ANN201
    from stylecast.serve import ServeSettings, create_app

    settings = ServeSettings(max_upload_bytes=64 * 1024, max_pixels=1_000_000, max_files=3)
    return create_app(serve_run, settings=settings, predictor=predictor)


@pytest.fixture(scope="module")
def client(app):  # noqa: ANN001, ANN201
    from fastapi.testclient import TestClient

    with TestClient(app) as c:
        yield c


def _post(client, *files: tuple[str, bytes]):  # noqa: ANN001, ANN202
    return client.post("/api/predict", files=[("file", (n, d, "image/jpeg")) for n, d in files])


def _refused(res, status: int, code: str) -> dict:  # noqa: ANN001
    assert res.status_code == status, res.text
    assert res.headers["content-type"] == "application/json"
    body = res.json()
    assert body["error"] == code and isinstance(body["detail"], str) and body["detail"]
    return body


@pytest.fixture(autouse=True)
def _still_serving(client):  # noqa: ANN001, ANN202
    """After every test here: health and a good prediction still answer."""
    yield
    assert client.get("/healthz").json()["status"] == "ok"
    assert _post(client, ("ok.jpg", image_bytes())).status_code == 200


def test_garbage_is_not_an_image_whatever_its_name(client) -> None:  # noqa: ANN001
    body = _refused(_post(client, ("photo.jpg", b"\x00\x01garbage" * 100)), 415, "not_an_image")
    assert body["filename"] == "photo.jpg"
    _refused(_post(client, ("page.png", b"<!doctype html><html></html>")), 415, "not_an_image")
    # A format Pillow knows but a photo never comes in (ICO) is refused too.
    ico = io.BytesIO()
    from PIL import Image

    Image.new("RGB", (32, 32)).save(ico, format="ICO")
    _refused(_post(client, ("icon.jpg", ico.getvalue())), 415, "not_an_image")


def test_a_png_named_jpg_is_read_as_the_png_it_is(client) -> None:  # noqa: ANN001
    res = _post(client, ("really-a-png.jpg", image_bytes("PNG")))
    assert res.status_code == 200 and res.json()["results"][0]["format"] == "PNG"


def test_empty_truncated_and_tiny_files(client) -> None:  # noqa: ANN001
    _refused(_post(client, ("empty.jpg", b"")), 422, "empty_file")
    whole = image_bytes("PNG", size=(200, 200))
    _refused(_post(client, ("cut.png", whole[: len(whole) // 2])), 422, "truncated_image")
    _refused(_post(client, ("dot.png", image_bytes("PNG", size=(4, 4)))), 422, "too_small")


def test_a_file_over_the_size_limit(client) -> None:  # noqa: ANN001
    big = image_bytes("BMP", size=(200, 200))  # 120 KB > the 64 KB limit of this app
    body = _refused(_post(client, ("big.bmp", big)), 413, "file_too_large")
    assert body["filename"] == "big.bmp"


def test_too_many_files_and_the_wrong_field(client) -> None:  # noqa: ANN001
    four = [(f"{i}.jpg", image_bytes()) for i in range(4)]
    _refused(_post(client, *four), 413, "too_many_files")
    res = client.post("/api/predict", files=[("image", ("a.jpg", image_bytes(), "image/jpeg"))])
    _refused(res, 400, "unexpected_field")
    _refused(client.post("/api/predict", data={"note": "no file"}), 415, "not_multipart")
    res = client.post(
        "/api/predict",
        content=multipart([])[:-4],
        headers={"content-type": f"multipart/form-data; boundary={BOUNDARY}"},
    )
    assert res.status_code == 400 and res.json()["error"] in ("no_file", "incomplete_multipart")
    res = client.post("/api/predict", content=b"{}", headers={"content-type": "application/json"})
    _refused(res, 415, "not_multipart")


def test_a_20000_pixel_square_png_is_refused_from_its_header(app, client) -> None:  # noqa: ANN001
    from stylecast.serve import ServeSettings, create_app

    bomb = png_bomb(20_000)
    assert len(bomb) < 200_000  # a few dozen KB that would decode to 400 MB
    start = time.perf_counter()
    body = _refused(_post(client, ("bomb.png", bomb)), 413, "too_many_pixels")
    assert "400,000,000 pixels" in body["detail"] and time.perf_counter() - start < 2.0
    # Under the default limits as well (10 MB per file, 40 megapixels).
    default = create_app(
        app.state.service.run.path, settings=ServeSettings(), predictor=app.state.service.predictor
    )
    status, _, body, _ = asgi_post(default, [multipart([("bomb.png", bomb)])])
    assert status == 413 and body["error"] == "too_many_pixels"


def test_the_pixel_limit_is_the_configured_one(client) -> None:  # noqa: ANN001
    # 1200 x 900 = 1.08 MP > this app's 1 MP, in a small JPEG.
    res = _post(client, ("wide.jpg", image_bytes("JPEG", size=(1200, 900))))
    _refused(res, 413, "too_many_pixels")


def test_a_50_mb_upload_is_stopped_while_it_streams(serve_run: Path, predictor) -> None:  # noqa: ANN001
    """Default limits: the read stops after ~10 MB of a 50 MB body sent in 1 MB chunks."""
    from stylecast.serve import ServeSettings, create_app

    default = create_app(serve_run, settings=ServeSettings(), predictor=predictor)
    chunks = [part_header("huge.jpg") + b"\xff\xd8\xff\xe0"] + [b"\0" * MB] * 50
    chunks.append(f"\r\n--{BOUNDARY}--\r\n".encode())
    status, headers, body, read = asgi_post(default, chunks)
    assert status == 413 and body["error"] == "file_too_large" and body["filename"] == "huge.jpg"
    assert headers["content-type"] == "application/json"
    assert read <= 12  # 10 MB limit: the other 40 chunks were never read


def test_a_declared_content_length_over_the_limit_is_refused_unread(app) -> None:  # noqa: ANN001
    status, _, body, read = asgi_post(
        app, [b"x" * 1024] * 10, headers={"content-length": str(50 * MB)}
    )
    assert status == 413 and body["error"] == "body_too_large" and read == 0
