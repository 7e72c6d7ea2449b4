"""``loss_stats``: cross_entropy's statistics without its per-sample arrays.

The kernel's per-chunk totals (``nll_totals``) must give the very sums, counts and
errors of ``cross_entropy(...).stats``; every other case must be handed to it.
"""

from __future__ import annotations

import dataclasses
import math
import tracemalloc
from typing import Any

import numpy as np
import pytest

from xentcli.core import LossOptions, cross_entropy, kernel, loss_stats
from xentcli.core import loss as loss_module
from xentcli.core.kernel import logits_nll, nll_totals
from xentcli.errors import DataError, UsageError


def _logits(n: int, c: int, dtype: Any, seed: int, scale: float = 3.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, c)) * scale
    if np.dtype(dtype).kind in "iu":
        return np.round(x).astype(dtype)
    return x.astype(dtype)


def _same(a: Any, b: Any) -> None:
    """Field by field, arrays included (exact; NaN equals NaN)."""
    assert type(a) is type(b)
    np.testing.assert_equal(dataclasses.asdict(a), dataclasses.asdict(b))


def _no_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the fallback to cross_entropy fail loudly: the fast path must be taken."""

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("loss_stats fell back to cross_entropy")

    monkeypatch.setattr(loss_module, "cross_entropy", refuse)


FAST_CASES = [
    # (n, c, dtype, options)
    (1, 2, np.float64, LossOptions()),
    (7, 3, np.float32, LossOptions()),
    (600, 10, np.float32, LossOptions()),
    (70_000, 10, np.float32, LossOptions()),  # two threads, many chunks
    (70_000, 10, np.float64, LossOptions()),
    (30_000, 21, np.float32, LossOptions()),  # row-major chunks
    (5_000, 100, np.float64, LossOptions()),
    (3_000, 5, np.float16, LossOptions()),
    (3_000, 5, np.int32, LossOptions()),
    (40_000, 10, np.float32, LossOptions(temperature=0.7)),
    (40_000, 10, np.float32, LossOptions(compute_dtype="float64")),
    (2_000, 4, np.float64, LossOptions(units="bits", reduction="sum")),
    (2_000, 4, np.float64, LossOptions(ignore_index=-100)),  # no label uses it
    (2_000, 4, np.float64, LossOptions(compat="torch", empty="zero")),
]


@pytest.mark.parametrize(("n", "c", "dtype", "opts"), FAST_CASES)
def test_the_fast_path_gives_cross_entropys_stats_to_the_last_bit(
    monkeypatch: pytest.MonkeyPatch, n: int, c: int, dtype: Any, opts: LossOptions
) -> None:
    x = _logits(n, c, dtype, seed=n + c)
    y = np.random.default_rng(n).integers(0, c, n)
    want = cross_entropy(x, y, opts).stats
    _no_fallback(monkeypatch)
    got = loss_stats(x, y, opts)
    assert got == want
    assert got.summary() == want.summary()


def test_labels_as_a_column_or_integral_floats_take_the_fast_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    x = _logits(1000, 3, np.float64, seed=1)
    y = np.arange(1000) % 3
    want = cross_entropy(x, y).stats
    _no_fallback(monkeypatch)
    assert loss_stats(x, y[:, None]) == want
    assert loss_stats(x, y.astype(np.float32)) == want
    assert loss_stats(x.tolist(), y.tolist()) == want


def test_mean_of_a_small_case_by_hand() -> None:
    # -log softmax([2, 0])[0] = log(1 + e^-2); -log softmax([0, 0])[1] = log 2.
    s = loss_stats([[2.0, 0.0], [0.0, 0.0]], [0, 1])
    assert s.n == 2
    assert s.n_correct == 1
    assert s.summary().loss == pytest.approx((math.log1p(math.exp(-2.0)) + math.log(2)) / 2)


FALLBACK_CASES: list[tuple[str, Any, Any, LossOptions, dict[str, Any]]] = [
    ("ignored labels", None, "ignored", LossOptions(ignore_index=0), {}),
    ("class weights", None, None, LossOptions(weight=(1.0, 2.0, 3.0)), {}),
    ("smoothing", None, None, LossOptions(label_smoothing=0.1), {}),
    ("per class", None, None, LossOptions(per_class=True), {}),
    ("histogram", None, None, LossOptions(hist=True), {}),
    ("top-k", None, None, LossOptions(top_k=2), {}),
    ("bootstrap", None, None, LossOptions(ci=0.9, bootstrap=20, seed=3), {}),
    ("probabilities", "probs", None, LossOptions(input_kind="probs"), {}),
    ("soft targets", None, "soft", LossOptions(), {}),
    ("sample weights", None, None, LossOptions(), {"sample_weight": "ones"}),
    ("skip", "nan", None, LossOptions(nonfinite="skip"), {}),
    ("impossible true class", "-inf", None, LossOptions(), {}),
    ("binary", "binary", "binary", LossOptions(), {}),
    ("3-D", "3d", "3d", LossOptions(class_axis=1), {}),
    ("start", None, None, LossOptions(ci=0.9, bootstrap=20, seed=3), {"start": 500}),
]


@pytest.mark.parametrize(
    ("what", "xkind", "ykind", "opts", "kw"), FALLBACK_CASES, ids=[c[0] for c in FALLBACK_CASES]
)
def test_every_other_case_is_cross_entropys(
    what: str, xkind: Any, ykind: Any, opts: LossOptions, kw: dict[str, Any]
) -> None:
    rng = np.random.default_rng(5)
    n, c = 3000, 3
    x: np.ndarray = rng.standard_normal((n, c))
    y: np.ndarray = rng.integers(0, c, n)
    if xkind == "probs":
        x = np.exp(x) / np.exp(x).sum(axis=1, keepdims=True)
    elif xkind == "nan":
        x[[3, 2000]] = np.nan
    elif xkind == "-inf":
        x[10, y[10]] = -np.inf
    elif xkind == "binary":
        x = x[:, :1]
        y = y % 2
    elif xkind == "3d":
        x = rng.standard_normal((300, c, 10))
        y = rng.integers(0, c, (300, 10))
    if ykind == "ignored":
        y[::7] = 0
    elif ykind == "soft":
        y = np.full((n, c), 1.0 / c)
    if kw.get("sample_weight") == "ones":
        kw = {"sample_weight": np.linspace(0.5, 2.0, n)}
    _same(loss_stats(x, y, opts, **kw), cross_entropy(x, y, opts, **kw).stats)


def test_an_infinite_loss_is_counted_as_cross_entropy_counts_it() -> None:
    x = _logits(5000, 4, np.float32, seed=2)
    y = np.arange(5000) % 4
    x[4321, y[4321]] = -np.inf
    got = loss_stats(x, y)
    assert got == cross_entropy(x, y).stats
    assert got.summary().loss == math.inf


@pytest.mark.parametrize(
    ("x", "y", "error"),
    [
        ([[0.0, np.nan], [1.0, 2.0]], [0, 1], DataError),
        ([[0.0, 1.0], [1.0, 2.0]], [0, 2], DataError),  # label out of range
        ([[0.0, 1.0], [1.0, 2.0]], [0], DataError),  # too few labels
        ([[0.0, 1.0], [1.0, 2.0]], [0.5, 1], DataError),  # not an index
        ([["a", "b"]], [0], DataError),
    ],
)
def test_errors_are_cross_entropys(x: Any, y: Any, error: type[Exception]) -> None:
    with pytest.raises(error) as want:
        cross_entropy(np.asarray(x), y)
    with pytest.raises(error) as got:
        loss_stats(np.asarray(x), y)
    assert str(got.value) == str(want.value)
    assert getattr(got.value, "sample", None) == getattr(want.value, "sample", None)


def test_a_usage_error_is_cross_entropys() -> None:
    opts = LossOptions(compat="sklearn", ignore_index=-100)
    with pytest.raises(UsageError) as want:
        cross_entropy([[0.0, 1.0]], [0], opts)
    with pytest.raises(UsageError) as got:
        loss_stats([[0.0, 1.0]], [0], opts)
    assert str(got.value) == str(want.value)


def test_stats_of_blocks_merge_to_the_whole() -> None:
    x = _logits(50_000, 10, np.float32, seed=9)
    y = np.random.default_rng(9).integers(0, 10, 50_000)
    whole = loss_stats(x, y)
    parts = [loss_stats(x[a : a + 7_001], y[a : a + 7_001]) for a in range(0, 50_000, 7_001)]
    merged = parts[0]
    for p in parts[1:]:
        merged = merged + p
    assert merged == whole


@pytest.mark.parametrize(("rows", "stage"), [(7, 10), (7, 32768), (4096, 10_000), (32768, 32768)])
@pytest.mark.parametrize("threads", [1, 2])
def test_totals_do_not_depend_on_chunks_or_threads(
    monkeypatch: pytest.MonkeyPatch, rows: int, stage: int, threads: int
) -> None:
    x = _logits(20_000, 10, np.float32, seed=4, scale=8.0)
    y = np.random.default_rng(4).integers(0, 10, 20_000)
    nll, pred = logits_nll(x, y)
    terms = nll.tolist()
    hi = math.fsum(terms)
    monkeypatch.setattr(kernel, "MAX_ROWS", rows)
    monkeypatch.setattr(kernel, "STAGE_ROWS", stage)
    monkeypatch.setattr(kernel, "PARALLEL_ELEMENTS", 0)
    monkeypatch.setattr(kernel, "_threads", lambda: threads)
    total, right = nll_totals(x, y)
    assert total.pair() == (hi, math.fsum([*terms, -hi]))
    assert right == int(np.count_nonzero(pred == y))


def test_memory_does_not_grow_with_the_samples() -> None:
    # cross_entropy keeps nll, pred, labels and index: 32 bytes a sample (32 MB here);
    # the totals keep two threads' chunk buffers.
    n = 1_000_000
    x = _logits(n, 10, np.float32, seed=6)
    y = np.random.default_rng(6).integers(0, 10, n)
    loss_stats(x, y)  # warm
    tracemalloc.start()
    try:
        loss_stats(x, y)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 12 * 2**20
