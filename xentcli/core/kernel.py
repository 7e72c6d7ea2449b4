"""The hot loop: per-sample negative log-likelihood of logits, in cache-sized chunks.

For the plain case (logits, class-index labels, no smoothing, no probability vectors
wanted) nothing but ``nll`` and the predicted class is needed, so no (N, C) temporary is
ever made. Each chunk of rows (1 MiB of work dtype in rows, 2 MiB transposed; it stays
in the L3 cache while it is read a dozen times) is exponentiated and summed in a
per-thread buffer; chunks are shared between two threads (NumPy releases the GIL inside
every ufunc loop, and takes it back between calls: bigger chunks mean fewer handovers,
which measured faster here than chunks that fit the 512 KiB L2 of a core).

Arithmetic
----------
``nll = log1p(sum(exp(x - m)) without the max term) - (x_y - m)``, never
``logsumexp(x) - x_y``: the difference cancels when the logits are large (1e4 in float32
loses 1e-4 relative), the shifted form does not. Leaving the max term (exactly
``exp(0) = 1``) out of the sum and taking ``log1p`` keeps the digits of a tiny loss (a
confident, correct row has ``nll ~ 1e-8``, below float32's epsilon relative to 1).

float16 and float32 logits are computed in float32, as PyTorch does (float16 is upcast
per chunk: float16 arithmetic overflows at C ~ 1e5). Each ``nll`` is within a few
float32 ulps of the exact value for the float32 inputs: rows are not shifted at all
when their maximum allows it (see ``_Chunker._shift``), the true-class term ``x_y - m``
and the final ``log1p`` are computed in float64, and the result is float64, so that sums
over samples are exact in float64. With a temperature (``x / T`` rounds), with
``compute_dtype="float64"`` and for every other dtype, the chunk is computed in float64
(2-4x slower: NumPy's float64 ``exp`` is scalar on CPUs without AVX-512).

Layouts
-------
With many classes a chunk is kept row-major and reduced along rows. With few classes a
row is too short for NumPy's row-wise reductions (each row is one inner loop of C
elements: the max over 10 columns runs ~25x slower than over a long axis), so the chunk
is transposed into a (C, rows) buffer and every reduction runs over the long axis, with
SIMD. There the first argmax is found without ``argmax`` (which would transpose back):
``C - max_j((x_j == m) * (C - j))`` over uint8.

Validation comes free: a row whose maximum is not finite holds a NaN or ``+inf``, or is
all ``-inf``, and then the least or the greatest row maximum of the chunk is not finite
(``_Chunker._bounds``, which ``_shift`` needs anyway); only then is the chunk checked
in detail, to name the row and the problem.
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Callable
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from xentcli.core.sums import ExactSum
from xentcli.core.validate import check_logits
from xentcli.errors import DataError

__all__ = ["ComputeDtype", "logits_nll", "nll_totals"]

#: ``"auto"``: float16/float32 logits computed in float32, others in float64.
#: ``"float64"``: everything computed in float64 (the exactness escape hatch).
ComputeDtype = Literal["auto", "float64"]

#: Classes up to which a chunk is transposed (measured: row-major wins from C ~ 24;
#: the uint8 argmax keys of the transposed layout need C <= 255).
TRANSPOSE_MAX_CLASSES = 20
#: Bytes of the working buffer of one chunk, by layout. The transposed layout does ~25
#: NumPy calls per chunk, each a release and a re-acquisition of the GIL that the other
#: thread may be waiting for (on a VM, waking it costs tens of microseconds): chunks of
#: 2 MiB (32 k rows at C = 10) halve the two-thread time of 1e6 x 10 against 320 KiB.
CHUNK_BYTES_TRANSPOSED = 2 << 20
CHUNK_BYTES_ROWS = 1 << 20
#: Rows per chunk at most.
MAX_ROWS = 32768
#: The least float32 row maximum that is not shifted before ``exp`` (see ``_shift``).
NO_SHIFT_MIN = np.float32(-16.0)
#: Rows of nll a thread of ``nll_totals`` gathers before summing them.
STAGE_ROWS = 32768
#: Below this many logits one thread is faster than two.
PARALLEL_ELEMENTS = 1 << 18


def _threads() -> int:
    try:
        return max(1, min(2, len(os.sched_getaffinity(0))))
    except (AttributeError, OSError):
        return max(1, min(2, os.cpu_count() or 1))


def work_dtype(
    dtype: np.dtype[Any], compute_dtype: ComputeDtype = "auto", temperature: float = 1.0
) -> np.dtype[Any]:
    """The dtype a chunk of ``dtype`` logits is computed in.

    float16/float32 in float32, unless asked otherwise or with a temperature: ``x / T``
    rounds in float32, and ``exp`` turns that into an error of ``|x / T|`` ulps in a
    term, far more than the few ulps promised; float64 then.
    """
    exact_shift = temperature == 1
    if compute_dtype not in ("auto", "float64"):
        raise ValueError(f"compute_dtype must be 'auto' or 'float64', not {compute_dtype!r}")
    if compute_dtype == "auto" and dtype.kind == "f" and dtype.itemsize <= 4 and exact_shift:
        return np.dtype(np.float32)
    return np.dtype(np.float64)


def _log1p(rest: NDArray[Any], work: np.dtype[Any], out: NDArray[np.float64], b: _Rows) -> None:
    """``out = log1p(rest)`` in float64, to within a few ``work`` ulps.

    For float32 work NumPy's float64 ``log1p`` (scalar, ~15 ns a value) would cost more
    than the chunk pass at C = 10, so use Goldberg's ``log1p(r) = log(u) * r / (u - 1)``
    with ``u = fl32(1 + r)`` and float32's SIMD ``log``: ``u - 1`` is exact in float64,
    and ``u == 1`` means ``log1p(r) = r`` to float32 precision. Every step writes into
    the thread's row buffers ``b``: no allocation.
    """
    n = rest.shape[0]
    r = b.f64a[:n]
    np.copyto(r, rest)
    if work != np.float32:
        np.log1p(r, out=out)
        return
    u, w, small = b.f32[:n], b.f64b[:n], b.flag[:n]
    np.add(r, 1.0, out=w)
    np.copyto(u, w, casting="same_kind")  # rounded to float32
    np.subtract(u, 1.0, out=w, dtype=np.float64)
    np.equal(w, 0.0, out=small)
    np.copyto(w, 1.0, where=small)
    np.log(u, out=u)
    np.multiply(u, r, out=out, dtype=np.float64)
    np.divide(out, w, out=out)
    np.copyto(out, r, where=small)


class _Rows:
    """One thread's buffers of one value per row of a chunk (reused: a fresh array of
    256 KiB is page-faulted in afresh at every chunk)."""

    def __init__(self, rows: int, work: np.dtype[Any], totals: bool) -> None:
        self.ar = np.arange(rows, dtype=np.intp)
        self.idx = np.empty(rows, np.intp)
        self.m = np.empty(rows, work)
        self.xt = np.empty(rows, work)
        self.rest = np.empty(rows, work)
        self.scale = np.empty(rows, work)
        self.f32 = np.empty(rows, np.float32)
        self.f64a = np.empty(rows, np.float64)
        self.f64b = np.empty(rows, np.float64)
        self.f64c = np.empty(rows, np.float64)
        self.flag = np.empty(rows, np.bool_)
        self.key = np.empty(rows, np.uint8)
        if totals:
            # The chunks' nll, staged until STAGE_ROWS of them are summed in one go (small
            # chunks would each pay the sum's dozen NumPy calls), and predictions.
            self.stage = np.empty(max(rows, STAGE_ROWS), np.float64)
            self.staged = 0
            self.pred = np.empty(rows, np.int64)
            self.sum = ExactSum(self.stage.shape[0])
            self.correct = 0

    def stage_rows(self, n: int) -> NDArray[np.float64]:
        """Room for the next ``n`` rows' nll in the stage (summing it first if full)."""
        if self.staged + n > self.stage.shape[0]:
            self.flush()
        a = self.staged
        self.staged += n
        return self.stage[a : a + n]

    def flush(self) -> None:
        """Add the staged nll to the sum."""
        self.sum.add(self.stage[: self.staged])
        self.staged = 0


