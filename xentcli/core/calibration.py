"""Temperature scaling: the temperature that minimises the negative log-likelihood.

Guo et al. (2017), "On calibration of modern neural networks": divide every logit by one
number ``T`` fitted on held-out data. With ``beta = 1/T`` the mean NLL

    f(beta) = mean_i [ logsumexp(beta * x_i) - beta * x_i[y_i] ]

is convex (a log-sum-exp of linear functions of beta, minus a linear term), with

    f'(beta)  = mean_i [ E_p[x_i] - x_i[y_i] ]      (p = softmax(beta * x_i))
    f''(beta) = mean_i [ Var_p(x_i) ] >= 0,

so the optimum is where ``f'`` crosses zero, found here by Newton's method on ``beta``
inside a bracket that bisection shrinks whenever a Newton step would leave it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from xentcli.core.loss import LossResult, cross_entropy
from xentcli.core.options import LossOptions
from xentcli.core.validate import check_labels, check_log_probs, check_logits, check_probs
from xentcli.errors import DataError, UsageError

__all__ = [
    "Calibration",
    "CalibrationMetrics",
    "ReliabilityBin",
    "TemperatureFit",
    "calibrate",
    "fit_temperature",
]

InputKind = Literal["logits", "probs", "log-probs"]

#: Relative tolerance on T (and on beta = 1/T) at which the fit stops.
RTOL = 1e-12
#: The bracket never leaves [2**-BETA_RANGE, 2**BETA_RANGE] (T from 5e-20 to 2e19).
BETA_RANGE = 64
MAX_ITERATIONS = 300


@dataclass(frozen=True)
class TemperatureFit:
    """The fitted temperature.

    Attributes
    ----------
    temperature : float
        The ``T > 0`` minimising the mean NLL of ``softmax(x / T)``.
    iterations : int
        Evaluations of the derivatives (bracketing included).
    nll : float
        The mean NLL (nats) at ``temperature``.
    note : str or None
        Set when the data do not determine T (every row's scores equal: T = 1).
    """

    temperature: float
    iterations: int
    nll: float
    note: str | None = None


@dataclass(frozen=True)
class ReliabilityBin:
    """One confidence bin of a reliability diagram.

    ``lower <= confidence < upper`` (the last bin holds confidences of exactly 1, with
    ``lower == upper == 1``). ``confidence`` is the mean top-1 probability of the bin's
    samples, ``accuracy`` the share predicted correctly, ``gap = confidence - accuracy``
    (positive: over-confident); all three are NaN for an empty bin.
    """

    lower: float
    upper: float
    count: int
    confidence: float
    accuracy: float

    @property
    def gap(self) -> float:
        return self.confidence - self.accuracy


@dataclass(frozen=True)
class CalibrationMetrics:
    """Loss and calibration of the predictions at one temperature.

    The numbers are those of ``xent loss --temperature T --metrics --bins N`` on the
    same data: mean NLL (nats), accuracy, Brier score, and torchmetrics' ECE, MCE and
    RMSCE of the top-1 confidence.
    """

    temperature: float
    nll: float
    accuracy: float
    brier: float
    ece: float
    mce: float
    rmsce: float
    bins: tuple[ReliabilityBin, ...]

    def as_dict(self) -> dict[str, float]:
        """The scalar metrics, as the JSON ``before`` / ``after`` objects."""
        return {
            "temperature": self.temperature,
            "nll": self.nll,
            "accuracy": self.accuracy,
            "brier": self.brier,
            "ece": self.ece,
            "mce": self.mce,
            "rmsce": self.rmsce,
        }


@dataclass(frozen=True)
class Calibration:
    """Result of :func:`calibrate`: the temperature and the metrics before and after.

    Attributes
    ----------
    temperature : float
        The fitted temperature.
    iterations : int
        Derivative evaluations the fit took.
    n, ignored : int
        Samples read, and those left out by ``ignore_index`` (the fit uses the rest).
    n_classes : int
        Classes (2 for one column of binary scores).
    task : {"multiclass", "binary"}
        ``binary``: one column of scores, fitted as the two-class logits ``[0, z]``.
    n_bins : int
        Equal-width confidence bins of the metrics.
    before, after : CalibrationMetrics
        At ``T = 1`` and at the fitted temperature.
    notes : tuple of str
        What the user should know about the fit.
    """

    temperature: float
    iterations: int
    n: int
    ignored: int
    n_classes: int
    task: str
    n_bins: int
    before: CalibrationMetrics
    after: CalibrationMetrics
    notes: tuple[str, ...] = ()


#: Rows per chunk of the derivative sums: the (rows, C) temporaries stay in cache.
CHUNK_ELEMENTS = 1 << 16


class _Objective:
    """The mean NLL in ``beta`` and its first two derivatives, for scores shifted so each
    row's maximum is 0 (then ``exp(beta * s) <= 1`` for any ``beta > 0``: no overflow,
    and a ``-inf`` score is a probability of exactly 0)."""

    def __init__(self, s: NDArray[np.float64], sy: NDArray[np.float64]) -> None:
        self.s = s
        finite = np.isfinite(s)
        # 0 stands in for -inf where a product p * s would otherwise be 0 * -inf.
        self.s0 = s if finite.all() else np.where(finite, s, 0.0)
        self.sy = sy
        self.evaluations = 0
        self.rows = max(1, CHUNK_ELEMENTS // max(1, s.shape[1]))

    def derivatives(self, beta: float) -> tuple[float, float]:
        """``f'(beta)`` and ``f''(beta)``."""
        self.evaluations += 1
        n = self.s.shape[0]
        g = np.empty(n)
        h = np.empty(n)
        for i in range(0, n, self.rows):
            rows = slice(i, i + self.rows)
            p = np.multiply(self.s[rows], beta)
            np.exp(p, out=p)
            p /= p.sum(axis=1, keepdims=True)
            s0 = self.s0[rows]
            mean = np.einsum("ij,ij->i", p, s0)
            dev = s0 - mean[:, None]
            dev *= dev
            g[rows] = mean
            h[rows] = np.einsum("ij,ij->i", p, dev)
        return float(np.mean(g - self.sy)), float(np.mean(h))

    def value(self, beta: float) -> float:
        """``f(beta)``, the mean NLL in nats."""
        e = np.exp(beta * self.s)
        # The row maximum contributes exactly 1: log1p of the rest keeps tiny losses.
        rest = e.sum(axis=1) - 1.0
        return float(np.mean(np.log1p(rest) - beta * self.sy))


