"""Checks on logits and labels that raise :class:`~xentcli.errors.DataError`.

Errors carry ``source`` (``"logits"`` / ``"labels"``) and the 0-based ``sample`` of the
first offending row, so a caller that read the arrays from files can point at a line.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from xentcli.errors import DataError

__all__ = ["check_labels", "check_logits"]


def _more(bad: NDArray[np.intp], what: str) -> str:
    extra = bad.size - 1
    if extra <= 0:
        return ""
    return f"; {extra} more {what}" if extra > 1 else f"; 1 more {what.rstrip('s')}"


def _as_real_array(x: ArrayLike, source: str) -> NDArray[Any]:
    arr = np.asarray(x)
    kind = arr.dtype.kind
    if kind == "O":
        raise DataError(f"{source} are an object array; expected numbers", source=source)
    if kind not in "iuf":
        raise DataError(
            f"{source} have dtype {arr.dtype}; expected real numbers (int or float)",
            source=source,
        )
    return arr


def check_logits(logits: ArrayLike) -> NDArray[np.float64]:
    """Validate logits and return them as a C-contiguous float64 array of shape (N, C).

    Raises
    ------
    DataError
        Not 2-D, fewer than 2 classes, non-numeric dtype, a NaN or ``+inf`` entry, or a
        row whose every entry is ``-inf``.
    """
    arr = _as_real_array(logits, "logits")
    if arr.ndim != 2:
        raise DataError(
            f"logits must be a 2-D array (samples x classes); got shape {arr.shape}",
            source="logits",
        )
    if arr.shape[1] < 2:
        raise DataError(
            f"logits have {arr.shape[1]} class column(s); a softmax needs at least 2 classes",
            source="logits",
        )
    x = np.ascontiguousarray(arr, dtype=np.float64)
    if arr.dtype.kind == "f":
        nan_rows = np.flatnonzero(np.isnan(x).any(axis=1))
        if nan_rows.size:
            col = int(np.flatnonzero(np.isnan(x[nan_rows[0]]))[0])
            raise DataError(
                f"NaN logit for class {col}{_more(nan_rows, 'rows contain NaN')}",
                source="logits",
                sample=int(nan_rows[0]),
            )
        pinf_rows = np.flatnonzero(np.isposinf(x).any(axis=1))
        if pinf_rows.size:
            col = int(np.flatnonzero(np.isposinf(x[pinf_rows[0]]))[0])
            raise DataError(
                f"+inf logit for class {col}: it would take all the probability"
                f"{_more(pinf_rows, 'rows contain +inf')}",
                source="logits",
                sample=int(pinf_rows[0]),
            )
        dead_rows = np.flatnonzero(np.isneginf(x).all(axis=1))
        if dead_rows.size:
            raise DataError(
                "every logit is -inf, so no class has any probability"
                f"{_more(dead_rows, 'rows are all -inf')}",
                source="logits",
                sample=int(dead_rows[0]),
            )
    return x


def check_labels(labels: ArrayLike, n_samples: int, n_classes: int) -> NDArray[np.int64]:
    """Validate class-index labels and return them as int64 of shape (N,).

    Integral floats (``3.0``) are accepted; ``2.5``, negatives and indices ``>= C`` are not.

    Raises
    ------
    DataError
        Wrong shape or length, non-integral or out-of-range values.
    """
    arr = _as_real_array(labels, "labels")
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise DataError(
            f"labels must be a 1-D array of class indices; got shape {arr.shape}",
            source="labels",
        )
    if arr.shape[0] != n_samples:
        raise DataError(
            f"logits have {n_samples} samples but labels have {arr.shape[0]}; "
            "they must be the same samples in the same order",
            source="labels",
        )
    if arr.dtype.kind == "f":
        bad = np.flatnonzero(~np.isfinite(arr) | (arr != np.round(arr)))
        if bad.size:
            raise DataError(
                f"label {float(arr[bad[0]])!r} is not a whole number; labels are class indices"
                f"{_more(bad, 'labels are not whole numbers')}",
                source="labels",
                sample=int(bad[0]),
            )
    valid = f"valid: 0..{n_classes - 1}"
    bad = np.flatnonzero(arr < 0)
    if bad.size:
        raise DataError(
            f"label {int(arr[bad[0]])} is negative ({valid}){_more(bad, 'labels are negative')}",
            source="labels",
            sample=int(bad[0]),
        )
    bad = np.flatnonzero(arr >= n_classes)
    if bad.size:
        raise DataError(
            f"label {int(arr[bad[0]])} is out of range for {n_classes} classes ({valid})"
            f"{_more(bad, 'labels are out of range')}",
            source="labels",
            sample=int(bad[0]),
        )
    return arr.astype(np.int64, copy=False)
