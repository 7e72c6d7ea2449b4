"""Per-sample cross-entropy of a block of logits, and its mergeable statistics."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np
from numpy.typing import ArrayLike, NDArray

from xentcli.core.compat import PROFILES, Profile
from xentcli.core.kernel import logits_nll
from xentcli.core.options import LossOptions
from xentcli.core.softmax import _shift_and_log_norm
from xentcli.core.stats import LN2, CompensatedSum, LossStats
from xentcli.core.stats import Summary as Summary
from xentcli.core.validate import (
    as_matrix,
    check_labels,
    check_log_probs,
    check_logits,
    check_probs,
    check_sample_weight,
    check_targets,
    nonfinite_rows,
)
from xentcli.errors import DataError, UsageError

__all__ = ["LossOptions", "LossResult", "concat_results", "cross_entropy"]


_A = TypeVar("_A", bound=np.ndarray[Any, Any])


def _readonly(a: _A) -> _A:
    a.setflags(write=False)
    return a


@dataclass(frozen=True)
class LossResult:
    """Cross-entropy of a block of samples. Field names are the JSON output's keys.

    Logs are in ``summary.units`` (nats unless the options say bits).

    Attributes
    ----------
    index : ndarray of int64, shape (N,)
        Sample index (0-based position in the whole input, counting skipped rows).
    label : ndarray of int64, shape (N,), or (N, C) for multi-label
        True class (or the ``ignore_index``); for soft targets the most likely class;
        for multi-label the 0/1 target vector.
    pred : ndarray of int64, shape (N,), or (N, C) for multi-label
        Predicted class: the first argmax of the input row (binary: score > 0, or
        probability > 0.5; multi-label: each class so).
    p_true : ndarray of float64, shape (N,)
        Probability of the true class (NaN for an ignored label that is not a class);
        for soft and multi-label targets ``exp(-nll)``, the probability of the whole
        target.
    log_p_true : ndarray of float64, shape (N,)
        Its log (``-inf`` when the true class has probability 0).
    nll : ndarray of float64, shape (N,)
        Negative log-likelihood ``-log_p_true``: for soft targets the cross-entropy
        ``-sum_c t_c log p_c``; for multi-label the sum over classes.
    loss : ndarray of float64, shape (N,)
        The per-sample loss term (PyTorch's ``reduction='none'``): ``nll`` with the class
        weight and label smoothing applied; 0 for ignored samples.
    ignored : ndarray of bool, shape (N,)
        Samples excluded by ``ignore_index``.
    probs : ndarray of float64, shape (N, C), or None
        Full probability vectors, when requested.
    skipped : ndarray of int64
        Indices of the rows left out by ``nonfinite="skip"``.
    position : ndarray of int64, shape (N, k), or None
        For inputs with more than 2 dimensions: each sample's multi-index (batch index
        and position) in the original array.
    notes : tuple of str
        Things the user should know about this result (a ``compat`` profile accepting
        unnormalised rows, ...).
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
    ignored: NDArray[np.bool_]
    probs: NDArray[np.float64] | None
    skipped: NDArray[np.int64] = field(repr=False)
    stats: LossStats = field(repr=False)
    summary: Summary
    position: NDArray[np.int64] | None = field(default=None, repr=False)
    notes: tuple[str, ...] = ()

    @property
    def n(self) -> int:
        """Number of samples in the block."""
        return int(self.index.shape[0])

    @property
    def n_classes(self) -> int:
        """Number of classes C."""
        return self.stats.n_classes


@dataclass
class _Terms:
    """Per-sample values of one task, in nats, before sample weights and units."""

    label: NDArray[Any]
    pred: NDArray[Any]
    nll: NDArray[np.float64]
    loss: NDArray[np.float64]
    ignored: NDArray[np.bool_]
    denom: NDArray[np.float64]
    correct: NDArray[np.bool_]
    probs: NDArray[np.float64] | None
    n_classes: int
    task: str
    notes: list[str] = field(default_factory=list)


