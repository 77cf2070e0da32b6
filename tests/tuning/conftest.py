"""Fixtures of the tuning tests."""

from __future__ import annotations

import pytest

from stylecast.data import ImageCache


@pytest.fixture(scope="session")
def tuning_cache(tmp_path_factory: pytest.TempPathFactory) -> ImageCache:
    """One image and feature cache for the tuning tests that do not count cache files.

    Their studies share the lookbook, the input size and the backbone, so the features are
    computed once (on 2 CI cores that is most of a small study's time).
    """
    return ImageCache(tmp_path_factory.mktemp("tuning-cache"))