class _Chunker:
    """Per-thread buffers and the two chunk layouts, for one call."""

    def __init__(
        self,
        logits: NDArray[Any],
        labels: NDArray[np.int64],
        temperature: float,
        work: np.dtype[Any],
        rows: int,
        totals: bool = False,
    ) -> None:
        self.logits, self.labels, self.temperature = logits, labels, temperature
        self.work, self.rows, self.totals = work, rows, totals
        #: Every thread's row buffers (their sums, with ``totals``).
        self.used: list[_Rows] = []
        self.c = logits.shape[1]
        self.transposed = self.c <= TRANSPOSE_MAX_CLASSES
        # exp(x) of a row maximum up to this cannot overflow float32 in a sum of C terms.
        self.no_shift_max = np.float32(87.0 - np.log(self.c))
        self.local = threading.local()

    def _buffers(self) -> dict[str, Any]:
        buf: dict[str, Any] | None = getattr(self.local, "buf", None)
        if buf is None:
            c, r = self.c, self.rows
            rows = _Rows(r, self.work, self.totals)
            self.used.append(rows)
            buf = {"x": np.empty(r * c, self.work), "rows": rows}
            if self.transposed:
                buf["eq"] = np.empty(r * c, np.bool_)
                buf["key"] = np.empty(r * c, np.uint8)
                buf["weights"] = np.arange(c, 0, -1, dtype=np.uint8)[:, None]
            self.local.buf = buf
        return buf

    def __call__(
        self, a: int, b: int, nll: NDArray[np.float64] | None, pred: NDArray[np.int64] | None
    ) -> None:
        """Rows ``a:b`` into ``nll`` and ``pred`` or, when they are None, into the
        thread's sum of the nll and count of right predictions."""
        z = self.logits[a:b]
        n = b - a
        buf = self._buffers()
        rb: _Rows = buf["rows"]
        top = rb.pred[:n] if pred is None else pred[a:b]
        with np.errstate(over="ignore"):  # x / T overflowing to -inf: a probability of 0
            if self.transposed:
                m, xt, rest = self._columns(z, self.labels[a:b], a, top, buf)
            else:
                m, xt, rest = self._rows(z, self.labels[a:b], a, top, buf)
            # x_y - m is exact in float64 for float32 inputs.
            shifted_true = rb.f64c[:n]
            np.subtract(xt, m, out=shifted_true, dtype=np.float64)
            if self.temperature != 1:
                shifted_true /= self.temperature
        out = rb.stage_rows(n) if nll is None else nll[a:b]
        _log1p(rest, self.work, out, rb)
        out -= shifted_true
        if nll is None:
            hit = rb.flag[:n]
            np.equal(top, self.labels[a:b], out=hit)
            rb.correct += int(np.count_nonzero(hit))

    def _rows(
        self,
        z: NDArray[Any],
        y: NDArray[np.int64],
        a: int,
        top: NDArray[np.int64],
        buf: dict[str, Any],
    ) -> tuple[NDArray[Any], NDArray[Any], NDArray[Any]]:
        r, c = z.shape
        rb: _Rows = buf["rows"]
        x = buf["x"][: r * c].reshape(r, c)
        src = z if z.dtype == self.work and z.flags.c_contiguous else x
        if src is x:
            np.copyto(x, z, casting="unsafe")
        ar, idx = rb.ar[:r], rb.idx[:r]
        src.argmax(axis=1, out=top)
        base = ar * c
        m, xt = rb.m[:r], rb.xt[:r]
        np.add(base, top, out=idx)
        src.reshape(-1).take(idx, out=m)
        lo, hi = self._bounds(m, a)
        np.add(base, y, out=idx)
        src.reshape(-1).take(idx, out=xt)
        shift, scale = self._shift(m, lo, hi, rb)
        if shift is not None:
            np.subtract(src, shift[:, None], out=x)
            src = x
        np.add(base, top, out=idx)
        rest = self._exp_sum(src, x, idx, scale, axis=1, out=rb.rest[:r], rb=rb)
        return m, xt, rest

    def _columns(
        self,
        z: NDArray[Any],
        y: NDArray[np.int64],
        a: int,
        top: NDArray[np.int64],
        buf: dict[str, Any],
    ) -> tuple[NDArray[Any], NDArray[Any], NDArray[Any]]:
        r, c = z.shape
        rb: _Rows = buf["rows"]
        t = buf["x"][: r * c].reshape(c, r)
        np.copyto(t, z.T, casting="unsafe")
        m = rb.m[:r]
        t.max(axis=0, out=m)
        lo, hi = self._bounds(m, a)
        # The first argmax: the largest key (C - j) among the entries equal to the max.
        eq = buf["eq"][: r * c].reshape(c, r)
        key = buf["key"][: r * c].reshape(c, r)
        np.equal(t, m, out=eq)
        np.multiply(eq.view(np.uint8), buf["weights"], out=key)  # no bool -> uint8 cast
        kmax = rb.key[:r]
        key.max(axis=0, out=kmax)
        np.subtract(c, kmax, out=top, dtype=np.int64)
        ar, idx, xt = rb.ar[:r], rb.idx[:r], rb.xt[:r]
        np.multiply(y, r, out=idx)
        idx += ar
        t.reshape(-1).take(idx, out=xt)
        shift, scale = self._shift(m, lo, hi, rb)
        if shift is not None:
            t -= shift
        np.multiply(top, r, out=idx)
        idx += ar
        rest = self._exp_sum(t, t, idx, scale, axis=0, out=rb.rest[:r], rb=rb)
        return m, xt, rest

    def _bounds(self, m: NDArray[Any], a: int) -> tuple[float, float]:
        """The least and the greatest maximum of the chunk's rows (from row ``a``), which
        ``_shift`` reads; raises the DataError naming the first bad row when one is not
        finite, which happens exactly when a row maximum is not (``min`` and ``max``
        propagate a NaN; a row of ``-inf`` or with a ``+inf`` gives an infinite one)."""
        lo, hi = float(m.min()), float(m.max())
        if not (math.isfinite(lo) and math.isfinite(hi)):
            _explain(self.logits, a, a + m.shape[0])
        return lo, hi

    def _shift(
        self, m: NDArray[Any], lo: float, hi: float, rb: _Rows
    ) -> tuple[NDArray[Any] | None, NDArray[Any] | None]:
        """What to subtract from each row before ``exp`` (None: nothing), and the factor
        ``exp(shift - m)`` that turns the sum into one relative to the row maximum.

        Subtracting the maximum rounds ``x - m`` in float32 whenever ``|x - m| > |x|``,
        and ``exp`` turns that absolute rounding into a relative error of ``|x - m|``
        ulps in a term: up to ~18 ulps in the loss of a confident row (nll ~ 1e-8). So a
        float32 row whose maximum lies in ``[-16, 87 - log C]`` (nearly every row of a
        real classifier) is not shifted at all, and its sum is scaled by ``exp(-m)``
        instead: no rounding before ``exp``. ``exp(x)`` cannot overflow there, and
        underflows (to subnormals) only in terms that matter to a loss below ~1e-31.
        Larger logits are shifted by the maximum, where ``x - m`` is exact (Sterbenz) for
        every ``x`` near enough to matter once ``m > 206``. float64 work (which includes
        every call with a temperature) is always shifted, as it always was.
        """
        if self.temperature != 1 or self.work != np.float32:
            return m, None
        scale = rb.scale[: m.shape[0]]
        if lo >= NO_SHIFT_MIN and hi <= self.no_shift_max:
            np.negative(m, out=scale)
            np.exp(scale, out=scale)
            return None, scale
        keep = (m >= NO_SHIFT_MIN) & (m <= self.no_shift_max)
        shift = np.where(keep, np.float32(0), m)
        np.subtract(shift, m, out=scale)
        np.exp(scale, out=scale)
        return shift, scale

    def _exp_sum(
        self,
        src: NDArray[Any],
        x: NDArray[Any],
        top: NDArray[np.intp],
        scale: NDArray[Any] | None,
        axis: int,
        out: NDArray[Any],
        rb: _Rows,
    ) -> NDArray[Any]:
        """``sum(exp(src / T))`` along ``axis`` without the max term (flat index ``top``),
        times ``scale`` (then in float64); ``x`` (which may be ``src``) is the work
        buffer, ``out`` the sum's."""
        if self.temperature != 1:
            np.divide(src, self.temperature, out=x)
            src = x
        np.exp(src, out=x)
        x.reshape(-1)[top] = 0
        if axis == 1:
            x.sum(axis=1, out=out)
        elif x.shape[1] > 1:
            # Row by row, in order (one pass, ~3x faster than a call per row): with two or
            # more columns the reduction's inner loop runs along the rows.
            np.add.reduce(x, axis=0, out=out)
        else:
            # One column: the reduction runs down it, pairwise from 8 terms on, which would
            # round differently from the same row summed inside a bigger chunk.
            np.copyto(out, x[0])
            for row in x[1:]:
                out += row
        if scale is None:
            return out
        scaled = rb.f64b[: out.shape[0]]
        np.multiply(out, scale, out=scaled, dtype=np.float64)  # exact: 24 x 24 bits
        return scaled


