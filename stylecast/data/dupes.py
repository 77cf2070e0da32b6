"""Exact and near-duplicate images: pairs, clusters, and which copy to keep.

Two images are *exact* duplicates when their files hash the same. They are *near*
duplicates when their perceptual hashes (imagehash's 64-bit DCT ``phash``) differ in at
most ``threshold`` bits **and** their 8x8 colour thumbnails differ by at most
``colour_tolerance`` grey levels on average. The colour test is there because product
and runway photos share poses: on the fpi-season catalogue, phash alone calls a green
and a grey polo on the same model "identical" (distance 0). Resized and re-encoded
copies pass both tests easily; slight crops (about 1-2% a side) usually do, heavier
crops do not (phash is not crop-invariant).

Clusters are the connected components of the duplicate pairs (single linkage), so a
chain of near-duplicates ends up in one cluster: the conservative choice for splitting.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

__all__ = [
    "COLOUR_TOLERANCE",
    "DEFAULT_DUP_THRESHOLD",
    "Duplicates",
    "components",
    "cross_split_pairs",
    "find_duplicates",
    "find_near_duplicates",
    "keep_one_per_cluster",
    "restrict",
]

# Mean absolute difference of two 8x8 RGB thumbnails (0-255) that still counts as "same
# colours": re-encoding at JPEG quality 30 moves it by about 3, halving the size by about 5,
# a different garment colour on the same pose by 10 or more.
COLOUR_TOLERANCE = 6.0
# Bits of the 64-bit phash two near-duplicates may differ in (``--dup-threshold``).
DEFAULT_DUP_THRESHOLD = 6
# Pairwise distances are computed in blocks of about this many entries (uint8 each).
_BLOCK = 1 << 22


@dataclass(frozen=True)
class Duplicates:
    """Duplicate pairs among ``n`` images and the clusters they form."""

    n: int
    pairs: np.ndarray  # (P, 2) row indices, i < j
    distances: np.ndarray  # (P,) phash Hamming distances (0 for exact copies)
    exact: np.ndarray  # (P,) bool: same file content
    cluster: np.ndarray  # (n,) cluster id per row; rows without duplicates are singletons
    clusters: list[np.ndarray]  # clusters with at least two rows, largest first
    threshold: int

    @property
    def n_in_clusters(self) -> int:
        return int(sum(len(c) for c in self.clusters))


def _popcount(x: np.ndarray) -> np.ndarray:
    if hasattr(np, "bitwise_count"):  # numpy >= 2.0
        return np.bitwise_count(x)
    table = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)
    return table[x.view(np.uint8).reshape(*x.shape, 8)].sum(-1, dtype=np.uint8)


def phash_to_int(hashes: Sequence[str | None]) -> np.ndarray:
    """Hex phash strings (``None`` for unreadable images) as uint64 (0 when missing)."""
    return np.array([int(h, 16) if h else 0 for h in hashes], dtype=np.uint64)


def colours_to_array(colours: Sequence[str | None]) -> np.ndarray:
    """Hex-encoded 8x8x3 uint8 thumbnails as an (n, 192) float32 array (zeros when missing)."""
    out = np.zeros((len(colours), 192), dtype=np.float32)
    for i, c in enumerate(colours):
        if c:
            out[i] = np.frombuffer(bytes.fromhex(c), dtype=np.uint8)
    return out


def find_duplicates(
    digests: Sequence[str],
    phashes: Sequence[str | None],
    colours: Sequence[str | None],
    *,
    threshold: int,
    colour_tolerance: float = COLOUR_TOLERANCE,
) -> Duplicates:
    """Exact and near-duplicate pairs; ``threshold < 0`` finds exact (same-file) copies only."""
    n = len(digests)
    digest_arr = np.asarray(digests, dtype=object)
    pairs: list[np.ndarray] = []
    dists: list[np.ndarray] = []
    if threshold >= 0 and n > 1:
        h = phash_to_int(phashes)
        have = np.array([bool(p) for p in phashes])
        col = colours_to_array(colours)
        block = max(1, _BLOCK // max(n, 1))
        for start in range(0, n, block):
            stop = min(n, start + block)
            d = _popcount(h[start:stop, None] ^ h[None, start:])  # (b, n - start)
            i, j = np.nonzero(d <= threshold)
            j = j + start
            i = i + start
            keep = (j > i) & have[i] & have[j]
            i, j = i[keep], j[keep]
            if len(i) == 0:
                continue
            dist = d[i - start, j - start]
            same_colour = np.abs(col[i] - col[j]).mean(axis=1) <= colour_tolerance
            same_file = digest_arr[i] == digest_arr[j]
            ok = same_colour | same_file
            pairs.append(np.stack([i[ok], j[ok]], axis=1))
            dists.append(dist[ok].astype(np.int16))
    # Same content is always a duplicate (also with threshold < 0, or an unhashed image).
    by_digest: dict[str, list[int]] = {}
    for idx, d in enumerate(digests):
        by_digest.setdefault(d, []).append(idx)
    exact_pairs = [(rows[0], r) for rows in by_digest.values() if len(rows) > 1 for r in rows[1:]]
    if exact_pairs:
        pairs.append(np.array(exact_pairs, dtype=np.int64).reshape(-1, 2))
        dists.append(np.zeros(len(exact_pairs), dtype=np.int16))
    if pairs:
        all_pairs = np.concatenate(pairs).astype(np.int64)
        all_d = np.concatenate(dists)
        # One row per pair, smallest distance first.
        order = np.lexsort((all_d, all_pairs[:, 1], all_pairs[:, 0]))
        all_pairs, all_d = all_pairs[order], all_d[order]
        first = np.ones(len(all_pairs), dtype=bool)
        first[1:] = np.any(all_pairs[1:] != all_pairs[:-1], axis=1)
        all_pairs, all_d = all_pairs[first], all_d[first]
    else:
        all_pairs = np.zeros((0, 2), dtype=np.int64)
        all_d = np.zeros(0, dtype=np.int16)
    exact = (
        digest_arr[all_pairs[:, 0]] == digest_arr[all_pairs[:, 1]]
        if len(all_pairs)
        else np.zeros(0, dtype=bool)
    )
    cluster = components(n, all_pairs)
    return Duplicates(
        n=n,
        pairs=all_pairs,
        distances=all_d,
        exact=np.asarray(exact, dtype=bool),
        cluster=cluster,
        clusters=clusters_of(cluster),
        threshold=threshold,
    )


def find_near_duplicates(
    digests: Sequence[str],
    infos: Sequence[dict[str, Any]],
    threshold: int = DEFAULT_DUP_THRESHOLD,
) -> Duplicates:
    """Duplicates among readable images, from what inspecting them found (``phash``, ``colour``)."""
    return find_duplicates(
        digests,
        [i.get("phash") for i in infos],
        [i.get("colour") for i in infos],
        threshold=threshold,
    )


def components(n: int, *edge_sets: np.ndarray) -> np.ndarray:
    """Connected-component id per row for undirected edges given as (E, 2) index arrays.

    Ids are numbered by each component's first row, so they do not depend on edge order.
    """
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    edges = [e for e in edge_sets if len(e)]
    if not edges:
        return np.arange(n, dtype=np.int64)
    e = np.concatenate(edges)
    graph = coo_matrix((np.ones(len(e), dtype=np.int8), (e[:, 0], e[:, 1])), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    first_row = np.full(labels.max() + 1, n, dtype=np.int64)
    np.minimum.at(first_row, labels, np.arange(n))
    return first_row[labels]


def clusters_of(cluster: np.ndarray) -> list[np.ndarray]:
    ids, counts = np.unique(cluster, return_counts=True)
    multi = ids[counts > 1]
    groups = [np.flatnonzero(cluster == c) for c in multi]
    return sorted(groups, key=lambda g: (-len(g), int(g[0])))


def edges_from_groups(values: Sequence[object]) -> np.ndarray:
    """Edges linking every row to the first row that shares its value."""
    first: dict[object, int] = {}
    out = []
    for i, v in enumerate(values):
        j = first.setdefault(v, i)
        if j != i:
            out.append((j, i))
    return np.array(out, dtype=np.int64).reshape(-1, 2)


def cross_split_pairs(dups: Duplicates, split: Sequence[str]) -> np.ndarray:
    """Indices into ``dups.pairs`` of the pairs whose two images sit in different splits."""
    if len(dups.pairs) == 0:
        return np.zeros(0, dtype=np.int64)
    s = np.asarray(split, dtype=object)
    return np.flatnonzero(s[dups.pairs[:, 0]] != s[dups.pairs[:, 1]])


def keep_one_per_cluster(
    dups: Duplicates,
    labels: Sequence[str],
    pixels: Sequence[int],
    prefer: Sequence[bool] | None = None,
) -> np.ndarray:
    """A keep-mask with one row per cluster.

    The kept copy has the cluster's most common label (so a mislabelled copy goes; on a
    tie any), then is a preferred row (e.g. already in ``train``), then has the most
    pixels, then comes first.
    """
    keep = np.ones(dups.n, dtype=bool)
    lab = np.asarray(labels, dtype=object)
    px = np.asarray(pixels, dtype=np.int64)
    pref = np.zeros(dups.n, dtype=bool) if prefer is None else np.asarray(prefer, dtype=bool)
    for members in dups.clusters:
        values, counts = np.unique(lab[members], return_counts=True)
        majority = set(values[counts == counts.max()])
        best = min(members, key=lambda r: (lab[r] not in majority, not pref[r], -px[r], r))
        keep[members] = False
        keep[best] = True
    return keep


def restrict(dups: Duplicates, keep: np.ndarray) -> Duplicates:
    """The duplicate structure among the ``keep`` rows only, re-indexed to them."""
    if keep.all():
        return dups
    new_index = np.cumsum(keep) - 1
    ok = keep[dups.pairs[:, 0]] & keep[dups.pairs[:, 1]]
    pairs = new_index[dups.pairs[ok]].reshape(-1, 2)
    n = int(keep.sum())
    cluster = components(n, pairs)
    return Duplicates(
        n=n,
        pairs=pairs,
        distances=dups.distances[ok],
        exact=dups.exact[ok],
        cluster=cluster,
        clusters=clusters_of(cluster),
        threshold=dups.threshold,
    )
