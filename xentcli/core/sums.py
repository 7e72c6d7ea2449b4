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
        exact = _exact_terms(values)
        if exact is not None:
            hi = math.fsum(exact)
            return cls(hi, math.fsum([*exact, -hi]))
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

#: The fast exact path sums bucket by bucket in float64: at most 2**25 values of at most
#: 2**27 each stay below 2**53, where float64 integers are exact.
_MAX_FAST = 1 << 25


def _exact_terms(values: NDArray[np.float64]) -> list[float] | None:
    """A few floats whose exact sum is exactly the sum of ``values``, or None when the
    values do not suit this path (non-finite, huge, tiny, too many, or few enough that
    ``math.fsum`` over them is as fast).

    Each value is ``M * 2**(e - 53)`` with an integer ``M`` of 53 bits (``frexp``), split
    into a high part of 27 bits and a low part of 26; NumPy adds the parts of each
    exponent separately, exactly (every partial sum is an integer below ``2**53``), and
    each of those sums times its power of two is exact too. So ``math.fsum`` of the
    result (two terms per exponent) rounds the very same exact sum as ``math.fsum`` of
    the values, five times faster for a million of them.
    """
    n = values.shape[0]
    if n < 4096 or n > _MAX_FAST or values.ndim != 1:
        return None
    if values.dtype not in (np.float64, np.float32):
        return None  # frexp of float16 or integers does not give 53-bit mantissas
    m, e = np.frexp(values)
    if not np.isfinite(m).all():
        return None
    emin, emax = int(e.min()), int(e.max())
    nonzero = m != 0
    if emax > 960 or (nonzero.any() and int(e[nonzero].min()) < -1020):
        return None  # a term could overflow, or lose bits as a subnormal
    big = m * 9007199254740992.0  # * 2**53: an integer in float64
    high = np.trunc(big * (1.0 / 67108864.0))  # / 2**26
    low = big - high * 67108864.0
    index = e - emin
    highs = np.bincount(index, weights=high).tolist()
    lows = np.bincount(index, weights=low).tolist()
    terms = [math.ldexp(h, k + emin - 27) for k, h in enumerate(highs) if h]
    terms += [math.ldexp(v, k + emin - 53) for k, v in enumerate(lows) if v]
    return terms
