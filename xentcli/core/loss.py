"""Per-sample cross-entropy of a block of logits, and its mergeable statistics."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, TypeVar

import numpy as np
from numpy.typing import ArrayLike, NDArray

from xentcli.core.bootstrap import ReplicateSums
from xentcli.core.compat import PROFILES
from xentcli.core.histogram import NllHistogram
from xentcli.core.kernel import nll_totals
from xentcli.core.options import LossOptions
from xentcli.core.perclass import ClassStats
from xentcli.core.positions import flatten_positions
from xentcli.core.stats import LN2, CompensatedSum, LossStats
from xentcli.core.stats import Summary as Summary
from xentcli.core.terms import Terms, binary, multiclass, multilabel
from xentcli.core.validate import (
    as_matrix,
    check_labels,
    check_sample_weight,
    nonfinite_rows,
)
from xentcli.errors import DataError

__all__ = [
    "LossOptions",
    "LossResult",
    "concat_results",
    "cross_entropy",
    "loss_stats",
    "sorted_samples",
    "take_samples",
]


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
    rank, margin, entropy : ndarray of float64, shape (N,), or None
        With ``options.extra``: the rank of the true class by descending score (equal
        scores ordered by class index, as ``argmax`` does, so rank 1 is a right
        prediction; scikit-learn's top-k accuracy orders ties the other way; NaN when the
        label is no class), the
        margin ``max_c log p_c - log p_true`` (0 when the prediction is right) and the
        entropy ``-sum_c p_c log p_c`` of the predicted distribution, in ``units``.
    stats : LossStats
        Mergeable partial statistics of this block.
    summary : Summary
        Summary of this block alone.
    """

    index: NDArray[np.int64]
    label: NDArray[np.int64]
    pred: NDArray[np.int64]
    nll: NDArray[np.float64]
    loss: NDArray[np.float64]
    ignored: NDArray[np.bool_]
    probs: NDArray[np.float64] | None
    skipped: NDArray[np.int64] = field(repr=False)
    stats: LossStats = field(repr=False)
    position: NDArray[np.int64] | None = field(default=None, repr=False)
    notes: tuple[str, ...] = ()
    rank: NDArray[np.float64] | None = field(default=None, repr=False)
    margin: NDArray[np.float64] | None = field(default=None, repr=False)
    entropy: NDArray[np.float64] | None = field(default=None, repr=False)
    #: ``nll`` in nats when ``units`` are bits (None: ``nll`` is in nats), so that
    #: ``p_true`` is ``exp(-nll)`` rounded once.
    nll_nats: NDArray[np.float64] | None = field(default=None, repr=False)

    @cached_property
    def p_true(self) -> NDArray[np.float64]:
        """``exp(-nll)`` (computed on first use: a summary does not need it)."""
        return _readonly(np.exp(-(self.nll if self.nll_nats is None else self.nll_nats)))

    @cached_property
    def log_p_true(self) -> NDArray[np.float64]:
        """``-nll`` (computed on first use)."""
        return _readonly(-self.nll)

    @cached_property
    def summary(self) -> Summary:
        """Summary of these samples' statistics (computed on first use)."""
        return self.stats.summary()

    @property
    def n(self) -> int:
        """Number of samples in the block."""
        return int(self.index.shape[0])

    @property
    def n_classes(self) -> int:
        """Number of classes C."""
        return self.stats.n_classes


def _fresh(label: NDArray[np.int64], given: NDArray[Any]) -> bool:
    """Whether ``label`` is an array of its own, not ``given`` or a view of anything."""
    return label is not given and label.base is None and not np.may_share_memory(label, given)


