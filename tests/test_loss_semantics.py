"""Every loss option against the library it comes from.

``tests/fixtures/loss_semantics.json`` holds inputs and results produced once by PyTorch
2.13, scikit-learn, Keras 3 and optax themselves (``tests/reference/generate_loss_semantics.py``;
the suite needs none of them). Each case is translated into :class:`LossOptions` the way
README's option table says a user of that library would write it, and must give the
library's per-sample values, reduced loss and denominator: to ``rtol=1e-9`` for float64
inputs, to float32 precision for float32 ones (the libraries compute in float32; xent
always computes in float64).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from xentcli import LossOptions, UsageError, cross_entropy

FIXTURE = Path(__file__).parent / "fixtures" / "loss_semantics.json"
DATA = json.loads(FIXTURE.read_text(encoding="utf-8"))
CASES = {c["name"]: c for c in DATA["cases"]}

# Values the libraries accept silently and xent rejects as a usage error (issue: "anything
# outside [0, 1] is a usage error"); checked in test_negative_smoothing_is_rejected.
REJECTED = {name for name, c in CASES.items() if c["options"].get("label_smoothing", 0) < 0}


def number(v: Any) -> float:
    return float(v)  # also the fixture's "nan", "inf" and "-inf" strings


def translate(case: dict[str, Any]) -> tuple[LossOptions, np.ndarray | None]:
    """The options (and sample weights) a user of ``case``'s library would give xent."""
    o = dict(case["options"])
    lib = case["library"]
    compat = lib
    reduction = o.pop("reduction", "mean")
    empty = None
    sw = o.pop("sample_weight", None)
    where = o.pop("where", None)
    if reduction == "weighted_mean":
        # Keras' mean_with_sample_weight divides by sum(sw), as xent's own mean does, and
        # turns 0/0 into 0.
        reduction, compat, empty = "mean", "xent", "zero"
    if where is not None:
        # optax's mean(..., where=mask) is the sample-weighted mean with 0/1 weights.
        sw, compat = [float(m) for m in where], "xent"
    if "safe_softmax_cross_entropy" in case["call"]:
        # optax's "safe" variant takes 0 * log 0 as 0, as xent's exact profile does.
        compat = "xent"
    o.pop("eps", None)  # implied by the profile; checked through the numbers
    task = "auto"
    if case["target_kind"] == "multilabel":
        task = "multilabel"
    opts = LossOptions(
        reduction=reduction,
        weight=tuple(o.pop("weight")) if "weight" in o else None,
        ignore_index=o.pop("ignore_index", None),
        label_smoothing=o.pop("label_smoothing", 0.0),
        temperature=o.pop("temperature", 1.0),
        input_kind=case["input_kind"],
        compat=compat,
        empty=empty,
        task=task,
        pos_weight=(
            tuple(o["pos_weight"]) if isinstance(o.get("pos_weight"), list) else o.get("pos_weight")
        ),
        class_axis=o.pop("class_axis", None),
    )
    o.pop("pos_weight", None)
    assert not o, f"untranslated options {o}"
    return opts, None if sw is None else np.asarray(sw, dtype=np.float64)


def inputs(case: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    x = np.array(case["inputs"], dtype=case["dtype"])
    t = np.array(case["targets"])
    if case["target_kind"] == "index":
        t = t.astype(np.int64)
    return x, t


def tolerance(case: dict[str, Any]) -> dict[str, float]:
    if case["dtype"] == "float64":
        return {"rel": 1e-9, "abs": 1e-300}
    return {"rel": 2e-6, "abs": 2e-6}


def close(got: float, want: Any, tol: dict[str, float]) -> bool:
    w = number(want)
    if math.isnan(w):
        return math.isnan(got)
    if math.isinf(w):
        return got == w
    return got == pytest.approx(w, **tol)


@pytest.mark.parametrize("name", sorted(set(CASES) - REJECTED))
def test_library_reference(name: str) -> None:
    case = CASES[name]
    opts, sw = translate(case)
    x, t = inputs(case)
    result = cross_entropy(x, t, opts, sample_weight=sw)
    tol = tolerance(case)
    expected = case["expected"]

    per = np.asarray(result.loss, dtype=np.float64)
    if sw is not None:
        per = per * (sw if result.position is None else np.broadcast_to(sw, per.shape))
    want = np.array([number(v) for v in np.ravel(np.array(expected["per_sample"], dtype=object))])
    if case["target_kind"] == "multilabel":
        want = want.reshape(len(per), -1).sum(axis=1)
        tol = {"rel": max(tol["rel"], 1e-12), "abs": tol["abs"]}
    assert per.shape == want.shape
    for i, (g, w) in enumerate(zip(per.tolist(), want.tolist(), strict=True)):
        assert close(g, w, tol), (i, g, w)

    loss_tol = tol
    if "comes back as float32" in case.get("note", ""):
        loss_tol = {"rel": 1e-7, "abs": 1e-7}
    assert close(result.summary.loss, expected["loss"], loss_tol), (
        result.summary.loss,
        expected["loss"],
    )
    if "denominator" in expected and result.summary.reduction == "mean":
        assert result.summary.denominator == pytest.approx(expected["denominator"], rel=1e-12)


def test_every_library_and_option_is_covered() -> None:
    libraries = {c["library"] for c in CASES.values()}
    assert libraries == {"torch", "sklearn", "keras", "optax"}
    options = {k for c in CASES.values() for k in c["options"]}
    assert {
        "reduction",
        "weight",
        "ignore_index",
        "label_smoothing",
        "sample_weight",
        "pos_weight",
        "class_axis",
        "temperature",
    } <= options
    kinds = {c["target_kind"] for c in CASES.values()}
    assert kinds == {"index", "soft", "binary", "multilabel"}


@pytest.mark.parametrize("name", sorted(REJECTED))
def test_negative_smoothing_is_rejected(name: str) -> None:
    # The libraries silently ignore (torch) or apply (keras) a negative smoothing.
    with pytest.raises(UsageError, match="between 0 and 1"):
        translate(CASES[name])


def test_sklearn_unnormalised_rows_are_used_as_given_with_a_note() -> None:
    case = CASES["sk_unnormalised_rows"]
    opts, _ = translate(case)
    x, t = inputs(case)
    result = cross_entropy(x, t, opts)
    assert len(result.notes) == 1
    assert "do not sum to 1" in result.notes[0]
    # Under the exact profile the same rows are an error naming the worst one.
    with pytest.raises(Exception, match="--renormalize"):
        cross_entropy(x, t, LossOptions(input_kind="probs"))


WHERE_CASES = sorted(
    n for n, c in CASES.items() if "where" in c["options"] and c["target_kind"] == "index"
)


@pytest.mark.parametrize("name", WHERE_CASES)
def test_optax_where_mask_is_an_ignore_index(name: str) -> None:
    # README: optax's mean(..., where=y != K) is --ignore-index K.
    case = CASES[name]
    x, t = inputs(case)
    mask = np.array(case["options"]["where"])
    t = np.where(mask, t, -1)
    result = cross_entropy(x, t, LossOptions(ignore_index=-1, compat="optax"))
    assert close(result.summary.loss, case["expected"]["loss"], tolerance(case))
    assert result.summary.denominator == mask.sum()