def _xlogy(t: NDArray[np.float64], logp: NDArray[np.float64], profile: Profile) -> Any:
    """``t * logp`` with ``0 * -inf`` as 0 (its limit), or NaN as PyTorch/Keras/optax give."""
    with np.errstate(invalid="ignore"):
        prod = t * logp
    if profile.zero_times_log_zero == "zero":
        prod = np.where(t == 0, 0.0, prod)
    return prod


def _multiclass_log_probs(
    raw: NDArray[Any], opts: LossOptions, profile: Profile
) -> tuple[NDArray[np.float64], NDArray[np.float64], list[str]]:
    """Validated input (N, C) as float64 and its normalised log-probabilities."""
    notes: list[str] = []
    t = opts.temperature
    kind = opts.input_kind
    if kind == "logits":
        x = check_logits(raw)
        # x - m - log(sum(exp(x - m))) with the log1p refinement; gathering the true
        # class then gives nll = log_norm - (x_y - m), never logsumexp(x) - x_y, which
        # cancels catastrophically when the logits are large.
        shifted, log_norm = _shift_and_log_norm(x / t if t != 1 else x, axis=1)
        return x, shifted - log_norm, notes
    renorm = opts.renormalize or (profile.renormalize and kind == "probs")
    if kind == "probs":
        x, note = check_probs(raw, renormalize=renorm, rows=profile.row_check)
        if note:
            notes.append(note)
        p = x / x.sum(axis=1, keepdims=True) if renorm else x
        eps = opts.clip if opts.clip is not None else profile.clip_eps(np.asarray(raw).dtype)
        if eps is not None:
            p = np.clip(p, eps, 1.0 - eps)
        with np.errstate(divide="ignore"):
            lp = np.log(p)
        renorm = False
    else:
        x = check_log_probs(raw, renormalize=renorm, rows=profile.row_check)
        lp = x
        if opts.clip is not None:
            lp = np.clip(lp, np.log(opts.clip), np.log1p(-opts.clip))
    if renorm or t != 1:
        shifted, log_norm = _shift_and_log_norm(lp / t if t != 1 else lp, axis=1)
        lp = shifted - log_norm
    return x, lp, notes


def _multiclass(
    raw: NDArray[Any],
    labels: NDArray[Any],
    opts: LossOptions,
    profile: Profile,
    with_probs: bool,
) -> _Terms:
    n, c = raw.shape
    lab = np.asarray(labels)
    soft = lab.ndim == 2 and lab.shape[1] == c and c > 1
    w = np.asarray(opts.weight, dtype=np.float64) if opts.weight is not None else None
    e = opts.label_smoothing
    if opts.input_kind == "logits" and not soft and e == 0 and not with_probs:
        return _plain_logits(raw, lab, opts, profile, w)
    x, logp, notes = _multiclass_log_probs(raw, opts, profile)
    pred = np.argmax(x, axis=1).astype(np.int64)
    if soft:
        if opts.ignore_index is not None:
            raise UsageError(
                "--ignore-index applies to class-index labels, not to soft targets "
                "(give an ignored sample a target row of zeros weight instead)"
            )
        t = check_targets(lab, c)
        nll = -_xlogy(t, logp, profile).sum(axis=1)
        tt = (1.0 - e) * t + e / c if e > 0 else t
        wt = tt * w if w is not None else tt
        loss = -_xlogy(wt, logp, profile).sum(axis=1)
        label = np.argmax(t, axis=1).astype(np.int64)
        ignored = np.zeros(n, dtype=bool)
        # PyTorch divides soft-target means by N, whatever the class weights.
        denom = np.ones(n)
    else:
        label = _index_labels(lab, n, c, opts)
        ignored = label == opts.ignore_index if opts.ignore_index is not None else np.zeros(n, bool)
        known = (label >= 0) & (label < c)
        y = np.where(known, label, 0)
        nll = -logp[np.arange(n), y]
        nll[~known] = np.nan
        w_y = w[y] if w is not None else None
        if e > 0:
            with np.errstate(invalid="ignore"):
                smooth = -(logp * w).sum(axis=1) if w is not None else -logp.sum(axis=1)
            loss = (1.0 - e) * (nll if w_y is None else w_y * nll) + (e / c) * smooth
        else:
            loss = nll.copy() if w_y is None else w_y * nll
        loss[ignored] = 0.0
        denom = np.ones(n) if w_y is None or profile.denominator == "count" else w_y.astype(float)
    return _Terms(
        label=label,
        pred=pred,
        nll=nll,
        loss=loss,
        ignored=ignored,
        denom=denom,
        correct=(pred == label) & ~ignored,
        probs=np.exp(logp) if with_probs else None,
        n_classes=c,
        task="multiclass-soft" if soft else "multiclass",
        notes=notes,
    )


