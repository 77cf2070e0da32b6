"""Shares per period, with bootstrap intervals, and colour names grouped into families.

A share is a category's count (or summed ``--value``) over the period's total. Its
interval resamples the period's items with replacement (``bootstrap`` times) and takes
the percentile interval at ``level``; for plain counts that is a multinomial draw of the
period's item count, which is the same thing, only faster.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from stylecast.colours import family_hex
from stylecast.errors import DataError

if TYPE_CHECKING:
    import pandas as pd

    from stylecast.trends.config import TrendsConfig
    from stylecast.trends.periods import PeriodAxis

__all__ = [
    "COLOUR_FAMILIES",
    "FAMILY_HEX",
    "PeriodShares",
    "category_colours",
    "colour_family",
    "period_shares",
]

# A colour name (catalogue baseColour, the demo lookbook's colours, common fashion names)
# -> one of eleven families a merchandiser plans by. Unknown names go to "Other".
_FAMILY_MEMBERS = {
    "Black": "black charcoal jet onyx",
    "White": "white offwhite cream ivory ecru",
    "Grey": "grey gray greymelange steel silver metallic slate ash",
    "Blue": "blue navyblue navy turquoiseblue teal sky cobalt denim turquoise indigo",
    "Brown": "brown tan coffeebrown mushroombrown taupe camel chocolate cognac",
    "Beige": "beige khaki skin nude sand stone",
    "Red": "red maroon burgundy rust oxblood scarlet wine terracotta",
    "Pink/Purple": "pink peach rose magenta purple lavender mauve blush coral fuchsia lilac",
    "Green": "green olive seagreen limegreen fluorescentgreen mint forest bottle sage emerald",
    "Yellow/Orange": "yellow mustard orange lemon ochre gold bronze copper",
    "Multi": "multi multicolour multicolor print",
}
COLOUR_FAMILIES = {
    name: family for family, names in _FAMILY_MEMBERS.items() for name in names.split()
}
# The families, each drawn in its own colour: the one table of stylecast.colours (shared
# with colornamer's 26 families, so Grey is the same grey in every chart).
FAMILY_HEX = {f: family_hex(f) or "" for f in (*_FAMILY_MEMBERS, "Other")}


def _key(name: object) -> str:
    return re.sub(r"[^a-z]", "", str(name).lower())


def colour_family(name: object) -> str:
    """``"Navy Blue"`` -> ``"Blue"``; names outside the table -> ``"Other"``."""
    key = _key(name)
    families = {_key(f): f for f in FAMILY_HEX}
    return families.get(key) or COLOUR_FAMILIES.get(key, "Other")


def category_colours(categories: list[str]) -> list[str] | None:
    """Draw colour categories in their own colour: a family (colornamer's 26, as in
    predict's ``palette_family``, or the merchandise families) in the family's colour of
    :data:`stylecast.colours.FAMILY_HEX`, another colour name as CSS or XKCD names it, else
    in its family's colour; None when most categories are not colour names."""
    from matplotlib import colors

    def known(c: str) -> bool:
        return family_hex(c) is not None or colour_family(c) != "Other"

    if sum(map(known, categories)) < 0.8 * len(categories):
        return None
    out = []
    for c in categories:
        css, xkcd = _key(c), f"xkcd:{str(c).lower().strip()}"
        if family_hex(c) is not None:
            out.append(family_hex(c))
        elif colour_family(c) == "Other":
            out.append(FAMILY_HEX["Other"])
        elif css in colors.CSS4_COLORS:
            out.append(colors.CSS4_COLORS[css])
        elif xkcd in colors.XKCD_COLORS:
            out.append(colors.XKCD_COLORS[xkcd])
        else:
            out.append(FAMILY_HEX[colour_family(c)])
    return out


@dataclass(frozen=True)
class PeriodShares:
    """One ``by`` column's shares: matrices (periods x categories) and the long table."""

    by: str
    categories: tuple[str, ...]  # largest overall first
    count: np.ndarray  # weighted count per period and category
    items: np.ndarray  # rows per period and category
    total: np.ndarray  # weighted total per period
    n_items: np.ndarray  # rows per period
    share: np.ndarray
    low: np.ndarray
    high: np.ndarray
    sparse: np.ndarray  # per period: fewer than min_items rows
    table: pd.DataFrame


def _weights(table: pd.DataFrame, column: str | None) -> np.ndarray:
    import pandas as pd

    if column is None:
        return np.ones(len(table))
    values = pd.to_numeric(table[column], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(values) | (values < 0)
    if bad.any():
        first = table[column].iloc[int(np.flatnonzero(bad)[0])]
        first = first.item() if isinstance(first, np.generic) else first  # -1, not np.int64(-1)
        raise DataError(
            f"--value {column!r} has {int(bad.sum())} missing, negative or non-numeric values "
            f"(e.g. {first!r}); give non-negative numbers such as units sold"
        )
    return values


def period_shares(
    table: pd.DataFrame, axis: PeriodAxis, by: str, cfg: TrendsConfig
) -> tuple[PeriodShares, list[str]]:
    """Shares of every category of ``by`` in every period of ``axis``, and notes."""
    import pandas as pd

    notes: list[str] = []
    cats = table[by]
    missing = cats.isna() | (cats.astype(str).str.strip() == "")
    if missing.any():
        notes.append(
            f"{int(missing.sum())} rows without a {by!r} value were left out of its shares"
        )
    table = table.loc[~missing]
    labels = table[by].map(colour_family if by in cfg.colour_families else _label)
    weights = _weights(table, cfg.value_column)
    period_codes = table["period"].cat.codes.to_numpy().astype(np.int64)
    weighted = pd.Series(weights, index=labels.index).groupby(labels).sum()
    order = weighted.sort_values(ascending=False, kind="stable")
    categories = tuple(str(c) for c in order.index)
    cat_codes = pd.Categorical(labels, categories=list(categories)).codes.astype(np.int64)
    n_p, n_c = len(axis.labels), len(categories)
    flat = period_codes * n_c + cat_codes
    count = np.bincount(flat, weights=weights, minlength=n_p * n_c).reshape(n_p, n_c)
    items = np.bincount(flat, minlength=n_p * n_c).reshape(n_p, n_c)
    total = count.sum(axis=1)
    n_items = items.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(total[:, None] > 0, count / total[:, None], np.nan)
    sparse = (n_items < cfg.min_items) | (total <= 0)
    low, high = _bootstrap(period_codes, cat_codes, weights, (n_p, n_c), cfg)
    long = _long_table(by, axis, categories, (count, items, total, share, low, high), sparse)
    return PeriodShares(
        by, categories, count, items, total, n_items, share, low, high, sparse, long
    ), notes


def _label(value: object) -> str:
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value).strip()


def _bootstrap(
    period_codes: np.ndarray,
    cat_codes: np.ndarray,
    weights: np.ndarray,
    shape: tuple[int, int],
    cfg: TrendsConfig,
) -> tuple[np.ndarray, np.ndarray]:
    """Percentile intervals of every share, resampling items within their period."""
    n_p, n_c = shape
    low = np.full(shape, np.nan)
    high = np.full(shape, np.nan)
    if cfg.bootstrap == 0:
        return low, high
    rng = np.random.default_rng(cfg.seed)
    q = [(1 - cfg.level) / 2, (1 + cfg.level) / 2]
    weighted = cfg.value_column is not None
    for p in range(n_p):
        idx = np.flatnonzero(period_codes == p)
        if idx.size == 0:
            continue
        codes, w = cat_codes[idx], weights[idx]
        if not weighted:
            p_hat = np.bincount(codes, minlength=n_c) / idx.size
            draws = rng.multinomial(idx.size, p_hat, size=cfg.bootstrap) / idx.size
        else:
            draws = _resample_weighted(codes, w, n_c, cfg.bootstrap, rng)
        low[p], high[p] = np.nanquantile(draws, q, axis=0)
    return low, high


def _resample_weighted(
    codes: np.ndarray, w: np.ndarray, n_c: int, reps: int, rng: np.random.Generator
) -> np.ndarray:
    n = codes.size
    out = np.empty((reps, n_c))
    chunk = max(1, 4_000_000 // max(n, 1))  # bounded memory for large periods
    for start in range(0, reps, chunk):
        b = min(chunk, reps - start)
        pick = rng.integers(0, n, size=(b, n))
        flat = (np.arange(b)[:, None] * n_c + codes[pick]).ravel()
        sums = np.bincount(flat, weights=w[pick].ravel(), minlength=b * n_c).reshape(b, n_c)
        tot = sums.sum(axis=1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[start : start + b] = np.where(tot > 0, sums / tot, np.nan)
    return out


def _long_table(
    by: str,
    axis: PeriodAxis,
    categories: tuple[str, ...],
    arrays: tuple[np.ndarray, ...],
    sparse: np.ndarray,
) -> pd.DataFrame:
    import pandas as pd

    count, items, total, share, low, high = arrays
    n_p, n_c = count.shape
    return pd.DataFrame(
        {
            "by": by,
            "kind": "observed",
            "period": np.repeat(axis.labels, n_c),
            "period_index": np.repeat(np.arange(n_p), n_c),
            "category": np.tile(categories, n_p),
            "count": count.ravel().round(6),
            "items": items.ravel(),
            "total": np.repeat(total, n_c).round(6),
            "share": share.ravel().round(6),
            "low": low.ravel().round(6),
            "high": high.ravel().round(6),
            "sparse": np.repeat(sparse, n_c),
            "model": "",
        }
    )
