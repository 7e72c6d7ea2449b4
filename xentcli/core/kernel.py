"""The hot loop: per-sample negative log-likelihood of logits, in cache-sized chunks.

For the plain case (logits, class-index labels, no smoothing, no probability vectors
wanted) nothing but ``nll`` and the predicted class is needed, so no (N, C) temporary is
ever made. Each chunk of rows (1 MiB of work dtype in rows, 2 MiB transposed; it stays
in the L3 cache while it is read a dozen times) is exponentiated and summed in a
per-thread buffer, which leaves one value per row; the per-row rest runs once per batch
of chunks. Batches are shared between two threads (NumPy releases the GIL inside every
ufunc loop, and takes it back between calls: bigger chunks and batches mean fewer
handovers, which measured faster here than chunks that fit the 512 KiB L2 of a core).
The buffers (~9 MiB a thread at 1e6 x 10 float32) are kept for the next call (``_pool``).

Arithmetic
----------
``nll = log1p(sum(exp(x - m)) without the max term) - (x_y - m)``, never
``logsumexp(x) - x_y``: the difference cancels when the logits are large (1e4 in float32
loses 1e-4 relative), the shifted form does not. Leaving the max term (exactly
``exp(0) = 1``) out of the sum and taking ``log1p`` keeps the digits of a tiny loss (a
confident, correct row has ``nll ~ 1e-8``, below float32's epsilon relative to 1).

float16 and float32 logits are computed in float32, as PyTorch does (float16 is upcast
per chunk: float16 arithmetic overflows at C ~ 1e5). Each ``nll`` is within a few
float32 ulps of the exact value for the float32 inputs (float64: a few float64 ulps):
rows are not shifted at all when their maximum allows it (see ``_Chunker._shift``), the
true-class term ``x_y - m`` and the final ``log1p`` are computed in float64, and the
result is float64, so that sums over samples are exact in float64. With a temperature
(``x / T`` rounds), with ``compute_dtype="float64"`` and for every other dtype, the
chunk is computed in float64 (2-4x slower: NumPy's float64 ``exp`` is scalar on CPUs
without AVX-512).

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
(which ``_Chunker._shift`` needs anyway); only then is the chunk checked
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
#: Rows of a batch (a thread's unit of work: its chunks, then their per-row finishing
#: in one go; see ``_Chunker``) at most.
BATCH_ROWS = 1 << 17
#: The least row maximum that is not shifted before ``exp`` (see ``_shift``).
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


def _log1p(
    r: NDArray[np.float64], work: np.dtype[Any], out: NDArray[np.float64], b: _Buffers
) -> None:
    """``out = log1p(r)`` (both float64), to within a few ``work`` ulps.

    For float32 work NumPy's float64 ``log1p`` (scalar, ~15 ns a value) would cost more
    than the chunk pass at C = 10, so use Goldberg's ``log1p(r) = log(u) * r / (u - 1)``
    with ``u = fl32(1 + r)`` and float32's SIMD ``log``: ``u - 1`` is exact in float64,
    and ``u == 1`` means ``log1p(r) = r`` to float32 precision. Every step writes into
    the thread's row buffers ``b``: no allocation.
    """
    n = r.shape[0]
    if work != np.float32:
        np.log1p(r, out=out)
        return
    u, w, small = b.scale[:n], b.f64b[:n], b.flag[:n]
    np.add(r, 1.0, out=w)
    np.copyto(u, w, casting="same_kind")  # rounded to float32
    np.subtract(u, 1.0, out=w, dtype=np.float64)
    np.equal(w, 0.0, out=small)
    np.copyto(w, 1.0, where=small)
    np.log(u, out=u)
    np.multiply(u, r, out=out, dtype=np.float64)
    np.divide(out, w, out=out)
    np.copyto(out, r, where=small)


class _Buffers:
    """One thread's work buffers: a chunk's (``chunk`` rows of ``c`` entries, and one
    value per row) and a batch's (one value per row, ``batch`` rows), in ``work``."""

    def __init__(self, c: int, chunk: int, batch: int, work: np.dtype[Any]) -> None:
        self.c, self.chunk, self.batch, self.work = c, chunk, batch, work
        self.x = np.empty(chunk * c, work)
        if c <= TRANSPOSE_MAX_CLASSES:
            self.eq = np.empty(chunk * c, np.bool_)
            self.keys = np.empty(chunk * c, np.uint8)
            self.weights = np.arange(c, 0, -1, dtype=np.uint8)[:, None]
        self.ar = np.arange(chunk, dtype=np.intp)
        self.base = self.ar * c  # the flat index of every row's first entry (row layout)
        self.idx = np.empty(chunk, np.intp)
        self.key = np.empty(chunk, np.uint8)
        self.m = np.empty(batch, work)
        self.xt = np.empty(batch, work)
        self.rest = np.empty(batch, work)
        self.scale = np.empty(batch, work)
        self.f64a = np.empty(batch, np.float64)
        self.f64b = np.empty(batch, np.float64)
        self.f64c = np.empty(batch, np.float64)
        self.flag = np.empty(batch, np.bool_)
        # For nll_totals (a call of logits_nll never touches their pages): the batches'
        # nll, staged until STAGE_ROWS of them are summed in one go (small batches would
        # each pay the sum's dozen NumPy calls), and predictions.
        self.stage = np.empty(max(batch, STAGE_ROWS), np.float64)
        self.pred = np.empty(batch, np.int64)
        self.sum = ExactSum(self.stage.shape[0])
        self.clear()

    def fits(self, c: int, chunk: int, batch: int, work: np.dtype[Any]) -> bool:
        """Whether these buffers serve a call of this shape."""
        same = self.c == c and self.work == work
        return same and self.chunk >= chunk and self.batch >= batch

    def clear(self) -> None:
        """Forget the sum and count of a previous call."""
        self.staged = 0
        self.correct = 0
        self.sum.clear()

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


