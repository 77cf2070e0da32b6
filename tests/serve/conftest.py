"""A trained, evaluated run and its loaded Predictor, shared by the serve tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests._runs import evaluated_run


@pytest.fixture(scope="session")
def serve_run(tmp_path_factory: pytest.TempPathFactory, lookbook: Path) -> Path:
    pytest.importorskip("fastapi", reason="the serve extra is not installed")
    return evaluated_run(tmp_path_factory, lookbook)


@pytest.fixture(scope="session")
def predictor(serve_run: Path):  # noqa: ANN201 - stylecast.inference.Predictor
    from stylecast.inference import Predictor

    return Predictor.from_run(serve_run)


@pytest.fixture(scope="session")
def photos(lookbook: Path) -> list[Path]:
    """Three lookbook photos: two of one season, one of the other."""
    return [
        *sorted((lookbook / "FallWinter").glob("*.jpg"))[:2],
        sorted((lookbook / "SpringSummer").glob("*.jpg"))[0],
    ]
