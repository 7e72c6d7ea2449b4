"""The exact sums behind every summary: the fast bucketed path equals math.fsum."""

from __future__ import annotations

import math

import numpy as np
import pytest

from xentcli.core.sums import CompensatedSum, _exact_terms


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
    assert _exact_terms(v) is not None
    got = CompensatedSum.of(v)
    assert (got.hi, got.lo) == fsum_pair(v)


@pytest.mark.parametrize(
    "values",
    [
        np.full(5000, np.inf),
        np.append(np.ones(5000), np.nan),
        np.append(np.ones(5000), 1e300),  # a term could overflow
        np.append(np.ones(5000), 1e-310),  # a subnormal
        np.ones(100),  # small: plain fsum
    ],
)
def test_unsuitable_values_take_the_plain_path(values: np.ndarray) -> None:
    assert _exact_terms(values) is None
    got = CompensatedSum.of(values)
    want = math.fsum(values.tolist())
    assert got.value == want or (math.isnan(got.value) and math.isnan(want))


@pytest.mark.parametrize("dtype", [np.float16, np.int8, np.uint8, np.bool_, np.int64])
def test_other_dtypes_sum_as_fsum(dtype: type) -> None:
    # Review: frexp of float16 or integers gives no 53-bit mantissas; those take fsum.
    values = (np.arange(5000) % 3).astype(dtype)
    assert CompensatedSum.of(values).value == math.fsum(values.tolist())
