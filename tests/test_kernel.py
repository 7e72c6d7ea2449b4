"""The chunked kernel ``logits_nll``: accuracy of float32 compute, layouts, threads, errors.

float16/float32 logits are computed in float32; each per-sample nll must stay within a
few float32 ulps (at most 8, relative) of the exact nll of the float32 values. The
references are exact: a float64 evaluation of the stable formula (its error, ~1e-15
relative, is 1e8 times below the tolerance) and, for the extreme rows, mpmath at 100
digits.
"""

from __future__ import annotations

import itertools
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import mpmath  # type: ignore[import-untyped]
import numpy as np
import pytest

import xentcli.core.kernel as kernel
from xentcli.core.kernel import logits_nll, nll_totals
from xentcli.errors import DataError

EPS32 = float(np.finfo(np.float32).eps)  # 2**-23
#: Each nll within 8 float32 ulps (relative: 1e-6). NumPy's float32 SIMD exp and log are
#: accurate to ~1-3 ulps; the sum over classes and the rescaling add a few more (a review
#: found 4.4 ulps at C = 21, where 4 had been claimed).
RTOL32 = 8 * EPS32


def exact_nll(x: np.ndarray, y: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """The nll of the logits taken as exact, in float64 (relative error ~1e-15)."""
    z = x.astype(np.float64)
    with np.errstate(over="ignore"):
        m = z.max(axis=1, keepdims=True)
        d = (z - m) / temperature
    top = d.argmax(axis=1)
    e = np.exp(d)
    e[np.arange(len(y)), top] = 0.0
    nll: np.ndarray = np.log1p(e.sum(axis=1)) - d[np.arange(len(y)), y]
    return nll


def mp_nll(row: np.ndarray, label: int) -> float:
    """The nll of one row of exact logits, at 100 significant digits."""
    with mpmath.workdps(100):
        xs = [mpmath.mpf(float(v)) for v in row if np.isfinite(v)]
        lse = mpmath.log(mpmath.fsum(mpmath.exp(v) for v in xs))
        return float(lse - mpmath.mpf(float(row[label])))


def rel_err(got: np.ndarray, want: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(got == want, 0.0, np.abs(got - want) / np.abs(want))


def random_case(
    n: int, c: int, scale: float = 3.0, seed: int = 0, dtype: type = np.float32
) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x: np.ndarray = (rng.standard_normal((n, c)) * scale).astype(dtype)
    return x, rng.integers(0, c, n)


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunks of a few rows and two threads, so that small inputs use every code path."""
    monkeypatch.setattr(kernel, "CHUNK_BYTES_TRANSPOSED", 256)
    monkeypatch.setattr(kernel, "CHUNK_BYTES_ROWS", 1024)
    monkeypatch.setattr(kernel, "PARALLEL_ELEMENTS", 0)
    monkeypatch.setattr(kernel, "_threads", lambda: 2)


# --------------------------------------------------------------------------- contract


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, np.int32])
def test_returns_float64_nll_and_int64_pred(dtype: type) -> None:
    x: np.ndarray = np.array([[1, 3, 2], [0, 0, 5]], dtype=dtype)
    nll, pred = logits_nll(x, np.array([1, 0]))
    assert nll.dtype == np.float64
    assert pred.dtype == np.int64
    assert pred.tolist() == [1, 2]
    np.testing.assert_allclose(nll, exact_nll(x, np.array([1, 0])), rtol=RTOL32)


def test_empty_input() -> None:
    nll, pred = logits_nll(np.zeros((0, 4), np.float32), np.zeros(0, np.int64))
    assert nll.shape == pred.shape == (0,)


@pytest.mark.parametrize("c", [2, 10, 20, 21, 100])
def test_pred_is_the_first_argmax_with_ties(c: int, small_chunks: None) -> None:
    x, y = random_case(300, c)
    x = np.round(x)  # many ties, also at the maximum
    nll, pred = logits_nll(x, y)
    np.testing.assert_array_equal(pred, np.argmax(x, axis=1))
    np.testing.assert_allclose(nll, exact_nll(x, y), rtol=RTOL32)


def test_compute_dtype_float64_is_the_float64_kernel() -> None:
    x, y = random_case(500, 10)
    got = logits_nll(x, y, compute_dtype="float64")
    want = logits_nll(x.astype(np.float64), y)
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])
    np.testing.assert_allclose(got[0], exact_nll(x, y), rtol=1e-14)


def test_compute_dtype_is_checked() -> None:
    x, y = random_case(3, 4)
    with pytest.raises(ValueError, match="compute_dtype"):
        logits_nll(x, y, compute_dtype="float16")  # type: ignore[arg-type]


def test_float16_is_upcast_to_float32_per_chunk() -> None:
    # float16 arithmetic would overflow in the sum over 1e5 classes (max 65504).
    x, y = random_case(3, 100_000, scale=1.0, dtype=np.float16)
    got = logits_nll(x, y)
    np.testing.assert_array_equal(got[0], logits_nll(x.astype(np.float32), y)[0])
    np.testing.assert_allclose(got[0], exact_nll(x, y), rtol=RTOL32)


# --------------------------------------------------------------------------- accuracy


@pytest.mark.parametrize("c", [2, 3, 10, 20, 21, 100, 1000])
@pytest.mark.parametrize("scale", [1.0, 3.0, 10.0])
def test_float32_within_a_few_ulps(c: int, scale: float) -> None:
    x, y = random_case(max(200, 20_000 // c), c, scale=scale, seed=c)
    nll, _ = logits_nll(x, y)
    err = rel_err(nll, exact_nll(x, y))
    assert err.max() <= RTOL32, f"{err.max() / EPS32:.1f} ulps"


def test_float32_many_classes() -> None:
    x, y = random_case(4, 50_000, scale=2.0)
    x[0, y[0]] = 40.0  # a confident row too
    err = rel_err(logits_nll(x, y)[0], exact_nll(x, y))
    assert err.max() <= RTOL32


@pytest.mark.parametrize("center", [1e4, -1e4, 100.0, -50.0])
def test_float32_large_logits(center: float, small_chunks: None) -> None:
    # logsumexp(x) - x_y would lose 1e-4 relative at 1e4 in float32; mixed chunks (some
    # rows shifted by their maximum, some not) must give the same accuracy.
    x, y = random_case(400, 10, scale=2.0)
    x[::2] += np.float32(center)
    nll, _ = logits_nll(x, y)
    err = rel_err(nll, exact_nll(x, y))
    assert err.max() <= RTOL32, f"{err.max() / EPS32:.1f} ulps"


def test_float32_huge_logits_do_not_overflow() -> None:
    x = np.array([[3e38, 2.9e38, -3e38], [1e30, 0.0, -1e30]], dtype=np.float32)
    y = np.array([1, 1])
    nll, pred = logits_nll(x, y)
    np.testing.assert_allclose(nll, [float(x[0, 0]) - float(x[0, 1]), 1e30], rtol=RTOL32)
    assert pred.tolist() == [0, 0]


@pytest.mark.parametrize("gap", [5.0, 18.0, 30.0, 60.0])
@pytest.mark.parametrize("c", [2, 10, 100])
def test_float32_tiny_loss_keeps_its_digits(gap: float, c: int) -> None:
    # The true class dominates: nll ~ (C - 1) e^-gap, down to 1e-26, far below float32's
    # epsilon relative to 1. log1p of the sum without the max term keeps it; rows are
    # not shifted (x - m would round, and exp turn that into ~gap/2 ulps).
    rng = np.random.default_rng(int(gap) + c)
    true = rng.uniform(-3, 3, (50, 1))
    x = (true - gap - np.abs(rng.standard_normal((50, c)))).astype(np.float32)
    y = rng.integers(0, c, 50)
    x[np.arange(50), y] = true[:, 0].astype(np.float32)
    nll, pred = logits_nll(x, y)
    np.testing.assert_array_equal(pred, y)
    want = np.array([mp_nll(r, int(t)) for r, t in zip(x[:10], y[:10], strict=True)])
    assert rel_err(nll[:10], want).max() <= RTOL32
    assert rel_err(nll, exact_nll(x, y)).max() <= RTOL32


EPS64 = float(np.finfo(np.float64).eps)  # 2**-52
#: Each float64 nll within 4 float64 ulps (relative) of the exact one. Rows whose maximum
#: allows it are not shifted: ``x - m`` would round by up to half an ulp of ``|x - m|``,
#: which ``exp`` turns into that many ulps of ``1`` in a term (the shifted kernel was
#: 12-64 ulps off on these rows).
RTOL64 = 4 * EPS64


@pytest.mark.parametrize("c", [2, 10, 21, 100, 1000])
@pytest.mark.parametrize("scale", [1.0, 3.0, 10.0])
def test_float64_within_a_few_ulps_of_mpmath(c: int, scale: float, small_chunks: None) -> None:
    x, y = random_case(max(24, 3000 // c), c, scale=scale, seed=c, dtype=np.float64)
    n = len(y)
    x[: n // 4][np.arange(n // 4), y[: n // 4]] += 40.0  # confident rows: nll ~ 1e-17
    # Rows far from 0: near the top of the unshifted range (650 - log C), and below or
    # above it (-250, +-5000: shifted by their maximum).
    x[n // 4 :: 6] += 650.0 - np.log(c)
    x[n // 4 + 1 :: 6] -= 250.0
    x[n // 4 + 2 :: 6] += 5000.0
    x[n // 4 + 3 :: 6] -= 5000.0
    nll, _ = logits_nll(x, y)
    want = np.array([mp_nll(r, int(t)) for r, t in zip(x, y, strict=True)])
    err = rel_err(nll, want)
    assert err.max() <= RTOL64, f"{err.max() / EPS64:.1f} ulps at row {err.argmax()}"


def mp_nll_log1p(row: np.ndarray, label: int) -> float:
    """The nll of one row, as ``log1p`` of the sum without the max term (so that a loss
    of 1e-300 keeps its digits, where ``log`` of the whole sum would need 300 of them)."""
    with mpmath.workdps(50):
        xs = [mpmath.mpf(float(v)) for v in row]
        m = max(xs)
        top = xs.index(m)
        rest = mpmath.fsum(mpmath.exp(v - m) for j, v in enumerate(xs) if j != top)
        return float(mpmath.log1p(rest) - (xs[label] - m))


@pytest.mark.parametrize(
    "row",
    [
        [-300.0, -746.0],  # a review's counterexamples to an unshifted range from -300
        [-300.0, -720.0],
        [-100.0, -740.0],
        [-299.0, -989.0, -1000.0],
        [-16.0, -700.0],  # the lowest unshifted maximum
        [-15.9, -700.0],
        [-0.5, -600.0, -3.0],
        [5.0, -680.0],
        [700.0, 20.0, 15.0],
    ],
)
def test_float64_tiny_losses_keep_their_digits(row: list[float]) -> None:
    # Unshifted, exp(x) of an entry below -708 is subnormal or 0: the row maximum must
    # be high enough (>= -16) that such an entry only matters to a loss below ~1e-300.
    x = np.array([row] * 3)
    y = np.zeros(3, dtype=np.int64)
    nll, _ = logits_nll(x, y)
    want = mp_nll_log1p(x[0], 0)
    assert want > 1e-300
    assert rel_err(nll, np.full(3, want)).max() <= RTOL64, (nll[0], want)


def test_float32_neg_inf_logits() -> None:
    x = np.array(
        [[0.0, -np.inf, 1.5, -2.0], [-np.inf, -np.inf, 3.0, -np.inf], [2.0, -np.inf, 1.0, 0.5]],
        dtype=np.float32,
    )
    y = np.array([2, 2, 1])
    nll, pred = logits_nll(x, y)
    assert nll[1] == 0.0
    assert nll[2] == np.inf
    np.testing.assert_allclose(nll[0], mp_nll(x[0], 2), rtol=RTOL32)
    assert pred.tolist() == [2, 2, 0]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("temperature", [0.5, 0.7, 3.0])
def test_temperature_is_computed_in_float64(dtype: type, temperature: float) -> None:
    # x / T rounds in float32 (an error of |x / T| ulps after exp): computed in float64.
    x, y = random_case(300, 10, seed=3, dtype=dtype)
    nll, _ = logits_nll(x, y, temperature)
    np.testing.assert_allclose(nll, exact_nll(x, y, temperature), rtol=1e-13)
    want = [mp_nll(r / np.float64(temperature), int(t)) for r, t in zip(x[:5], y[:5], strict=True)]
    np.testing.assert_allclose(nll[:5], want, rtol=1e-13)


def test_small_temperature_does_not_warn() -> None:
    x = np.array([[1e300, 0.0, -np.inf]])
    nll, _ = logits_nll(x, np.array([1]), 1e-10)
    assert nll[0] == np.inf


# --------------------------------------------------------------------------- chunks, threads


@pytest.mark.parametrize("c", [3, 20, 21, 300])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_result_does_not_depend_on_chunks_threads_or_layout(
    c: int, dtype: type, monkeypatch: pytest.MonkeyPatch
) -> None:
    x, y = random_case(1000, c, dtype=dtype, seed=7)
    x[::3] += 300 if dtype == np.float32 else 800  # some rows shifted
    want = logits_nll(x, y)
    monkeypatch.setattr(kernel, "CHUNK_BYTES_TRANSPOSED", 128)
    monkeypatch.setattr(kernel, "CHUNK_BYTES_ROWS", 4096)
    monkeypatch.setattr(kernel, "PARALLEL_ELEMENTS", 0)
    monkeypatch.setattr(kernel, "_threads", lambda: 2)
    for xx in (x, np.asfortranarray(x), np.repeat(x, 2, axis=1)[:, ::2]):
        got = logits_nll(xx, y)
        np.testing.assert_array_equal(got[0], want[0])
        np.testing.assert_array_equal(got[1], want[1])


@pytest.mark.parametrize("c", [3, 21])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_batches_of_chunks_give_what_one_chunk_gives(
    c: int, dtype: type, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A thread finishes the rows of a batch of chunks in one go; the batch's chunks may
    # differ: not shifted, all rows shifted (maxima ~300 in float32, ~800 in float64),
    # some rows below the unshifted range (maxima below -16).
    x, y = random_case(1000, c, dtype=dtype, seed=11)
    x[400:600] += 300 if dtype == np.float32 else 800
    x[700::7] -= 40
    want = logits_nll(x, y)  # small: one chunk, one batch, one thread
    want_total, want_right = nll_totals(x, y)
    monkeypatch.setattr(kernel, "CHUNK_BYTES_TRANSPOSED", 128)
    monkeypatch.setattr(kernel, "CHUNK_BYTES_ROWS", 4096)
    monkeypatch.setattr(kernel, "PARALLEL_ELEMENTS", 0)
    for threads, batch in itertools.product((1, 2), (1, 7, 64, 1000)):
        monkeypatch.setattr(kernel, "_threads", lambda threads=threads: threads)
        monkeypatch.setattr(kernel, "BATCH_ROWS", batch)
        got = logits_nll(x, y)
        np.testing.assert_array_equal(got[0], want[0], err_msg=f"{threads} {batch}")
        np.testing.assert_array_equal(got[1], want[1])
        total, right = nll_totals(x, y)
        assert (total.pair(), right) == (want_total.pair(), want_right)


def test_buffers_are_kept_for_the_next_call_and_cleared(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kernel, "PARALLEL_ELEMENTS", 0)
    monkeypatch.setattr(kernel, "_threads", lambda: 2)
    monkeypatch.setattr(kernel, "_pool", [])
    x, y = random_case(5000, 10, seed=3)
    total, right = nll_totals(x, y)
    kept = [id(b) for b in kernel._pool]
    assert len(kept) == 2
    # The same rows in reverse: the exact sum is the same, and nothing of the first
    # call's sum or count is left in the buffers it takes again.
    again, right_again = nll_totals(x[::-1].copy(), y[::-1].copy())
    assert (again.pair(), right_again) == (total.pair(), right)
    assert sorted(id(b) for b in kernel._pool) == sorted(kept)
    logits_nll(x, y)  # the per-sample call takes the same buffers
    assert sorted(id(b) for b in kernel._pool) == sorted(kept)
    for c in (3, 30, 300):
        logits_nll(*random_case(100, c))
    assert len(kernel._pool) == kernel.POOL_SETS


def test_a_failed_call_leaves_nothing_behind(small_chunks: None) -> None:
    x, y = random_case(500, 4)
    bad = x.copy()
    bad[300, 1] = np.nan
    total, right = nll_totals(x, y)
    with pytest.raises(DataError, match="NaN"):
        nll_totals(bad, y)
    again, right_again = nll_totals(x, y)
    assert (again.pair(), right_again) == (total.pair(), right)


def test_concurrent_calls_do_not_share_buffers(small_chunks: None) -> None:
    cases = [random_case(3000, c, seed=c) for c in (4, 10, 40)] * 4
    want = [(nll_totals(x, y)[0].pair(), logits_nll(x, y)[0].tolist()) for x, y in cases]

    def both(case: tuple[np.ndarray, np.ndarray]) -> tuple[object, list[float]]:
        return nll_totals(*case)[0].pair(), logits_nll(*case)[0].tolist()

    with ThreadPoolExecutor(6) as pool:
        assert list(pool.map(both, cases)) == want


@pytest.mark.parametrize("c", [8, 10, 16, 20])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_transposed_sums_do_not_depend_on_the_rows_of_a_chunk(
    c: int, dtype: type, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The transposed layout sums the C terms of every row with one reduction over axis
    # 0, which NumPy runs row by row only while a chunk has two rows or more (one row:
    # pairwise from 8 terms). Chunks of every size from 1 to 40 rows against one chunk.
    rng = np.random.default_rng(c)
    x = (rng.standard_normal((240, c)) * 10.0 ** rng.integers(-3, 3, (240, c))).astype(dtype)
    y = rng.integers(0, c, 240)
    want = logits_nll(x, y)[0]
    monkeypatch.setattr(kernel, "PARALLEL_ELEMENTS", 1 << 40)
    itemsize = np.dtype(kernel.work_dtype(np.dtype(dtype))).itemsize
    for rows in [*range(1, 41), 97]:
        monkeypatch.setattr(kernel, "CHUNK_BYTES_TRANSPOSED", rows * c * itemsize)
        np.testing.assert_array_equal(logits_nll(x, y)[0], want, err_msg=f"{rows} rows")


@pytest.mark.parametrize(
    ("bad", "message"),
    [(np.nan, "NaN logit for class 1"), (np.inf, r"\+inf logit for class 1"), (None, "-inf")],
)
@pytest.mark.parametrize("c", [4, 40])
def test_first_bad_row_is_named_across_threads(
    bad: float | None, message: str, c: int, small_chunks: None
) -> None:
    x, y = random_case(500, c)
    for row in (437, 123, 301):
        if bad is None:
            x[row] = -np.inf
        else:
            x[row, 1] = bad
    with pytest.raises(DataError, match=message) as info:
        logits_nll(x, y)
    assert info.value.sample == 123


def test_reviewed_rows_within_the_documented_bound() -> None:
    # A review's counterexamples to the first claim of 4 ulps (6.3 ulps of the result's
    # spacing, 3.2 of relative epsilon), and a near-certain row, where the float32 path
    # keeps an absolute error far below any loss that matters.
    x = np.array([[3.8503990173339844, -0.4579487144947052, -0.1684141755104065]], np.float32)
    y = np.array([0])
    assert rel_err(logits_nll(x, y)[0], exact_nll(x, y)).max() <= RTOL32
    tiny = np.array([[94.62345886230469, 30.123456954956055]], np.float32)
    got = logits_nll(tiny, np.array([0]))[0]
    want = exact_nll(tiny, np.array([0]))
    assert abs(got[0] - want[0]) < 1e-30  # relative accuracy is lost below ~1e-25


def test_huge_finite_row_maxima_are_not_mistaken_for_bad_rows() -> None:
    # The chunk's finiteness check sums the row maxima in float64; maxima near 1e308
    # overflow that sum, which must then be checked value by value, not reported.
    x = np.full((64, 3), 1.5e308)
    x[:, 1] = 0.0
    nll, pred = logits_nll(x, np.zeros(64, dtype=np.int64))
    # Class 0 and 2 tie at the maximum, class 1 is ~1.5e308 below: nll = log 2.
    np.testing.assert_allclose(nll, np.log(2.0), rtol=1e-15)
    assert pred.tolist() == [0] * 64


@pytest.mark.skipif(not hasattr(signal, "pthread_kill"), reason="no pthread_kill")
def test_an_interrupted_call_waits_for_its_helper_before_giving_buffers_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Ctrl-C while the calling thread waits for the helper, whose batch still runs in
    # pooled buffers: the call must not return (and give them to the next call) before
    # that batch is done. (Python 3.11's Thread.join, interrupted, would report the
    # running helper as stopped.)
    monkeypatch.setattr(kernel, "PARALLEL_ELEMENTS", 0)
    monkeypatch.setattr(kernel, "_threads", lambda: 2)
    x, y = random_case(4000, 10, seed=5)
    want = logits_nll(x, y)[0]
    real = kernel._Chunker.__call__
    helper_done = []

    def call(self: object, thread: int, a: int, b: int, *rest: object) -> None:
        if thread == 1 and not helper_done:
            time.sleep(0.1)  # the calling thread is done with its batches: it waits
            signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGINT)
            time.sleep(0.2)
            real(self, thread, a, b, *rest)  # type: ignore[arg-type]
            helper_done.append(a)
            return
        real(self, thread, a, b, *rest)  # type: ignore[arg-type]

    monkeypatch.setattr(kernel._Chunker, "__call__", call)
    with pytest.raises(KeyboardInterrupt):
        logits_nll(x, y)
    assert helper_done  # finished before the call returned
    monkeypatch.setattr(kernel._Chunker, "__call__", real)
    np.testing.assert_array_equal(logits_nll(x, y)[0], want)


@pytest.mark.parametrize("threads", [1, 2])
def test_the_row_an_error_names_does_not_depend_on_the_cpus(
    threads: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A chunk's error names its NaN rows before its +inf and all -inf ones, so the row
    # named depends on where chunks start; their bounds must not depend on the CPUs.
    x = np.zeros((30_000, 10), np.float32)
    x[7_000] = -np.inf
    x[8_000, 3] = np.nan
    monkeypatch.setattr(kernel, "_threads", lambda: threads)
    with pytest.raises(DataError, match="every logit is -inf") as info:
        logits_nll(x, np.zeros(30_000, dtype=np.int64))
    assert info.value.sample == 7_000
