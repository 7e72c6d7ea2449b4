"""Exact sums that merge.

:class:`ExactSum` adds float64 values exactly (error-free extraction, then buckets by
exponent for what is left) into a Python integer; :class:`CompensatedSum` keeps a
block's result as an unevaluated pair ``hi + lo`` that merges with TwoSum.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["CompensatedSum", "ExactSum"]


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

#: Values per step: the extraction's float64 temporaries stay in a core's L2 cache.
_CHUNK = 1 << 15
#: Below this many values ``math.fsum`` is as fast as this path.
_MIN_FAST = 512
#: Extraction levels per step at most; what is left goes to the buckets.
_LEVELS = 4
#: Another level costs about as much as bucketing this share of a step's values.
_LEVEL_SHARE = 8
#: Each bucket's float64 sums of 26-bit parts stay exact integers up to this many values.
_FLUSH = 1 << 26
_ONE = 1 << 1074  # 2**-1074 is the spacing of float64's subnormals


def _exact_pair(values: NDArray[Any]) -> tuple[float, float] | None:
    """``(hi, lo)``: the correctly rounded sum of ``values`` and the correctly rounded
    rest, exactly what ``math.fsum`` gives, or None when the values do not suit this path
    (a NaN or an infinity, a sum beyond float64's range, few values, or a dtype that
    float64 does not hold)."""
    n = values.shape[0]
    if n < _MIN_FAST or values.ndim != 1 or values.dtype.kind not in "fiub":
        return None
    if values.dtype.itemsize > 8:
        return None  # long double: float64 would round it
    acc = ExactSum(min(n, _CHUNK))
    acc.add(values)
    return acc.pair()


class ExactSum:
    """A running exact sum of float64 values; ``a.merge(b)`` adds another's.

    The sum is kept as a Python integer in units of ``2**-1074`` (every finite float64 is
    a whole number of them), so nothing rounds until :meth:`pair`, where dividing by
    ``2**1074`` rounds correctly; the order of the values and of the merges does not
    matter. Steps of ``_CHUNK`` values are added by error-free extraction
    (:func:`_extract`); the few values that it leaves are bucketed by sign and exponent
    (:class:`_Buckets`). The scratch arrays are ``size`` long (at most ``_CHUNK``):
    nothing proportional to N is allocated (fresh pages are expensive). One instance
    per thread: NumPy's passes release the GIL, so threads add in parallel.
    """

    def __init__(self, size: int = _CHUNK) -> None:
        size = max(1, min(size, _CHUNK))
        self._q, self._r = np.empty(size), np.empty(size)
        self._buckets = _Buckets()
        self.clear()

    def clear(self) -> None:
        """Start again from 0 (keeping the scratch arrays)."""
        self._buckets.clear()
        self.total = 0
        #: False once a NaN or an infinity was added (the sum is then unknown here).
        self.finite = True

    def add(self, values: NDArray[Any]) -> None:
        """Add a 1-D array of values (any dtype float64 holds exactly)."""
        step = self._q.shape[0]
        for a in range(0, values.shape[0], step):
            v = values[a : a + step]
            if v.dtype != np.float64:
                v = v.astype(np.float64)  # exact for every dtype let through (fsum too)
            k = v.shape[0]
            part = _extract(v, self._q[:k], self._r[:k], self._buckets)
            if part is None:
                self.finite = False
                return
            self.total += part

    def merge(self, other: ExactSum) -> None:
        """Add everything ``other`` holds."""
        self.finite = self.finite and other.finite
        self.total += other.total
        self._buckets.merge(other._buckets)

    def pair(self) -> tuple[float, float] | None:
        """``(hi, lo)`` as :func:`math.fsum` gives them, or None: a NaN or an infinity
        was added, or the sum is beyond float64's range."""
        if not self.finite:
            return None
        total = self.total + self._buckets.total()
        try:
            hi = total / _ONE
        except OverflowError:
            return None
        num, den = hi.as_integer_ratio()
        return hi, (total - num * (_ONE // den)) / _ONE


def _extract(
    v: NDArray[np.float64], q: NDArray[np.float64], r: NDArray[np.float64], buckets: _Buckets
) -> int | None:
    """The exact sum of ``v`` in units of ``2**-1074`` (part of it may be left in
    ``buckets``), or None when ``v`` holds a NaN or an infinity. ``q`` and ``r`` are
    scratch arrays of ``v``'s length.

    Error-free extraction (Rump, Ogita and Oishi, "Accurate floating-point summation",
    2008): with ``sigma = 2**k >= 2**m * max|v|`` and ``2**m >= n + 2``, every
    ``q = (sigma + v) - sigma`` is ``v`` rounded to a multiple of ``2**(k - 53)``,
    ``v - q`` is exact, and any float64 sum of the ``q`` is exact (each partial sum is
    a multiple of ``2**(k - 53)`` no larger than ``sigma``). So one level costs a few
    SIMD passes and takes the top ``53 - m`` bits of every value; the rests go on to
    the next level, whose ``sigma`` follows from the last one. Losses need two levels or
    three; what values spread over a wider range of exponents leave is bucketed exactly.
    """
    n = v.shape[0]
    m = (n + 2).bit_length()
    hi, lo = float(v.max()), float(v.min())
    if not (math.isfinite(hi) and math.isfinite(lo)):
        return None
    top = max(hi, -lo)
    if top == 0.0:
        return 0
    k = math.frexp(top)[1] + m
    total = 0
    cur = v
    for level in range(_LEVELS):
        if level:
            # Every rest is at most half a step of the last grid: 2**(k - 53), the step
            # of sigma + v in [sigma, 2 sigma) being 2**(k - 52). So sigma = 2**(k - 53 + m)
            # is large enough, without a pass over the values for their maximum.
            k += m - 53
        if not -1021 <= k <= 1022:
            break  # the grid 2**(k - 53) would be subnormal, or sigma + v overflow
        sigma = math.ldexp(1.0, k)
        np.add(cur, sigma, out=q)
        q -= sigma
        num, den = float(q.sum()).as_integer_ratio()
        total += num * (_ONE // den)
        np.subtract(cur, q, out=r)
        cur = r
        # Counted on the bits (twice as fast as on the floats); a -0.0 counts, harmlessly.
        left = int(np.count_nonzero(r.view(np.int64)))
        if left == 0:
            return total
        if left * _LEVEL_SHARE <= n:
            break
    buckets.add(cur[cur != 0])
    return total


class _Buckets:
    """An exact sum of finite float64 values (:func:`_extract` checks them first),
    bucketed by sign and exponent.

    Every finite float64 is ``M * 2**(max(e, 1) - 1075)`` with its biased exponent ``e``
    and ``M = frac + (2**52 if e else 0)``. Per bucket (``bits >> 52``) NumPy counts the
    values and adds the high and low 26 bits of ``frac`` separately, exactly (float64
    integers below ``2**53`` for up to ``_FLUSH`` values); Python's integers then add
    the buckets.
    """

    def __init__(self) -> None:
        self.counts = np.zeros(4096, np.int64)
        self.highs = np.zeros(4096)
        self.lows = np.zeros(4096)
        self.pending = 0
        self.flushed = 0

    def clear(self) -> None:
        """Empty every bucket."""
        self._flush()
        self.flushed = 0

    def add(self, v: NDArray[np.float64]) -> None:
        if not v.size:
            return
        if self.pending + v.size > _FLUSH:
            self.flushed += self._flush()
        self.pending += v.size
        bits = v.view(np.int64)
        bucket = (bits >> 52) & 0xFFF
        frac = bits & 0xFFFFFFFFFFFFF
        self.counts += np.bincount(bucket, minlength=4096)
        self.highs += np.bincount(bucket, weights=frac >> 26, minlength=4096)
        frac &= 0x3FFFFFF
        self.lows += np.bincount(bucket, weights=frac, minlength=4096)

    def merge(self, other: _Buckets) -> None:
        self.flushed += other.flushed + other._held()

    def total(self) -> int:
        """The sum of every value added, in units of ``2**-1074``."""
        return self.flushed + self._held()

    def _flush(self) -> int:
        total = self._held() if self.pending else 0
        self.counts[:], self.highs[:], self.lows[:] = 0, 0.0, 0.0
        self.pending = 0
        return total

    def _held(self) -> int:
        """The sum of the values in the buckets now."""
        counts, highs, lows = self.counts, self.highs, self.lows
        total = 0
        for b in np.flatnonzero(counts).tolist():
            e = b & 0x7FF
            m = (int(counts[b]) << 52 if e else 0) + (int(highs[b]) << 26) + int(lows[b])
            m <<= max(e, 1) - 1
            total += -m if b & 0x800 else m
        return total
