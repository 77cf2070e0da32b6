"""Ordering periods: numbers, year + season, season labels, dates, explicit orders, errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from stylecast.errors import DataError
from stylecast.trends import TrendsConfig, order_periods, read_table


def _order(table: pd.DataFrame, **kw: object):
    cfg = TrendsConfig(by=("colour",), **kw)  # type: ignore[arg-type]
    return order_periods(table, cfg, "t.csv")


def test_numeric_years_with_missing_values() -> None:
    table = pd.DataFrame({"year": [2012.0, 2010.0, None, 2011.0, 2010.0], "colour": list("abcde")})
    rows, axis, notes = _order(table, period_column="year")
    assert axis.labels == ("2010", "2011", "2012")
    assert list(rows["period"]) == ["2012", "2010", "2011", "2010"]
    assert axis.next_labels == ("2013", "2014")
    assert axis.season_length == 1 and axis.time_unit == "year"
    assert notes == ["1 rows without a year value were left out"]


def test_year_and_season_order_within_a_year() -> None:
    table = pd.DataFrame(
        {
            "year": [2012, 2011, 2011, 2011, 2011, 2012],
            "season": ["Spring", "Winter", "Fall", "Summer", "Spring", "Summer"],
            "colour": list("abcdef"),
        }
    )
    _, axis, _ = _order(table, period_column="year", season_column="season", horizon=3)
    assert axis.labels == (
        "2011 Spring",
        "2011 Summer",
        "2011 Fall",
        "2011 Winter",
        "2012 Spring",
        "2012 Summer",
    )
    assert axis.season_length == 4
    assert list(axis.positions) == [0, 1, 2, 3, 0, 1]
    np.testing.assert_allclose(axis.times, [2011, 2011.25, 2011.5, 2011.75, 2012, 2012.25])
    assert axis.next_labels == ("2012 Fall", "2012 Winter", "2013 Spring")
    assert list(axis.next_positions) == [2, 3, 0]


def test_ss_fw_labels_in_one_column() -> None:
    table = pd.DataFrame(
        {"period": ["2023FW", "2023SS", "FW24", "2024-SS"], "colour": list("abcd")}
    )
    _, axis, _ = _order(table, period_column="period")
    assert axis.labels == ("2023 SS", "2023 FW", "2024 SS", "2024 FW")
    assert axis.season_length == 2
    assert axis.next_labels == ("2025 SS", "2025 FW")


def test_explicit_order_and_custom_seasons() -> None:
    table = pd.DataFrame({"period": ["late", "early", "mid"], "colour": list("abc")})
    _, axis, _ = _order(table, period_column="period", period_order=("early", "mid", "late"))
    assert axis.labels == ("early", "mid", "late")
    table = pd.DataFrame(
        {
            "year": [2020, 2020, 2021],
            "season": ["Resort", "Spring", "Resort"],
            "colour": list("abc"),
        }
    )
    _, axis, _ = _order(
        table, period_column="year", season_column="season", season_order=("Resort", "Spring")
    )
    assert axis.labels == ("2020 Resort", "2020 Spring", "2021 Resort")


def test_iso_dates() -> None:
    table = pd.DataFrame({"month": ["2023-03", "2023-01", "2023-02"], "colour": list("abc")})
    _, axis, _ = _order(table, period_column="month")
    assert axis.labels == ("2023-01", "2023-02", "2023-03")
    assert axis.time_unit == "year"


@pytest.mark.parametrize(
    ("table", "kw", "message"),
    [
        (
            pd.DataFrame({"year": [1, 2], "colour": ["a", "b"]}),
            {"period_column": "season"},
            "--period-column 'season' is not a column of t.csv; its columns are: year, colour",
        ),
        (
            pd.DataFrame({"year": [2020, 2020], "colour": ["a", "b"]}),
            {"period_column": "year"},
            "t.csv has one period only ('2020' in 'year'); trends need at least two periods",
        ),
        (
            pd.DataFrame({"year": ["soon", "later"], "colour": ["a", "b"]}),
            {"period_column": "year"},
            "holds values stylecast cannot order ('later', 'soon')",
        ),
        (
            pd.DataFrame(
                {"year": [2020, 2021], "season": ["Monsoon", "Fall"], "colour": list("ab")}
            ),
            {"period_column": "year", "season_column": "season"},
            "value 'Monsoon' has no known place within a year (give --season-order",
        ),
        (
            pd.DataFrame({"year": [None, None], "colour": ["a", "b"]}),
            {"period_column": "year"},
            "no row of t.csv has a 'year' value",
        ),
    ],
)
def test_bad_periods_get_one_clear_line(table: pd.DataFrame, kw: dict, message: str) -> None:
    with pytest.raises(DataError) as err:
        _order(table, **kw)
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_read_table_errors(tmp_path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(DataError, match="is empty"):
        read_table(empty)
    header = tmp_path / "header.csv"
    header.write_text("year,colour\n")
    with pytest.raises(DataError, match="has no rows"):
        read_table(header)
    with pytest.raises(DataError, match="does not exist"):
        read_table(tmp_path / "missing.csv")
    with pytest.raises(DataError, match="folder without manifest.csv"):
        read_table(tmp_path)
    (tmp_path / "manifest.csv").write_text("year,colour\n2020,red\n")
    assert list(read_table(tmp_path)["colour"]) == ["red"]


def test_season_length_override_counts_the_missing_seasons() -> None:
    """--season-length with gaps in the calendar: positions follow the calendar, not the row
    order (2010 Fall, 2011 Summer, 2011 Fall: Fall is Fall again, issue 25)."""
    table = pd.DataFrame(
        {
            "year": [2010, 2011, 2011, 2012, 2013],
            "season": ["Fall", "Summer", "Fall", "Summer", "Fall"],
            "colour": list("abcde"),
        }
    )
    _, axis, _ = _order(table, period_column="year", season_column="season", season_length=8)
    # slots since 2010 Spring: 2, 5, 6, 9, 14 -> modulo 8
    assert list(axis.positions) == [2, 5, 6, 1, 6]
    assert list(axis.next_positions) == [7, 0]  # 2013 Winter, 2014 Spring
    years = pd.DataFrame({"year": [2010, 2011, 2013, 2014], "colour": list("abcd")})
    _, axis, _ = _order(years, period_column="year", season_length=2)
    assert list(axis.positions) == [0, 1, 1, 0]  # 2012 is missing, not skipped over
    assert list(axis.next_positions) == [1, 0]
