"""Mergeable partial statistics and the summary built from them.

A block of samples yields a :class:`LossStats`; stats of consecutive (or any) blocks merge
with ``+`` in any grouping, so a streaming reader only changes the loop that feeds blocks,
never the arithmetic. Sums are kept as a compensated pair (``hi + lo``), so the total does
not drift with the number or size of blocks.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, TypeVar

import numpy as np

from xentcli.core.bootstrap import ReplicateSums, percentile_interval
from xentcli.core.histogram import NllHistogram
from xentcli.core.metrics import MetricStats, calibration_errors
from xentcli.core.options import LossOptions
from xentcli.core.perclass import ClassStats
from xentcli.core.sums import CompensatedSum
from xentcli.errors import DataError

LN2 = math.log(2.0)


def _extra(stats: LossStats, div: float) -> dict[str, Any]:
    out = stats.metrics.summary() if stats.metrics is not None else {}
    if "mean_entropy" in out:
        out["mean_entropy"] /= div  # in the loss's units, like every log
    if stats.replicates is not None:
        out["ci"] = _interval(stats, div)
    if stats.per_class is not None:
        out["per_class"] = stats.per_class.records(stats.sum_loss.value, div)
    if stats.histogram is not None:
        out["nll_histogram"] = stats.histogram.summary()
    return out


__all__ = ["CompensatedSum", "LossStats", "Summary"]


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
    metrics : MetricStats or None
        Partial sums of top-k accuracy, Brier score, entropy and calibration bins.
    per_class : ClassStats or None
        Per-class sums (``options.per_class``).
    replicates : ReplicateSums or None
        Poisson-bootstrap sums of the loss, its denominator, the hits and the count, one
        per replicate (``options.ci``).
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
    metrics: MetricStats | None = None
    per_class: ClassStats | None = None
    replicates: ReplicateSums | None = None
    histogram: NllHistogram | None = None

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
            metrics=_merge(self.metrics, other.metrics),
            per_class=_merge(self.per_class, other.per_class),
            replicates=_merge(self.replicates, other.replicates),
            histogram=_merge(self.histogram, other.histogram),
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


_M = TypeVar("_M", MetricStats, ClassStats, ReplicateSums, NllHistogram)


def _merge(a: _M | None, b: _M | None) -> _M | None:
    return None if a is None or b is None else a + b


def _interval(stats: LossStats, div: float) -> dict[str, Any]:
    """The ``ci`` object: percentile intervals of the bootstrap replicates."""
    opts = stats.options
    reps = stats.replicates
    assert reps is not None
    assert opts.ci is not None
    loss_sum, denom, hits, count, infinite = reps.sums[:5]
    loss_sum = np.where(infinite > 0, np.inf, loss_sum)
    if opts.reduction == "sum":
        lo, hi = percentile_interval(loss_sum, None, opts.ci)
    else:
        lo, hi = percentile_interval(loss_sum, denom, opts.ci)
    a_lo, a_hi = percentile_interval(hits, count, opts.ci)
    out: dict[str, Any] = {
        "level": opts.ci,
        "method": "poisson bootstrap, percentile interval",
        "replicates": reps.replicates,
        "seed": reps.seed,
        "loss": [lo / div, hi / div],
        "accuracy": [a_lo, a_hi],
    }
    rest = reps.sums[5:]
    if opts.top_k is not None:
        out["top_k_accuracy"] = list(percentile_interval(rest[0], count, opts.ci))
        rest = rest[1:]
    if opts.bins is not None and len(rest):
        out["brier"] = list(percentile_interval(rest[0], count, opts.ci))
        lo, hi = percentile_interval(rest[1], count, opts.ci)
        out["mean_entropy"] = [lo / div, hi / div]
        slots = opts.bins + 1
        bins = rest[2:]
        errors = calibration_errors(bins[:slots], bins[slots : 2 * slots], bins[2 * slots :])
        for name, values in zip(("ece", "mce", "rmsce"), errors, strict=True):
            out[name] = list(percentile_interval(values, None, opts.ci))
    return out


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
    extra : dict
        The extra metrics asked for (``top_k``, ``top_k_accuracy``, ``brier``,
        ``mean_entropy``, ``bins``, ``ece``, ``mce``, ``rmsce``; ``ci``, an object with the
        bootstrap intervals of ``loss`` and ``accuracy``; ``per_class``, a list of
        per-class records; ``nll_histogram``, the counts of the per-sample NLL in equal
        bins); flattened into the dict.
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
    extra: dict[str, Any] = field(default_factory=dict)

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
            extra=_extra(stats, div),
        )

    def as_dict(self) -> dict[str, Any]:
        """The summary as a plain ``dict`` (JSON key order); the extra metrics (top-k
        accuracy, Brier score, calibration errors, when asked for) are keys of their own."""
        out = asdict(self)
        out.update(out.pop("extra"))
        return out
