"""The exact sums behind every summary: the fast bucketed path equals math.fsum."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

from xentcli.core import sums
from xentcli.core.sums import CompensatedSum, _exact_pair


def fsum_pair(values: np.ndarray) -> tuple[float, float]:
    terms = values.tolist()
    hi = math.fsum(terms)
    return hi, math.fsum([*terms, -hi])


@pytest.mark.parametrize("seed", range(40))
def test_fast_path_is_bit_identical_to_fsum(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(4096, 60000))
    kind = seed % 5
    if kind == 0:
        v = rng.exponential(size=n)  # losses
    elif kind == 1:
        v = rng.normal(size=n) * 10.0 ** rng.integers(-280, 280, size=n)  # most magnitudes
    elif kind == 2:
        v = np.where(rng.random(n) < 0.3, 0.0, rng.normal(size=n))  # zeros and signs
    elif kind == 3:
        v = 1.0 + rng.normal(size=n) * 1e-12  # heavy cancellation in the low part
    else:
        v = np.concatenate([[1e200, -1e200], rng.normal(size=n)])  # cancelling giants
    assert _exact_pair(v) is not None
    got = CompensatedSum.of(v)
    assert (got.hi, got.lo) == fsum_pair(v)


@pytest.mark.parametrize(
    "values",
    [
        np.append(np.ones(5000), 1e300),  # huge terms
        np.append(np.ones(5000), 1e-310),  # a subnormal
        np.full(5000, 5e-324),  # only the smallest subnormal
        np.concatenate([np.full(3000, -0.0), np.full(3000, 0.0)]),  # signed zeros
        np.concatenate([np.full(3000, 1.7e308), np.full(3000, -1.7e308), [2.0**-1074]]),
        np.full(70000, np.finfo(np.float64).max) * np.tile([1.0, -1.0], 35000),
    ],
)
def test_extreme_finite_values_stay_on_the_fast_path(values: np.ndarray) -> None:
    # Checked against exact rational arithmetic (math.fsum raises on an intermediate
    # overflow, which the buckets do not have).
    assert _exact_pair(values) is not None
    got = CompensatedSum.of(values)
    exact = sum(map(Fraction, values.tolist()), Fraction(0))
    assert (got.hi, got.lo) == (float(exact), float(exact - Fraction(float(exact))))


@pytest.mark.parametrize(
    "values",
    [
        np.full(5000, np.inf),
        np.append(np.ones(5000), np.nan),
        np.append(np.ones(70000), -np.inf),  # in a later step of the loop
        np.full(5000, 1e308),  # the sum leaves float64's range
        np.ones(100),  # small: plain fsum
        np.ones(5000, dtype=np.longdouble),  # float64 would round it
    ],
)
def test_unsuitable_values_take_the_plain_path(values: np.ndarray) -> None:
    assert _exact_pair(values) is None
    got = CompensatedSum.of(values)
    try:
        want = math.fsum(values.tolist())
    except OverflowError:
        # Beyond float64: the scaled path keeps the sum as hi * 2**exp, rounded once.
        exact = sum(map(Fraction, values.tolist()), Fraction(0))
        assert got.exp > 0
        assert got.hi == float(exact / 2**got.exp)
        return
    assert got.value == want or (math.isnan(got.value) and math.isnan(want))


def test_buckets_flush_before_their_float64_sums_could_round(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Every _FLUSH values the buckets are moved into a Python integer; with a tiny
    # _FLUSH the same sums must come out (and a NaN in an early segment still counts).
    # No extraction levels: every value goes to the buckets.
    monkeypatch.setattr(sums, "_LEVELS", 0)
    monkeypatch.setattr(sums, "_CHUNK", 1024)
    monkeypatch.setattr(sums, "_FLUSH", 4096)
    rng = np.random.default_rng(7)
    v = rng.normal(size=50_000) * 10.0 ** rng.integers(-30, 30, size=50_000)
    got = CompensatedSum.of(v)
    assert (got.hi, got.lo) == fsum_pair(v)
    v[10] = np.nan
    assert _exact_pair(v) is None
    assert math.isnan(CompensatedSum.of(v).value)


@pytest.mark.parametrize("share", [1, 8, 10**9])
@pytest.mark.parametrize("seed", range(6))
def test_extraction_levels_and_buckets_share_the_work_exactly(
    monkeypatch: pytest.MonkeyPatch, share: int, seed: int
) -> None:
    # share 1: the buckets take the rests after one level; 10**9: every level runs
    # first. Losses of confident rows span hundreds of binades (1e-300 .. 1e3), so
    # rests are left after any number of levels.
    monkeypatch.setattr(sums, "_LEVEL_SHARE", share)
    monkeypatch.setattr(sums, "_CHUNK", 4096)
    rng = np.random.default_rng(100 + seed)
    n = 20_000
    v = 10.0 ** rng.uniform(-300, 3, size=n) * rng.choice([1.0, 1.0, 1.0, -1.0], size=n)
    v[rng.random(n) < 0.1] = 0.0
    assert _exact_pair(v) is not None
    got = CompensatedSum.of(v)
    assert (got.hi, got.lo) == fsum_pair(v)


def test_a_nan_left_for_the_buckets_is_still_seen(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sums, "_LEVELS", 0)
    v = np.ones(5000)
    v[4000] = np.nan
    assert _exact_pair(v) is None
    v[4000] = -np.inf
    assert _exact_pair(v) is None


@pytest.mark.parametrize("dtype", [np.float16, np.int8, np.uint8, np.bool_, np.int64])
def test_other_dtypes_sum_as_fsum(dtype: type) -> None:
    # Review: frexp of float16 or integers gave no 53-bit mantissas; they are cast to
    # float64 exactly now, and must still sum as fsum does.
    values = (np.arange(5000) % 3).astype(dtype)
    assert CompensatedSum.of(values).value == math.fsum(values.tolist())
