"""Two models on the same samples: paired per-sample differences and their statistics.

``delta = B - A`` throughout: a negative ``delta_loss`` means model B has the lower loss.

A block of paired samples (:class:`Paired`, built from the two models'
:class:`~xentcli.core.LossResult` blocks of the same samples) gives a
:class:`CompareStats`; stats of disjoint blocks merge with ``+`` in any grouping, and the
resampling in them depends only on each sample's index and the seed
(:mod:`xentcli.core.bootstrap`), so the interval and the p-value of a streamed input do
not depend on how it was split into blocks.

- The interval of ``delta_loss`` is a paired Poisson bootstrap: in each replicate every
  sample gets one Poisson(1) count, the same for A and B, and the replicate's delta is
  ``sum w (loss_b - loss_a) / sum w d`` (``d`` the sample's share of the mean's
  denominator: its class weight times its sample weight, 0 when ignored). The interval is
  the percentile interval of the replicates. Accuracy likewise, over the counted samples.
- The p-value is a paired sign-flip (randomisation) test of the null hypothesis that, on
  each sample, the two models' losses are exchangeable (the per-sample difference is
  symmetric about 0): each replicate flips the sign of every difference at random, and
  ``p = (1 + #{|T_b| >= |T|}) / (B + 1)`` with ``T = sum (loss_b - loss_a)``, two-sided.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from xentcli.core.bootstrap import ReplicateSums, percentile_interval
from xentcli.core.compat import PROFILES
from xentcli.core.loss import LossResult
from xentcli.core.stats import Summary
from xentcli.core.sums import CompensatedSum
from xentcli.errors import DataError

__all__ = [
    "SCHEMA_COMPARE",
    "CompareStats",
    "CompareSummary",
    "Paired",
    "compare_summary",
    "denominators",
    "largest_differences",
]

SCHEMA_COMPARE = "xent.compare/1"
METHOD = "paired Poisson bootstrap, percentile interval"
TEST = "paired sign-flip test of delta_loss = 0, two-sided"


def denominators(
    result: LossResult, sample_weight: NDArray[np.float64] | None = None
) -> NDArray[np.float64]:
    """Each sample's share of the mean's denominator (N,), as ``cross_entropy`` sums it:
    the class weight of its label (multi-label: C; soft targets: 1), times its sample
    weight, 0 when ignored. ``compat`` profiles that divide by the count give 1s."""
    opts = result.stats.options
    counting = PROFILES[opts.compat].denominator == "count"
    task = result.stats.task
    if task == "multilabel":
        d = np.full(result.n, float(result.n_classes))
    elif task == "multiclass" and opts.weight is not None and not counting:
        w = np.asarray(opts.weight, dtype=np.float64)
        known = (result.label >= 0) & (result.label < result.n_classes)
        d = np.where(known, w[np.where(known, result.label, 0)], 0.0)
    else:
        d = np.ones(result.n)
    if sample_weight is not None and not counting:
        d = d * sample_weight
    return np.where(result.ignored, 0.0, d)


def _correct(result: LossResult) -> NDArray[np.bool_]:
    same = result.pred == result.label
    hit: NDArray[np.bool_] = same.all(axis=1) if same.ndim == 2 else same
    return hit & ~result.ignored


@dataclass(frozen=True)
class Paired:
    """Per-sample values of models A and B on the same samples (arrays of length N).

    ``nll_*`` are the plain negative log-likelihoods (in the run's units), ``num_*`` each
    sample's contribution to the loss's numerator (its loss term times its sample
    weight), ``den`` its share of the denominator (the same for both models: it depends
    only on the label and the weights).
    """

    index: NDArray[np.int64]
    label: NDArray[np.int64]
    pred_a: NDArray[np.int64]
    pred_b: NDArray[np.int64]
    nll_a: NDArray[np.float64]
    nll_b: NDArray[np.float64]
    num_a: NDArray[np.float64]
    num_b: NDArray[np.float64]
    den: NDArray[np.float64]
    ignored: NDArray[np.bool_]
    correct_a: NDArray[np.bool_]
    correct_b: NDArray[np.bool_]
    position: NDArray[np.int64] | None = field(default=None, repr=False)

    @property
    def n(self) -> int:
        return int(self.index.shape[0])

    @property
    def delta(self) -> NDArray[np.float64]:
        """``nll_b - nll_a`` per sample (NaN for an ignored sample)."""
        with np.errstate(invalid="ignore"):
            d: NDArray[np.float64] = np.where(self.ignored, np.nan, self.nll_b - self.nll_a)
        return d

    @classmethod
    def of(
        cls,
        a: LossResult,
        b: LossResult,
        sample_weight: NDArray[np.float64] | None = None,
    ) -> Paired:
        """Pair two results over the same samples (the same indices, in order).

        Raises
        ------
        DataError
            When the two disagree on a sample's label (A's and B's own label columns).
        """
        if not np.array_equal(a.index, b.index):
            raise ValueError("the two results must cover the same samples")
        if a.label.shape != b.label.shape or not np.array_equal(a.label, b.label):
            differ = np.flatnonzero(
                (a.label != b.label).reshape(a.n, -1).any(axis=1)
                if a.label.shape == b.label.shape
                else np.ones(a.n, dtype=bool)
            )
            i = int(differ[0]) if differ.size else 0
            raise DataError(
                f"A and B have different labels for sample {int(a.index[i])} "
                f"({a.label[i].tolist()} and {b.label[i].tolist()}): compare needs the "
                "same samples with the same labels, in the same order"
            )
        den = denominators(a, sample_weight)
        num_a, num_b = a.loss, b.loss
        if sample_weight is not None:
            num_a, num_b = num_a * sample_weight, num_b * sample_weight
        return cls(
            index=a.index,
            label=a.label,
            pred_a=a.pred,
            pred_b=b.pred,
            nll_a=a.nll,
            nll_b=b.nll,
            num_a=np.where(a.ignored, 0.0, num_a),
            num_b=np.where(b.ignored, 0.0, num_b),
            den=den,
            ignored=a.ignored | b.ignored,
            correct_a=_correct(a),
            correct_b=_correct(b),
            position=a.position,
        )

    def take(self, rows: NDArray[np.intp] | slice) -> Paired:
        """The samples ``rows`` (in that order)."""
        picked: dict[str, Any] = {
            k: None if v is None else v[rows] for k, v in self._arrays().items()
        }
        return Paired(**picked)

    def _arrays(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}

    @staticmethod
    def concat(parts: Sequence[Paired]) -> Paired:
        """Blocks of pairs (in order) as one."""
        if len(parts) == 1:
            return parts[0]
        first = parts[0]._arrays()
        out: dict[str, Any] = {
            k: None if v is None else np.concatenate([getattr(p, k) for p in parts])
            for k, v in first.items()
        }
        return Paired(**out)


def largest_differences(parts: Sequence[Paired], head: int) -> Paired:
    """The ``head`` samples with the largest ``|delta|``, largest first (ties by index;
    undefined deltas last). Blocks can be reduced one at a time: the head of the heads is
    the head of the whole."""
    kept = [p.take(_by_size(p)[:head]) for p in parts]
    merged = Paired.concat(kept)
    return merged.take(_by_size(merged)[:head])


def _by_size(p: Paired) -> NDArray[np.intp]:
    size = np.abs(p.delta)
    order: NDArray[np.intp] = np.lexsort((p.index, np.where(np.isnan(size), np.inf, -size)))
    return order


@dataclass(frozen=True)
class CompareStats:
    """Mergeable partial statistics of paired samples; ``a + b`` merges disjoint sets.

    Attributes
    ----------
    n, ignored : int
        Paired samples; those excluded by ``ignore_index`` (in either model).
    a_better, b_better, ties : int
        Counted samples where A's nll is lower, B's is lower, or both are exactly equal.
    nonfinite : int
        Counted samples whose loss is not finite in A or B (no interval or p-value then).
    counted, gained : int
        Samples that count (not ignored); B's correct predictions minus A's among them.
    observed, scale : CompensatedSum
        ``sum (num_b - num_a)`` and ``sum |num_b - num_a|`` (the latter bounds the
        rounding of the sign-flip replicates).
    boot : ReplicateSums
        Poisson replicates of ``[num_b - num_a, den, correct_b - correct_a, counted]``.
    sign : ReplicateSums
        Sign-flip replicates of ``num_b - num_a``.
    """

    n: int
    ignored: int
    a_better: int
    b_better: int
    ties: int
    nonfinite: int
    counted: int
    gained: int
    observed: CompensatedSum
    scale: CompensatedSum
    boot: ReplicateSums
    sign: ReplicateSums

    @classmethod
    def of(cls, pairs: Paired, seed: int, replicates: int) -> CompareStats:
        """The statistics of a block of pairs (``pairs.index`` places it in the input)."""
        counted = ~pairs.ignored
        with np.errstate(invalid="ignore"):
            diff = pairs.num_b - pairs.num_a
        bad = counted & ~np.isfinite(diff)
        diff = np.where(bad | ~counted, 0.0, diff)
        na, nb = pairs.nll_a[counted], pairs.nll_b[counted]
        values = np.stack(
            [
                diff,
                pairs.den,
                pairs.correct_b.astype(np.float64) - pairs.correct_a.astype(np.float64),
                counted.astype(np.float64),
            ],
            axis=1,
        )
        start = int(pairs.index[0]) if pairs.n else 0
        if pairs.n and int(pairs.index[-1]) - start + 1 != pairs.n:
            raise ValueError("a block of pairs must be consecutive samples")
        return cls(
            n=pairs.n,
            ignored=int(np.count_nonzero(pairs.ignored)),
            a_better=int(np.count_nonzero(na < nb)),
            b_better=int(np.count_nonzero(nb < na)),
            ties=int(np.count_nonzero(na == nb)),
            nonfinite=int(np.count_nonzero(bad)),
            counted=int(np.count_nonzero(counted)),
            gained=int(np.count_nonzero(pairs.correct_b)) - int(np.count_nonzero(pairs.correct_a)),
            observed=CompensatedSum.of(diff),
            scale=CompensatedSum.of(np.abs(diff)),
            boot=ReplicateSums.of(values, start, seed, replicates, "poisson"),
            sign=ReplicateSums.of(diff[:, None], start, seed, replicates, "sign"),
        )

    def __add__(self, other: CompareStats) -> CompareStats:
        return CompareStats(
            n=self.n + other.n,
            ignored=self.ignored + other.ignored,
            a_better=self.a_better + other.a_better,
            b_better=self.b_better + other.b_better,
            ties=self.ties + other.ties,
            nonfinite=self.nonfinite + other.nonfinite,
            counted=self.counted + other.counted,
            gained=self.gained + other.gained,
            observed=self.observed + other.observed,
            scale=self.scale + other.scale,
            boot=self.boot + other.boot,
            sign=self.sign + other.sign,
        )

    def p_value(self) -> float:
        """The two-sided sign-flip p-value (NaN without replicates, without a counted
        sample, or with a non-finite loss). A replicate within rounding of ``|T|`` counts
        as reaching it."""
        b = self.sign.replicates
        if b == 0 or self.nonfinite or self.counted == 0:
            return math.nan
        t = abs(self.observed.value)
        # Replicate sums are plain float sums: allow their rounding error (conservative).
        tol = 1e-9 * self.scale.value
        hits = int(np.count_nonzero(np.abs(self.sign.sums[0]) >= t - tol))
        return (1 + hits) / (b + 1)


@dataclass(frozen=True)
class CompareSummary:
    """The comparison's summary. Field names are the keys of the JSON ``summary``.

    ``delta_* = *_b - *_a``; the intervals are ``[low, high]`` at level ``ci``
    (NaN when undefined: no replicates, a non-finite loss, or nothing counted).
    """

    n: int
    n_classes: int
    task: str
    ignored: int
    loss_a: float
    loss_b: float
    delta_loss: float
    delta_loss_ci: tuple[float, float]
    accuracy_a: float
    accuracy_b: float
    delta_accuracy: float
    delta_accuracy_ci: tuple[float, float]
    p_value: float
    a_better: int
    b_better: int
    ties: int
    units: str
    reduction: str
    ci: float
    method: str
    test: str
    replicates: int
    seed: int
    options: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        """The summary as a plain ``dict`` in JSON key order (intervals as lists)."""
        out = {k: getattr(self, k) for k in self.__dataclass_fields__}
        out["delta_loss_ci"] = list(self.delta_loss_ci)
        out["delta_accuracy_ci"] = list(self.delta_accuracy_ci)
        return out

    def flat(self) -> dict[str, Any]:
        """The numbers with each interval as ``*_ci_lo`` and ``*_ci_hi`` (for CSV and
        ``--fail-if``)."""
        out: dict[str, Any] = {}
        for k, v in self.as_dict().items():
            if k.endswith("_ci"):
                out[k + "_lo"], out[k + "_hi"] = v
            else:
                out[k] = v
        return out


def compare_summary(a: Summary, b: Summary, stats: CompareStats, level: float) -> CompareSummary:
    """The summary of a comparison from each model's summary (the exact losses, as
    ``xent loss`` reports them) and the paired statistics.

    Examples
    --------
    >>> from xentcli.core import cross_entropy
    >>> y = [0, 1, 1, 0]
    >>> ra = cross_entropy([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [2.0, 0.0]], y)
    >>> rb = cross_entropy([[2.0, 0.0], [0.0, 2.0], [0.0, 1.0], [2.0, 0.0]], y)
    >>> s = compare_summary(ra.summary, rb.summary, CompareStats.of(Paired.of(ra, rb), 1, 200), 0.9)
    >>> round(s.delta_loss, 6), s.delta_accuracy, (s.a_better, s.b_better, s.ties)
    (-0.343167, 0.25, (0, 3, 1))
    """
    boot = stats.boot.sums
    dl = boot[0] if a.reduction == "sum" else _ratio(boot[0], boot[1])
    defined = stats.nonfinite == 0 and math.isfinite(b.loss - a.loss)
    loss_ci = percentile_interval(dl, None, level) if defined else (math.nan, math.nan)
    acc_ci = percentile_interval(boot[2], boot[3], level)
    return CompareSummary(
        n=stats.n,
        n_classes=a.n_classes,
        task=a.task,
        ignored=stats.ignored,
        loss_a=a.loss,
        loss_b=b.loss,
        delta_loss=b.loss - a.loss,
        delta_loss_ci=loss_ci,
        accuracy_a=a.accuracy,
        accuracy_b=b.accuracy,
        # Exact: one division of a count, not a difference of two rounded accuracies.
        delta_accuracy=stats.gained / stats.counted if stats.counted else math.nan,
        delta_accuracy_ci=acc_ci,
        p_value=stats.p_value(),
        a_better=stats.a_better,
        b_better=stats.b_better,
        ties=stats.ties,
        units=a.units,
        reduction=a.reduction,
        ci=level,
        method=METHOD,
        test=TEST,
        replicates=stats.boot.replicates,
        seed=stats.boot.seed,
        options=a.options,
    )


def _ratio(num: NDArray[np.float64], den: NDArray[np.float64]) -> NDArray[np.float64]:
    """Replicate means; NaN where a replicate drew no counted sample."""
    with np.errstate(invalid="ignore", divide="ignore"):
        r: NDArray[np.float64] = np.where(den != 0, num / np.where(den != 0, den, 1.0), np.nan)
    return r
