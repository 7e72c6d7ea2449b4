"""Exact sums that merge: a float total kept as an unevaluated pair, TwoSum-merged."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

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
        exact = _exact_pair(values)
        if exact is not None:
            return cls(*exact)
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

#: Values per step of the bucketed sum: its int64 temporaries stay in a core's L2 cache.
_CHUNK = 1 << 15
#: Below this many values ``math.fsum`` is as fast as the buckets.
_MIN_FAST = 512
#: Each bucket's float64 sums of 26-bit parts stay exact integers up to this many values.
_FLUSH = 1 << 26
_ONE = 1 << 1074  # 2**-1074 is the spacing of float64's subnormals


def _exact_pair(values: NDArray[Any]) -> tuple[float, float] | None:
    """``(hi, lo)``: the correctly rounded sum of ``values`` and the correctly rounded
    rest, exactly what ``math.fsum`` gives, or None when the values do not suit this path
    (a NaN or an infinity, a sum beyond float64's range, few values, or a dtype that
    float64 does not hold).

    Every finite float64 is ``M * 2**(max(e, 1) - 1075)`` with its biased exponent ``e``
    and ``M = frac + (2**52 if e else 0)``. The values are bucketed by sign and exponent
    (``bits >> 52``); per bucket NumPy counts them and adds the high and low 26 bits of
    ``frac`` separately, exactly (float64 integers below ``2**53``). Python's integers
    then add the buckets into one exact multiple of ``2**-1074`` and divide it by
    ``2**1074``, which rounds correctly. Temporaries are ``_CHUNK`` long: nothing
    proportional to N is allocated (fresh pages are expensive).
    """
    n = values.shape[0]
    if n < _MIN_FAST or values.ndim != 1 or values.dtype.kind not in "fiub":
        return None
    if values.dtype.itemsize > 8:
        return None  # long double: float64 would round it
    counts = np.zeros(4096, np.int64)
    highs, lows = np.zeros(4096), np.zeros(4096)
    total = 0
    for a in range(0, n, _CHUNK):
        v = values[a : a + _CHUNK]
        if v.dtype != np.float64:
            v = v.astype(np.float64)  # exact for every dtype let through (fsum does so too)
        bits = v.view(np.int64)
        bucket = (bits >> 52) & 0xFFF
        frac = bits & 0xFFFFFFFFFFFFF
        counts += np.bincount(bucket, minlength=4096)
        highs += np.bincount(bucket, weights=frac >> 26, minlength=4096)
        frac &= 0x3FFFFFF
        lows += np.bincount(bucket, weights=frac, minlength=4096)
        last = a + _CHUNK >= n
        if last or (a // _CHUNK + 1) % (_FLUSH // _CHUNK) == 0:
            if counts[0x7FF] or counts[0xFFF]:
                return None  # an infinity or a NaN
            total += _bucket_total(counts, highs, lows)
            counts[:], highs[:], lows[:] = 0, 0.0, 0.0
    try:
        hi = total / _ONE
    except OverflowError:
        return None
    num, den = hi.as_integer_ratio()
    return hi, (total - num * (_ONE // den)) / _ONE


def _bucket_total(
    counts: NDArray[np.int64], highs: NDArray[np.float64], lows: NDArray[np.float64]
) -> int:
    """The buckets' exact sum, in units of ``2**-1074``."""
    total = 0
    for b in np.flatnonzero(counts).tolist():
        e = b & 0x7FF
        m = (int(counts[b]) << 52 if e else 0) + (int(highs[b]) << 26) + int(lows[b])
        m <<= max(e, 1) - 1
        total += -m if b & 0x800 else m
    return total