def _to_rows(exc: DataError, position: NDArray[np.int64], start: int) -> None:
    """A K-dimensional input's error names its sample (row of axis 0) and position."""
    assert exc.sample is not None
    pos = position[exc.sample]
    exc.message += f" (at position {tuple(int(v) for v in pos[1:])})"
    exc.sample = int(pos[0]) - start
    if exc.samples is not None:
        rows = (int(position[s][0]) - start for s in exc.samples)
        exc.samples = list(dict.fromkeys(rows))


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
            "weight": opts.weight is not None,
            "ignore_index": opts.ignore_index is not None,
            "label_smoothing": opts.label_smoothing > 0,
            "pos_weight": opts.pos_weight is not None,
            "clip": opts.clip is not None,
            "renormalize": opts.renormalize,
            "sample_weight": sample_weight is not None,
        }
    )
    raw = _real(logits, "logits")
    lab = _real(labels, "labels")
    sw_raw = None if sample_weight is None else _real(sample_weight, "sample weights")
    n_rows = raw.shape[0] if raw.ndim else 0
    raw, lab, sw_raw, position = flatten_positions(raw, lab, sw_raw, opts)
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
    compute = {"multiclass": multiclass, "binary": binary, "multilabel": multilabel}[task]
    try:
        terms = compute(raw, lab, opts, profile, with_probs)
    except DataError as exc:
        if position is not None and exc.sample is not None:
            _to_rows(exc, position, start)
        raise

    counted = ~terms.ignored
    loss_terms = terms.loss if sw is None else terms.loss * sw
    denom_terms = terms.denom if sw is None or profile.denominator == "count" else terms.denom * sw
    all_counted = bool(counted.all())
    counted_nll = terms.nll if all_counted else terms.nll[counted]
    sum_nll = CompensatedSum.of(counted_nll)
    # The common case costs one exact sum, not three: the loss is the nll, and the
    # denominator a count of ones (exact in float64 up to 2**53).
    same = loss_terms is terms.loss and (
        terms.loss is terms.nll or np.array_equal(terms.loss, terms.nll, equal_nan=True)
    )
    sum_loss = sum_nll if same else CompensatedSum.of(loss_terms[counted])
    if denom_terms.strides == (0,) and denom_terms.size and denom_terms[0] == 1.0:
        # Terms' view of one 1.0 (no weights): the denominator is the count.
        sum_weight = CompensatedSum(float(denom_terms.size - np.count_nonzero(terms.ignored)))
    else:
        ones = denom_terms[counted]
        if ones.size < 2**53 and bool((ones == 1.0).all()):
            sum_weight = CompensatedSum(float(ones.size))
        else:
            sum_weight = CompensatedSum.of(ones)
    n = terms.nll.shape[0]
    per_class = None
    if opts.per_class and terms.confidence is not None:
        lab_c = terms.label[counted]
        per_class = ClassStats.of(
            terms.n_classes,
            lab_c,
            terms.nll[counted],
            loss_terms[counted],
            terms.correct[counted],
            terms.confidence[counted],
        )
    histogram = None
    if opts.hist:
        histogram = NllHistogram.of(counted_nll / LN2 if opts.units == "bits" else counted_nll)
    replicates = None
    if opts.ci is not None:
        replicates = _replicates(
            loss_terms, denom_terms, terms, counted, opts, first_index, kept, n_all
        )
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
        metrics=terms.metrics,
        per_class=per_class,
        replicates=replicates,
        histogram=histogram,
    )
    nll, loss = terms.nll, terms.loss
    nats = None
    if opts.units == "bits":
        nats = _readonly(nll)
        nll, loss = nll / LN2, loss / LN2
    index = np.arange(first_index, first_index + n_all, dtype=np.int64)
    extra = [terms.rank, terms.margin, terms.entropy]
    if opts.units == "bits" and terms.margin is not None and terms.entropy is not None:
        extra[1:] = [terms.margin / LN2, terms.entropy / LN2]
    rank, margin, entropy = (None if a is None else _readonly(a) for a in extra)
    return LossResult(
        index=_readonly(index if kept is None else index[kept]),
        # Labels checked into a new array are the result's own; the caller's (or a
        # view of them, or an empty array, which shares no memory) are copied, so that
        # making the result read-only leaves the caller's array alone.
        label=_readonly(terms.label if _fresh(terms.label, lab) else terms.label.copy()),
        pred=_readonly(terms.pred),
        nll=_readonly(nll),
        loss=_readonly(loss),
        ignored=_readonly(terms.ignored),
        probs=None if terms.probs is None else _readonly(terms.probs),
        skipped=_readonly(skipped),
        stats=stats,
        position=None if position is None else _readonly(position),
        notes=tuple(terms.notes),
        rank=rank,
        margin=margin,
        entropy=entropy,
        nll_nats=nats,
    )


