"""The model behind the server: how many threads each model call gets."""

from __future__ import annotations

from pathlib import Path

from stylecast.export.runtime import usable_cores
from stylecast.serve import ServeSettings
from stylecast.serve.service import ModelService, model_threads


def test_one_worker_takes_every_core_and_more_share_them_out() -> None:
    cores = usable_cores()
    assert model_threads(1) is None  # ONNX Runtime's and torch's own default: every core
    assert model_threads(2) == max(1, cores // 2)
    assert model_threads(cores) == 1
    assert model_threads(cores * 4) == 1  # never none


def test_each_onnx_call_gets_the_cores_divided_by_the_workers(first_start, photos) -> None:  # noqa: ANN001
    run: Path = first_start[0]
    one = ModelService.load(run, ServeSettings(workers=1))
    many = ModelService.load(run, ServeSettings(workers=64))
    threads = [
        s.predictor.onnx.runtime.session.get_session_options().intra_op_num_threads
        for s in (one, many)
    ]
    assert threads == [usable_cores(), 1]
    a, b = (s.predictor.predict_proba(photos) for s in (one, many))
    assert abs(a - b).max() < 1e-5  # the same answers on fewer threads
