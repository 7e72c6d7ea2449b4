"""Resampling that streams: Poisson bootstrap and sign-flip replicates as mergeable sums.

A classical bootstrap draws N samples with replacement from the whole input, so it needs
the whole input at once. The Poisson bootstrap gives each sample an independent
Poisson(1) count of copies in each replicate instead (Hanley & MacGibbon 2006; Chamandy
et al. 2012): a replicate's weighted sums then add up block by block like any other sum,
and for more than a few dozen samples the intervals match the classical ones.

The counts depend only on the seed and on each sample's index: they are drawn in tiles of
:data:`TILE` consecutive samples from a generator seeded with ``(seed, tile number)``.
The same input gives the same replicates whatever its split into blocks.

A count is the Poisson(1) quantile of a uniform 16-bit number (a table lookup, eight
times faster than ``Generator.poisson``): each probability ``P(k)`` is rounded to a
multiple of 1/65536, which changes the mean and variance of the counts by about 1e-5.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "TILE",
    "ReplicateSums",
    "draw_seed",
    "percentile_interval",
    "replicate_weights",
]

#: Samples per tile of replicate weights (a tile of 1000 replicates is 8 MB).
TILE = 1024

Kind = Literal["poisson", "sign"]


def draw_seed() -> int:
    """A fresh seed from the operating system's entropy (recorded, so a run can be
    repeated)."""
    entropy = np.random.SeedSequence().entropy
    assert isinstance(entropy, int)
    return entropy % 2**63


def _poisson_table() -> NDArray[np.float64]:
    """Poisson(1) quantile at the midpoint of each of the 65536 steps of a 16-bit number."""
    pmf = [math.exp(-1.0) / math.factorial(k) for k in range(20)]
    cdf = np.cumsum(pmf)
    u = (np.arange(65536) + 0.5) / 65536
    table: NDArray[np.float64] = np.searchsorted(cdf, u, side="right").astype(np.float64)
    return table


_POISSON: NDArray[np.float64] | None = None  # built on first use (5 ms: not at import)


def _tile(seed: int, tile: int, replicates: int, kind: Kind) -> NDArray[np.float64]:
    rng = np.random.default_rng([seed, tile, 0 if kind == "poisson" else 1])
    if kind == "poisson":
        global _POISSON
        if _POISSON is None:
            _POISSON = _poisson_table()
        u = rng.integers(0, 65536, size=(TILE, replicates), dtype=np.uint16)
        counts: NDArray[np.float64] = _POISSON[u]
        return counts
    signs = rng.integers(0, 2, size=(TILE, replicates), dtype=np.int8)
    return (2.0 * signs - 1.0).astype(np.float64)


def replicate_weights(
    seed: int, start: int, n: int, replicates: int, kind: Kind = "poisson"
) -> NDArray[np.float64]:
    """The weights (n, replicates) of samples ``start .. start + n - 1``.

    ``kind="poisson"``: Poisson(1) counts (bootstrap); ``"sign"``: random signs +-1
    (a paired sign-flip test).

    Examples
    --------
    >>> a = replicate_weights(7, 0, 3000, 5)
    >>> b = np.vstack([replicate_weights(7, 0, 1000, 5), replicate_weights(7, 1000, 2000, 5)])
    >>> bool((a == b).all())
    True
    """
    if n == 0:
        return np.zeros((0, replicates))
    first, last = start // TILE, (start + n - 1) // TILE
    tiles = [_tile(seed, t, replicates, kind) for t in range(first, last + 1)]
    w = np.vstack(tiles) if len(tiles) > 1 else tiles[0]
    offset = start - first * TILE
    return w[offset : offset + n]


@dataclass(frozen=True)
class ReplicateSums:
    """Per-replicate weighted sums of k quantities over a set of samples; ``+`` merges.

    Attributes
    ----------
    seed, replicates : int
        What drew the weights.
    kind : {"poisson", "sign"}
        Poisson(1) bootstrap counts or random signs.
    sums : ndarray, shape (k, replicates)
        ``sums[j, b] = sum_i w[i, b] * values[i, j]``.
    """

    seed: int
    replicates: int
    kind: Kind
    sums: NDArray[np.float64]

    @classmethod
    def of(
        cls,
        values: NDArray[np.float64],
        start: int,
        seed: int,
        replicates: int,
        kind: Kind = "poisson",
        groups: tuple[NDArray[np.intp], int, NDArray[np.float64]] | None = None,
    ) -> ReplicateSums:
        """The sums for samples ``start ..`` whose quantities are the columns of
        ``values`` (n, k). Works a tile at a time: memory does not grow with n.

        ``groups = (index, g, weights)`` adds, for each column j of ``weights`` (n, q)
        and each group ``0 .. g-1``, the sum over the samples of that group (``index``)
        of ``weights[:, j]``: q * g more rows (all groups of column 0 first), without
        the (n, q * g) matrix a column per group would take.
        """
        n, k = values.shape
        extra = 0 if groups is None else groups[2].shape[1] * groups[1]
        sums = np.zeros((k + extra, replicates))
        pos = 0
        while pos < n:
            # Up to the end of the current tile, so each tile is drawn once per block.
            take = min(n - pos, TILE - (start + pos) % TILE)
            w = replicate_weights(seed, start + pos, take, replicates, kind)
            part = slice(pos, pos + take)
            sums[:k] += values[part].T @ w
            if groups is not None:
                index, g, weights = groups
                sums[k:] += _grouped(index[part], g, weights[part], w)
            pos += take
        return cls(seed, replicates, kind, sums)

    def __add__(self, other: ReplicateSums) -> ReplicateSums:
        if (self.seed, self.replicates, self.kind) != (other.seed, other.replicates, other.kind):
            raise ValueError("cannot merge replicates drawn with different settings")
        return ReplicateSums(self.seed, self.replicates, self.kind, self.sums + other.sums)


def _grouped(
    index: NDArray[np.intp], g: int, weights: NDArray[np.float64], w: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Per group and weight column, the weighted sums of the rows of ``w``: shape
    (q * g, replicates)."""
    q = weights.shape[1]
    out = np.zeros((q, g, w.shape[1]))
    order = np.argsort(index, kind="stable")
    idx = index[order]
    starts = np.flatnonzero(np.r_[True, idx[1:] != idx[:-1]])
    rows = w[order]
    for j in range(q):
        out[j, idx[starts]] = np.add.reduceat(rows * weights[order, j, None], starts, axis=0)
    return out.reshape(q * g, w.shape[1])


def percentile_interval(
    numerator: NDArray[np.float64],
    denominator: NDArray[np.float64] | None,
    level: float,
) -> tuple[float, float]:
    """The central ``level`` interval of the replicates of ``numerator / denominator``
    (percentile method; replicates with a zero denominator are left out). NaN, NaN when
    no replicate is defined."""
    if denominator is None:
        values = numerator
    else:
        ok = denominator != 0
        values = numerator[ok] / denominator[ok]
    values = values[~np.isnan(values)]
    if values.size == 0:
        return math.nan, math.nan
    tail = (1.0 - level) / 2.0
    if np.isfinite(values).all():
        lo, hi = np.quantile(values, [tail, 1.0 - tail])
    else:
        # Interpolating towards an infinite replicate would give inf - inf: take the
        # replicates on the outer side of each quantile instead.
        lo = np.quantile(values, tail, method="lower")
        hi = np.quantile(values, 1.0 - tail, method="higher")
    return float(lo), float(hi)