#: Buffers of finished calls, the most recent first, at most ``POOL_SETS`` (one per
#: thread): a call of a shape seen before takes them instead of allocating its own,
#: whose pages the system would fault in afresh (~3 us a 4 KiB page on a VM; a thread's
#: buffers are ~9 MiB at 1e6 x 10).
_pool: list[_Buffers] = []
_pool_lock = threading.Lock()
POOL_SETS = 2


def _acquire(c: int, chunk: int, batch: int, work: np.dtype[Any]) -> _Buffers:
    with _pool_lock:
        for i, buf in enumerate(_pool):
            if buf.fits(c, chunk, batch, work):
                del _pool[i]
                buf.clear()
                return buf
    # Room for a little more: calls on blocks of a stream vary by a few rows.
    return _Buffers(c, _room(chunk), _room(batch), work)


def _room(rows: int) -> int:
    """``rows`` rounded up to a power of two."""
    return 1 << (rows - 1).bit_length()


def _release(buffers: list[_Buffers]) -> None:
    with _pool_lock:
        _pool[:0] = buffers
        del _pool[POOL_SETS:]


class _Chunker:
    """The two chunk layouts, for one call, and each thread's buffers.

    The unit of work of a thread is a batch of rows. Its chunks, one at a time, go
    through the passes over all C entries (maximum, argmax, ``exp``, the sum over the
    classes), which leave one value per row in the batch's buffers; the per-row
    finishing (scale, ``log1p``, the true class) then runs once over the whole batch.
    Each NumPy call is a release and a re-acquisition of the GIL that the other thread
    may be waiting for (on this VM a sleeping waiter takes ~85 us to wake up), so the
    per-row calls, about half of a chunk's, are paid once per batch instead of per chunk.
    """

    def __init__(
        self,
        logits: NDArray[Any],
        labels: NDArray[np.int64],
        temperature: float,
        work: np.dtype[Any],
        rows: int,
        batch: int,
        threads: int,
    ) -> None:
        self.logits, self.labels, self.temperature = logits, labels, temperature
        self.work, self.rows = work, rows
        self.c = logits.shape[1]
        self.transposed = self.c <= TRANSPOSE_MAX_CLASSES
        #: Rows are scaled by ``exp(shift - m)`` after the sum (see ``_shift``).
        self.scaled = temperature == 1
        # exp(x) of a row maximum up to this cannot overflow in a sum of C terms.
        f32 = work == np.float32
        self.no_shift_min = work.type(NO_SHIFT_MIN)
        self.no_shift_max = work.type((87.0 if f32 else 709.0) - np.log(self.c))
        #: Each thread's buffers (and sum, for ``nll_totals``), by the thread's number.
        #: All are taken here, by the calling thread: a helper thread's allocations
        #: would come from a malloc arena of its own, faulted in afresh at every call.
        self.buffers = [_acquire(self.c, rows, batch, work) for _ in range(threads)]

    def release(self) -> None:
        """Give the buffers back for the next call (after their sums were read)."""
        _release(self.buffers)

    def __call__(
        self,
        thread: int,
        a: int,
        b: int,
        nll: NDArray[np.float64] | None,
        pred: NDArray[np.int64] | None,
    ) -> None:
        """The batch of rows ``a:b``, on thread number ``thread``, into ``nll`` and
        ``pred`` or, when they are None, into the thread's sum of the nll and count of
        right predictions."""
        n = b - a
        rb = self.buffers[thread]
        top = rb.pred[:n] if pred is None else pred[a:b]
        m, xt, rest = rb.m[:n], rb.xt[:n], rb.rest[:n]
        chunk = self._columns if self.transposed else self._rows
        # The chunks shifted by something other than 0 before exp: (first, end, shift).
        shifted: list[tuple[int, int, NDArray[Any]]] = []
        with np.errstate(over="ignore"):  # x / T overflowing to -inf: a probability of 0
            for s in range(0, n, self.rows):
                e = min(n, s + self.rows)
                shift = chunk(a + s, a + e, s, top[s:e], rb)
                if shift is not None and self.scaled:
                    shifted.append((s, e, shift))
            if self.scaled:
                # The sums relative to exp(m): times exp(shift - m).
                scale = rb.scale[:n]
                np.negative(m, out=scale)
                for s, e, shift in shifted:
                    np.subtract(shift, m[s:e], out=scale[s:e])
                np.exp(scale, out=scale)
                scaled = rb.f64a[:n]
                # Exact for float32 (24 x 24 bits); one rounding in float64.
                np.multiply(rest, scale, out=scaled, dtype=np.float64)
                rest = scaled
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
        self, a: int, b: int, o: int, top: NDArray[np.int64], rb: _Buffers
    ) -> NDArray[Any] | None:
        """Chunk ``a:b`` (rows ``o:`` of the batch's buffers), row-major: the first argmax
        into ``top``, the row maxima, true-class logits and sums without the max term
        into the batch's buffers; returns what was subtracted before exp (None: 0)."""
        z = self.logits[a:b]
        r, c = z.shape
        x = rb.x[: r * c].reshape(r, c)
        src = z if z.dtype == self.work and z.flags.c_contiguous else x
        if src is x:
            np.copyto(x, z, casting="unsafe")
        base, idx = rb.base[:r], rb.idx[:r]
        m, xt = rb.m[o : o + r], rb.xt[o : o + r]
        src.argmax(axis=1, out=top)
        np.add(base, top, out=idx)
        src.reshape(-1).take(idx, out=m, mode="wrap")  # in range: no checked copy
        shift = self._shift(m, a)
        np.add(base, self.labels[a:b], out=idx)
        src.reshape(-1).take(idx, out=xt, mode="wrap")
        if shift is not None:
            np.subtract(src, shift[:, None], out=x)
            src = x
        np.add(base, top, out=idx)
        self._exp_sum(src, x, idx, axis=1, out=rb.rest[o : o + r])
        return shift

    def _columns(
        self, a: int, b: int, o: int, top: NDArray[np.int64], rb: _Buffers
    ) -> NDArray[Any] | None:
        """As :meth:`_rows`, on a transposed copy of the chunk."""
        z = self.logits[a:b]
        r, c = z.shape
        t = rb.x[: r * c].reshape(c, r)
        np.copyto(t, z.T, casting="unsafe")
        m = rb.m[o : o + r]
        t.max(axis=0, out=m)
        shift = self._shift(m, a)
        # The first argmax: the largest key (C - j) among the entries equal to the max.
        eq = rb.eq[: r * c].reshape(c, r)
        key = rb.keys[: r * c].reshape(c, r)
        np.equal(t, m, out=eq)
        np.multiply(eq.view(np.uint8), rb.weights, out=key)  # no bool -> uint8 cast
        kmax = rb.key[:r]
        key.max(axis=0, out=kmax)
        np.subtract(c, kmax, out=top, dtype=np.int64)
        ar, idx = rb.ar[:r], rb.idx[:r]
        np.multiply(self.labels[a:b], r, out=idx)
        idx += ar
        t.reshape(-1).take(idx, out=rb.xt[o : o + r], mode="wrap")
        if shift is not None:
            t -= shift
        np.multiply(top, r, out=idx)
        idx += ar
        self._exp_sum(t, t, idx, axis=0, out=rb.rest[o : o + r])
        return shift

    def _shift(self, m: NDArray[Any], a: int) -> NDArray[Any] | None:
        """What to subtract from each row of the chunk from row ``a``, whose maxima are
        ``m``, before ``exp`` (None: nothing); :meth:`__call__` then scales the sum by
        ``exp(shift - m)`` to make it relative to the row maximum.

        Raises the DataError naming the first bad row when a row maximum is not finite,
        which happens exactly when a row holds a NaN or ``+inf`` or is all ``-inf``:
        ``min`` and ``max`` of the maxima propagate a NaN and show an infinity.

        Subtracting the maximum rounds ``x - m`` whenever ``|x - m| > |x|``, and ``exp``
        turns that absolute rounding into a relative error of ``|x - m|`` ulps in a
        term: up to ~18 ulps in the loss of a confident row (nll ~ 1e-8) in float32,
        12-64 ulps in float64 rows of tests/test_kernel.py. So a row whose maximum lies
        in ``[-16, 87 - log C]`` in float32, ``[-16, 709 - log C]`` in float64 (nearly
        every row of a real classifier) is not shifted at all, and its sum is scaled by
        ``exp(-m)`` instead: no rounding before ``exp`` (in float64 the scaling rounds
        once, and ``exp(-m)`` is within an ulp). ``exp(x)`` cannot overflow there, and
        underflows (to subnormals, below ``exp(-87)`` or ``exp(-708)``) only in terms
        that matter to a loss below ~1e-31 (float32) or ~1e-300 (float64); the lower
        bound is what keeps that so (a review found float64 losses of 1e-194 lost with
        a bound of -300). Unshifted, a float64 chunk also saves the subtracting pass
        (~10% of it at C >= 100; RESULTS.md, session 8). Rows beyond are shifted by their
        maximum, where ``x - m`` is exact (Sterbenz) for every ``x`` near enough to
        matter (once ``m > 206`` in float32). Calls with a temperature (``x / T``
        rounds anyway) are always shifted.
        """
        lo, hi = float(m.min()), float(m.max())
        if not (math.isfinite(lo) and math.isfinite(hi)):
            _explain(self.logits, a, a + m.shape[0])
        if not self.scaled:
            return m
        if lo >= self.no_shift_min and hi <= self.no_shift_max:
            return None
        keep = (m >= self.no_shift_min) & (m <= self.no_shift_max)
        shift: NDArray[Any] = np.where(keep, self.work.type(0), m)
        return shift

    def _exp_sum(
        self,
        src: NDArray[Any],
        x: NDArray[Any],
        top: NDArray[np.intp],
        axis: int,
        out: NDArray[Any],
    ) -> None:
        """``out = sum(exp(src / T))`` along ``axis`` without the max term (flat index
        ``top``); ``x`` (which may be ``src``) is the work buffer."""
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


