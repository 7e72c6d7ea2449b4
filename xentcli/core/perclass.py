"""The summary broken down by true class, as mergeable per-class sums."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["ClassStats"]


@dataclass(frozen=True, eq=False)
class ClassStats:
    """Per-class partial sums over the counted samples; ``a + b`` merges.

    Index ``c`` of each array is the class ``c`` (the true class of the samples summed).
    The sums are plain float64 (``np.bincount``), so a total may differ in its last digit
    with the split of the input into blocks, unlike the summary's compensated sums.

    Attributes
    ----------
    support : ndarray of int64, shape (C,)
        Counted samples of each class.
    nll : ndarray, shape (C,)
        Sum of their negative log-likelihoods (nats).
    loss : ndarray, shape (C,)
        Sum of their (class- and sample-weighted) loss terms (nats).
    correct : ndarray of int64, shape (C,)
        Those predicted right (first argmax).
    confidence : ndarray, shape (C,)
        Sum of their top-1 probabilities.
    """

    support: NDArray[np.int64]
    nll: NDArray[np.float64]
    loss: NDArray[np.float64]
    correct: NDArray[np.int64]
    confidence: NDArray[np.float64]

    @classmethod
    def of(
        cls,
        n_classes: int,
        label: NDArray[np.int64],
        nll: NDArray[np.float64],
        loss: NDArray[np.float64],
        correct: NDArray[np.bool_],
        confidence: NDArray[np.float64],
    ) -> ClassStats:
        """The sums over samples of classes ``label`` (only counted samples, all of
        whose labels are classes, should be passed)."""
        c = n_classes

        def total(w: NDArray[Any]) -> NDArray[np.float64]:
            return np.bincount(label, weights=w, minlength=c).astype(np.float64)

        support = np.bincount(label, minlength=c).astype(np.int64)
        hits = np.bincount(label[correct], minlength=c).astype(np.int64)
        return cls(support, total(nll), total(loss), hits, total(confidence))

    def __add__(self, other: ClassStats) -> ClassStats:
        if self.support.shape != other.support.shape:
            raise ValueError("cannot merge per-class statistics of different class counts")
        return ClassStats(
            self.support + other.support,
            self.nll + other.nll,
            self.loss + other.loss,
            self.correct + other.correct,
            self.confidence + other.confidence,
        )

    def records(self, total_loss: float, log_unit: float = 1.0) -> list[dict[str, Any]]:
        """One dict per class: ``class``, ``support``, ``mean_nll`` (divided by
        ``log_unit``: ``ln 2`` for bits), ``accuracy``, ``confidence`` (mean top-1
        probability) and ``loss_share`` (the class's part of the summed loss terms). The
        means of a class without samples are NaN."""
        out = []
        for c in range(self.support.shape[0]):
            n = int(self.support[c])
            out.append(
                {
                    "class": c,
                    "support": n,
                    "mean_nll": float(self.nll[c]) / n / log_unit if n else math.nan,
                    "accuracy": int(self.correct[c]) / n if n else math.nan,
                    "confidence": float(self.confidence[c]) / n if n else math.nan,
                    "loss_share": (
                        float(self.loss[c]) / total_loss
                        if total_loss != 0 and math.isfinite(total_loss)
                        else math.nan
                    ),
                }
            )
        return out
