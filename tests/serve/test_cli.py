"""``stylecast serve`` as a user runs it: one error line, or a server that answers."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.serve._uploads import image_bytes


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_folder_without_a_model_is_one_line(tmp_path: Path) -> None:
    res = run_cli("serve", str(tmp_path), "--port", str(_free_port()))
    assert res.returncode == 1
    assert res.stderr.strip().count("\n") == 0
    assert res.stderr.startswith("error: ") and "holds no trained model" in res.stderr
    res = run_cli("serve", str(tmp_path / "absent"))
    assert res.returncode == 1 and "does not exist" in res.stderr


def test_bad_flags_are_one_line(tmp_path: Path) -> None:
    res = run_cli("serve", str(tmp_path), "--port", "70000")
    assert res.returncode == 1 and res.stderr.startswith("error: --port")
    res = run_cli("serve", str(tmp_path), "--api-key", "short")
    assert res.returncode == 1 and "--api-key" in res.stderr
    res = run_cli("serve", str(tmp_path), "--workers", "0")
    assert res.returncode == 1 and "--workers" in res.stderr
    res = run_cli("serve", str(tmp_path), "--max-batch", "0")
    assert res.returncode == 1 and res.stderr.startswith("error: --max-batch is out of range")
    res = run_cli("serve", str(tmp_path), "--max-wait-ms", "-2")
    assert res.returncode == 1 and res.stderr.strip().count("\n") == 0
    assert "--max-wait-ms" in res.stderr


def test_serve_answers_the_page_and_the_api(serve_run: Path, tmp_path: Path) -> None:
    """The first start of a run never exported exports it, then serves ONNX Runtime."""
    import httpx

    pytest.importorskip("onnxscript", reason="the onnx extra is not installed")
    run = tmp_path / "run"
    shutil.copytree(serve_run, run)  # the export writes into the run it serves
    for name in ("model.onnx", "export.json"):
        (run / name).unlink(missing_ok=True)

    port = _free_port()
    with socket.socket() as taken:  # a port in use is one line, before the model loads
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        res = run_cli("serve", str(serve_run), "--port", str(taken.getsockname()[1]))
    assert res.returncode == 1 and "cannot listen on" in res.stderr
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "stylecast",
            "serve",
            str(run),
            "--port",
            str(port),
            "--quiet",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1", "STYLECAST_API_KEY": "env-key-123"},
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None, proc.stderr.read()
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.2)
        assert "<input" in httpx.get(base + "/").text
        assert httpx.get(f"{base}/api/model").status_code == 401  # the key from the env
        key = {"X-API-Key": "env-key-123"}
        card = httpx.get(f"{base}/api/model", headers=key).json()
        assert card["model"]["backend"].startswith("ONNX Runtime fp32")
        files = [("file", ("look.jpg", image_bytes(), "image/jpeg"))]
        res = httpx.post(f"{base}/api/predict", files=files, headers=key, timeout=60)
        assert res.status_code == 200 and len(res.json()["results"]) == 1
        garbage = httpx.post(
            f"{base}/api/predict", files=[("file", ("x.jpg", b"nope"))], headers=key, timeout=60
        )
        assert garbage.status_code == 415 and garbage.json()["error"] == "not_an_image"
        assert httpx.get(f"{base}/healthz").json()["queue"]["served"] == 1
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=30)
    assert f"at http://127.0.0.1:{port}/" in out
    assert f"exporting {run} to ONNX once" in err and "agrees with torch on 100.0%" in err
    assert (run / "model.onnx").is_file() and (run / "export.json").is_file()
