"""Per-sample terms of each kind of loss, before sample weights, units and reduction.

:func:`xentcli.core.loss.cross_entropy` picks the kind (multiclass with class indices or
soft targets, binary, multi-label) and turns these terms into a result.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from xentcli.core.compat import Profile
from xentcli.core.kernel import logits_nll
from xentcli.core.metrics import (
    MetricStats,
    MetricTerms,
    block_metrics,
    entropy,
    metric_terms,
    true_rank,
)
from xentcli.core.options import LossOptions
from xentcli.core.softmax import _shift_and_log_norm
from xentcli.core.validate import (
    SKIP_HINT,
    check_labels,
    check_log_probs,
    check_logits,
    check_probs,
    check_targets,
    reject_nan_rows,
)
from xentcli.errors import DataError, UsageError


@dataclass
class Terms:
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
    metrics: MetricStats | None = None
    #: The per-sample terms of the metrics, for the bootstrap.
    metric_terms: MetricTerms | None = None
    #: Top-1 probability of each sample (for ``per_class``).
    confidence: NDArray[np.float64] | None = None
    #: ``extra``: rank of the true class (NaN when the label is no class), margin
    #: ``max log p - log p_true`` and entropy of the predicted distribution, in nats.
    rank: NDArray[np.float64] | None = None
    margin: NDArray[np.float64] | None = None
    entropy: NDArray[np.float64] | None = None


def _needs_index_labels(opts: LossOptions, what: str) -> None:
    """``--top-k``, ``--metrics``, ``--extra`` and ``--per-class`` rank classes."""
    asked = [
        flag
        for flag, on in (
            ("--top-k", opts.top_k is not None),
            ("--metrics", opts.bins is not None),
            ("--extra", opts.extra),
            ("--per-class", opts.per_class),
        )
        if on
    ]
    if asked:
        raise UsageError(f"{' and '.join(asked)} need class-index labels, not {what}")


def _xlogy(t: NDArray[np.float64], logp: NDArray[np.float64], profile: Profile) -> Any:
    """``t * logp`` with ``0 * -inf`` as 0 (its limit), or NaN as PyTorch/Keras/optax give."""
    with np.errstate(invalid="ignore"):
        prod = t * logp
    if profile.zero_times_log_zero == "zero":
        prod = np.where(t == 0, 0.0, prod)
    return prod


def _tempered(x: NDArray[np.float64], t: float) -> NDArray[np.float64]:
    """``x / t`` up to a per-row constant, without overflow: shift by the row maximum
    first (a small ``t`` would turn 1e300 into inf)."""
    if t == 1:
        return x
    with np.errstate(invalid="ignore"):
        m = np.max(x, axis=1, keepdims=True)
        shifted = np.where(np.isfinite(m), x - m, x)
    with np.errstate(over="ignore"):  # -inf: a probability of 0, as it should
        out: NDArray[np.float64] = shifted / t
    return out


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
        shifted, log_norm = _shift_and_log_norm(_tempered(x, t), axis=1)
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
        shifted, log_norm = _shift_and_log_norm(_tempered(lp, t), axis=1)
        lp = shifted - log_norm
    return x, lp, notes


def multiclass(
    raw: NDArray[Any],
    labels: NDArray[Any],
    opts: LossOptions,
    profile: Profile,
    with_probs: bool,
) -> Terms:
    n, c = raw.shape
    if opts.pos_weight is not None:
        raise UsageError(
            "--pos-weight applies to binary and multi-label losses (one score per class); "
            "for a softmax over classes use --weight"
        )
    lab = np.asarray(labels)
    soft = lab.ndim == 2 and lab.shape[1] == c and c > 1
    w = np.asarray(opts.weight, dtype=np.float64) if opts.weight is not None else None
    e = opts.label_smoothing
    if soft:
        _needs_index_labels(opts, "soft targets")
    fast = opts.input_kind == "logits" and not soft and e == 0 and not with_probs
    if fast and opts.bins is None and not opts.extra and not opts.per_class:
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
        label, ignored, known, y = _index_labels(lab, n, c, opts)
        nll = -logp[np.arange(n), y] + 0.0  # + 0.0: a certain class has nll 0, not -0
        nll[~known] = np.nan
        smoothing = None
        if e > 0:
            with np.errstate(invalid="ignore"):
                smooth = -(logp * w).sum(axis=1) if w is not None else -logp.sum(axis=1)
            smoothing = (e, c, smooth)
        loss, denom = _weighted(nll, y, ignored, w, profile, smoothing)
    metrics = m_terms = None
    if opts.top_k is not None or opts.bins is not None:
        metrics, m_terms = _metrics(x, logp, label, ignored, opts)
    terms = Terms(
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
        metrics=metrics,
        metric_terms=m_terms,
    )
    if opts.per_class or opts.extra:
        top = logp.max(axis=1) if n else np.zeros(0)
        terms.confidence = np.exp(top)
        if opts.extra:
            known = (label >= 0) & (label < c)
            y = np.where(known, label, 0)
            terms.rank = np.where(known, true_rank(x, y, ties="lower"), np.nan)
            terms.margin = np.where(known, top - logp[np.arange(n), y], np.nan) + 0.0
            terms.entropy = entropy(logp)
    return terms


def _metrics(
    scores: NDArray[np.float64],
    logp: NDArray[np.float64] | None,
    label: NDArray[np.int64],
    ignored: NDArray[np.bool_],
    opts: LossOptions,
) -> tuple[MetricStats, MetricTerms]:
    """The metrics' per-sample terms of a block and their sums (``bins`` needs ``logp``)."""
    bins = opts.bins if logp is not None else None
    m_terms = metric_terms(scores, logp, label, ~ignored, opts.top_k, bins)
    counted = int(np.count_nonzero(~ignored))
    return block_metrics(m_terms, counted, opts.top_k, bins), m_terms