def _index_labels(lab: NDArray[Any], n: int, c: int, opts: LossOptions) -> NDArray[np.int64]:
    if lab.ndim == 2 and lab.shape[1] != 1:
        raise DataError(
            f"labels have {lab.shape[1]} columns, but the scores have {c} classes: give "
            f"one class index per sample, or soft targets with {c} columns",
            source="labels",
        )
    return check_labels(lab, n, c, opts.ignore_index)


def _plain_logits(
    raw: NDArray[Any],
    lab: NDArray[Any],
    opts: LossOptions,
    profile: Profile,
    w: NDArray[np.float64] | None,
) -> _Terms:
    """Logits and class indices, nothing else: the chunked kernel, no (N, C) temporaries."""
    n, c = raw.shape
    label = _index_labels(lab, n, c, opts)
    ignored = label == opts.ignore_index if opts.ignore_index is not None else np.zeros(n, bool)
    known = (label >= 0) & (label < c)
    y = np.where(known, label, 0)
    nll, pred = logits_nll(raw, y, opts.temperature)
    nll[~known] = np.nan
    w_y = w[y] if w is not None else None
    loss = nll.copy() if w_y is None else w_y * nll
    loss[ignored] = 0.0
    denom = np.ones(n) if w_y is None or profile.denominator == "count" else w_y.astype(float)
    return _Terms(
        label=label,
        pred=pred,
        nll=nll,
        loss=loss,
        ignored=ignored,
        denom=denom,
        correct=(pred == label) & ~ignored,
        probs=None,
        n_classes=c,
        task="multiclass",
    )


def _log_sigmoid_pair(
    raw: NDArray[Any], opts: LossOptions, profile: Profile
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.bool_]]:
    """``log p`` and ``log (1 - p)`` of the positive class for each score, and pred."""
    kind = opts.input_kind
    t = opts.temperature
    if kind == "logits":
        x = np.ascontiguousarray(raw, dtype=np.float64)
        if np.isnan(x).any():
            bad = np.flatnonzero(np.isnan(x.reshape(x.shape[0], -1)).any(axis=1))
            raise DataError(
                "NaN score (--nonfinite skip leaves such rows out)",
                source="logits",
                sample=int(bad[0]),
                samples=[int(b) for b in bad[:1000]],
            )
        z = x / t if t != 1 else x
        # log sigmoid(z) = -softplus(-z), computed without overflow for any z.
        return -np.logaddexp(0.0, -z), -np.logaddexp(0.0, z), z > 0
    if kind == "probs":
        p, _ = check_probs(raw, rows="none")
        eps = opts.clip if opts.clip is not None else profile.clip_eps(np.asarray(raw).dtype)
        if eps is not None:
            p = np.clip(p, eps, 1.0 - eps)
        with np.errstate(divide="ignore"):
            lp, lq = np.log(p), np.log1p(-p)
        pred = p > 0.5
    else:
        lp = check_log_probs(raw, rows="none")
        with np.errstate(divide="ignore"):
            lq = np.log(-np.expm1(lp))
        pred = lp > -np.log(2.0)
    if t != 1:
        # Temperature on probabilities: scale the log-odds, as for logits.
        z = (lp - lq) / t
        lp, lq = -np.logaddexp(0.0, -z), -np.logaddexp(0.0, z)
    return lp, lq, pred


