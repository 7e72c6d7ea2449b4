"""Exact sums that merge: a float total kept as an unevaluated pair, TwoSum-merged."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = ["CompensatedSum"]


def _two_sum(a: float, b: float) -> tuple[float, float]:
    """Knuth's TwoSum: ``s + e == a + b`` exactly, with ``s = fl(a + b)``."""
    s = a + b
    bb = s - a
    e = (a - (s - bb)) + (b - bb)
    return s, e


@dataclass(frozen=True)
class CompensatedSum:
    """A float sum kept as the unevaluated pair ``hi + lo`` (merged with TwoSum).

    ``exp`` is nonzero only for sums of finite terms beyond float64's range: the value
    is then ``(hi + lo) * 2**exp``, so a mean of huge but finite losses stays finite.
    """

    hi: float = 0.0
    lo: float = 0.0
    exp: int = 0

    @classmethod
    def of(cls, values: NDArray[np.float64]) -> CompensatedSum:
        """The correctly rounded sum of ``values`` (``math.fsum``): ``np.sum``'s pairwise
        sum is off by a few ulps, enough to differ from PyTorch in the 16th digit."""
        terms = values.tolist()
        try:
            hi = math.fsum(terms)
            # The rounding error of this block's sum, so that merged blocks stay exact
            # (the total then does not depend on how the input was split).
            lo = math.fsum([*terms, -hi]) if math.isfinite(hi) else 0.0
            return cls(hi, lo)
        except OverflowError:
            # fsum raises when a partial sum leaves float64's range.
            return cls(math.fsum(math.ldexp(v, -_SCALE) for v in terms), 0.0, _SCALE)

    def scaled(self) -> CompensatedSum:
        """The same value with ``exp`` raised by 64 (exact, barring subnormal ``lo``)."""
        return CompensatedSum(
            math.ldexp(self.hi, -_SCALE), math.ldexp(self.lo, -_SCALE), self.exp + _SCALE
        )

    def __add__(self, other: CompensatedSum) -> CompensatedSum:
        a, b = self, other
        while a.exp != b.exp:
            a, b = (a.scaled(), b) if a.exp < b.exp else (a, b.scaled())
        hi, err = _two_sum(a.hi, b.hi)
        if math.isinf(hi) and math.isfinite(a.hi) and math.isfinite(b.hi):
            # Two finite sums whose total leaves float64's range: go on scaled.
            return a.scaled() + b.scaled()
        if not math.isfinite(hi):
            # inf - inf in the error term would turn an honest +inf total into NaN.
            return CompensatedSum(a.hi + b.hi, 0.0, a.exp)
        hi, lo = _two_sum(hi, a.lo + b.lo + err)
        return CompensatedSum(hi, lo, a.exp)

    def ratio(self, denominator: float) -> float:
        """``sum / denominator``, rounded once (finite whenever the ratio fits float64)."""
        total = self.hi + self.lo if math.isfinite(self.hi) else self.hi
        try:
            return math.ldexp(total / denominator, self.exp)
        except OverflowError:
            return math.inf

    @property
    def value(self) -> float:
        """The sum rounded to one float (``inf`` beyond float64's range)."""
        return self.ratio(1.0)


_SCALE = 64
