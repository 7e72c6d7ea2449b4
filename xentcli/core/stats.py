"""Mergeable partial statistics and the summary built from them.

A block of samples yields a :class:`LossStats`; stats of consecutive (or any) blocks merge
with ``+`` in any grouping, so a streaming reader only changes the loop that feeds blocks,
never the arithmetic. Sums are kept as a compensated pair (``hi + lo``), so the total does
not drift with the number or size of blocks.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from xentcli.core.options import LossOptions
from xentcli.errors import DataError

__all__ = ["CompensatedSum", "LossStats", "Summary"]


def _two_sum(a: float, b: float) -> tuple[float, float]:
    """Knuth's TwoSum: ``s + e == a + b`` exactly, with ``s = fl(a + b)``."""
    s = a + b
    bb = s - a
    e = (a - (s - bb)) + (b - bb)
    return s, e


LN2 = math.log(2.0)


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


@dataclass(frozen=True)
class LossStats:
    """Partial statistics of a set of samples; ``a + b`` merges two disjoint sets.

    Everything in a summary is a function of these sums and counts, so the summary of a
    whole input does not depend on how it was split into blocks.

    Attributes
    ----------
    n_classes : int
        Number of classes C (merging stats of different C is an error).
    options : LossOptions
        The options the per-sample values were computed with (must match to merge).
    task : str
        ``"multiclass"``, ``"multiclass-soft"`` (soft targets), ``"binary"`` or
        ``"multilabel"``.
    sample_weighted : bool
        Whether per-sample weights entered the sums.
    n : int
        Samples in the result (including ignored ones, excluding skipped ones).
    n_ignored, n_skipped : int
        Samples excluded by ``ignore_index``; rows left out by ``nonfinite="skip"``.
    n_correct : int
        Counted samples whose predicted class (first argmax) is the true class.
    sum_loss : CompensatedSum
        Sum of the (sample-weighted) per-sample loss terms, in nats.
    sum_weight : CompensatedSum
        The mean's denominator: the sum of the weights of the counted samples.
    sum_nll : CompensatedSum
        Sum of the counted samples' plain negative log-likelihoods, in nats.
    """

    n_classes: int
    options: LossOptions = field(default_factory=LossOptions)
    task: str = "multiclass"
    sample_weighted: bool = False
    n: int = 0
    n_ignored: int = 0
    n_skipped: int = 0
    n_correct: int = 0
    sum_loss: CompensatedSum = field(default_factory=CompensatedSum)
    sum_weight: CompensatedSum = field(default_factory=CompensatedSum)
    sum_nll: CompensatedSum = field(default_factory=CompensatedSum)

    @property
    def n_counted(self) -> int:
        """Samples that count towards the loss (not ignored)."""
        return self.n - self.n_ignored

    def __add__(self, other: LossStats) -> LossStats:
        if not isinstance(other, LossStats):
            return NotImplemented
        if other.n_classes != self.n_classes:
            raise ValueError(
                f"cannot merge statistics over {self.n_classes} and {other.n_classes} classes"
            )
        if other.options != self.options or other.task != self.task:
            raise ValueError("cannot merge statistics computed with different options")
        return LossStats(
            n_classes=self.n_classes,
            options=self.options,
            task=self.task,
            sample_weighted=self.sample_weighted or other.sample_weighted,
            n=self.n + other.n,
            n_ignored=self.n_ignored + other.n_ignored,
            n_skipped=self.n_skipped + other.n_skipped,
            n_correct=self.n_correct + other.n_correct,
            sum_loss=self.sum_loss + other.sum_loss,
            sum_weight=self.sum_weight + other.sum_weight,
            sum_nll=self.sum_nll + other.sum_nll,
        )

    def summary(self, *, final: bool = False) -> Summary:
        """The batch summary of these samples (loss, perplexity, accuracy, ...).

        With ``final=True`` (the whole input), ``options.empty == "error"`` raises
        :class:`~xentcli.errors.DataError` when nothing counts towards the mean; a block
        of a longer input may legitimately be all ignored, so by default it does not.
        """
        summary = Summary.from_stats(self)
        if final and summary.empty and self.options.empty_value == "error":
            raise DataError(
                "no sample counts towards the mean (all are ignored, skipped or of zero "
                "weight), so the mean loss is undefined; --empty nan or zero chooses a value"
            )
        return summary