def _run(
    bounds: list[tuple[int, int]], work: Callable[[int, int, int], None], threads: int
) -> None:
    """``work(thread, a, b)`` for every bound, on ``threads`` threads (numbered from 0,
    the calling thread); the error of the first failing batch (in input order) is
    raised, as a sequential loop would."""
    if threads <= 1 or len(bounds) <= 1:
        for a, b in bounds:
            work(0, a, b)
        return
    lock = threading.Lock()
    state = {"next": 0, "failed": len(bounds)}
    errors: dict[int, BaseException] = {}

    def worker(thread: int) -> None:
        while True:
            with lock:
                i = state["next"]
                state["next"] += 1
                if i >= state["failed"]:
                    return
            try:
                work(thread, *bounds[i])
            except BaseException as exc:  # re-raised below, in input order
                with lock:
                    errors[i] = exc
                    state["failed"] = min(state["failed"], i)
                return

    finished = [threading.Event() for _ in range(1, threads)]

    def helper(thread: int) -> None:
        try:
            worker(thread)
        finally:
            finished[thread - 1].set()

    for i in range(1, threads):
        threading.Thread(target=helper, args=(i,), daemon=True).start()
    interrupted: BaseException | None = None
    try:
        worker(0)
    except BaseException:  # outside a batch (a batch's own errors are kept above)
        with lock:
            state["failed"] = 0
        raise
    finally:
        # The helpers are always waited for, as the caller gives their buffers to the
        # next call; interrupted (Ctrl-C), they take no further batch. Not by join():
        # Python 3.11's Thread.join, interrupted, marks a running thread as stopped.
        for event in finished:
            while not event.is_set():
                try:
                    event.wait()
                except BaseException as exc:
                    with lock:
                        state["failed"] = 0
                    interrupted = interrupted or exc
    if interrupted is not None:
        raise interrupted
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
        chunker, bounds, threads = _plan(logits, labels, temperature, work)
        try:
            _run(bounds, lambda i, a, b: chunker(i, a, b, nll, pred), threads)
        finally:
            chunker.release()
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
    thread counts its chunks' right predictions and gathers their nll in a buffer of at
    least ``STAGE_ROWS``, which it sums exactly (:class:`~xentcli.core.sums.ExactSum`,
    whose passes release the GIL) whenever it is full.

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
        chunker, bounds, threads = _plan(logits, labels, temperature, work)
        try:
            _run(bounds, lambda i, a, b: chunker(i, a, b, None, None), threads)
            for buf in chunker.buffers:
                buf.flush()
                total.merge(buf.sum)
                right += buf.correct
        finally:
            chunker.release()
    return total, right


