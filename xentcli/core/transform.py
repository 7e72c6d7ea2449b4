"""Scores to probabilities, for the ``xent softmax`` filter."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from xentcli.core.softmax import _shift_and_log_norm, log_sigmoid
from xentcli.core.validate import check_logits, reject_nan_rows
from xentcli.errors import DataError, UsageError

__all__ = ["probabilities"]

Link = Literal["softmax", "sigmoid"]


def probabilities(
    scores: ArrayLike,
    *,
    link: Link = "softmax",
    log: bool = False,
    temperature: float = 1.0,
    axis: int = -1,
) -> NDArray[np.float64]:
    """Probabilities (or log-probabilities) from raw scores, in float64.

    Parameters
    ----------
    scores : array_like
        Logits; ``-inf`` is an impossible class. For ``softmax`` the classes lie along
        ``axis`` and the first axis indexes samples (for error messages).
    link : {"softmax", "sigmoid"}
        ``softmax`` normalises along ``axis``; ``sigmoid`` maps each score on its own
        (binary and multi-label outputs).
    log : bool
        Return log-probabilities, computed directly (never ``log(softmax(x))``).
    temperature : float
        Scores are divided by it first.

    Raises
    ------
    DataError
        NaN scores, or (softmax) a ``+inf`` score or a slice that is all ``-inf``.

    Examples
    --------
    >>> probabilities([[0.0, np.log(3.0)]]).round(6).tolist()
    [[0.25, 0.75]]
    >>> probabilities([[0.0], [40.0]], link="sigmoid", log=True).tolist()
    [[-0.6931471805599453], [-4.248354255291589e-18]]
    """
    if not (np.isfinite(temperature) and temperature > 0):
        raise UsageError(f"--temperature {temperature!r} must be a positive finite number")
    arr: NDArray[Any] = np.asarray(scores)
    if arr.dtype.kind not in "iuf":
        raise DataError(f"scores have dtype {arr.dtype}; expected real numbers", source="logits")
    x = np.asarray(arr, dtype=np.float64)
    if x.ndim == 0:
        raise DataError("scores must have at least one dimension", source="logits")
    if link == "sigmoid":
        if temperature != 1:
            with np.errstate(over="ignore"):
                x = x / temperature
        reject_nan_rows(x, "score: it has no probability")
        out = log_sigmoid(x)
        return out if log else np.exp(out)
    if x.ndim == 1:
        x = x[None, :]
        arr = arr[None, :]
    moved = np.moveaxis(x, axis, -1)
    # Validate as (rows, C) so an error names the sample (the first axis).
    check_logits(moved.reshape(-1, moved.shape[-1]) if x.ndim > 2 else moved)
    if temperature != 1:
        # Shift by the maximum first, then divide: x / T itself may overflow.
        with np.errstate(over="ignore"):  # -inf: a probability of 0, as it should
            x = (x - np.max(x, axis=axis, keepdims=True)) / temperature
    shifted, log_norm = _shift_and_log_norm(x, axis=axis)
    logp = shifted - log_norm
    out = logp if log else np.exp(logp)
    return out.reshape(np.asarray(scores).shape) if np.ndim(scores) == 1 else out
