"""Checks on logits and labels that raise :class:`~xentcli.errors.DataError`.

Errors carry ``source`` (``"logits"`` / ``"labels"``) and the 0-based ``sample`` of the
first offending row, so a caller that read the arrays from files can point at a line.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from xentcli.core.options import ROW_SUM_TOLERANCE
from xentcli.core.softmax import _shift_and_log_norm
from xentcli.errors import DataError

__all__ = [
    "check_labels",
    "check_log_probs",
    "check_logits",
    "check_probs",
    "check_sample_weight",
    "check_targets",
    "nonfinite_rows",
]


def _more(bad: NDArray[np.intp], what: str) -> str:
    extra = bad.size - 1
    if extra <= 0:
        return ""
    if extra == 1:
        for plural, singular in (
            ("rows", "row"),
            ("labels", "label"),
            ("weights", "weight"),
            (" contain ", " contains "),
            (" are ", " is "),
            (" have ", " has "),
        ):
            what = what.replace(plural, singular)
    return f"; {extra} more {what}"


SKIP_HINT = " (--nonfinite skip leaves such rows out)"


def _places(rows: NDArray[Any]) -> list[int]:
    """The first offending rows, as ints, for the error to point at (at most 1000)."""
    return [int(r) for r in rows[:1000]]


def _at_rows(message: str, rows: NDArray[Any], source: str = "logits") -> DataError:
    """An error about ``rows`` of ``source``, located at the first of them."""
    return DataError(message, source=source, sample=int(rows[0]), samples=_places(rows))


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


def as_matrix(values: ArrayLike, source: str = "logits") -> NDArray[Any]:
    """``values`` as an (N, C) real array with C >= 2, in its own dtype (not copied)."""
    arr = _as_real_array(values, source)
    if arr.ndim != 2:
        raise DataError(
            f"{source} must be a 2-D array (samples x classes); got shape {arr.shape}",
            source="logits",
        )
    if arr.shape[1] < 2:
        raise DataError(
            f"{source} have {arr.shape[1]} class column(s); a softmax needs at least 2 classes",
            source="logits",
        )
    return arr


def reject_nan_rows(x: NDArray[np.float64], what: str, hint: str = "") -> None:
    """Raise naming the first row (axis 0) of ``x`` holding a NaN, and their count."""
    if x.size == 0:
        return
    bad = np.flatnonzero(np.isnan(x.reshape(x.shape[0], -1)).any(axis=1))
    if bad.size:
        raise _at_rows(f"NaN {what}{_more(bad, 'rows contain NaN')}{hint}", bad)


def nonfinite_rows(x: NDArray[np.float64], input_kind: str = "logits") -> NDArray[np.bool_]:
    """Rows that define no distribution: a NaN or ``+inf`` entry, or (for logits and
    log-probabilities) every entry ``-inf``; for probabilities any infinite entry."""
    if input_kind == "probs":
        bad = ~np.isfinite(x).all(axis=1)
    else:
        bad = (np.isnan(x) | np.isposinf(x)).any(axis=1) | np.isneginf(x).all(axis=1)
    return np.asarray(bad, dtype=bool)


def check_logits(
    logits: ArrayLike, source: str = "logits", noun: str = "logit"
) -> NDArray[np.float64]:
    """Validate logits and return them as a C-contiguous float64 array of shape (N, C).

    Raises
    ------
    DataError
        Not 2-D, fewer than 2 classes, non-numeric dtype, a NaN or ``+inf`` entry, or a
        row whose every entry is ``-inf``.
    """
    arr = as_matrix(logits, source)
    x = np.ascontiguousarray(arr, dtype=np.float64)
    if arr.dtype.kind == "f":
        nan_rows = np.flatnonzero(np.isnan(x).any(axis=1))
        if nan_rows.size:
            col = int(np.flatnonzero(np.isnan(x[nan_rows[0]]))[0])
            raise _at_rows(
                f"NaN {noun} for class {col}{_more(nan_rows, 'rows contain NaN')} "
                "(--nonfinite skip leaves such rows out)",
                nan_rows,
            )
        pinf_rows = np.flatnonzero(np.isposinf(x).any(axis=1))
        if pinf_rows.size:
            col = int(np.flatnonzero(np.isposinf(x[pinf_rows[0]]))[0])
            raise _at_rows(
                f"+inf {noun} for class {col}: it would take all the probability"
                f"{_more(pinf_rows, 'rows contain +inf')}",
                pinf_rows,
            )
        dead_rows = np.flatnonzero(np.isneginf(x).all(axis=1))
        if dead_rows.size:
            raise _at_rows(
                f"every {noun} is -inf, so no class has any probability"
                f"{_more(dead_rows, 'rows are all -inf')}",
                dead_rows,
            )
    return x


def _tolerance(dtype: np.dtype[Any]) -> float:
    return ROW_SUM_TOLERANCE.get(dtype.name, ROW_SUM_TOLERANCE["float64"])


RowCheck = Literal["error", "warn", "none"]


def check_probs(
    probs: ArrayLike, *, renormalize: bool = False, rows: RowCheck = "error"
) -> tuple[NDArray[np.float64], str | None]:
    """Validate probabilities: (N, C) or (N,), every value in [0, 1], rows summing to 1.

    A row sum may differ from 1 by ``ROW_SUM_TOLERANCE`` of the input dtype (1e-6 for
    float64 and text, 1e-4 for float32, 1e-2 for float16). With ``renormalize`` any row
    with a positive sum is accepted. ``rows="warn"`` (scikit-learn) accepts rows off by
    more than ``sqrt(eps)`` and returns a note about them; ``"none"`` does not check.
    A 1-D array holds probabilities of the positive class (binary) and has no row sums.

    Returns
    -------
    (ndarray of float64, str or None)
        The probabilities, and a note for the user, if any.

    Raises
    ------
    DataError
        A value outside [0, 1] or NaN, or a row sum out of tolerance (naming the worst).
    """
    arr = _as_real_array(probs, "probabilities")
    x = np.ascontiguousarray(arr, dtype=np.float64)
    x2 = x if x.ndim == 2 else x.reshape(-1, 1)
    reject_nan_rows(x2, "probability", SKIP_HINT)
    bad = np.flatnonzero(((x2 < 0) | (x2 > 1)).any(axis=1))
    if bad.size:
        row = x2[bad[0]]
        col = int(np.flatnonzero((row < 0) | (row > 1))[0])
        where = f" for class {col}" if x.ndim == 2 else ""
        raise _at_rows(
            f"probability {float(row[col])!r}{where} is outside [0, 1]"
            f"{_more(bad, 'rows have values outside [0, 1]')} "
            "(for raw scores use --input-kind logits)",
            bad,
        )
    if x.ndim != 2:
        return x, None
    sums = x.sum(axis=1)
    if renormalize:
        bad = np.flatnonzero(sums <= 0)
        if bad.size:
            raise _at_rows(
                f"every probability in the row is 0, so it cannot be renormalised"
                f"{_more(bad, 'rows are all 0')}",
                bad,
            )
        return x, None
    dev = np.abs(sums - 1.0)
    if rows == "error":
        _check_row_sums(dev, sums, _tolerance(arr.dtype), "probabilities")
    elif rows == "warn":
        tol = float(np.sqrt(np.finfo(arr.dtype if arr.dtype.kind == "f" else np.float64).eps))
        off = np.flatnonzero(dev > tol)
        if off.size:
            worst = int(off[np.argmax(dev[off])])
            return x, (
                f"{off.size} row(s) of probabilities do not sum to 1 (worst: row {worst} "
                f"sums to {float(sums[worst])!r}); like scikit-learn, they are used as they are"
            )
    return x, None


def _check_row_sums(
    dev: NDArray[np.float64], shown: NDArray[np.float64], tol: float, what: str
) -> None:
    bad = np.flatnonzero(~(dev <= tol))
    if bad.size:
        worst = int(bad[np.argmax(np.where(np.isnan(dev[bad]), np.inf, dev[bad]))])
        label = "sum" if what == "probabilities" else "logsumexp"
        target = 1 if what == "probabilities" else 0
        raise DataError(
            f"the {what} of this row have {label} {float(shown[worst])!r}, not {target} "
            f"(tolerance {tol:g}; {bad.size} row(s) out of tolerance, this is the worst); "
            "--renormalize rescales each row",
            source="logits",
            sample=worst,
            samples=_places(np.concatenate([[worst], bad[bad != worst]])),
        )


def check_log_probs(
    log_probs: ArrayLike, *, renormalize: bool = False, rows: RowCheck = "error"
) -> NDArray[np.float64]:
    """Validate log-probabilities: (N, C) or (N,), no NaN and nothing above 0 (beyond
    the tolerance), each row's logsumexp 0 within the dtype's tolerance (unless
    ``renormalize``, or ``rows="none"``)."""
    arr = _as_real_array(log_probs, "log-probabilities")
    x = np.ascontiguousarray(arr, dtype=np.float64)
    x2 = x if x.ndim == 2 else x.reshape(-1, 1)
    reject_nan_rows(x2, "log-probability", SKIP_HINT)
    tol = _tolerance(arr.dtype)
    bad = np.flatnonzero((x2 > tol).any(axis=1))
    if bad.size:
        row = x2[bad[0]]
        raise _at_rows(
            f"log-probability {float(row.max())!r} is above 0"
            f"{_more(bad, 'rows have values above 0')} (for raw scores use --input-kind logits)",
            bad,
        )
    if x.ndim == 2:
        dead = np.flatnonzero(np.isneginf(x).all(axis=1))
        if dead.size:
            raise _at_rows(
                "every log-probability is -inf, so no class has any probability"
                f"{_more(dead, 'rows are all -inf')}",
                dead,
            )
        if not renormalize and rows == "error":
            _, log_norm = _shift_and_log_norm(x, axis=1)
            lse = (log_norm[:, 0] + x.max(axis=1)).astype(np.float64)
            _check_row_sums(np.abs(lse), lse, tol, "log-probabilities")
    return x


def check_sample_weight(sample_weight: ArrayLike, n_samples: int) -> NDArray[np.float64]:
    """Validate per-sample weights: shape (N,), finite, non-negative."""
    arr = _as_real_array(sample_weight, "sample weights")
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1 or arr.shape[0] != n_samples:
        raise DataError(
            f"sample weights must be one number per sample ({n_samples}); got shape {arr.shape}",
            source="sample_weight",
        )
    w = np.asarray(arr, dtype=np.float64)
    bad = np.flatnonzero(~np.isfinite(w) | (w < 0))
    if bad.size:
        raise _at_rows(
            f"sample weight {float(w[bad[0]])!r} is not a finite non-negative number"
            f"{_more(bad, 'weights are invalid')}",
            bad,
            source="sample_weight",
        )
    return w


def check_labels(
    labels: ArrayLike, n_samples: int, n_classes: int, ignore_index: int | None = None
) -> NDArray[np.int64]:
    """Validate class-index labels and return them as int64 of shape (N,).

    Integral floats (``3.0``) are accepted; ``2.5``, negatives and indices ``>= C`` are
    not, except ``ignore_index`` (which may be any integer, such as -100).

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
        arr = arr.astype(np.float64, copy=False)  # float16 cannot even hold 2**62
        bad = np.flatnonzero(~np.isfinite(arr) | (arr != np.round(arr)))
        if bad.size:
            raise _at_rows(
                f"label {float(arr[bad[0]])!r} is not a whole number; labels are class indices"
                f"{_more(bad, 'labels are not whole numbers')}",
                bad,
                source="labels",
            )
        if arr.size and np.abs(arr).max() > 2**62:
            bad = np.flatnonzero(np.abs(arr) > 2**62)
            raise _at_rows(
                f"label {float(arr[bad[0]])!r} is out of range",
                bad,
                source="labels",
            )
    if arr.dtype.kind == "u" and arr.size and int(arr.max()) > 2**62:
        # uint64 beyond int64 would wrap to a negative label (or the ignore index).
        bad = np.flatnonzero(arr > 2**62)
        raise _at_rows(f"label {int(arr[bad[0]])} is out of range", bad, source="labels")
    y = arr.astype(np.int64, copy=False)
    if y.size == 0 or (int(y.min()) >= 0 and int(y.max()) < n_classes):
        return y  # every label a class (two reductions, no temporaries)
    valid = f"valid: 0..{n_classes - 1}"
    if ignore_index is not None:
        valid += f", or {ignore_index} to ignore a sample"
    kept = y != ignore_index if ignore_index is not None else np.ones(y.shape, dtype=bool)
    bad = np.flatnonzero((y < 0) & kept)
    if bad.size:
        raise _at_rows(
            f"label {int(y[bad[0]])} is negative ({valid}){_more(bad, 'labels are negative')}",
            bad,
            source="labels",
        )
    bad = np.flatnonzero((y >= n_classes) & kept)
    if bad.size:
        raise _at_rows(
            f"label {int(y[bad[0]])} is out of range for {n_classes} classes ({valid})"
            f"{_more(bad, 'labels are out of range')}",
            bad,
            source="labels",
        )
    return y


