"""Metrics beyond the loss: top-k accuracy, Brier score, mean entropy, calibration error.

Each is kept as mergeable partial sums (:class:`MetricStats`), so blocks of any size
combine into the same result, as the loss does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from xentcli.core.sums import CompensatedSum

__all__ = ["MetricStats", "bin_index", "block_metrics"]


def _zeros(n: int) -> tuple[float, ...]:
    return (0.0,) * n


@dataclass(frozen=True)
class MetricStats:
    """Partial sums of the extra metrics over a set of samples; ``a + b`` merges.

    Attributes
    ----------
    top_k : int or None
        K of the top-K accuracy (None: not computed).
    bins : int or None
        Equal-width confidence bins of the calibration error (None: no probability
        metrics).
    n : int
        Samples counted.
    top_k_hits : int
        Samples whose true class is among the K highest scores.
    brier, entropy : CompensatedSum
        Sums of the per-sample Brier score ``sum_c (p_c - [c = y])**2`` and entropy
        ``-sum_c p_c log p_c``.
    bin_count, bin_confidence, bin_correct : tuple
        Per bin (``bins`` of equal width, then one for a confidence of exactly 1):
        samples, sum of top-1 confidences, correct top-1 predictions.
    """

    top_k: int | None = None
    bins: int | None = None
    n: int = 0
    top_k_hits: int = 0
    brier: CompensatedSum = field(default_factory=CompensatedSum)
    entropy: CompensatedSum = field(default_factory=CompensatedSum)
    bin_count: tuple[float, ...] = ()
    bin_confidence: tuple[float, ...] = ()
    bin_correct: tuple[float, ...] = ()

    def __add__(self, other: MetricStats) -> MetricStats:
        if (self.top_k, self.bins) != (other.top_k, other.bins):
            raise ValueError("cannot merge metrics computed with different settings")
        add = [a + b for a, b in zip(self.bin_count, other.bin_count, strict=True)]
        conf = [
            math.fsum((a, b))
            for a, b in zip(self.bin_confidence, other.bin_confidence, strict=True)
        ]
        corr = [a + b for a, b in zip(self.bin_correct, other.bin_correct, strict=True)]
        return MetricStats(
            top_k=self.top_k,
            bins=self.bins,
            n=self.n + other.n,
            top_k_hits=self.top_k_hits + other.top_k_hits,
            brier=self.brier + other.brier,
            entropy=self.entropy + other.entropy,
            bin_count=tuple(add),
            bin_confidence=tuple(conf),
            bin_correct=tuple(corr),
        )

    def summary(self) -> dict[str, Any]:
        """The JSON summary's extra keys (NaN when no sample counted)."""
        out: dict[str, Any] = {}
        n = self.n
        if self.top_k is not None:
            out["top_k"] = self.top_k
            out["top_k_accuracy"] = self.top_k_hits / n if n else math.nan
        if self.bins is not None:
            out["brier"] = self.brier.ratio(n) if n else math.nan
            out["mean_entropy"] = self.entropy.ratio(n) if n else math.nan
            gaps = [
                abs(corr / cnt - conf / cnt)
                for cnt, conf, corr in zip(
                    self.bin_count, self.bin_confidence, self.bin_correct, strict=True
                )
                if cnt
            ]
            weights = [cnt / n for cnt in self.bin_count if cnt] if n else []
            out["bins"] = self.bins
            out["ece"] = (
                math.fsum(g * w for g, w in zip(gaps, weights, strict=True)) if n else math.nan
            )
            out["mce"] = max(gaps) if gaps else math.nan
            out["rmsce"] = (
                math.sqrt(math.fsum(g * g * w for g, w in zip(gaps, weights, strict=True)))
                if n
                else math.nan
            )
        return out


def bin_index(confidence: NDArray[np.float64], bins: int) -> NDArray[np.intp]:
    """Bin of each confidence: ``k`` for ``k/bins <= c < (k+1)/bins``, ``bins`` for 1."""
    # Each edge is the double nearest k/bins (linspace's 0 + k * step can miss it: 3 * 0.2
    # is 0.6000000000000001, which would put a confidence of 0.6 in the bin below).
    edges = np.arange(bins + 1) / bins
    out: NDArray[np.intp] = np.searchsorted(edges, confidence, side="right") - 1
    return out


def block_metrics(
    scores: NDArray[np.float64],
    logp: NDArray[np.float64] | None,
    label: NDArray[np.int64],
    counted: NDArray[np.bool_],
    top_k: int | None,
    bins: int | None,
) -> MetricStats:
    """The metrics' partial sums for one block of class-index samples.

    ``scores`` are the input scores (N, C) (their order ranks the classes), ``logp`` the
    normalised log-probabilities (needed when ``bins`` is set); only ``counted`` samples
    enter the sums.
    """
    x = scores[counted]
    y = label[counted]
    n = int(y.shape[0])
    hits = 0
    if top_k is not None and n:
        rows = np.arange(n)
        s_true = x[rows, y][:, None]
        cls = np.arange(x.shape[1])[None, :]
        # scikit-learn's order: descending score, ties broken towards the higher index.
        ahead = (x > s_true) | ((x == s_true) & (cls > y[:, None]))
        hits = int(np.count_nonzero(ahead.sum(axis=1) < top_k))
    if bins is None or logp is None:
        return MetricStats(top_k=top_k, bins=bins, n=n, top_k_hits=hits)
    lp = logp[counted]
    p = np.exp(lp)
    rows = np.arange(n)
    brier = (p * p).sum(axis=1) - 2.0 * p[rows, y] + 1.0
    with np.errstate(invalid="ignore"):
        plogp = np.where(p > 0, p * lp, 0.0)
    entropy = -plogp.sum(axis=1)
    conf = p.max(axis=1)
    correct = (p.argmax(axis=1) == y).astype(np.float64)
    # torchmetrics' bins: [lo, hi) of equal width (bucketize(right=True) - 1, so a
    # confidence on an edge goes to the bin that edge opens), and a bin of its own for a
    # confidence of exactly 1. torchmetrics casts confidences and edges to float32; here
    # both stay float64, so a confidence within ~1e-7 of an edge may land one bin over.
    which = bin_index(conf, bins)
    slots = bins + 1
    count = np.bincount(which, minlength=slots).astype(np.float64)
    conf_sum = np.bincount(which, weights=conf, minlength=slots)
    corr_sum = np.bincount(which, weights=correct, minlength=slots)
    return MetricStats(
        top_k=top_k,
        bins=bins,
        n=n,
        top_k_hits=hits,
        brier=CompensatedSum.of(brier),
        entropy=CompensatedSum.of(entropy),
        bin_count=tuple(count.tolist()),
        bin_confidence=tuple(conf_sum.tolist()),
        bin_correct=tuple(corr_sum.tolist()),
    )
