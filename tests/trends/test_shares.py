"""Shares per period with bootstrap intervals, weights, colour families."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from stylecast.errors import DataError
from stylecast.trends import TrendsConfig, colour_family, order_periods
from stylecast.trends.shares import category_colours, period_shares


def _shares(table: pd.DataFrame, **kw: object):
    cfg = TrendsConfig(period_column="year", by=("colour",), **kw)  # type: ignore[arg-type]
    rows, axis, _ = order_periods(table, cfg, "t.csv")
    return period_shares(rows, axis, "colour", cfg)


def test_counts_shares_and_intervals() -> None:
    table = pd.DataFrame({"year": [2020] * 4 + [2021] * 6, "colour": list("aaab") + list("abbbbb")})
    shares, notes = _shares(table, min_items=5)
    assert shares.categories == ("b", "a")  # largest first
    np.testing.assert_array_equal(shares.items, [[1, 3], [5, 1]])
    np.testing.assert_allclose(shares.share, [[0.25, 0.75], [5 / 6, 1 / 6]])
    assert list(shares.sparse) == [True, False]  # 4 items < min_items 5
    assert np.all(shares.low <= shares.share + 1e-12) and np.all(
        shares.share <= shares.high + 1e-12
    )
    long = shares.table
    assert list(long.columns[:6]) == ["by", "kind", "period", "period_index", "category", "count"]
    row = long[(long["period"] == "2021") & (long["category"] == "b")].iloc[0]
    assert row["share"] == pytest.approx(0.833333) and row["total"] == 6 and not row["sparse"]
    assert notes == []


def test_bootstrap_interval_width_matches_binomial() -> None:
    table = pd.DataFrame({"year": [1] * 400 + [2] * 400, "colour": (["x"] * 100 + ["y"] * 300) * 2})
    shares, _ = _shares(table, bootstrap=2000)
    j = shares.categories.index("x")
    half = (shares.high[0, j] - shares.low[0, j]) / 2
    assert half == pytest.approx(1.96 * np.sqrt(0.25 * 0.75 / 400), rel=0.15)


def test_value_weights_and_bad_values() -> None:
    table = pd.DataFrame(
        {"year": [1, 1, 2, 2], "colour": ["a", "b", "a", "b"], "units": [3.0, 1.0, 1.0, 1.0]}
    )
    shares, _ = _shares(table, value_column="units", min_items=1)
    np.testing.assert_allclose(shares.share[:, shares.categories.index("a")], [0.75, 0.5])
    assert np.isfinite(shares.low).all()
    for bad in (-1.0, np.nan, "many"):
        broken = table.astype({"units": object}).copy()
        broken.loc[2, "units"] = bad
        with pytest.raises(DataError, match="--value 'units' has 1 missing, negative or non-num"):
            _shares(broken, value_column="units")


def test_missing_categories_are_left_out_with_a_note() -> None:
    table = pd.DataFrame({"year": [1, 1, 2, 2], "colour": ["a", None, "a", "b"]})
    shares, notes = _shares(table, min_items=1)
    assert notes == ["1 rows without a 'colour' value were left out of its shares"]
    assert shares.n_items.tolist() == [1, 2]


def test_colour_families() -> None:
    assert colour_family("Navy Blue") == "Blue"
    assert colour_family("Off White") == "White"
    assert colour_family("burgundy") == "Red"
    assert colour_family("Fluorescent Green") == "Green"
    assert colour_family("Pink/Purple") == "Pink/Purple"
    assert colour_family("Plaid-ish") == "Other"
    table = pd.DataFrame({"year": [1, 1, 2, 2], "colour": ["Navy Blue", "Blue", "Teal", "Red"]})
    shares, _ = _shares(table, min_items=1, colour_families=("colour",))
    assert shares.categories == ("Blue", "Red")
    np.testing.assert_allclose(shares.share[:, 0], [1.0, 0.5])
    colours = category_colours(["Black", "Navy Blue", "Pink/Purple", "other"])
    assert (
        colours is not None and colours[0] == "#1b1b1b" and colours[1] == "#001146"
    )  # xkcd:navy blue
    assert category_colours(["tee", "dress", "coat"]) is None


def test_colornamer_families_are_drawn_in_their_own_colour() -> None:
    """predict's palette_family column (colornamer's 26 families): grey is grey, not the
    first colour of matplotlib's cycle (issue 25)."""
    from stylecast.colours import FAMILY_HEX

    names = ["grey", "black", "blue", "white", "orange red", "yellow ochre", "sienna", "other"]
    assert category_colours(names) == [FAMILY_HEX[n] for n in names]
    merch = category_colours(["Grey", "Black", "Blue", "White", "Pink/Purple"])
    assert merch == [FAMILY_HEX[n] for n in ("grey", "black", "blue", "white", "pink/purple")]
