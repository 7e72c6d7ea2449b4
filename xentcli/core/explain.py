"""Every intermediate number between logits and the loss, for ``xent explain``.

The walkthrough's arithmetic lives here (pure NumPy); the words and layout live in
``xentcli.render.explain``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from xentcli.core.loss import cross_entropy

__all__ = [
    "SEED3_LABELS",
    "SEED3_LOGITS",
    "Explanation",
    "UnderflowPoint",
    "explain",
    "product_underflow",
]

# The built-in example (= sample_data/seed3.csv): three samples, ten classes, true
# classes 1, 3 and 5, so the likelihood is p[0,1] * p[1,3] * p[2,5].
SEED3_LOGITS = np.array(
    [
        [0.5, 3.2, -1.1, 0.8, -0.4, 1.3, -2.0, 0.1, -0.7, 0.9],
        [-1.5, 0.2, 1.1, 4.1, 0.6, -0.8, 2.3, -3.0, 0.4, -0.2],
        [1.2, -0.6, 2.8, -1.4, 0.3, 1.9, -0.5, 0.7, -2.2, 0.0],
    ]
)
SEED3_LABELS = np.array([1, 3, 5])


NORMAL_MIN = float(np.finfo(np.float64).tiny)  # 2.2e-308: below it digits are lost


@dataclass(frozen=True)
class UnderflowPoint:
    """Where the running float64 product of true-class probabilities dies.

    Below 2.2e-308 a float64 loses digits; the product then either reaches exactly 0 or
    freezes at a few multiples of 5e-324, where a factor near 1 rounds it back to the
    same value (0.9 * 1e-323 rounds to 1e-323). Either way it carries no information.

    Attributes
    ----------
    batch_size : int or None
        Number of samples (the data repeated cyclically) after which the product is 0,
        or frozen: one more pass over the data leaves it unchanged. None if every
        probability is 1, or not within ``limit`` samples.
    repeats : float or None
        ``batch_size / n``: how many copies of the data that is.
    frozen : bool
        True if the product froze at a tiny positive value rather than reaching 0.
    log_at_underflow : float or None
        The sum of the logs over those samples: an ordinary finite number.
    limit : int
        How many samples were multiplied at most.
    """

    batch_size: int | None
    repeats: float | None
    frozen: bool
    log_at_underflow: float | None
    limit: int


def product_underflow(p_true: ArrayLike, limit: int = 100_000_000) -> UnderflowPoint:
    """Multiply ``p_true`` (repeated cyclically) in float64 until the product dies.

    The multiplication is done for real, one factor at a time in order (a ``cumprod``
    seeded with the running product while it is a normal number, then a plain loop), so
    the batch size is the one a program that multiplies probabilities would hit.
    """
    p = np.asarray(p_true, dtype=np.float64).ravel()
    n = p.size
    if n == 0 or np.all(p == 1.0):
        return UnderflowPoint(None, None, False, None, limit)
    logs = np.log(p, where=p > 0, out=np.full_like(p, -np.inf))
    cycle_log = math.fsum(logs.tolist())
    reps = max(1, 65_536 // n)
    block = np.tile(p, reps)
    done, prod = 0, 1.0
    # Fast part: whole blocks while the product stays a normal number.
    while done < limit:
        with np.errstate(under="ignore"):
            run = np.cumprod(np.concatenate(([prod], block)))[1:]
        low = np.flatnonzero(run < NORMAL_MIN)
        if low.size:
            j = int(low[0])
            prod = float(run[j - 1]) if j else prod
            done += j
            break
        prod = float(run[-1])
        done += block.size
    # Slow part: factor by factor through the subnormal range (a short stretch).
    boundary: float | None = None
    factors = p.tolist()
    while done < limit:
        prod *= factors[done % n]
        done += 1
        frozen = False
        if done % n == 0:
            frozen = prod == boundary
            boundary = prod
        if prod == 0.0 or frozen:
            full, part = divmod(done, n)
            total = (full * cycle_log if full else 0.0) + math.fsum(logs[:part].tolist())
            return UnderflowPoint(done, done / n, prod != 0.0, total, limit)
    return UnderflowPoint(None, None, False, None, limit)


@dataclass(frozen=True)
class Explanation:
    """The numbers of each step from logits to the cross-entropy loss.

    Attributes
    ----------
    logits : ndarray, shape (N, C)
    labels : ndarray of int64, shape (N,)
    probs : ndarray, shape (N, C)
        Softmax of each row; rows sum to 1.
    pred : ndarray of int64, shape (N,)
    p_true : ndarray, shape (N,)
        Probability of each sample's true class.
    likelihood : float
        Their product, multiplied in float64 (0.0 if it underflowed).
    log_of_product : float
        ``log(likelihood)``: ``-inf`` once the product underflowed.
    sum_of_logs : float
        ``sum(log p_true)``: the log-likelihood, always finite for positive ``p_true``.
    underflow : UnderflowPoint
        Batch size at which the product of this data (repeated) underflows.
    nll : ndarray, shape (N,)
        ``-log p_true`` per sample.
    loss : float
        Mean of ``nll`` computed from the steps above: the cross-entropy.
    reported_loss : float
        ``cross_entropy(logits, labels).summary.loss``, what ``xent loss`` prints.
    grad : ndarray, shape (N, C)
        Gradient of each sample's nll with respect to its logits: ``probs - onehot``.
    """

    logits: NDArray[np.float64]
    labels: NDArray[np.int64]
    probs: NDArray[np.float64]
    pred: NDArray[np.int64]
    p_true: NDArray[np.float64]
    likelihood: float
    log_of_product: float
    sum_of_logs: float
    underflow: UnderflowPoint
    nll: NDArray[np.float64]
    loss: float
    reported_loss: float
    grad: NDArray[np.float64]

    @property
    def n(self) -> int:
        """Number of samples."""
        return int(self.labels.shape[0])

    @property
    def matches_reported(self) -> bool:
        """True when the step-by-step loss equals ``xent loss``'s to 1e-12 relative."""
        if math.isinf(self.loss) or math.isinf(self.reported_loss):
            return self.loss == self.reported_loss
        return math.isclose(self.loss, self.reported_loss, rel_tol=1e-12, abs_tol=1e-300)


