"""Numerically stable softmax and log-softmax."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["log_sigmoid", "log_softmax", "sigmoid", "softmax"]


def _shift_and_log_norm(
    x: NDArray[np.floating], axis: int
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Return ``x - max`` and ``log(sum(exp(x - max)))`` along ``axis`` (kept as size 1).

    The row maximum contributes exactly ``exp(0) = 1`` to the sum, so the sum is
    ``1 + rest``. Taking ``log1p(rest)`` instead of ``log(1 + rest)`` keeps full relative
    precision when one class dominates: for logits ``[40., 0.]`` the loss of class 0 is
    ``log1p(exp(-40)) = 4.2e-18``, which ``log(1 + 4.2e-18)`` rounds to 0.
    """
    x64: NDArray[np.float64] = np.asarray(x, dtype=np.float64)
    m = np.max(x64, axis=axis, keepdims=True)
    # A non-finite maximum (a row of -inf, or +inf/NaN) has no meaningful shift; use 0
    # as scipy does, and let the NaN handling below mark the row.
    finite_max = np.isfinite(m)
    shift = np.where(finite_max, m, 0.0)
    shifted: NDArray[np.float64] = x64 - shift
    e = np.exp(shifted)
    arg = np.argmax(x64, axis=axis, keepdims=True)
    np.put_along_axis(e, arg, 0.0, axis=axis)
    log_norm = np.log1p(np.sum(e, axis=axis, keepdims=True))
    # Rows whose maximum is not finite define no distribution: NaN, never a silent value.
    log_norm = np.where(finite_max, log_norm, np.nan).astype(np.float64, copy=False)
    return shifted, log_norm


def log_softmax(x: ArrayLike, axis: int = -1) -> NDArray[np.float64]:
    """Log of the softmax, computed without overflow or underflow.

    Parameters
    ----------
    x : array_like, shape (..., C, ...)
        Logits. ``-inf`` entries are allowed and get log-probability ``-inf``.
    axis : int, default -1
        The class axis.

    Returns
    -------
    ndarray of float64, same shape as ``x``
        ``x - logsumexp(x, axis)``. A slice whose maximum is not finite (all ``-inf``,
        or containing ``+inf`` or NaN) is all NaN.

    Examples
    --------
    The naive ``log(softmax(x))`` overflows for large logits; this does not:

    >>> import numpy as np
    >>> np.log(np.exp([1000.0, 1.0]) / np.exp([1000.0, 1.0]).sum())  # doctest: +SKIP
    array([nan, -inf])
    >>> log_softmax(np.array([1000.0, 1.0]))
    array([   0., -999.])
    """
    arr = np.asarray(x)
    shifted, log_norm = _shift_and_log_norm(arr, axis)
    return shifted - log_norm


def softmax(x: ArrayLike, axis: int = -1) -> NDArray[np.float64]:
    """Softmax: probabilities that are positive (or 0 for ``-inf`` logits) and sum to 1.

    Parameters
    ----------
    x : array_like, shape (..., C, ...)
        Logits.
    axis : int, default -1
        The class axis.

    Returns
    -------
    ndarray of float64, same shape as ``x``
        ``exp(log_softmax(x, axis))``.

    Examples
    --------
    >>> softmax(np.array([0.0, np.log(3.0)]))
    array([0.25, 0.75])
    """
    return np.exp(log_softmax(x, axis))


def log_sigmoid(x: ArrayLike) -> NDArray[np.float64]:
    """Log of the logistic sigmoid, ``-log(1 + exp(-x))``, without overflow.

    Examples
    --------
    >>> log_sigmoid(np.array([-1000.0, 0.0, 40.0]))
    array([-1.00000000e+03, -6.93147181e-01, -4.24835426e-18])
    """
    z = np.asarray(x, dtype=np.float64)
    out: NDArray[np.float64] = -np.logaddexp(0.0, -z)
    return out


def sigmoid(x: ArrayLike) -> NDArray[np.float64]:
    """The logistic sigmoid ``1 / (1 + exp(-x))``: the probability of the positive class
    from its logit.

    Examples
    --------
    >>> sigmoid(np.array([0.0, np.log(3.0)]))
    array([0.5 , 0.75])
    """
    return np.exp(log_sigmoid(x))