def loss_stats(
    logits: ArrayLike,
    labels: ArrayLike,
    options: LossOptions | None = None,
    *,
    sample_weight: ArrayLike | None = None,
    start: int = 0,
) -> LossStats:
    """The mergeable statistics of :func:`cross_entropy`, without its per-sample arrays.

    Equal to ``cross_entropy(logits, labels, options, ...).stats`` (same sums, to the
    last bit, and the same errors), for PyTorch's ``reduction="mean"`` use:
    ``loss_stats(x, y).summary().loss``. For plain logits with class-index labels (the
    options left at their defaults, or ``temperature``, ``units``, ``reduction``,
    ``empty``, ``compat``, ``compute_dtype``, an ``ignore_index`` no label uses) each
    chunk of rows is reduced by the thread that computed it: no per-sample array is
    made beyond an int64 copy of labels of another dtype (8 bytes a sample), where
    ``cross_entropy`` keeps ~32-40 bytes a sample. Anything else is computed by
    ``cross_entropy``.

    Examples
    --------
    >>> round(loss_stats([[2.0, 0.0], [0.0, 0.0]], [0, 1]).summary().loss, 6)
    0.410038
    """
    opts = options if options is not None else LossOptions()
    if sample_weight is None and _plain_options(opts):
        stats = _plain_stats(logits, labels, opts)
        if stats is not None:
            return stats
    return cross_entropy(logits, labels, opts, sample_weight=sample_weight, start=start).stats


def _plain_options(opts: LossOptions) -> bool:
    """Whether the options leave the loss the mean nll of logits (see ``loss_stats``)."""
    return (
        opts.input_kind == "logits"
        and opts.task in ("auto", "multiclass")
        and opts.label_smoothing == 0
        and opts.weight is None
        and opts.pos_weight is None
        and opts.clip is None
        and not opts.renormalize
        and opts.nonfinite == "error"
        and opts.class_axis is None
        and opts.top_k is None
        and opts.bins is None
        and not (opts.extra or opts.per_class or opts.hist)
        and opts.ci is None
    )


def _plain_stats(logits: ArrayLike, labels: ArrayLike, opts: LossOptions) -> LossStats | None:
    """``loss_stats`` by the kernel's totals, or None when ``cross_entropy`` must do it
    (other shapes, ignored samples, an infinite loss, a sum beyond float64, an error to
    name the way ``cross_entropy`` names it)."""
    PROFILES[opts.compat].check({"ignore_index": opts.ignore_index is not None})
    raw = _real(logits, "logits")
    lab = _real(labels, "labels")
    index_labels = lab.ndim == 1 or (lab.ndim == 2 and lab.shape[1] == 1)
    if raw.ndim != 2 or raw.shape[0] == 0 or raw.shape[1] < 2 or not index_labels:
        return None
    n, c = raw.shape
    opts.check_n_classes(c)
    label = check_labels(lab, n, c, opts.ignore_index)
    ii = opts.ignore_index
    if ii is not None and bool((label == ii).any()):
        return None
    try:
        total, right = nll_totals(raw, label, opts.temperature, compute_dtype=opts.compute_dtype)
    except DataError:
        return None
    pair = total.pair()
    if pair is None:
        return None
    sum_nll = CompensatedSum(*pair)
    return LossStats(
        n_classes=c,
        options=opts,
        task="multiclass",
        n=n,
        n_correct=right,
        sum_loss=sum_nll,
        sum_weight=CompensatedSum(float(n)),
        sum_nll=sum_nll,
    )