def _pos_weight(opts: LossOptions, c: int) -> NDArray[np.float64] | float:
    pw = opts.pos_weight
    if pw is None:
        return 1.0
    if isinstance(pw, tuple):
        return np.asarray(pw if len(pw) == c else pw * c, dtype=np.float64)
    return float(pw)


def _binary(
    raw: NDArray[Any],
    labels: NDArray[Any],
    opts: LossOptions,
    profile: Profile,
    with_probs: bool,
) -> _Terms:
    for name, value in (("--weight", opts.weight), ("--label-smoothing", opts.label_smoothing)):
        if value:
            raise UsageError(
                f"{name} applies to multiclass losses; the binary loss takes --pos-weight"
            )
    x = np.asarray(raw).reshape(-1)
    n = x.shape[0]
    try:
        label = check_labels(labels, n, 2, opts.ignore_index)
    except DataError as exc:
        if opts.task == "auto" and "out of range" in exc.message:
            exc.message += (
                "; one column of scores is read as a binary problem (the score of class 1)"
            )
        raise
    ignored = label == opts.ignore_index if opts.ignore_index is not None else np.zeros(n, bool)
    lp, lq, pred = _log_sigmoid_pair(x, opts, profile)
    y1 = label == 1
    nll = np.where(y1, -lp, -lq)
    nll[(label != 0) & ~y1] = np.nan
    pw = _pos_weight(opts, 1)
    loss = np.where(y1, pw * -lp, -lq) if opts.pos_weight is not None else nll.copy()
    loss[ignored] = 0.0
    pred_i = pred.astype(np.int64)
    probs = None
    if with_probs:
        p1 = np.exp(lp)
        probs = np.stack([np.exp(lq), p1], axis=1)
    return _Terms(
        label=label,
        pred=pred_i,
        nll=nll,
        loss=loss,
        ignored=ignored,
        denom=np.ones(n),
        correct=(pred_i == label) & ~ignored,
        probs=probs,
        n_classes=2,
        task="binary",
    )


def _multilabel(
    raw: NDArray[Any],
    labels: NDArray[Any],
    opts: LossOptions,
    profile: Profile,
    with_probs: bool,
) -> _Terms:
    if raw.ndim != 2:
        raise DataError(
            f"multi-label scores must be a 2-D array (samples x classes); got shape {raw.shape}",
            source="logits",
        )
    n, c = raw.shape
    if opts.ignore_index is not None or opts.label_smoothing:
        raise UsageError("--ignore-index and --label-smoothing apply to multiclass losses")
    lab = np.asarray(labels)
    if lab.shape != (n, c):
        raise DataError(
            f"multi-label targets must be a 0/1 array of the scores' shape {(n, c)}; got "
            f"shape {lab.shape}",
            source="labels",
        )
    t = check_targets(lab, c, binary=True)
    lp, lq, pred = _log_sigmoid_pair(raw, opts, profile)
    y1 = t == 1
    per = np.where(y1, -lp, -lq)
    nll = per.sum(axis=1)
    pw = _pos_weight(opts, c)
    elem = np.where(y1, pw * -lp, -lq) if opts.pos_weight is not None else per
    if opts.weight is not None:
        elem = elem * np.asarray(opts.weight, dtype=np.float64)
    label = t.astype(np.int64)
    pred_i = pred.astype(np.int64)
    return _Terms(
        label=label,
        pred=pred_i,
        nll=nll,
        loss=elem.sum(axis=1),
        ignored=np.zeros(n, dtype=bool),
        # PyTorch's mean is over all N x C entries.
        denom=np.full(n, float(c)),
        correct=(pred_i == label).all(axis=1),
        probs=np.exp(lp) if with_probs else None,
        n_classes=c,
        task="multilabel",
    )


