"""A histogram of the per-sample negative log-likelihood that merges across blocks.

Counts are kept on a fine fixed grid (:data:`STEP` wide, up to :data:`LIMIT`), so blocks
add exactly; the bins shown are chosen at the end, when the largest value is known, as
whole multiples of the grid step.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["LIMIT", "STEP", "NllHistogram"]

#: Width of the fine grid, in the loss's units (nats or bits).
STEP = 0.01
#: Values from here on are counted as ``above`` (a probability of ``exp(-50)`` or less).
LIMIT = 50.0
_CELLS = round(LIMIT / STEP)
_WIDTHS = sorted(
    {round(m * 10**e) for e in range(5) for m in (1, 2, 2.5, 5) if (m * 10**e) % 1 == 0}
)


@dataclass(frozen=True, eq=False)
class NllHistogram:
    """Counts of per-sample NLL values on the fine grid; ``a + b`` merges.

    Attributes
    ----------
    counts : ndarray of int64, shape (LIMIT / STEP,)
        ``counts[j]``: values in ``[j * STEP, (j + 1) * STEP)``.
    above : int
        Finite values of at least ``LIMIT``.
    infinite : int
        Infinite values (a true class of probability 0).
    largest : float
        The largest finite value (``-inf`` when there is none).
    """

    counts: NDArray[np.int64]
    above: int = 0
    infinite: int = 0
    largest: float = -math.inf

    @classmethod
    def of(cls, nll: NDArray[np.float64]) -> NllHistogram:
        """The histogram of ``nll`` (NaN values are left out)."""
        finite = nll[np.isfinite(nll)]
        inside = finite[finite < LIMIT]
        # A value on a grid line may land in the cell below it (0.3 / 0.01 is
        # 29.999999999999996); that only moves it between two neighbouring cells.
        cell = np.minimum((np.maximum(inside, 0.0) / STEP).astype(np.int64), _CELLS - 1)
        return cls(
            counts=np.bincount(cell, minlength=_CELLS).astype(np.int64),
            above=int(finite.size - inside.size),
            infinite=int(np.count_nonzero(np.isposinf(nll))),
            largest=float(finite.max()) if finite.size else -math.inf,
        )

    def __add__(self, other: NllHistogram) -> NllHistogram:
        return NllHistogram(
            self.counts + other.counts,
            self.above + other.above,
            self.infinite + other.infinite,
            max(self.largest, other.largest),
        )

    def summary(self, bins: int = 20) -> dict[str, Any]:
        """At most ``bins`` equal bins from 0 to past the largest value below ``LIMIT``:
        ``{"edges": [...], "counts": [...], "above": ..., "infinite": ...}`` (``edges``
        has one more entry than ``counts``; bin ``i`` is ``[edges[i], edges[i+1])``)."""
        used = int(np.flatnonzero(self.counts).max()) + 1 if self.counts.any() else 1
        # Bins a round number of grid steps wide (0.01, 0.02, 0.05, 0.1, 0.2, 0.25, ...).
        per_bin = min(w for w in _WIDTHS if w * bins >= used)
        n_bins = math.ceil(used / per_bin)
        padded = np.zeros(n_bins * per_bin, dtype=np.int64)
        padded[:used] = self.counts[:used]
        counts = padded.reshape(n_bins, per_bin).sum(axis=1)
        edges = [round(i * per_bin * STEP, 10) for i in range(n_bins + 1)]
        return {
            "edges": edges,
            "counts": counts.tolist(),
            "above": self.above,
            "infinite": self.infinite,
        }