def _replicates(
    loss_terms: NDArray[np.float64],
    denom_terms: NDArray[np.float64],
    terms: Terms,
    counted: NDArray[np.bool_],
    opts: LossOptions,
    start: int,
    kept: NDArray[np.intp] | None,
    n_all: int,
) -> ReplicateSums:
    """Poisson-bootstrap sums of the loss, the denominator, the hits and the count, then
    of the metrics' terms (:func:`~xentcli.core.metrics.metric_terms`), the calibration
    bins' sums grouped by bin.

    An infinite loss term would make ``0 * inf = NaN`` in the replicates that leave its
    sample out, so it enters as a count of its own: a replicate holding it has an
    infinite loss, one without it a finite one. The ``kept`` rows (when some were
    skipped) keep their place in the input, which is what their weights depend on.
    """
    assert opts.seed is not None
    lt = np.where(counted, loss_terms, 0.0)
    infinite = np.isposinf(lt)
    values = np.column_stack(
        [
            np.where(infinite, 0.0, lt),
            np.where(counted, denom_terms, 0.0),
            (terms.correct & counted).astype(np.float64),
            counted.astype(np.float64),
            infinite.astype(np.float64),
        ]
    )
    groups = None
    mt = terms.metric_terms
    if mt is not None:
        values = np.hstack([values, mt.columns])
        if mt.bin is not None and mt.bin_weights is not None and opts.bins is not None:
            groups = (mt.bin, opts.bins + 1, mt.bin_weights)
    if kept is not None:
        # Skipped rows keep their place (with zero weight), which their counts depend on.
        full = np.zeros((n_all, values.shape[1]))
        full[kept] = values
        values = full
        if groups is not None:
            index = np.zeros(n_all, dtype=np.intp)
            index[kept] = groups[0]
            weights = np.zeros((n_all, groups[2].shape[1]))
            weights[kept] = groups[2]
            groups = (index, groups[1], weights)
    return ReplicateSums.of(values, start, opts.seed, opts.bootstrap, groups=groups)


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
        nll=cat("nll"),
        loss=cat("loss"),
        ignored=cat("ignored"),
        probs=cat("probs"),
        skipped=cat("skipped"),
        stats=stats,
        position=cat("position"),
        notes=tuple(dict.fromkeys(n for r in results for n in r.notes)),
        rank=cat("rank"),
        margin=cat("margin"),
        entropy=cat("entropy"),
        nll_nats=cat("nll_nats"),
    )


def take_samples(result: LossResult, rows: NDArray[np.intp]) -> LossResult:
    """The samples ``rows`` of a result (in that order), its statistics unchanged.

    Examples
    --------
    >>> r = cross_entropy([[2.0, 0.0], [0.0, 0.0], [1.0, 3.0]], [0, 1, 0])
    >>> take_samples(r, np.argsort(-r.nll)).index.tolist()
    [2, 1, 0]
    """

    def pick(name: str) -> Any:
        a = getattr(result, name)
        return None if a is None else _readonly(np.asarray(a)[rows])

    return LossResult(
        index=pick("index"),
        label=pick("label"),
        pred=pick("pred"),
        nll=pick("nll"),
        loss=pick("loss"),
        ignored=pick("ignored"),
        probs=pick("probs"),
        skipped=result.skipped,
        stats=result.stats,
        position=pick("position"),
        notes=result.notes,
        rank=pick("rank"),
        margin=pick("margin"),
        entropy=pick("entropy"),
        nll_nats=pick("nll_nats"),
    )


def sorted_samples(
    results: Iterable[LossResult], key: str, desc: bool = False, head: int | None = None
) -> LossResult:
    """The samples of blocks of one input, ordered by the field ``key`` (``nll``,
    ``loss``, ``p_true``, ``index``): ascending unless ``desc``, NaN last, ties by index.
    With ``head``, each block keeps only its first ``head`` on the way (bounded memory).

    Examples
    --------
    >>> r = cross_entropy([[2.0, 0.0], [0.0, 0.0], [1.0, 3.0]], [0, 1, 0])
    >>> sorted_samples([r], "nll", desc=True, head=2).index.tolist()
    [2, 1]
    """
    kept = []
    for r in results:
        order = _order(r, key, desc)
        kept.append(take_samples(r, order if head is None else order[:head]))
    merged = concat_results(kept)
    order = _order(merged, key, desc)
    return take_samples(merged, order if head is None else order[:head])


def _order(r: LossResult, key: str, desc: bool) -> NDArray[np.intp]:
    values = np.asarray(getattr(r, key), dtype=np.float64)
    primary = np.where(np.isnan(values), np.inf, -values if desc else values)
    order: NDArray[np.intp] = np.lexsort((r.index, primary))
    return order