def _flatten_positions(
    raw: NDArray[Any],
    labels: NDArray[Any],
    sample_weight: NDArray[Any] | None,
    opts: LossOptions,
) -> tuple[NDArray[Any], NDArray[Any], NDArray[Any] | None, NDArray[np.int64] | None]:
    """K-dimensional input: one row per position, classes last."""
    if raw.ndim <= 2 and opts.class_axis is None:
        return raw, labels, sample_weight, None
    if opts.class_axis is None:
        raise DataError(
            f"the input has shape {raw.shape}: with more than 2 dimensions, say which axis "
            "holds the classes: --class-axis 1 for (N, C, d1, ...) as in PyTorch, or -1 for "
            "channels-last (N, d1, ..., C)",
            source="logits",
        )
    if raw.ndim < 2:
        raise DataError(f"--class-axis needs at least 2 dimensions; got {raw.shape}")
    ax = opts.class_axis
    if not -raw.ndim <= ax < raw.ndim or ax % raw.ndim == 0:
        raise UsageError(
            f"--class-axis {ax} does not fit samples of shape {raw.shape[1:]} (axis 0 counts "
            "the samples; the classes are on axis 1 or later)"
        )
    moved = np.moveaxis(raw, ax, -1)
    spatial = moved.shape[:-1]
    c = moved.shape[-1]
    lab = np.asarray(labels)
    flat_labels: NDArray[Any]
    if lab.shape == spatial:
        flat_labels = lab.reshape(-1)
    elif lab.ndim == raw.ndim and np.moveaxis(lab, ax, -1).shape == moved.shape:
        flat_labels = np.moveaxis(lab, ax, -1).reshape(-1, c)
    else:
        raise DataError(
            f"labels have shape {lab.shape}; for scores of shape {raw.shape} with classes "
            f"on axis {ax}, they must have shape {spatial} (or {raw.shape} for soft targets)",
            source="labels",
        )
    sw = None
    if sample_weight is not None:
        s = np.asarray(sample_weight)
        if s.shape == spatial[:1]:
            s = np.broadcast_to(s.reshape((-1,) + (1,) * (len(spatial) - 1)), spatial)
        if s.shape != spatial:
            raise DataError(
                f"sample weights have shape {s.shape}; give one per sample {spatial[:1]} "
                f"or one per position {spatial}",
                source="sample_weight",
            )
        sw = s.reshape(-1)
    position = np.indices(spatial).reshape(len(spatial), -1).T.astype(np.int64)
    return moved.reshape(-1, c), flat_labels, sw, position


def _task(raw: NDArray[Any], opts: LossOptions) -> str:
    if opts.task == "multilabel":
        return "multilabel"
    single = raw.ndim == 1 or (raw.ndim == 2 and raw.shape[1] == 1)
    if opts.task == "binary":
        if not single:
            raise DataError(
                f"--binary needs one score per sample; the input has shape {raw.shape} "
                "(for one 0/1 target per class use --multi-label)",
                source="logits",
            )
        return "binary"
    if single and opts.task == "auto":
        return "binary"
    as_matrix(raw, "logits")  # 2-D with at least 2 classes, or a DataError saying why
    return "multiclass"


def _real(x: ArrayLike, source: str) -> NDArray[Any]:
    arr = np.asarray(x)
    if arr.dtype.kind == "b" and source != "logits":
        arr = arr.astype(np.int64)
    if arr.dtype.kind not in "iuf":
        what = "an object array" if arr.dtype.kind == "O" else f"dtype {arr.dtype}"
        raise DataError(f"{source} are {what}; expected real numbers", source=source)
    return arr


