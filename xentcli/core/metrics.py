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

__all__ = [
    "MetricStats",
    "MetricTerms",
    "bin_index",
    "block_metrics",
    "calibration_errors",
    "entropy",
    "metric_terms",
    "true_rank",
]


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


def true_rank(
    scores: NDArray[np.float64], y: NDArray[np.int64], ties: str = "higher"
) -> NDArray[np.int64]:
    """1-based rank of the true class ``y`` of each row of ``scores`` (N, C), by
    descending score.

    ``ties="higher"`` orders equal scores with the higher class index first, as
    scikit-learn's ``top_k_accuracy_score`` does, so the true class is in its top K
    exactly when the rank is at most K. ``ties="lower"`` puts the lower index first, as
    ``argmax`` does, so the rank is 1 exactly when the prediction is right.
    """
    n = scores.shape[0]
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    s_true = scores[np.arange(n), y][:, None]
    cls = np.arange(scores.shape[1])[None, :]
    before = cls > y[:, None] if ties == "higher" else cls < y[:, None]
    ahead = (scores > s_true) | ((scores == s_true) & before)
    rank: NDArray[np.int64] = ahead.sum(axis=1).astype(np.int64) + 1
    return rank


def entropy(logp: NDArray[np.float64]) -> NDArray[np.float64]:
    """``-sum_c p_c log p_c`` of each row of log-probabilities (N, C), in nats; a class of
    probability 0 adds 0."""
    with np.errstate(invalid="ignore"):
        plogp = np.where(logp > -np.inf, np.exp(logp) * logp, 0.0)
    out: NDArray[np.float64] = -plogp.sum(axis=1) + 0.0
    return out


def bin_index(confidence: NDArray[np.float64], bins: int) -> NDArray[np.intp]:
    """Bin of each confidence: ``k`` for ``k/bins <= c < (k+1)/bins``, ``bins`` for 1."""
    # Each edge is the double nearest k/bins (linspace's 0 + k * step can miss it: 3 * 0.2
    # is 0.6000000000000001, which would put a confidence of 0.6 in the bin below).
    edges = np.arange(bins + 1) / bins
    out: NDArray[np.intp] = np.searchsorted(edges, confidence, side="right") - 1
    return out


@dataclass(frozen=True)
class MetricTerms:
    """The per-sample terms whose sums make the metrics, for every sample of a block (all
    zero for samples that do not count): the exact sums use them, and so do the
    bootstrap's replicates.

    Attributes
    ----------
    columns : ndarray, shape (n, k)
        The top-K hit (with ``top_k``), then (with ``bins``) the Brier term and the
        entropy.
    bin : ndarray of intp, shape (n,), or None
        The calibration bin of each sample's top-1 confidence (``bins`` of equal width,
        then one for a confidence of exactly 1).
    bin_weights : ndarray, shape (n, 3), or None
        What each sample adds to its bin: 1, its confidence, 1 if predicted right.
    """

    columns: NDArray[np.float64]
    bin: NDArray[np.intp] | None = None
    bin_weights: NDArray[np.float64] | None = None


def metric_terms(
    scores: NDArray[np.float64],
    logp: NDArray[np.float64] | None,
    label: NDArray[np.int64],
    counted: NDArray[np.bool_],
    top_k: int | None,
    bins: int | None,
) -> MetricTerms:
    """The metrics' per-sample terms of a block of class-index samples.

    ``scores`` are the input scores (N, C) (their order ranks the classes), ``logp`` the
    normalised log-probabilities (needed when ``bins`` is set); rows not ``counted``
    (ignored labels, which may not even be classes) get zeros.
    """
    n = int(label.shape[0])
    rows = np.flatnonzero(counted)
    y = label[rows]
    cols: list[NDArray[np.float64]] = []

    def spread(values: NDArray[Any]) -> NDArray[np.float64]:
        out = np.zeros(n)
        out[rows] = values
        return out

    if top_k is not None:
        cols.append(spread(true_rank(scores[rows], y) <= top_k))
    if bins is None or logp is None:
        return MetricTerms(np.column_stack(cols) if cols else np.zeros((n, 0)))
    lp = logp[rows]
    p = np.exp(lp)
    cols.append(spread((p * p).sum(axis=1) - 2.0 * p[np.arange(len(y)), y] + 1.0))
    cols.append(spread(entropy(lp)))
    conf = p.max(axis=1)
    # torchmetrics' bins: [lo, hi) of equal width (bucketize(right=True) - 1, so a
    # confidence on an edge goes to the bin that edge opens), and a bin of its own for a
    # confidence of exactly 1. torchmetrics casts confidences and edges to float32; here
    # both stay float64, so a confidence within ~1e-7 of an edge may land one bin over.
    which = np.zeros(n, dtype=np.intp)
    which[rows] = bin_index(conf, bins)
    weights = np.zeros((n, 3))
    weights[rows, 0] = 1.0
    weights[rows, 1] = conf
    weights[rows, 2] = p.argmax(axis=1) == y
    return MetricTerms(np.column_stack(cols), which, weights)


def calibration_errors(
    count: NDArray[np.float64], confidence: NDArray[np.float64], correct: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """ECE, MCE and RMSCE from per-bin sums of shape (bins + 1, R), one per column R (a
    bootstrap replicate); NaN where no sample counted."""
    n = count.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        gap = np.abs(correct - confidence) / count
        share = count / n
    occupied = count > 0
    gap = np.where(occupied, gap, 0.0)
    ece = np.where(n > 0, (share * gap).sum(axis=0), np.nan)
    mce = np.where(n > 0, np.where(occupied, gap, -np.inf).max(axis=0), np.nan)
    rmsce = np.where(n > 0, np.sqrt((share * gap * gap).sum(axis=0)), np.nan)
    return ece, mce, rmsce


def block_metrics(terms: MetricTerms, n: int, top_k: int | None, bins: int | None) -> MetricStats:
    """The metrics' partial sums of a block from its terms (``n`` samples counted)."""
    cols = terms.columns
    hits = 0
    if top_k is not None:
        hits = int(cols[:, 0].sum())
        cols = cols[:, 1:]
    if bins is None or terms.bin is None or terms.bin_weights is None:
        return MetricStats(top_k=top_k, bins=bins, n=n, top_k_hits=hits)
    slots = bins + 1

    def per_bin(j: int) -> tuple[float, ...]:
        assert terms.bin is not None
        assert terms.bin_weights is not None
        sums = np.bincount(terms.bin, weights=terms.bin_weights[:, j], minlength=slots)
        return tuple(sums.tolist())

    return MetricStats(
        top_k=top_k,
        bins=bins,
        n=n,
        top_k_hits=hits,
        brier=CompensatedSum.of(cols[:, 0]),
        entropy=CompensatedSum.of(cols[:, 1]),
        bin_count=per_bin(0),
        bin_confidence=per_bin(1),
        bin_correct=per_bin(2),
    )
