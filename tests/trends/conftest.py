"""Generated tables with known trends, shared by the trends tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest


def trend_table(
    periods: list[object],
    shares: dict[str, list[float]],
    *,
    n: int = 200,
    seed: int = 0,
    period_column: str = "year",
) -> pd.DataFrame:
    """``n`` items per period, categories drawn with the given share per period."""
    rng = np.random.default_rng(seed)
    names = list(shares)
    rows = []
    for i, period in enumerate(periods):
        p = np.array([shares[c][i] for c in names], dtype=float)
        picks = rng.choice(len(names), size=n, p=p / p.sum())
        rows += [{period_column: period, "colour": names[k]} for k in picks]
    return pd.DataFrame(rows)


@pytest.fixture(scope="session")
def rising_table() -> pd.DataFrame:
    """12 years: "rising" grows from 10% to 43%, "flat" stays at 30%, "rest" takes the rest."""
    years = list(range(2010, 2022))
    rising = [0.10 + 0.03 * i for i in range(12)]
    flat = [0.30] * 12
    rest = [1 - a - b for a, b in zip(rising, flat)]
    return trend_table(years, {"rising": rising, "flat": flat, "rest": rest}, n=300, seed=3)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data (real-data tests skip when it is absent)."""
    from tests.conftest import SHARED_DATA

    if (
        not (SHARED_DATA / "fpi-trends").is_dir()
        or not (SHARED_DATA / "fpi-catalogue.csv").is_file()
    ):
        pytest.skip("../shared/data is absent (real-data tests run only beside it)")
    return SHARED_DATA
