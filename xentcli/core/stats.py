"""Mergeable partial statistics and the summary built from them.

A block of samples yields a :class:`LossStats`; stats of consecutive (or any) blocks merge
with ``+`` in any grouping, so a streaming reader only changes the loop that feeds blocks,
never the arithmetic. Sums are kept as a compensated pair (``hi + lo``), so the total does
not drift with the number or size of blocks.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["LossStats", "Summary"]


def _two_sum(a: float, b: float) -> tuple[float, float]:
    """Knuth's TwoSum: ``s + e == a + b`` exactly, with ``s = fl(a + b)``."""
    s = a + b
    bb = s - a
    e = (a - (s - bb)) + (b - bb)
    return s, e


@dataclass(frozen=True)
class LossStats:
    """Partial statistics of a set of samples; ``a + b`` merges two disjoint sets.

    Attributes
    ----------
    n_classes : int
        Number of classes C (merging stats of different C is an error).
    n : int
        Number of samples.
    n_correct : int
        Samples whose predicted class (first argmax) is the true class.
    sum_nll, sum_nll_lo : float
        The sum of per-sample negative log-likelihoods, as the compensated pair
        ``sum_nll + sum_nll_lo``.
    """

    n_classes: int
    n: int = 0
    n_correct: int = 0
    sum_nll: float = 0.0
    sum_nll_lo: float = 0.0

    @classmethod
    def from_block(
        cls, n_classes: int, nll: NDArray[np.float64], correct: NDArray[np.bool_]
    ) -> LossStats:
        """Statistics of one block of per-sample values.

        The block sum is correctly rounded (``math.fsum``): ``np.sum``'s pairwise sum is
        off by a few ulps, enough to differ from PyTorch in the 16th digit.
        """
        return cls(
            n_classes=n_classes,
            n=int(nll.shape[0]),
            n_correct=int(np.count_nonzero(correct)),
            sum_nll=math.fsum(nll.tolist()),
        )

    def __add__(self, other: LossStats) -> LossStats:
        if not isinstance(other, LossStats):
            return NotImplemented
        if other.n_classes != self.n_classes:
            raise ValueError(
                f"cannot merge statistics over {self.n_classes} and {other.n_classes} classes"
            )
        hi, err = _two_sum(self.sum_nll, other.sum_nll)
        if not math.isfinite(hi):
            # inf - inf in the error term would turn an honest +inf total into NaN.
            hi, lo = self.sum_nll + other.sum_nll, 0.0
        else:
            lo = self.sum_nll_lo + other.sum_nll_lo + err
            hi, lo = _two_sum(hi, lo)
        return LossStats(
            n_classes=self.n_classes,
            n=self.n + other.n,
            n_correct=self.n_correct + other.n_correct,
            sum_nll=hi,
            sum_nll_lo=lo,
        )

    def summary(self) -> Summary:
        """The batch summary of these samples (loss, perplexity, accuracy, ...)."""
        return Summary.from_stats(self)


@dataclass(frozen=True)
class Summary:
    """Batch summary. Field names are the keys of the JSON ``summary`` object.

    Attributes
    ----------
    n : int
        Number of samples.
    n_classes : int
        Number of classes C.
    loss : float
        Cross-entropy: the mean negative log-likelihood, in nats. NaN when ``n == 0``.
    sum_nll : float
        Sum of the per-sample negative log-likelihoods.
    log_likelihood : float
        ``-sum_nll``: the log of the product of the true classes' probabilities.
    perplexity : float
        ``exp(loss)``; ``inf`` only when that truly exceeds the float64 range.
    accuracy : float
        Fraction of samples whose first argmax is the true class.
    units : str
        ``"nats"`` (natural logarithms).
    """

    n: int
    n_classes: int
    loss: float
    sum_nll: float
    log_likelihood: float
    perplexity: float
    accuracy: float
    units: str = "nats"

    @classmethod
    def from_stats(cls, stats: LossStats) -> Summary:
        total = stats.sum_nll + stats.sum_nll_lo if math.isfinite(stats.sum_nll) else stats.sum_nll
        if stats.n == 0:
            loss = accuracy = perplexity = math.nan
        else:
            # Divide the compensated pair before rounding it, so loss = total / n is the
            # correctly rounded mean whenever the pair is exact.
            loss = total / stats.n
            accuracy = stats.n_correct / stats.n
            # exp(mean) overflows only when the perplexity itself exceeds ~1.8e308;
            # exp(sum)**(1/n) or a product of 1/p would overflow far earlier.
            try:
                perplexity = math.exp(loss)
            except OverflowError:
                perplexity = math.inf
        return cls(
            n=stats.n,
            n_classes=stats.n_classes,
            loss=loss,
            sum_nll=total,
            log_likelihood=-total,
            perplexity=perplexity,
            accuracy=accuracy,
        )

    def as_dict(self) -> dict[str, Any]:
        """The summary as a plain ``dict`` (JSON key order)."""
        return asdict(self)