def _shifted_scores(
    scores: NDArray[np.float64], labels: NDArray[np.int64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Scores minus their row maximum, and each row's shifted true-class score."""
    m = np.max(scores, axis=1, keepdims=True)
    s = scores - m
    sy = s[np.arange(s.shape[0]), labels]
    return s, sy


def fit_temperature(scores: ArrayLike, labels: ArrayLike, *, rtol: float = RTOL) -> TemperatureFit:
    """The temperature ``T`` minimising the mean NLL of ``softmax(scores / T)``.

    Parameters
    ----------
    scores : array_like, shape (N, C)
        Logits, or log-probabilities (``-inf`` for an impossible class), finite row
        maxima. Only the samples to fit on: leave ignored ones out.
    labels : array_like of int, shape (N,)
        True classes, ``0..C-1``.
    rtol : float, default 1e-12
        Relative tolerance on ``T``.

    Returns
    -------
    TemperatureFit

    Raises
    ------
    DataError
        Invalid scores or labels (NaN, ``+inf``, a row of ``-inf``, a label out of
        range); no sample; a true class with a score of ``-inf`` (infinite NLL at every T); every
        sample's true class already has the top score (the NLL falls as ``T -> 0``: no
        finite optimum); or the scores rank the true class no better than chance on
        average (the NLL falls as ``T -> inf``).

    Examples
    --------
    >>> fit = fit_temperature([[2.0, 0.0], [0.0, 1.0], [1.0, 0.0]], [0, 0, 0])
    >>> round(fit.temperature, 6)
    1.322213
    """
    x = np.asarray(scores, dtype=np.float64)
    if x.ndim == 2 and x.shape[0] == 0:
        raise DataError("no samples to fit the temperature on (all are ignored?)")
    x = check_logits(x, noun="score")
    y = check_labels(labels, x.shape[0], x.shape[1])
    s, sy = _shifted_scores(x, y)
    dead = np.flatnonzero(np.isneginf(sy))
    if dead.size:
        raise DataError(
            "the true class has probability 0 (score -inf), so the NLL is infinite at "
            f"every temperature ({dead.size} such sample{'s' if dead.size > 1 else ''})",
            source="logits",
            sample=int(dead[0]),
            samples=dead.tolist(),
        )
    obj = _Objective(s, sy)
    finite_counts = np.isfinite(s).sum(axis=1)
    if not (obj.s0 != 0).any():
        # Every finite score of every row is its row's maximum: softmax(x / T) is the same
        # for every T, so the data say nothing about it.
        return TemperatureFit(
            1.0,
            0,
            obj.value(1.0),
            "every row's scores are equal, so every temperature gives the same NLL; T = 1",
        )
    if not (sy < 0).any():
        raise DataError(
            "every sample's true class already has the highest score, so the NLL keeps "
            "falling as T -> 0 and no finite temperature minimises it; fit on held-out "
            "data with some misclassified samples"
        )
    # f'(0+): p is uniform over each row's finite scores.
    g0 = float(np.mean(obj.s0.sum(axis=1) / finite_counts - sy))
    if g0 >= 0:
        raise DataError(
            "the scores rank the true class no better than chance on average, so the NLL "
            "keeps falling as T -> inf (uniform predictions) and no finite temperature "
            "minimises it; are the labels aligned with the scores?"
        )
    beta, iterations = _solve(obj, rtol)
    return TemperatureFit(1.0 / beta, iterations, obj.value(beta))


def _bracket(obj: _Objective) -> tuple[float, float, float, float, float]:
    """``lo < hi``, powers of 2 with ``f'(lo) < 0 <= f'(hi)``, and the end where ``|f'|``
    is smaller with ``f'`` and ``f''`` there: the start of the Newton iterations."""
    g1, h1 = obj.derivatives(1.0)
    if g1 < 0:
        ends = [(1.0, g1, h1), (2.0, *obj.derivatives(2.0))]
        while ends[1][1] < 0 and ends[1][0] < 2.0**BETA_RANGE:
            b = 2.0 * ends[1][0]
            ends = [ends[1], (b, *obj.derivatives(b))]
        found = ends[1][1] >= 0
    else:
        ends = [(0.5, *obj.derivatives(0.5)), (1.0, g1, h1)]
        while ends[0][1] >= 0 and ends[0][0] > 2.0**-BETA_RANGE:
            b = ends[0][0] / 2.0
            ends = [(b, *obj.derivatives(b)), ends[0]]
        found = ends[0][1] < 0
    if not found:
        # T = 1/beta outside [2**-64, 2**64]: the scores all but separate the classes, or
        # all but ignore them.
        where = f"below {2.0**-BETA_RANGE:.3g}" if g1 < 0 else f"above {2.0**BETA_RANGE:.3g}"
        raise DataError(
            f"the best temperature lies {where}, beyond what temperature scaling can use: "
            "the scores all but " + ("separate the classes" if g1 < 0 else "ignore the labels")
        )
    (lo, g_lo, h_lo), (hi, g_hi, h_hi) = ends
    start = (lo, g_lo, h_lo) if abs(g_lo) < abs(g_hi) else (hi, g_hi, h_hi)
    return (lo, hi, *start)


def _solve(obj: _Objective, rtol: float) -> tuple[float, int]:
    """The root of ``f'`` (in beta): safeguarded Newton inside a shrinking bracket."""
    lo, hi, beta, g, h = _bracket(obj)
    for _ in range(MAX_ITERATIONS):
        if g == 0:
            break
        if g < 0:
            lo = beta
        else:
            hi = beta
        step = -g / h if h > 0 else math.inf
        if abs(step) <= rtol * beta:
            # Newton converges quadratically: a step this small leaves an error far
            # smaller still (and may be below the spacing of doubles near beta).
            beta += step
            break
        new = beta + step
        if not lo < new < hi:
            new = math.sqrt(lo * hi)  # geometric bisection: T spans orders of magnitude
        beta = new
        if hi - lo <= rtol * lo:
            break
        g, h = obj.derivatives(beta)
    return beta, obj.evaluations


def _binary_columns(raw: NDArray[Any], kind: InputKind) -> tuple[NDArray[np.float64], InputKind]:
    """One column of scores as two-class scores, and the input kind to read them as:
    logits ``[0, z]``; probabilities and log-probabilities as ``[log(1-p), log p]``."""
    if kind == "logits":
        z = np.asarray(raw, dtype=np.float64).reshape(-1)
        return np.stack([np.zeros_like(z), z], axis=1), "logits"
    if kind == "probs":
        p, _ = check_probs(raw, rows="none")
        p = p.reshape(-1)
        with np.errstate(divide="ignore"):
            return np.stack([np.log1p(-p), np.log(p)], axis=1), "log-probs"
    lp = check_log_probs(raw, rows="none").reshape(-1)
    with np.errstate(divide="ignore"):
        return np.stack([np.log(-np.expm1(lp)), lp], axis=1), "log-probs"


def _metrics(result: LossResult, temperature: float) -> CalibrationMetrics:
    summary = result.summary
    stats = result.stats.metrics
    assert stats is not None
    assert stats.bins is not None
    k = stats.bins
    bins = []
    for i, (count, conf, correct) in enumerate(
        zip(stats.bin_count, stats.bin_confidence, stats.bin_correct, strict=True)
    ):
        lower, upper = (i / k, (i + 1) / k) if i < k else (1.0, 1.0)
        mean_conf = conf / count if count else math.nan
        accuracy = correct / count if count else math.nan
        bins.append(ReliabilityBin(lower, upper, int(count), mean_conf, accuracy))
    extra = summary.extra
    return CalibrationMetrics(
        temperature=temperature,
        nll=summary.loss,
        accuracy=summary.accuracy,
        brier=extra["brier"],
        ece=extra["ece"],
        mce=extra["mce"],
        rmsce=extra["rmsce"],
        bins=tuple(bins),
    )


def calibrate(
    scores: ArrayLike,
    labels: ArrayLike,
    *,
    input_kind: InputKind = "logits",
    ignore_index: int | None = None,
    bins: int = 15,
) -> Calibration:
    """Fit the temperature of temperature scaling, and compare calibration before/after.

    Parameters
    ----------
    scores : array_like, shape (N, C), or (N,) / (N, 1) for a binary problem
        Logits, probabilities or log-probabilities (``input_kind``). Probabilities are
        scaled through their logs: ``p ** (1/T)``, renormalised. One column is the score
        of the positive class, fitted as the two-class logits ``[0, z]`` (the same
        ``sigmoid(z / T)`` as ``xent loss --binary --temperature T``).
    labels : array_like of int, shape (N,)
        True classes ``0..C-1`` (or ``ignore_index``).
    input_kind : {"logits", "probs", "log-probs"}
    ignore_index : int, optional
        Samples with this label are left out of the fit and of the metrics.
    bins : int, default 15
        Equal-width confidence bins for the ECE and the reliability table.

    Returns
    -------
    Calibration

    Raises
    ------
    DataError
        Invalid scores or labels (as :func:`~xentcli.core.cross_entropy` reports them), or
        data that determine no finite temperature (see :func:`fit_temperature`).
    UsageError
        Soft targets instead of class indices.

    Examples
    --------
    >>> c = calibrate([[3.0, 0.0], [0.0, 2.0], [2.0, 0.0], [0.0, 1.0]], [0, 1, 1, 0], bins=5)
    >>> round(c.temperature, 4), c.after.nll < c.before.nll
    (4.3809, True)
    """
    raw = np.asarray(scores)
    lab = np.asarray(labels)
    task = "multiclass"
    kind: InputKind = input_kind
    if raw.ndim == 1 or (raw.ndim == 2 and raw.shape[1] == 1):
        task = "binary"
        raw, kind = _binary_columns(raw, input_kind)
    if lab.ndim == 2 and lab.shape[1] > 1:
        raise UsageError(
            "temperature scaling needs one class index per sample, not soft targets or "
            "multi-label rows"
        )

    def at(t: float) -> LossResult:
        opts = LossOptions(
            input_kind=kind,
            temperature=t,
            ignore_index=ignore_index,
            task="multiclass",
            bins=bins,
        )
        return cross_entropy(raw, lab, opts)

    before = at(1.0)  # also validates the scores and labels, naming the first bad row
    counted = ~before.ignored
    x = np.asarray(raw, dtype=np.float64)
    if kind == "probs":
        with np.errstate(divide="ignore"):
            x = np.log(x)
    try:
        fit = fit_temperature(x[counted], before.label[counted])
    except DataError as exc:
        if exc.samples is not None:
            # Rows of the counted samples back to rows of the input.
            rows = np.flatnonzero(counted)
            exc.samples = [int(rows[i]) for i in exc.samples]
            exc.sample = exc.samples[0]
        raise
    after = at(fit.temperature)
    return Calibration(
        temperature=fit.temperature,
        iterations=fit.iterations,
        n=before.n,
        ignored=int(before.ignored.sum()),
        n_classes=before.n_classes,
        task=task,
        n_bins=bins,
        before=_metrics(before, 1.0),
        after=_metrics(after, fit.temperature),
        notes=(fit.note,) if fit.note else (),
    )