def _index_labels(
    lab: NDArray[Any], n: int, c: int, opts: LossOptions
) -> tuple[NDArray[np.int64], NDArray[np.bool_], NDArray[np.bool_], NDArray[np.int64]]:
    """Validated class indices, which are ignored, which name a class, and a safe index
    (0 where the label is no class, such as -100) to gather with."""
    if lab.ndim == 2 and lab.shape[1] != 1:
        raise DataError(
            f"labels have {lab.shape[1]} columns, but the scores have {c} classes: give "
            f"one class index per sample, or soft targets with {c} columns",
            source="labels",
        )
    label = check_labels(lab, n, c, opts.ignore_index)
    ii = opts.ignore_index
    ignored = label == ii if ii is not None else np.zeros(n, bool)
    if ii is None or 0 <= ii < c:
        # Every label is a class (a read-only view of True: no N-long array to fill).
        return label, ignored, np.broadcast_to(np.True_, (n,)), label
    known = ~ignored
    return label, ignored, known, np.where(known, label, 0)


def _weighted(
    nll: NDArray[np.float64],
    y: NDArray[np.int64],
    ignored: NDArray[np.bool_],
    w: NDArray[np.float64] | None,
    profile: Profile,
    smoothing: tuple[float, int, NDArray[np.float64]] | None = None,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """PyTorch's per-sample term (class weight; label smoothing ``(E, C, smooth)``; 0 when
    ignored) and each sample's share of the mean's denominator."""
    w_y = w[y] if w is not None else None
    if smoothing is not None:
        e, c, smooth = smoothing
        loss = (1.0 - e) * (nll if w_y is None else w_y * nll) + (e / c) * smooth
    elif w_y is None and not ignored.any():
        loss = nll  # the plain case: the loss is the nll itself (callers check `is`)
    else:
        loss = nll.copy() if w_y is None else w_y * nll
    if loss is not nll:
        loss[ignored] = 0.0
    n = nll.shape[0]
    if w_y is None or profile.denominator == "count":
        # All ones: a read-only view of one 1.0 (the caller counts instead of summing).
        return loss, np.broadcast_to(np.float64(1.0), (n,))
    return loss, w_y.astype(float)


def _correct(
    pred: NDArray[np.int64], label: NDArray[np.int64], ignored: NDArray[np.bool_]
) -> NDArray[np.bool_]:
    """Right predictions of counted samples."""
    hit: NDArray[np.bool_] = pred == label
    if ignored.any():
        hit &= ~ignored
    return hit


def _plain_logits(
    raw: NDArray[Any],
    lab: NDArray[Any],
    opts: LossOptions,
    profile: Profile,
    w: NDArray[np.float64] | None,
) -> Terms:
    """Logits and class indices, nothing else: the chunked kernel, no (N, C) temporaries."""
    n, c = raw.shape
    label, ignored, known, y = _index_labels(lab, n, c, opts)
    nll, pred = logits_nll(raw, y, opts.temperature, compute_dtype=opts.compute_dtype)
    if y is not label:
        nll[~known] = np.nan
    loss, denom = _weighted(nll, y, ignored, w, profile)
    metrics = m_terms = None
    if opts.top_k is not None:
        metrics, m_terms = _metrics(np.asarray(raw, dtype=np.float64), None, label, ignored, opts)
    return Terms(
        label=label,
        pred=pred,
        nll=nll,
        loss=loss,
        ignored=ignored,
        denom=denom,
        correct=_correct(pred, label, ignored),
        probs=None,
        n_classes=c,
        task="multiclass",
        metrics=metrics,
        metric_terms=m_terms,
    )


def _log_sigmoid_pair(
    raw: NDArray[Any], opts: LossOptions, profile: Profile
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.bool_]]:
    """``log p`` and ``log (1 - p)`` of the positive class for each score, and pred."""
    kind = opts.input_kind
    t = opts.temperature
    if kind == "logits":
        x = np.ascontiguousarray(raw, dtype=np.float64)
        reject_nan_rows(x, "score", SKIP_HINT)
        with np.errstate(over="ignore"):
            z = x / t if t != 1 else x  # an overflow to +-inf is a probability of 1 or 0
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


