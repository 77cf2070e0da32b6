"""Starting the server: what happens between the model's load and uvicorn's first request."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

from benchmarks._load import free_port
from stylecast.serve import ServeSettings
from stylecast.serve.server import serve, settle_heap


def test_settle_heap_moves_what_is_alive_out_of_the_collectors_reach() -> None:
    keep = [{"n": i} for i in range(5000)]
    try:
        settle_heap()
        frozen = gc.get_freeze_count()
        assert frozen >= len(keep)  # the dicts above, and everything loaded before them
        young = [{"n": i} for i in range(100)]
        assert gc.get_freeze_count() == frozen  # later objects are collected as before
        assert len(young) == 100
    finally:
        gc.unfreeze()


def test_serve_freezes_the_loaded_model_before_the_first_request(
    serve_run: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    uvicorn = pytest.importorskip("uvicorn")
    seen: dict[str, int] = {}

    def fake_run(app, **kwargs) -> None:  # noqa: ANN001
        seen["frozen"] = gc.get_freeze_count()
        seen["port"] = kwargs["port"]

    monkeypatch.setattr(uvicorn, "run", fake_run)
    gc.unfreeze()
    port = free_port()
    try:
        serve(serve_run, ServeSettings(backend="torch", auto_export=False), port=port, quiet=True)
    finally:
        gc.unfreeze()
    assert seen["port"] == port
    # torch, timm and the model: far more than a bare interpreter's few tens of thousands
    assert seen["frozen"] > 100_000


def test_serve_shares_torchs_threads_out_among_the_workers(
    serve_run: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import torch

    uvicorn = pytest.importorskip("uvicorn")
    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: None)
    before = torch.get_num_threads()
    try:
        settings = ServeSettings(backend="torch", auto_export=False, workers=64)
        serve(serve_run, settings, port=free_port(), quiet=True)
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
        gc.unfreeze()
