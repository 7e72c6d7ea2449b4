"""Per-sample cross-entropy of a block of logits, and its mergeable statistics."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np
from numpy.typing import ArrayLike, NDArray

from xentcli.core.softmax import _shift_and_log_norm
from xentcli.core.stats import LossStats, Summary
from xentcli.core.validate import check_labels, check_logits

__all__ = ["LossResult", "cross_entropy"]


_A = TypeVar("_A", bound=np.ndarray[Any, Any])


def _readonly(a: _A) -> _A:
    a.setflags(write=False)
    return a


@dataclass(frozen=True)
class LossResult:
    """Cross-entropy of a block of samples. Field names are the JSON output's keys.

    Attributes
    ----------
    index : ndarray of int64, shape (N,)
        Sample index (0-based position in the whole input; see ``start``).
    label : ndarray of int64, shape (N,)
        True class.
    pred : ndarray of int64, shape (N,)
        Predicted class: the first argmax of the logits.
    p_true : ndarray of float64, shape (N,)
        Softmax probability of the true class.
    log_p_true : ndarray of float64, shape (N,)
        Its natural log (``-inf`` when the true class's logit is ``-inf``).
    nll : ndarray of float64, shape (N,)
        Negative log-likelihood ``-log_p_true``.
    loss : ndarray of float64, shape (N,)
        The per-sample loss term (PyTorch's ``reduction='none'``); equals ``nll`` here.
    probs : ndarray of float64, shape (N, C), or None
        Full probability vectors, when requested.
    stats : LossStats
        Mergeable partial statistics of this block.
    summary : Summary
        Summary of this block alone.
    """

    index: NDArray[np.int64]
    label: NDArray[np.int64]
    pred: NDArray[np.int64]
    p_true: NDArray[np.float64]
    log_p_true: NDArray[np.float64]
    nll: NDArray[np.float64]
    loss: NDArray[np.float64]
    probs: NDArray[np.float64] | None
    stats: LossStats = field(repr=False)
    summary: Summary

    @property
    def n(self) -> int:
        """Number of samples in the block."""
        return int(self.index.shape[0])

    @property
    def n_classes(self) -> int:
        """Number of classes C."""
        return self.stats.n_classes


def cross_entropy(
    logits: ArrayLike,
    labels: ArrayLike,
    *,
    with_probs: bool = False,
    start: int = 0,
) -> LossResult:
    """Cross-entropy (log loss) of logits against class-index labels.

    Parameters
    ----------
    logits : array_like, shape (N, C)
        Raw scores; float16/32/64 or integer. ``-inf`` marks an impossible class. NaN
        and ``+inf`` are rejected.
    labels : array_like of int, shape (N,)
        True class indices in ``0..C-1``; integral floats such as ``3.0`` are accepted.
    with_probs : bool, default False
        Also return each sample's full probability vector.
    start : int, default 0
        Index of the first sample, for blocks of a longer input.

    Returns
    -------
    LossResult
        Per-sample values, mergeable ``stats`` and the ``summary``.

    Raises
    ------
    xentcli.errors.DataError
        Invalid shapes, values or labels; the error names the first bad sample.

    Examples
    --------
    >>> r = cross_entropy([[2.0, 0.0], [0.0, 0.0]], [0, 1])
    >>> round(r.summary.loss, 6)
    0.410038
    """
    x = check_logits(logits)
    n, c = x.shape
    y = check_labels(labels, n, c)
    rows = np.arange(n)

    # Per row: x - m and log(sum(exp(x - m))) with the log1p refinement; then
    # nll = log(sum(exp(x - m))) - (x_y - m), never logsumexp(x) - x_y, which cancels
    # catastrophically when the logits are large.
    shifted, log_norm = _shift_and_log_norm(x, axis=1)
    log_norm = log_norm[:, 0]
    nll = log_norm - shifted[rows, y]
    log_p_true = -nll
    pred = np.argmax(x, axis=1).astype(np.int64)
    probs = np.exp(shifted - log_norm[:, None]) if with_probs else None
    stats = LossStats.from_block(c, nll, pred == y)
    return LossResult(
        index=_readonly(np.arange(start, start + n, dtype=np.int64)),
        label=_readonly(y.copy()),
        pred=_readonly(pred),
        p_true=_readonly(np.exp(log_p_true)),
        log_p_true=_readonly(log_p_true),
        nll=_readonly(nll),
        loss=_readonly(nll.copy()),
        probs=None if probs is None else _readonly(probs),
        stats=stats,
        summary=stats.summary(),
    )