def _plan(
    logits: NDArray[Any],
    labels: NDArray[np.int64],
    temperature: float,
    work: np.dtype[Any],
) -> tuple[_Chunker, list[tuple[int, int]], int]:
    """The chunker of one call (computing in ``work``), its batches' bounds and the
    number of threads."""
    n, c = logits.shape
    chunk_bytes = CHUNK_BYTES_TRANSPOSED if c <= TRANSPOSE_MAX_CLASSES else CHUNK_BYTES_ROWS
    step = max(1, min(n, MAX_ROWS, chunk_bytes // (work.itemsize * c)))
    batch = max(step, min(n, BATCH_ROWS) // step * step)
    parallel = n * c >= PARALLEL_ELEMENTS
    if parallel:
        # At least two batches per thread (of two at most), so that neither waits long
        # for the other. Whatever the threads, so that the bounds, and with them the row
        # an error names (a chunk's NaN rows come before its +inf and all -inf ones), do
        # not depend on the machine's CPUs.
        share = -(-n // 4)
        if share < batch:
            batch = share
            step = min(step, batch)
    threads = min(_threads() if parallel else 1, -(-n // batch))
    chunker = _Chunker(logits, labels, temperature, work, step, batch, threads)
    bounds = [(a, min(n, a + batch)) for a in range(0, n, batch)]
    return chunker, bounds, threads
