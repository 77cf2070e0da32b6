"""Reading a table and putting its periods in their real order.

A period is whatever ``--period-column`` holds, ordered as follows (the first rule that
fits wins):

1. ``--season-column S``: the period column is the year and ``S`` the season within it;
   the period is ``"<year> <season>"``, ordered by year, then by season position.
2. ``--period-order A,B,C``: the values in exactly that order.
3. Numbers (``2021``, ``2021.0``, ``3.5``): numeric order.
4. Year-and-season labels (``2023FW``, ``2023-SS``, ``FW23``, ``2011 Fall``): year, then season.
5. Dates (ISO 8601: ``2023-03``, ``2023-03-01``): calendar order.

Seasons within a year are ordered Spring < Summer < Fall (Autumn) < Winter (four seasons a
year), or SS < FW (two: SS = Spring/Summer, FW = AW = Fall/Winter; ``SpringSummer`` and
``FallWinter`` too). Winter belongs to the year it starts in (Winter 2011 follows Fall 2011).
Any other scheme is given with ``--season-order Resort,Spring,PreFall,Fall``.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from stylecast.errors import DataError, MissingDependencyError

if TYPE_CHECKING:
    import pandas as pd

    from stylecast.trends.config import TrendsConfig

__all__ = ["PeriodAxis", "order_periods", "read_table"]

FOUR_SEASONS = {"spring": 0, "summer": 1, "fall": 2, "autumn": 2, "winter": 3}
FOUR_NAMES = ("Spring", "Summer", "Fall", "Winter")
TWO_SEASONS = {
    "ss": 0,
    "springsummer": 0,
    "fw": 1,
    "aw": 1,
    "fallwinter": 1,
    "autumnwinter": 1,
}
TWO_NAMES = ("SS", "FW")
_YEAR_FIRST = re.compile(r"^\s*(\d{4})\s*[-_/ ]?\s*([A-Za-z][A-Za-z/ _-]*?)\s*$")
_SEASON_FIRST = re.compile(r"^\s*([A-Za-z][A-Za-z/_-]*?)\s*[-_/ ]?\s*(\d{4}|\d{2})\s*$")


@dataclass(frozen=True)
class PeriodAxis:
    """The periods in order: labels, times (for slopes), season positions (for seasonal
    naive), and how to name the periods after the last."""

    labels: tuple[str, ...]
    times: np.ndarray  # one float per label, increasing
    positions: np.ndarray  # season position within the year, 0..season_length-1
    season_length: int
    time_unit: str  # what one unit of ``times`` is: "year", a column name, or "period"
    next_labels: tuple[str, ...]  # the periods after the last one
    next_times: np.ndarray
    next_positions: np.ndarray


def _norm(value: object) -> str:
    return re.sub(r"[^a-z0-9]", "", str(value).lower())


def _fmt(value: object) -> str:
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)


def read_table(path: str | Path) -> pd.DataFrame:
    """A predictions file, manifest or catalogue (CSV or Parquet; a folder's manifest.csv)."""
    import pandas as pd

    src = Path(path)
    if src.is_dir():
        for name in ("manifest.csv", "manifest.parquet"):
            if (src / name).is_file():
                src = src / name
                break
        else:
            raise DataError(
                f"{src} is a folder without manifest.csv; give a CSV or Parquet table "
                "(a predictions file, manifest or catalogue)"
            )
    if not src.is_file():
        raise DataError(f"{src} does not exist; give a CSV or Parquet table")
    if src.stat().st_size == 0:
        raise DataError(f"{src} is empty; give a table with a header row and one row per item")
    try:
        if src.suffix.lower() == ".parquet":
            table = pd.read_parquet(src)
        else:
            table = pd.read_csv(src, sep=None if src.suffix.lower() == ".tsv" else ",")
    except ImportError:
        raise MissingDependencyError(
            "reading Parquet needs pyarrow: pip install 'stylecast[parquet]'"
        ) from None
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError, OSError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(f"cannot read {src} as a table: {first}") from None
    if table.empty:
        raise DataError(f"{src} has no rows; give a table with one row per item")
    return table


def _require_column(table: pd.DataFrame, column: str, flag: str, source: str) -> None:
    if column not in table.columns:
        shown = ", ".join(map(str, table.columns[:20])) + (", ..." if table.shape[1] > 20 else "")
        raise DataError(f"{flag} {column!r} is not a column of {source}; its columns are: {shown}")


def _season_scheme(
    values: list[str], order: tuple[str, ...] | None, what: str
) -> tuple[dict[str, int], tuple[str, ...]]:
    """Position of every season value within a year, and the names of all positions."""
    normed = {_norm(v) for v in values}
    if order:
        lookup = {_norm(name): i for i, name in enumerate(order)}
        names = tuple(order)
    elif normed <= FOUR_SEASONS.keys():
        lookup, names = FOUR_SEASONS, FOUR_NAMES
    elif normed <= TWO_SEASONS.keys():
        lookup, names = TWO_SEASONS, TWO_NAMES
    else:
        lookup, names = {}, ()
    known = lookup or (FOUR_SEASONS.keys() | TWO_SEASONS.keys())
    stray = sorted({v for v in values if _norm(v) not in known})
    if not stray and not lookup:
        raise DataError(
            f"{what} mixes four-season names and SS/FW ({', '.join(values[:4])}); give "
            "--season-order with every season name in order"
        )
    if stray:
        hint = "give --season-order with every season name in order, e.g. SS,FW"
        raise DataError(
            f"{what} value {stray[0]!r} has no known place within a year ({hint}; the defaults "
            "are Spring,Summer,Fall,Winter and SS,FW)"
        )
    return {v: lookup[_norm(v)] for v in values}, names


def _year_of(value: object, column: str) -> int:
    try:
        year = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise DataError(
            f"--period-column {column!r} must hold years when --season-column is given; "
            f"got {value!r}"
        ) from None
    if not year.is_integer():
        raise DataError(f"--period-column {column!r} must hold whole years, got {value!r}")
    return int(year)


def _calendar(
    keys: dict[object, tuple[int, int]], names: tuple[str, ...], shown: dict[int, str]
) -> tuple[dict[object, str], _AxisParts]:
    """Year-and-season keys -> labels, times (year + position / m), next periods."""
    m = len(names)
    display = {i: shown.get(i, names[i]) for i in range(m)}
    slots = sorted(set(keys.values()))
    label_of = {slot: f"{slot[0]} {display[slot[1]]}" for slot in slots}
    return {raw: label_of[slot] for raw, slot in keys.items()}, _AxisParts(
        labels=[label_of[s] for s in slots],
        times=[y + p / m for y, p in slots],
        positions=[p for _, p in slots],
        season_length=m,
        time_unit="year",
        next_of=lambda k: _next_slot(slots[-1], k, m, display),
        steps=[(y - slots[0][0]) * m + p for y, p in slots],
    )


def _next_slot(
    last: tuple[int, int], k: int, m: int, display: dict[int, str]
) -> tuple[str, float, int]:
    year, pos = divmod(last[0] * m + last[1] + k, m)
    return f"{year} {display[pos]}", year + pos / m, pos


@dataclass
class _AxisParts:
    labels: list[str]
    times: list[float]
    positions: list[int]
    season_length: int
    time_unit: str
    next_of: object  # k -> (label, time, position)
    # Periods since the first one, counting the missing ones (2010 Fall, 2011 Summer: 2
    # and 5 on a four-season calendar); None: the values are only an order.
    steps: list[int] | None = None


def _parse_year_season(values: list[str], order: tuple[str, ...] | None) -> dict | None:
    """``2023FW``/``FW23``/``2011 Fall`` -> {value: (year, season token)}, or None."""
    parsed = {}
    for v in values:
        match = _YEAR_FIRST.match(v)
        if match:
            parsed[v] = (int(match.group(1)), match.group(2))
            continue
        match = _SEASON_FIRST.match(v)
        if not match:
            return None
        year = int(match.group(2))
        parsed[v] = (year + 2000 if year < 100 else year, match.group(1))
    tokens = [t for _, t in parsed.values()]
    normed = {_norm(t) for t in tokens}
    known = {_norm(n) for n in order} if order else FOUR_SEASONS.keys() | TWO_SEASONS.keys()
    return parsed if normed <= known else None


def order_periods(
    table: pd.DataFrame, cfg: TrendsConfig, source: str
) -> tuple[pd.DataFrame, PeriodAxis, list[str]]:
    """Rows with a period, a ``period`` column of labels, the ordered axis, and notes."""
    import pandas as pd

    col = cfg.period_column
    _require_column(table, col, "--period-column", source)
    need = [col] + ([cfg.season_column] if cfg.season_column else [])
    if cfg.season_column:
        _require_column(table, cfg.season_column, "--season-column", source)
    raw = table[need].astype(object).where(table[need].notna(), None)
    blank = raw.apply(lambda s: s.map(lambda v: v is None or str(v).strip() == "")).any(axis=1)
    notes = []
    if blank.any():
        notes.append(f"{int(blank.sum())} rows without a {' or '.join(need)} value were left out")
    table = table.loc[~blank].copy()
    if table.empty:
        raise DataError(f"no row of {source} has a {col!r} value; choose another --period-column")

    if cfg.season_column:
        pairs = list(zip(table[col], table[cfg.season_column].astype(str).str.strip()))
        seasons = sorted({s for _, s in pairs})
        where, names = _season_scheme(
            seasons, cfg.season_order, f"--season-column {cfg.season_column!r}"
        )
        keys = {(y, s): (_year_of(y, col), where[s]) for y, s in set(pairs)}
        shown: dict[int, str] = {}
        for s, _ in Counter(s for _, s in pairs).most_common():
            shown.setdefault(where[s], s)  # the commonest spelling names the season
        label_of, parts = _calendar(keys, names, shown)
        labels = [label_of[p] for p in pairs]
    else:
        labels, parts = _order_values(table[col], cfg, col)
    table["period"] = pd.Categorical(labels, categories=parts.labels, ordered=True)
    if len(parts.labels) < 2:
        raise DataError(
            f"{source} has one period only ({parts.labels[0]!r} in {col!r}); trends need at least "
            "two periods"
        )
    nxt = [parts.next_of(k) for k in range(1, cfg.horizon + 1)]
    m = cfg.season_length or parts.season_length
    positions = np.asarray(parts.positions, dtype=int)
    next_positions = np.asarray([p for *_, p in nxt], dtype=int)
    if cfg.season_length and cfg.season_length != parts.season_length:
        # Positions from the calendar, missing periods counted: a gap must not shift
        # seasonal naive onto another season.
        steps = np.asarray(parts.steps if parts.steps else range(len(parts.labels)), dtype=int)
        positions = steps % m
        next_positions = (steps[-1] + 1 + np.arange(cfg.horizon)) % m
    axis = PeriodAxis(
        labels=tuple(parts.labels),
        times=np.asarray(parts.times, dtype=float),
        positions=positions,
        season_length=m,
        time_unit=parts.time_unit,
        next_labels=tuple(label for label, _, _ in nxt),
        next_times=np.asarray([t for _, t, _ in nxt], dtype=float),
        next_positions=next_positions,
    )
    return table, axis, notes


def _order_values(values: pd.Series, cfg: TrendsConfig, col: str) -> tuple[list[str], object]:
    import pandas as pd

    text = [_fmt(v).strip() for v in values]
    distinct = sorted(set(text))
    if cfg.period_order:
        order = [str(v) for v in cfg.period_order]
        stray = [v for v in distinct if v not in order]
        if stray:
            raise DataError(f"period {stray[0]!r} of {col!r} is not in --period-order")
        used = [v for v in order if v in set(distinct)]
        return text, _ordinal(used, "period")
    numbers = pd.to_numeric(pd.Series(distinct), errors="coerce")
    if numbers.notna().all():
        num = dict(zip(distinct, numbers.astype(float)))
        ordered = sorted(distinct, key=num.get)
        labels = {v: _fmt(num[v]) for v in distinct}
        times = [num[v] for v in ordered]
        diffs = np.diff(times)
        step = Counter(np.round(diffs, 9)).most_common(1)[0][0] if len(diffs) else 1.0
        last = times[-1]

        def next_of(k: int) -> tuple[str, float, int]:
            return _fmt(float(np.round(last + k * step, 9))), last + k * step, 0

        parts = _AxisParts([labels[v] for v in ordered], times, [0] * len(ordered), 1, col, next_of)
        if step > 0:
            parts.steps = [int(round((t - times[0]) / step)) for t in times]
        return [labels[v] for v in text], parts
    year_season = _parse_year_season(distinct, cfg.season_order)
    if year_season is not None:
        tokens = sorted({t for _, t in year_season.values()})
        where, names = _season_scheme(tokens, cfg.season_order, f"--period-column {col!r}")
        keys = {v: (y, where[t]) for v, (y, t) in year_season.items()}
        label_of, parts = _calendar(keys, names, {where[t]: t for t in tokens})
        return [label_of[v] for v in text], parts
    try:
        dates = pd.to_datetime(pd.Series(distinct), format="ISO8601")
    except (ValueError, TypeError):
        dates = None
    if dates is not None and dates.notna().all():
        when = dict(zip(distinct, dates))
        ordered = sorted(distinct, key=when.get)
        times = [when[v].year + (when[v].day_of_year - 1) / 365.25 for v in ordered]
        step = float(np.median(np.diff(times)))
        parts = _ordinal(ordered, "year")
        parts.times = times
        parts.next_of = lambda k: (f"+{k}", times[-1] + k * step, 0)
        return text, parts
    shown = ", ".join(repr(v) for v in distinct[:3])
    raise DataError(
        f"--period-column {col!r} holds values stylecast cannot order ({shown}); give numbers "
        "(2023), year-and-season labels (2023FW), ISO dates, --season-column, or --period-order "
        "A,B,C"
    )


def _ordinal(ordered: list[str], unit: str) -> _AxisParts:
    n = len(ordered)
    return _AxisParts(
        list(ordered),
        [float(i) for i in range(n)],
        [0] * n,
        1,
        unit,
        lambda k: (f"+{k}", float(n - 1 + k), 0),
    )
