"""Palettes of groups of images (a season, a brand, a period): key colours and neutrals with
intervals, family shares, and the families that set one group's palette apart.

Every image weighs the same, whatever its number of colours:

* **Group colours**: the colours of the group's images, gathered by colornamer's common name
  (121 names such as "navy blue" or "primary red": a named key colour, never an average of
  different hues). A colour's *share* is the mean, over the group's images, of the share of
  the garment it covers; its 95% interval is a percentile bootstrap over images; its
  *presence* is the share of images where it covers at least ``PRESENT`` of the garment
  (95% Wilson interval); its swatch is the share-weighted mean of its members. Key colours
  are the non-neutral ones (colornamer's flag, by share-weighted majority), neutrals the
  rest, largest first.
* **Family shares**: the same, per colornamer family (26 families, a fixed axis).
* **Distinguishing families**: for every family, the per-image family shares of a group
  against those of the other images (two groups: against each other), compared with a
  two-sided Mann-Whitney U test; p-values are corrected for the number of tests with
  Benjamini-Hochberg, and a difference counts when its q-value is under 0.05.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from stylecast.palette.extract import PaletteConfig
from stylecast.palette.naming import FAMILIES, lab_to_hex

__all__ = [
    "FamilyDifference",
    "FamilyShare",
    "GroupColour",
    "GroupPalette",
    "Grouping",
    "ImageColours",
    "family_shares",
    "summarise_grouping",
]

PRESENT = 0.05  # a colour or family covering this share of a garment is "present" in it
KEY_COLOURS = 10  # Pantone's fashion colour report: top 10 key colours ...
NEUTRALS = 5  # ... and 5 classics
Q_LEVEL = 0.05  # false discovery rate for distinguishing families
_BOOTSTRAP = 1000
_MIN_TESTED = 3  # images a group needs before its families are tested


@dataclass(frozen=True)
class GroupColour:
    """One colour of a group's palette: mean share over images with its 95% interval."""

    hex: str
    lab: tuple[float, float, float]
    name: str
    family: str
    neutral: bool
    share: float
    share_ci: tuple[float, float]
    presence: float
    presence_ci: tuple[float, float]


@dataclass(frozen=True)
class FamilyShare:
    """One colornamer family in a group: mean share over images and presence, with intervals."""

    family: str
    share: float
    share_ci: tuple[float, float]
    presence: float
    presence_ci: tuple[float, float]


@dataclass(frozen=True)
class FamilyDifference:
    """A family's mean share in ``group`` against ``other`` (a group, or "rest")."""

    family: str
    group: str
    other: str
    share: float
    other_share: float
    p: float
    q: float

    @property
    def difference(self) -> float:
        return self.share - self.other_share

    @property
    def significant(self) -> bool:
        return self.q < Q_LEVEL


@dataclass(frozen=True)
class GroupPalette:
    """A group's palette: key colours, neutrals and family shares."""

    value: str
    n_images: int
    key_colours: tuple[GroupColour, ...]
    neutrals: tuple[GroupColour, ...]
    families: tuple[FamilyShare, ...]  # families present in the group, largest share first


@dataclass(frozen=True)
class Grouping:
    """Palettes of every value of one manifest column, and what distinguishes them."""

    column: str
    groups: tuple[GroupPalette, ...]  # largest group first
    differences: tuple[FamilyDifference, ...]  # every test, most significant first

    @property
    def distinguishing(self) -> tuple[FamilyDifference, ...]:
        return tuple(d for d in self.differences if d.significant)


@dataclass(frozen=True)
class ImageColours:
    """The colours of many images, flattened: ``image[i]`` owns row ``i``."""

    image: np.ndarray  # (n_colours,) int: which image each colour belongs to
    lab: np.ndarray  # (n_colours, 3)
    share: np.ndarray  # (n_colours,) shares of their image's garment
    family: np.ndarray  # (n_colours,) int: index into FAMILIES
    common: np.ndarray  # (n_colours,) str: colornamer's common name
    neutral: np.ndarray  # (n_colours,) bool: colornamer's neutral flag
    n_images: int


def family_shares(colours: ImageColours) -> np.ndarray:
    """(n_images, 26): each image's garment share per colornamer family (rows sum to 1)."""
    out = np.zeros((colours.n_images, len(FAMILIES)))
    np.add.at(out, (colours.image, colours.family), colours.share)
    return out


