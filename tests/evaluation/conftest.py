"""Fixtures of the evaluation tests."""

from __future__ import annotations

import numpy as np
import pytest

from tests.evaluation._arrays import three_class_arrays


@pytest.fixture
def three_class() -> tuple[np.ndarray, np.ndarray]:
    """A fixed, imperfect 3-class problem (seeded, so values are stable)."""
    return three_class_arrays()