def _explain(logits: NDArray[Any], a: int, b: int) -> None:
    """Raise the DataError that names the first bad row of ``logits[a:b]``."""
    try:
        check_logits(logits[a:b])
    except DataError as exc:
        if exc.sample is not None:
            exc.sample += a
            exc.samples = [s + a for s in exc.samples or [exc.sample - a]]
        raise
    raise AssertionError("a non-finite row maximum that check_logits accepts")  # pragma: no cover


def _run(bounds: list[tuple[int, int]], work: Callable[[int, int], None], threads: int) -> None:
    """``work(a, b)`` for every bound, on ``threads`` threads; the error of the first
    failing chunk (in input order) is raised, as a sequential loop would."""
    if threads <= 1 or len(bounds) <= 1:
        for a, b in bounds:
            work(a, b)
        return
    lock = threading.Lock()
    state = {"next": 0, "failed": len(bounds)}
    errors: dict[int, BaseException] = {}

    def worker() -> None:
        while True:
            with lock:
                i = state["next"]
                state["next"] += 1
                if i >= state["failed"]:
                    return
            try:
                work(*bounds[i])
            except BaseException as exc:  # re-raised below, in input order
                with lock:
                    errors[i] = exc
                    state["failed"] = min(state["failed"], i)
                return

    helpers = [threading.Thread(target=worker, daemon=True) for _ in range(threads - 1)]
    for h in helpers:
        h.start()
    worker()
    for h in helpers:
        h.join()
    if errors:
        raise errors[min(errors)]


