"""The hot loop: per-sample negative log-likelihood of logits, in cache-sized chunks.

For the plain case (logits, class-index labels, no smoothing, no probability vectors
wanted) nothing but ``nll`` and the predicted class is needed, so no (N, C) temporary is
ever made: each chunk of rows (about 512 KiB of float64) is shifted, exponentiated and
summed in place, and chunks are shared between two threads (NumPy releases the GIL).

The arithmetic is exactly that of :func:`xentcli.core.softmax.log_softmax` followed by a
gather: ``nll = log1p(sum(exp(x - m)) without the max term) - (x_y - m)``. Validation comes
free: a row whose maximum is not finite holds a NaN or ``+inf``, or is all ``-inf``; only
then is the chunk checked in detail, to name the row and the problem.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
from numpy.typing import NDArray

from xentcli.core.validate import check_logits
from xentcli.errors import DataError

__all__ = ["logits_nll"]

#: float64 elements per chunk (512 KiB: a quarter of a 2 MiB L2 cache).
CHUNK_ELEMENTS = 1 << 16
#: Below this many elements one thread is faster than two.
PARALLEL_ELEMENTS = 1 << 20


def _threads() -> int:
    try:
        return max(1, min(2, len(os.sched_getaffinity(0))))
    except (AttributeError, OSError):
        return max(1, min(2, os.cpu_count() or 1))


def logits_nll(
    logits: NDArray[Any], labels: NDArray[np.int64], temperature: float = 1.0
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """``-log softmax(logits / temperature)[label]`` per row, and the first argmax.

    Parameters
    ----------
    logits : ndarray, shape (N, C), any real dtype
    labels : ndarray of int64, shape (N,)
        Class indices in ``0..C-1`` (already validated).

    Raises
    ------
    DataError
        A NaN or ``+inf`` logit, or a row of ``-inf``, naming the first such row.
    """
    n, c = logits.shape
    nll = np.empty(n, dtype=np.float64)
    pred = np.empty(n, dtype=np.int64)
    step = max(1, CHUNK_ELEMENTS // max(c, 1))
    bounds = [(a, min(n, a + step)) for a in range(0, n, step)]

    def work(bound: tuple[int, int]) -> None:
        a, b = bound
        # A private C-ordered copy, changed in place (the row sums must not depend on the
        # input's memory layout).
        z = np.array(logits[a:b], dtype=np.float64, order="C")
        m = z.max(axis=1)
        if not np.isfinite(m).all():
            try:
                check_logits(logits[a:b])
            except DataError as exc:
                if exc.sample is not None:
                    exc.sample += a
                    exc.samples = [s + a for s in exc.samples or [exc.sample - a]]
                raise
        rows = np.arange(b - a)
        top = z.argmax(axis=1)
        shifted_true = z[rows, labels[a:b]] - m
        z -= m[:, None]
        if temperature != 1:
            # Shift first, then divide: x / T itself may overflow for a small T.
            with np.errstate(over="ignore"):  # -inf: a probability of 0, as it should
                z /= temperature
                shifted_true /= temperature
        np.exp(z, out=z)
        # The max contributes exactly exp(0) = 1: leave it out and use log1p, so a loss
        # of 1e-300 keeps all its digits.
        z[rows, top] = 0.0
        nll[a:b] = np.log1p(z.sum(axis=1)) - shifted_true
        pred[a:b] = top

    if n * c >= PARALLEL_ELEMENTS and len(bounds) > 1 and _threads() > 1:
        from concurrent.futures import ThreadPoolExecutor  # only for big blocks

        with ThreadPoolExecutor(_threads()) as pool:
            for _ in pool.map(work, bounds):
                pass
    else:
        for bound in bounds:
            work(bound)
    return nll, pred
