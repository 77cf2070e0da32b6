from __future__ import annotations

import pytest

import stylecast


def test_public_api_resolves_every_name() -> None:
    for name in stylecast.__all__:
        assert getattr(stylecast, name) is not None
    assert issubclass(stylecast.DataError, ValueError)
    assert issubclass(stylecast.DataError, stylecast.StylecastError)
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        stylecast.nope  # noqa: B018