def _mean_ci(values: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Column means of ``values`` (n, m) with percentile-bootstrap 95% intervals over rows."""
    n = len(values)
    mean = values.mean(axis=0)
    if n < 2:
        return mean, mean.copy(), mean.copy()
    rng = np.random.default_rng(seed)
    counts = rng.multinomial(n, np.full(n, 1.0 / n), size=_BOOTSTRAP)  # (B, n)
    boots = counts @ values / n
    lo, hi = np.percentile(boots, [2.5, 97.5], axis=0)
    return mean, lo, hi


def _wilson(k: int, n: int) -> tuple[float, float]:
    from stylecast.evaluation import wilson_interval

    ci = wilson_interval(int(k), int(n))
    return (float(ci[0]), float(ci[1])) if ci else (0.0, 1.0)


def _group_colours(colours: ImageColours, rows: np.ndarray, seed: int) -> tuple:
    """The named colours of the images ``rows`` (key colours, neutrals), largest first."""
    in_group = np.isin(colours.image, rows)
    if not in_group.any():
        return (), ()
    lab, share = colours.lab[in_group], colours.share[in_group]
    names, column = np.unique(colours.common[in_group], return_inverse=True)
    index = np.full(colours.n_images, -1)
    index[rows] = np.arange(len(rows))
    per_image = np.zeros((len(rows), len(names)))
    np.add.at(per_image, (index[colours.image[in_group]], column), share)
    mean, lo, hi = _mean_ci(per_image, seed)
    present = (per_image >= PRESENT).sum(axis=0)
    mass = np.bincount(column, weights=share, minlength=len(names))
    centre = (
        np.stack(
            [
                np.bincount(column, weights=share * lab[:, j], minlength=len(names))
                for j in range(3)
            ],
            1,
        )
        / np.maximum(mass, 1e-12)[:, None]
    )
    neutral = np.bincount(column, weights=share * colours.neutral[in_group], minlength=len(names))
    family_mass = np.zeros((len(names), len(FAMILIES)))
    np.add.at(family_mass, (column, colours.family[in_group]), share)
    hexes = lab_to_hex(centre)
    out = [
        GroupColour(
            hex=hexes[j],
            lab=tuple(round(float(v), 2) for v in centre[j]),  # type: ignore[arg-type]
            name=str(names[j]),
            family=FAMILIES[int(family_mass[j].argmax())],
            neutral=bool(neutral[j] > 0.5 * mass[j]),
            share=float(mean[j]),
            share_ci=(float(lo[j]), float(hi[j])),
            presence=float(present[j] / len(rows)),
            presence_ci=_wilson(present[j], len(rows)),
        )
        for j in np.argsort(-mean, kind="stable")
        if mean[j] > 0
    ]
    key = tuple(c for c in out if not c.neutral)[:KEY_COLOURS]
    neutral_colours = tuple(c for c in out if c.neutral)[:NEUTRALS]
    return key, neutral_colours


def _families(shares: np.ndarray, seed: int) -> tuple[FamilyShare, ...]:
    mean, lo, hi = _mean_ci(shares, seed)
    present = (shares >= PRESENT).sum(axis=0)
    n = len(shares)
    return tuple(
        FamilyShare(
            family=FAMILIES[j],
            share=float(mean[j]),
            share_ci=(float(lo[j]), float(hi[j])),
            presence=float(present[j] / n),
            presence_ci=_wilson(present[j], n),
        )
        for j in np.argsort(-mean, kind="stable")
        if mean[j] > 0
    )


def _benjamini_hochberg(p: np.ndarray) -> np.ndarray:
    n = len(p)
    if not n:
        return p
    order = np.argsort(p)
    ranked = p[order] * n / np.arange(1, n + 1)
    q = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty(n)
    out[order] = np.minimum(q, 1.0)
    return out


def _differences(
    shares: np.ndarray, labels: list[str], values: list[str]
) -> tuple[FamilyDifference, ...]:
    from scipy.stats import mannwhitneyu

    labels_arr = np.asarray(labels)
    tested = [v for v in values if (labels_arr == v).sum() >= _MIN_TESTED]
    pairs = [(tested[0], tested[1])] if len(tested) == 2 else [(v, "rest") for v in tested]
    if len(tested) < 2:
        return ()
    raw = []
    for group, other in pairs:
        a = labels_arr == group
        b = (labels_arr == other) if other != "rest" else ~a
        if b.sum() < _MIN_TESTED:
            continue
        for j, fam in enumerate(FAMILIES):
            x, y = shares[a, j], shares[b, j]
            if not (x.any() or y.any()):
                continue
            p = 1.0 if np.ptp(np.concatenate([x, y])) == 0 else mannwhitneyu(x, y).pvalue
            raw.append((fam, group, other, float(x.mean()), float(y.mean()), float(p)))
    q = _benjamini_hochberg(np.array([r[5] for r in raw]))
    diffs = [FamilyDifference(*r, q=float(qi)) for r, qi in zip(raw, q, strict=True)]
    return tuple(sorted(diffs, key=lambda d: (d.q, -abs(d.difference))))


def summarise_grouping(
    column: str, labels: list[str], colours: ImageColours, cfg: PaletteConfig
) -> Grouping:
    """Palettes of every value of ``column`` (``labels[i]`` is image ``i``'s value)."""
    shares = family_shares(colours)
    labels_arr = np.asarray(labels)
    counts = {v: int((labels_arr == v).sum()) for v in dict.fromkeys(labels)}
    values = sorted(counts, key=lambda v: (-counts[v], v))
    groups = []
    for v in values:
        rows = np.flatnonzero(labels_arr == v)
        key, neutral = _group_colours(colours, rows, cfg.seed)
        groups.append(GroupPalette(v, len(rows), key, neutral, _families(shares[rows], cfg.seed)))
    return Grouping(column, tuple(groups), _differences(shares, labels, values))