def check_targets(
    targets: ArrayLike, n_classes: int, *, binary: bool = False
) -> NDArray[np.float64]:
    """Validate target distributions (N, C): values in [0, 1], rows summing to 1 (soft
    targets), or, with ``binary``, every value 0 or 1 (multi-label)."""
    arr = _as_real_array(targets, "labels")
    t = np.ascontiguousarray(arr, dtype=np.float64)
    if binary:
        bad = np.flatnonzero(((t != 0) & (t != 1)).any(axis=1))
        if bad.size:
            row = t[bad[0]]
            col = int(np.flatnonzero((row != 0) & (row != 1))[0])
            raise _at_rows(
                f"multi-label target {float(row[col])!r} for class {col} is not 0 or 1"
                f"{_more(bad, 'rows have other values')}",
                bad,
                source="labels",
            )
        return t
    bad = np.flatnonzero((~np.isfinite(t) | (t < 0) | (t > 1)).any(axis=1))
    if bad.size:
        raise _at_rows(
            f"soft targets must be probabilities in [0, 1]{_more(bad, 'rows have other values')}",
            bad,
            source="labels",
        )
    sums = t.sum(axis=1)
    dev = np.abs(sums - 1.0)
    bad = np.flatnonzero(dev > _tolerance(arr.dtype))
    if bad.size:
        worst = int(bad[np.argmax(dev[bad])])
        raise DataError(
            f"the soft targets of this row sum to {float(sums[worst])!r}, not 1 "
            f"({bad.size} row(s) out of tolerance, this is the worst)",
            source="labels",
            sample=worst,
            samples=_places(np.concatenate([[worst], bad[bad != worst]])),
        )
    return t