def cross_entropy(
    logits: ArrayLike,
    labels: ArrayLike,
    options: LossOptions | None = None,
    *,
    sample_weight: ArrayLike | None = None,
    with_probs: bool = False,
    start: int = 0,
) -> LossResult:
    """Cross-entropy (log loss) of scores against labels, with PyTorch's options.

    Parameters
    ----------
    logits : array_like, shape (N, C), (N,), or (N, C, d1, ...) with ``class_axis``
        Raw scores (or probabilities / log-probabilities, see ``options.input_kind``);
        float16/32/64 or integer. ``-inf`` marks an impossible class. One column (or a
        1-D array) is a binary problem: the score of the positive class.
    labels : array_like, shape (N,), or (N, C)
        True class indices in ``0..C-1`` (integral floats such as ``3.0`` are accepted);
        or soft targets (N, C), rows summing to 1; or, for multi-label, 0/1 targets.
    options : LossOptions, optional
        Reduction, weights, ignore index, smoothing, temperature, units, compat...; the
        defaults give the plain mean negative log-likelihood in nats.
    sample_weight : array_like, shape (N,), optional
        Per-sample weights, scikit-learn semantics: the mean is
        ``sum(sw * loss) / sum(sw * weight[label])``.
    with_probs : bool, default False
        Also return each sample's full probability vector.
    start : int, default 0
        Index of the first sample (row of axis 0), for blocks of a longer input.

    Returns
    -------
    LossResult
        Per-sample values, mergeable ``stats`` and the ``summary``.

    Raises
    ------
    xentcli.errors.DataError
        Invalid shapes, values or labels; the error names the first bad sample.
    xentcli.errors.UsageError
        Options that do not fit the input (``weight`` of the wrong length).

    Examples
    --------
    >>> r = cross_entropy([[2.0, 0.0], [0.0, 0.0]], [0, 1])
    >>> round(r.summary.loss, 6)
    0.410038
    >>> r = cross_entropy([[2.0, 0.0], [0.0, 0.0]], [0, 1], LossOptions(weight=(1.0, 3.0)))
    >>> round(r.summary.loss, 6)  # (0.126928 + 3 * 0.693147) / (1 + 3)
    0.551592
    """
    opts = options if options is not None else LossOptions()
    profile = PROFILES[opts.compat]
    profile.check(
        {
            "weight": opts.weight,
            "ignore_index": opts.ignore_index,
            "label_smoothing": opts.label_smoothing,
            "pos_weight": opts.pos_weight,
            "clip": opts.clip,
            "renormalize": opts.renormalize,
            "sample_weight": sample_weight,
        }
    )
    raw = _real(logits, "logits")
    lab = _real(labels, "labels")
    sw_raw = None if sample_weight is None else _real(sample_weight, "sample weights")
    n_rows = raw.shape[0] if raw.ndim else 0
    raw, lab, sw_raw, position = _flatten_positions(raw, lab, sw_raw, opts)
    first_index = start
    if position is not None:
        # ``start`` counts samples (rows of axis 0); every position is an output row.
        first_index = start * (raw.shape[0] // n_rows if n_rows else 0)
        position[:, 0] += start
    task = _task(raw, opts)
    n_all = raw.shape[0]
    if lab.ndim >= 1 and lab.shape[0] != n_all:
        raise DataError(
            f"logits have {n_all} samples but labels have {lab.shape[0]}; "
            "they must be the same samples in the same order",
            source="labels",
        )
    sw = None if sw_raw is None else check_sample_weight(sw_raw, n_all)
    if task == "multiclass" or (task == "multilabel" and raw.ndim == 2):
        opts.check_n_classes(raw.shape[1])

    kept: NDArray[np.intp] | None = None
    skipped = np.zeros(0, dtype=np.int64)
    if opts.nonfinite == "skip" and raw.dtype.kind == "f" and n_all:
        x2 = np.asarray(raw, dtype=np.float64).reshape(n_all, -1)
        kind = "probs" if opts.input_kind == "probs" or task != "multiclass" else "logits"
        bad = nonfinite_rows(x2, kind) if task == "multiclass" else np.isnan(x2).any(axis=1)
        if bad.any():
            kept = np.flatnonzero(~bad)
            skipped = np.flatnonzero(bad).astype(np.int64) + first_index
            raw, lab = raw[kept], lab[kept]
            sw = None if sw is None else sw[kept]
            position = None if position is None else position[kept]
    if task == "multiclass":
        terms = _multiclass(raw, lab, opts, profile, with_probs)
    elif task == "binary":
        terms = _binary(raw, lab, opts, profile, with_probs)
    else:
        terms = _multilabel(raw, lab, opts, profile, with_probs)

    counted = ~terms.ignored
    loss_terms = terms.loss if sw is None else terms.loss * sw
    denom_terms = terms.denom if sw is None or profile.denominator == "count" else terms.denom * sw
    all_counted = bool(counted.all())
    counted_nll = terms.nll if all_counted else terms.nll[counted]
    sum_nll = CompensatedSum.of(counted_nll)
    # The common case costs one exact sum, not three: the loss is the nll, and the
    # denominator a count of ones (exact in float64 up to 2**53).
    same = loss_terms is terms.loss and np.array_equal(terms.loss, terms.nll, equal_nan=True)
    sum_loss = sum_nll if same else CompensatedSum.of(loss_terms[counted])
    ones = denom_terms[counted]
    if ones.size < 2**53 and bool((ones == 1.0).all()):
        sum_weight = CompensatedSum(float(ones.size))
    else:
        sum_weight = CompensatedSum.of(ones)
    n = terms.nll.shape[0]
    stats = LossStats(
        n_classes=terms.n_classes,
        options=opts,
        task=terms.task,
        sample_weighted=sw is not None,
        n=n,
        n_ignored=int(np.count_nonzero(terms.ignored)),
        n_skipped=int(skipped.size),
        n_correct=int(np.count_nonzero(terms.correct)),
        sum_loss=sum_loss,
        sum_weight=sum_weight,
        sum_nll=sum_nll,
    )
    nll, loss = terms.nll, terms.loss
    p_true = np.exp(-nll)
    if opts.units == "bits":
        nll, loss = nll / LN2, loss / LN2
    index = np.arange(first_index, first_index + n_all, dtype=np.int64)
    return LossResult(
        index=_readonly(index if kept is None else index[kept]),
        label=_readonly(terms.label.copy()),
        pred=_readonly(terms.pred),
        p_true=_readonly(p_true),
        log_p_true=_readonly(-nll),
        nll=_readonly(nll),
        loss=_readonly(loss),
        ignored=_readonly(terms.ignored),
        probs=None if terms.probs is None else _readonly(terms.probs),
        skipped=_readonly(skipped),
        stats=stats,
        summary=stats.summary(),
        position=None if position is None else _readonly(position),
        notes=tuple(terms.notes),
    )


def concat_results(results: Sequence[LossResult]) -> LossResult:
    """Blocks of one input (in order) as one result; statistics merged exactly.

    Examples
    --------
    >>> x, y = [[2.0, 0.0], [0.0, 0.0], [1.0, 3.0]], [0, 1, 1]
    >>> parts = [cross_entropy(x[:2], y[:2]), cross_entropy(x[2:], y[2:], start=2)]
    >>> concat_results(parts).summary == cross_entropy(x, y).summary
    True
    """
    if not results:
        raise ValueError("no results to concatenate")
    if len(results) == 1:
        return results[0]
    stats = results[0].stats
    for r in results[1:]:
        stats = stats + r.stats

    def cat(name: str) -> Any:
        parts = [getattr(r, name) for r in results]
        if any(p is None for p in parts):
            return None
        return _readonly(np.concatenate(parts))

    return LossResult(
        index=cat("index"),
        label=cat("label"),
        pred=cat("pred"),
        p_true=cat("p_true"),
        log_p_true=cat("log_p_true"),
        nll=cat("nll"),
        loss=cat("loss"),
        ignored=cat("ignored"),
        probs=cat("probs"),
        skipped=cat("skipped"),
        stats=stats,
        summary=stats.summary(),
        position=cat("position"),
        notes=tuple(dict.fromkeys(n for r in results for n in r.notes)),
    )
