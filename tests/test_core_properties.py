"""Properties that must hold for any logits: Hypothesis searches for counterexamples."""

from __future__ import annotations

import functools
import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from xentcli import DataError, LossStats, cross_entropy, log_softmax, softmax
from xentcli.core.stats import CompensatedSum

finite = st.floats(-1e4, 1e4, allow_nan=False, allow_infinity=False)


@st.composite
def batches(draw: st.DrawFn, max_n: int = 30, max_c: int = 12) -> tuple[np.ndarray, np.ndarray]:
    n = draw(st.integers(1, max_n))
    c = draw(st.integers(2, max_c))
    x = draw(hnp.arrays(np.float64, (n, c), elements=finite))
    y = draw(hnp.arrays(np.int64, (n,), elements=st.integers(0, c - 1)))
    return x, y


@given(batches(), st.integers(-2000, 2000))
def test_adding_a_constant_to_a_row_changes_nothing(batch, shift) -> None:
    x, y = batch
    # Integer logits plus an integer shift are exact in float64, so any difference
    # would come from the computation, not from rounding the input.
    x = np.round(x)
    a = cross_entropy(x, y)
    b = cross_entropy(x + shift, y)
    np.testing.assert_allclose(b.nll, a.nll, rtol=1e-12, atol=1e-300)
    np.testing.assert_array_equal(b.pred, a.pred)


@given(batches())
def test_probabilities_sum_to_one_and_nll_is_nonnegative(batch) -> None:
    x, y = batch
    r = cross_entropy(x, y, with_probs=True)
    assert r.probs is not None
    np.testing.assert_allclose(r.probs.sum(axis=1), 1.0, rtol=1e-13)
    assert (r.probs >= 0).all()
    assert (r.nll >= 0).all()
    assert (r.p_true <= 1).all()
    np.testing.assert_allclose(r.probs[np.arange(r.n), y], r.p_true, rtol=1e-12, atol=1e-300)
    assert r.summary.loss >= 0
    np.testing.assert_array_equal(r.loss, r.nll)


@given(batches())
def test_log_softmax_is_log_of_softmax_where_that_is_finite(batch) -> None:
    x, _ = batch
    ls = log_softmax(x)
    assert (ls <= 0).all()
    p = softmax(x)
    ok = p > 1e-300
    np.testing.assert_allclose(np.log(p[ok]), ls[ok], rtol=1e-12, atol=1e-15)


@given(batches(max_n=60), st.lists(st.integers(1, 59), max_size=5))
def test_merged_block_stats_equal_whole_batch(batch, cuts) -> None:
    x, y = batch
    whole = cross_entropy(x, y).summary
    bounds = [0, *sorted({c for c in cuts if c < len(x)}), len(x)]
    parts = [cross_entropy(x[a:b], y[a:b], start=a).stats for a, b in itertools.pairwise(bounds)]
    merged = functools.reduce(lambda s, t: s + t, parts).summary()
    assert merged.n == whole.n
    assert merged.accuracy == whole.accuracy
    assert merged.loss == pytest.approx(whole.loss, rel=1e-14, abs=1e-300)
    # Merging is associative: right-to-left grouping gives the same sum.
    right = functools.reduce(lambda s, t: t + s, reversed(parts)).summary()
    assert right.sum_nll == pytest.approx(merged.sum_nll, rel=1e-15, abs=1e-300)


@settings(max_examples=25)
@given(st.integers(1, 20))
def test_block_indices_continue_from_start(start) -> None:
    r = cross_entropy([[0.0, 1.0], [2.0, 0.0]], [1, 0], start=start)
    assert r.index.tolist() == [start, start + 1]


def test_compensated_merge_keeps_small_terms() -> None:
    # 1e16 + 1 + ... loses every 1 in naive float64 summation; the pair keeps them.
    def one(x: float) -> LossStats:
        return LossStats(n_classes=2, n=1, sum_nll=CompensatedSum(x), sum_loss=CompensatedSum(x))

    ones = [one(1.0) for _ in range(1000)]
    total = functools.reduce(lambda a, b: a + b, ones, one(1e16))
    assert total.sum_nll.hi + total.sum_nll.lo == 1e16 + 1000
    assert total.summary().sum_nll == 1e16 + 1000


def test_merging_different_class_counts_is_an_error() -> None:
    with pytest.raises(ValueError, match="2 and 3 classes"):
        LossStats(n_classes=2) + LossStats(n_classes=3)


def test_empty_block_has_undefined_mean() -> None:
    r = cross_entropy(np.zeros((0, 3)), np.zeros(0, dtype=int))
    assert r.n == 0
    assert np.isnan(r.summary.loss)
    assert np.isnan(r.summary.accuracy)


def test_perplexity_overflows_only_when_it_must() -> None:
    # Mean nll of 700 nats: exp(700) ~ 1e304 is finite; a product of 1/p would not be.
    x = np.array([[0.0, 700.0]] * 1000)
    s = cross_entropy(x, np.zeros(1000, dtype=int)).summary
    assert s.loss == pytest.approx(700.0, rel=1e-15)
    assert s.perplexity == pytest.approx(np.exp(700.0), rel=1e-13)
    s = cross_entropy([[0.0, 720.0]], [0]).summary
    assert s.perplexity == np.inf


@pytest.mark.parametrize(
    ("logits", "labels", "message", "source", "sample"),
    [
        ([[0.0, np.nan], [1.0, 2.0]], [0, 0], "NaN logit for class 1", "logits", 0),
        ([[0.0, 1.0], [np.inf, 2.0]], [0, 0], "+inf logit for class 0", "logits", 1),
        ([[0.0, 1.0], [-np.inf, -np.inf]], [0, 0], "every logit is -inf", "logits", 1),
        ([[0.0, 1.0]], [0, 1], "logits have 1 samples but labels have 2", "labels", None),
        (
            [[0.0, 1.0], [1.0, 0.0]],
            [0, 2],
            "label 2 is out of range for 2 classes (valid: 0..1)",
            "labels",
            1,
        ),
        ([[0.0, 1.0], [1.0, 0.0]], [-1, 0], "label -1 is negative (valid: 0..1)", "labels", 0),
        ([[0.0, 1.0], [1.0, 0.0]], [0.0, 2.5], "label 2.5 is not a whole number", "labels", 1),
        ([0.0, 1.0], [0], "logits have 2 samples but labels have 1", "labels", None),
        (np.zeros((2, 3, 4)), np.zeros((2, 4)), "more than 2 dimensions", "logits", None),
        ([[0.0], [1.0]], [0, 2], "label 2 is out of range for 2 classes", "labels", 1),
        (np.array([[True, False]]), [0], "dtype bool", "logits", None),
        (np.array([[1, 2]], dtype=object), [0], "object array", "logits", None),
        ([[0.0, 1.0]], ["a"], "expected real numbers", "labels", None),
    ],
)
def test_invalid_input_names_the_first_bad_sample(logits, labels, message, source, sample):
    with pytest.raises(DataError) as info:
        cross_entropy(logits, labels)
    assert message in info.value.message
    assert info.value.source == source
    assert info.value.sample == sample


def test_error_counts_the_other_bad_rows() -> None:
    with pytest.raises(DataError, match=r"label 5 .*; 2 more labels are out of range"):
        cross_entropy(np.zeros((4, 3)), [0, 5, 7, 9])


def test_results_are_read_only() -> None:
    r = cross_entropy([[0.0, 1.0]], [1])
    with pytest.raises(ValueError, match="read-only"):
        r.nll[0] = 0.0