def binary(
    raw: NDArray[Any],
    labels: NDArray[Any],
    opts: LossOptions,
    profile: Profile,
    with_probs: bool,
) -> Terms:
    if opts.top_k is not None or opts.bins is not None:
        raise UsageError("--top-k and --metrics apply to multiclass losses (a softmax)")
    if isinstance(opts.pos_weight, tuple) and len(opts.pos_weight) != 1:
        raise UsageError(
            f"--pos-weight has {len(opts.pos_weight)} values, but a binary loss has one "
            "positive class: give one number"
        )
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
    terms = Terms(
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
    if opts.per_class or opts.extra:
        # The predicted class's log-probability (a score of exactly 0 predicts class 0).
        top = np.where(pred, lp, lq)
        terms.confidence = np.exp(top)
        if opts.extra:
            known = (label == 0) | y1
            terms.rank = np.where(known, np.where(pred_i == label, 1.0, 2.0), np.nan)
            terms.margin = np.where(known, top - np.where(y1, lp, lq), np.nan) + 0.0
            with np.errstate(invalid="ignore"):
                plogp = np.where(lp > -np.inf, np.exp(lp) * lp, 0.0) + np.where(
                    lq > -np.inf, np.exp(lq) * lq, 0.0
                )
            terms.entropy = -plogp + 0.0
    return terms


def multilabel(
    raw: NDArray[Any],
    labels: NDArray[Any],
    opts: LossOptions,
    profile: Profile,
    with_probs: bool,
) -> Terms:
    if opts.ignore_index is not None or opts.label_smoothing:
        raise UsageError("--ignore-index and --label-smoothing apply to multiclass losses")
    _needs_index_labels(opts, "multi-label targets")
    if raw.ndim != 2:
        raise DataError(
            f"multi-label scores must be a 2-D array (samples x classes); got shape {raw.shape}",
            source="logits",
        )
    n, c = raw.shape
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
    return Terms(
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