@dataclass(frozen=True)
class Summary:
    """Batch summary. Field names are the keys of the JSON ``summary`` object.

    Attributes
    ----------
    n : int
        Samples in the result (ignored ones included, skipped ones not).
    n_classes : int
        Number of classes C.
    task : str
        ``"multiclass"``, ``"multiclass-soft"``, ``"binary"`` or ``"multilabel"``.
    loss : float
        The reduced loss in ``units``: the sum of the per-sample ``loss`` terms, divided
        by ``denominator`` for ``reduction="mean"``. NaN (or 0, with ``empty="zero"``)
        when nothing counts.
    reduction : str
        ``"mean"`` or ``"sum"``.
    denominator : float
        What the mean divides by: the number of counted samples, or their total weight.
    sum_nll : float
        Sum of the counted samples' negative log-likelihoods ``-log p(true class)``.
    log_likelihood : float
        ``-sum_nll``: the log of the product of the true classes' probabilities.
    perplexity : float
        ``exp`` of the mean negative log-likelihood in nats (the same in any units);
        ``inf`` only when that truly exceeds the float64 range.
    accuracy : float
        Fraction of counted samples whose first argmax is the true class.
    units : str
        ``"nats"`` (natural logarithms) or ``"bits"`` (base 2).
    compat : str
        The ``compat`` profile the number follows (``"xent"``: exact).
    ignored, skipped : int
        Samples excluded by ``ignore_index``; non-finite rows left out.
    options : dict
        The options that changed the number (those not at their default).
    """

    n: int
    n_classes: int
    task: str
    loss: float
    reduction: str
    denominator: float
    sum_nll: float
    log_likelihood: float
    perplexity: float
    accuracy: float
    units: str
    compat: str
    ignored: int
    skipped: int
    options: dict[str, Any]

    @property
    def empty(self) -> bool:
        """True when the mean had nothing to average (its denominator is 0)."""
        return self.reduction == "mean" and self.denominator == 0

    @classmethod
    def from_stats(cls, stats: LossStats) -> Summary:
        opts = stats.options
        div = LN2 if opts.units == "bits" else 1.0
        denom = stats.sum_weight.value
        if opts.reduction == "sum":
            loss = stats.sum_loss.value
        elif denom == 0:
            loss = 0.0 if opts.empty_value == "zero" else math.nan
        else:
            loss = stats.sum_loss.ratio(denom)
        nll = stats.sum_nll.value
        counted = stats.n_counted
        if counted == 0:
            accuracy = perplexity = math.nan
        else:
            accuracy = stats.n_correct / counted
            # exp(mean) overflows only when the perplexity itself exceeds ~1.8e308;
            # exp(sum)**(1/n) or a product of 1/p would overflow far earlier.
            try:
                perplexity = math.exp(stats.sum_nll.ratio(counted))
            except OverflowError:
                perplexity = math.inf
        return cls(
            n=stats.n,
            n_classes=stats.n_classes,
            task=stats.task,
            loss=loss / div,
            reduction=opts.reduction,
            denominator=denom,
            sum_nll=nll / div,
            log_likelihood=-nll / div,
            perplexity=perplexity,
            accuracy=accuracy,
            units=opts.units,
            compat=opts.compat,
            ignored=stats.n_ignored,
            skipped=stats.n_skipped,
            options=opts.changed() | ({"sample_weight": True} if stats.sample_weighted else {}),
        )

    def as_dict(self) -> dict[str, Any]:
        """The summary as a plain ``dict`` (JSON key order)."""
        return asdict(self)