def logits_nll(
    logits: NDArray[Any],
    labels: NDArray[np.int64],
    temperature: float = 1.0,
    *,
    compute_dtype: ComputeDtype = "auto",
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """``-log softmax(logits / temperature)[label]`` per row, and the first argmax.

    Parameters
    ----------
    logits : ndarray, shape (N, C), any real dtype
        ``-inf`` is allowed (a class of probability 0), not in every entry of a row.
    labels : ndarray of int64, shape (N,)
        Class indices in ``0..C-1`` (already validated).
    temperature : float, default 1.0
    compute_dtype : {"auto", "float64"}, default "auto"
        ``"auto"`` computes float16 and float32 logits in float32 (each ``nll`` within
        a few float32 ulps of the exact value), anything else in float64;
        ``"float64"`` computes everything in float64.

    Returns
    -------
    nll : ndarray of float64, shape (N,)
    pred : ndarray of int64, shape (N,)

    Raises
    ------
    DataError
        A NaN or ``+inf`` logit, or a row of ``-inf``, naming the first such row.

    Examples
    --------
    >>> x = np.array([[1000.0, 1.0]], dtype=np.float32)  # naive log(softmax) gives -inf
    >>> nll, pred = logits_nll(x, np.array([1]))
    >>> float(nll[0]), int(pred[0])
    (999.0, 0)
    """
    n = logits.shape[0]
    work = work_dtype(logits.dtype, compute_dtype, temperature)  # raises even if n = 0
    nll = np.empty(n, dtype=np.float64)
    pred = np.empty(n, dtype=np.int64)
    if n:
        chunker, bounds, threads = _plan(logits, labels, temperature, work, False)
        _run(bounds, lambda a, b: chunker(a, b, nll, pred), threads)
    return nll, pred


def nll_totals(
    logits: NDArray[Any],
    labels: NDArray[np.int64],
    temperature: float = 1.0,
    *,
    compute_dtype: ComputeDtype = "auto",
) -> tuple[ExactSum, int]:
    """The exact sum of :func:`logits_nll`'s ``nll`` and the number of rows whose first
    argmax is the label, without any N-long array (for ``reduction="mean"``): each
    thread counts its chunks' right predictions and gathers their nll in a buffer of
    ``STAGE_ROWS``, which it sums exactly (:class:`~xentcli.core.sums.ExactSum`, whose
    passes release the GIL) whenever it is full.

    The sum is that of the same float64 values ``logits_nll`` returns, so it does not
    depend on the chunks or threads; it is not finite (``ExactSum.finite`` is False)
    when a true class has probability 0. Parameters and errors as :func:`logits_nll`.

    Examples
    --------
    >>> total, right = nll_totals(np.array([[2.0, 0.0], [0.0, 0.0]]), np.array([0, 1]))
    >>> round(total.pair()[0], 6), right  # 0.126928 + 0.693147; row 2's argmax is 0
    (0.820075, 1)
    """
    n = logits.shape[0]
    work = work_dtype(logits.dtype, compute_dtype, temperature)
    total, right = ExactSum(1), 0
    if n:
        chunker, bounds, threads = _plan(logits, labels, temperature, work, True)
        _run(bounds, lambda a, b: chunker(a, b, None, None), threads)
        for rows in chunker.used:
            rows.flush()
            total.merge(rows.sum)
            right += rows.correct
    return total, right


def _plan(
    logits: NDArray[Any],
    labels: NDArray[np.int64],
    temperature: float,
    work: np.dtype[Any],
    totals: bool,
) -> tuple[_Chunker, list[tuple[int, int]], int]:
    """The chunker of one call (computing in ``work``), its chunks' bounds and the
    number of threads."""
    n, c = logits.shape
    chunk_bytes = CHUNK_BYTES_TRANSPOSED if c <= TRANSPOSE_MAX_CLASSES else CHUNK_BYTES_ROWS
    step = max(1, min(n, MAX_ROWS, chunk_bytes // (work.itemsize * c)))
    threads = _threads() if n * c >= PARALLEL_ELEMENTS else 1
    if threads > 1:
        # At least two chunks per thread, so that neither waits long for the other.
        step = max(1, min(step, -(-n // (2 * threads))))
    chunker = _Chunker(logits, labels, temperature, work, step, totals)
    bounds = [(a, min(n, a + step)) for a in range(0, n, step)]
    return chunker, bounds, threads