def explain(logits: ArrayLike, labels: ArrayLike) -> Explanation:
    """Compute every intermediate of the cross-entropy of ``logits`` against ``labels``.

    Parameters
    ----------
    logits : array_like, shape (N, C)
    labels : array_like of int, shape (N,)

    Returns
    -------
    Explanation

    Examples
    --------
    >>> e = explain([[0.0, 0.0]], [1])
    >>> e.probs.tolist(), e.loss == math.log(2), e.grad.tolist()
    ([[0.5, 0.5]], True, [[0.5, -0.5]])
    """
    r = cross_entropy(logits, labels, with_probs=True)
    assert r.probs is not None
    x = np.asarray(logits, dtype=np.float64)
    n = r.n
    with np.errstate(under="ignore"):
        likelihood = float(np.prod(r.p_true))
    with np.errstate(divide="ignore"):
        log_of_product = float(np.log(likelihood))
    # Steps 5-7 the long way: each sample's log-probability, summed, negated, averaged.
    # The log-probabilities come from the core's log_softmax, not from log(p_true):
    # exp(-4e-18) rounds to 1.0, whose log would turn a tiny loss into 0.
    sum_of_logs = math.fsum(r.log_p_true.tolist()) if n else 0.0
    onehot = np.zeros_like(r.probs)
    onehot[np.arange(n), r.label] = 1.0
    return Explanation(
        logits=x,
        labels=np.asarray(r.label),
        probs=np.asarray(r.probs),
        pred=np.asarray(r.pred),
        p_true=np.asarray(r.p_true),
        likelihood=likelihood,
        log_of_product=log_of_product,
        sum_of_logs=sum_of_logs,
        underflow=product_underflow(r.p_true),
        nll=np.asarray(r.nll),
        loss=-sum_of_logs / n if n else math.nan,
        reported_loss=r.summary.loss,
        grad=r.probs - onehot,
    )
