"""The server's settings, and the clear error when the serve extra is missing."""

from __future__ import annotations

import importlib
import sys

import pytest

from stylecast.errors import ConfigError, MissingDependencyError
from stylecast.serve import ServeSettings


def test_defaults_and_derived_limits() -> None:
    s = ServeSettings()
    assert (s.max_upload_bytes, s.max_pixels, s.max_files) == (10 * 1024 * 1024, 40_000_000, 8)
    assert s.capacity == 65 and s.api_key is None
    assert (s.max_batch, s.max_wait_ms, s.batching) == (32, 5.0, True)
    assert s.max_body_bytes > s.max_files * s.max_upload_bytes
    assert s.limits()["min_side"] == 8


@pytest.mark.parametrize(
    ("kwargs", "flag"),
    [
        ({"max_upload_bytes": 0}, "--max-upload-mb"),
        ({"max_pixels": 200_000_000}, "--max-pixels"),
        ({"max_files": 0}, "--max-files"),
        ({"workers": 0}, "--workers"),
        ({"queue": -1}, "--queue"),
        ({"timeout": 0}, "--timeout"),
        ({"max_batch": 2000}, "--max-batch"),
        ({"max_wait_ms": 5000}, "--max-wait-ms"),
        ({"api_key": "short"}, "--api-key"),
        ({"api_key": "has a space in it"}, "--api-key"),
    ],
)
def test_bad_values_name_their_flag(kwargs: dict, flag: str) -> None:
    with pytest.raises(ConfigError, match=flag):
        ServeSettings(**kwargs)


def test_a_missing_extra_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "fastapi", None)  # as if it were not installed
    monkeypatch.delitem(sys.modules, "stylecast.serve.app", raising=False)
    with pytest.raises(MissingDependencyError, match=r"pip install 'stylecast\[serve\]'"):
        importlib.import_module("stylecast.serve.app")
