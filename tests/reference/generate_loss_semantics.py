"""Write tests/fixtures/loss_semantics.json: loss-option reference values from the real libraries.

Run from anywhere with the reference environment (torch, scikit-learn, keras 3, optax + jax)::

    /tmp/venv-ref/bin/python tests/reference/generate_loss_semantics.py

The script is deterministic (fixed seeds, single-threaded torch, CPU jax with x64 enabled) and
rewrites the fixture on every run. The test suite reads only the JSON: it needs none of these
libraries. Every value in ``expected`` comes from a call into the named library (``"source":
"library"``); no group currently falls back to a hand-written formula, and the script stops with
an install hint if a library is missing rather than silently substituting one.

Library groups
--------------
``torch``
    ``torch.nn.functional.cross_entropy`` (index targets, soft-probability targets, K-dim
    inputs ``(N, C, d1[, d2])`` with index targets and, as ``ce_kdim1_soft``, with soft targets
    ``(N, C, d1)`` whose classes are on axis 1 too; ``options.class_axis`` is 1), weight /
    ignore_index / label_smoothing / temperature, the latter as ``cross_entropy(x / T, y)``),
    ``binary_cross_entropy_with_logits`` (one column, stored as 1-D ``(N,)`` arrays, and
    multi-label ``(N, C)``) and ``nll_loss`` applied to ``log_softmax`` output (``input_kind``
    "log-probs": ``inputs`` are the log-probabilities that were fed to ``nll_loss``). Every
    torch case exists in float32 and float64 (name suffix ``_f32`` / ``_f64``); float32 inputs
    are the exact float32 values.
``sklearn``
    ``sklearn.metrics.log_loss`` on probabilities, always called with ``labels=range(C)``.
    ``normalize=False`` is stored as ``"reduction": "sum"`` (``sk_sum``, and with sample
    weights). ``options.eps`` is the clipping epsilon sklearn uses (``np.finfo(dtype).eps``).
    ``note`` holds the warnings the call emitted (e.g. for rows that do not sum to one).
``keras``
    Keras 3 with the torch backend: ``keras.losses.*CrossEntropy`` classes and functions.
    ``options.eps`` is ``keras.config.epsilon()`` (probabilities are renormalised per row and
    clipped to ``[eps, 1 - eps]``). Keras' ``reduction='sum_over_batch_size'`` is stored as
    ``"reduction": "mean"`` and ``'mean_with_sample_weight'`` is stored as
    ``"reduction": "weighted_mean"``; the exact keras spelling is in ``call``.
    ``SparseCategoricalCrossentropy(from_logits=True)`` also runs on channels-last K-dim logits
    ``(N, d1, C)`` / ``(N, d1, d2, C)`` with labels ``(N, d1[, d2])`` (``options.class_axis``
    -1; ``per_sample`` is the unreduced ``(N, d1[, d2])`` array and the denominator the number
    of positions, or of non-ignored positions with ``ignore_class``).
    ``BinaryCrossentropy(from_logits=True)`` cases (``keras_bce_*``, target_kind "binary") store
    1-D ``(N,)`` logits and 0/1 targets but pass them to keras as ``(N, 1)`` columns: keras
    averages over the last axis, so a 1-D ``(N,)`` call gives one value for the whole batch
    (even under ``reduction=None`` or ``'sum'``; see ``observations``). They are float32 only:
    with ``dtype='float64'`` the per-element values are float32-accurate (``keras.ops.mean``
    on the torch backend computes a float64 tensor in float32; also an observation). Keras
    float64 cases whose reduced value is float32 say "comes back as float32" in ``note``.
``optax``
    ``optax.losses.softmax_cross_entropy_with_integer_labels``, ``softmax_cross_entropy``,
    ``safe_softmax_cross_entropy``, ``smooth_labels`` and ``sigmoid_binary_cross_entropy`` (1-D
    logits with 0/1 labels, target_kind "binary"); optax only returns per-example
    values, so ``loss`` is ``jnp.mean`` of them (``jnp.mean(per, where=mask)`` for the masked
    cases, whose sample mask is ``options.where``).

Case fields
-----------
``call`` names the library call for humans: ``x`` is ``inputs``, ``y`` is ``targets`` and
``w``, ``pw``, ``sw``, ``mask`` are ``options.weight``, ``pos_weight``, ``sample_weight`` and
``where``. Keras' ``ignore_class`` is stored as ``options.ignore_index``; ``options.where`` (optax
sample mask) and ``"reduction": "weighted_mean"`` (keras) extend the basic option set.

``expected.per_sample`` is the unreduced result: torch ``reduction='none'``, keras
``reduction=None``, optax's own output, and for sklearn ``log_loss(..., normalize=False)`` on
each row alone times that row's sample weight (the multiplication is done here because sklearn
rejects a one-row call whose only weight is 0). It includes every weight (class weight,
pos_weight, sample_weight), so in every case ``loss == sum(per_sample) / denominator`` under
"mean"/"weighted_mean" and ``loss == sum(per_sample)`` under "sum" (the generator asserts this
for every case, "sum" cases without a stored denominator included; keras returns 0 where the
denominator is 0). Torch can return ``-0.0`` for a zero loss.

``expected.denominator`` is computed here in plain Python from the inputs: for torch index
targets the sum of ``w[y]`` over non-ignored targets (their count without ``weight``), for torch
soft targets ``N`` (the number of positions ``N * d1 * ...`` for K-dim input), for
``binary_cross_entropy_with_logits`` the element count, for sklearn the sum of sample weights (or
``N``), for keras ``N`` or the number of positions for K-dim input (the non-ignored count with
``ignore_class``; the sum of sample weights for ``mean_with_sample_weight``), for optax ``N`` (or
the mask count).
Torch cases always carry it, also under "sum"; sklearn and keras "sum" cases omit it.
Units are nats.

A top-level ``observations`` list records library behaviour that yields an error instead of a
value (exception type and message), e.g. torch ``label_smoothing > 1``, or a value that is no
case because it is not what the case layout means (keras' 1-D binary input, keras' float32-
accurate float64 binary values).

Cases added later draw their data from RNG streams of their own, so adding them leaves every
earlier case byte-identical.

JSON encoding: floats use Python's repr (round-trip exact); ``allow_nan=False``, so non-finite
numbers are the strings "nan", "inf" and "-inf". Decode with ``float(v)`` element-wise.
"""

import json
import math
import os
import platform
import warnings
from pathlib import Path

import numpy as np
import sklearn
import torch
import torch.nn.functional as F
from sklearn.metrics import log_loss

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "tests" / "fixtures" / "loss_semantics.json"
REL_OUT = "tests/reference/generate_loss_semantics.py"
DTYPES = ("float32", "float64")
SUFFIX = {"float32": "_f32", "float64": "_f64"}
TOL = {"float32": 2e-5, "float64": 1e-12}


# --------------------------------------------------------------------------- encoding helpers


def _fix(v):
    if isinstance(v, list):
        return [_fix(x) for x in v]
    if isinstance(v, float) and not math.isfinite(v):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")
    return v


def enc(values):
    """Nested lists (or a scalar) of Python numbers; non-finite floats become strings."""
    arr = np.asarray(values)
    if arr.dtype.kind in "biu":
        return arr.tolist()
    return _fix(arr.astype(np.float64).tolist())


def as_dtype(values, dtype):
    """``values`` as a numpy array of ``dtype`` (float32 values are then stored exactly)."""
    return np.asarray(values, dtype=np.dtype(dtype))


def check_consistency(case, tol_dtype=None):
    """Assert ``loss`` agrees with ``sum(per_sample) / denominator`` (or the plain sum)."""
    exp = case["expected"]
    per, den, loss = exp["per_sample"], exp.get("denominator"), exp["loss"]
    red = case["options"].get("reduction", "mean")
    if per is None or (den is None and red != "sum"):
        return
    flat = np.asarray([float(v) for v in np.ravel(np.asarray(per, dtype=object))])
    total = float(np.sum(flat))
    loss = float(loss)
    want = total if red == "sum" else (total / den if den else math.nan)
    if red != "sum" and not den and case["library"] == "keras":
        want = 0.0  # keras divides with divide_no_nan
    if math.isnan(want) or math.isnan(loss):
        assert math.isnan(want), case["name"]
        assert math.isnan(loss), case["name"]
        return
    if math.isinf(want) or math.isinf(loss):
        assert want == loss, case["name"]
        return
    tol = TOL[tol_dtype or case["dtype"]] * max(1.0, abs(want))
    assert abs(want - loss) <= tol, (case["name"], want, loss)


def make_case(
    name,
    library,
    call,
    dtype,
    input_kind,
    inputs,
    targets,
    target_kind,
    options,
    per_sample,
    loss,
    denominator=None,
    note=None,
    tol_dtype=None,
):
    """One fixture case; see the module docstring for the meaning of each field."""
    case = {
        "name": name,
        "library": library,
        "source": "library",
        "call": call,
        "dtype": dtype,
        "input_kind": input_kind,
        "inputs": enc(inputs),
        "targets": enc(targets),
        "target_kind": target_kind,
        "options": options,
        "expected": {
            "per_sample": None if per_sample is None else enc(per_sample),
            "loss": enc(loss),
        },
    }
    if denominator is not None:
        case["expected"]["denominator"] = denominator
    if note:
        case["note"] = note
    check_consistency(case, tol_dtype)
    return case


def observe(library, call, fn):
    """Run ``fn`` and record its result or the exception it raised."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = fn()
        outcome = f"returned {enc(result)!r}"
    except Exception as exc:  # any library error is the observation
        outcome = f"raises {type(exc).__name__}: {exc}"
    return {"library": library, "call": call, "outcome": outcome}


def kwargs_text(pairs):
    return "".join(f", {k}={v}" for k, v in pairs)


# --------------------------------------------------------------------------- data


def mixed_logits(rng, shape):
    """Standard-normal logits whose rows are scaled by 0.1 .. 30 (a mix of magnitudes)."""
    scales = np.array([0.1, 0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0])
    x = rng.standard_normal(shape)
    idx = np.arange(shape[0]) % len(scales)
    return x * scales[idx].reshape((-1,) + (1,) * (len(shape) - 1))


def softmax(x):
    z = np.exp(x - x.max(axis=1, keepdims=True))
    return z / z.sum(axis=1, keepdims=True)


# --------------------------------------------------------------------------- torch


def index_denominator(y, weight, ignore_index):
    """Sum of w[y] (or count) over targets that are not ``ignore_index`` (plain Python)."""
    total = 0.0 if weight is not None else 0
    for label in np.ravel(y).tolist():
        if label == ignore_index:
            continue
        total += weight[label] if weight is not None else 1
    return total


def torch_ce(
    name,
    x,
    y,
    dtype,
    *,
    target_kind="index",
    weight=None,
    ignore_index=None,
    label_smoothing=None,
    reduction="mean",
    temperature=None,
    note=None,
):
    """A ``torch.nn.functional.cross_entropy`` case."""
    tdtype = getattr(torch, dtype)
    xd = as_dtype(x, dtype)
    tx = torch.from_numpy(xd)
    if temperature is not None:
        tx = tx / temperature
    options = {"reduction": reduction}
    kw, text = {}, []
    if target_kind == "index":
        yv = np.asarray(y, dtype=np.int64)
        ty = torch.from_numpy(yv)
    else:
        yv = as_dtype(y, dtype)
        ty = torch.from_numpy(yv)
    wv = None
    if weight is not None:
        wv = as_dtype(weight, dtype)
        kw["weight"] = torch.from_numpy(wv)
        options["weight"] = enc(wv)
        text.append(("weight", "w"))
    if ignore_index is not None:
        kw["ignore_index"] = ignore_index
        options["ignore_index"] = ignore_index
        text.append(("ignore_index", ignore_index))
    if label_smoothing is not None:
        kw["label_smoothing"] = label_smoothing
        options["label_smoothing"] = label_smoothing
        text.append(("label_smoothing", label_smoothing))
    if temperature is not None:
        options["temperature"] = temperature
    if xd.ndim > 2:
        options["class_axis"] = 1
    xexpr = "x" if temperature is None else f"x / {temperature}"
    call = (
        f"torch.nn.functional.cross_entropy({xexpr}, y{kwargs_text(text)}, reduction='{reduction}')"
    )
    per = F.cross_entropy(tx, ty, reduction="none", **kw)
    loss = F.cross_entropy(tx, ty, reduction=reduction, **kw)
    assert per.dtype == tdtype
    assert loss.dtype == tdtype
    if target_kind == "index":
        ign = -100 if ignore_index is None else ignore_index
        wlist = None if wv is None else [float(v) for v in wv]
        den = index_denominator(yv, wlist, ign)
    else:
        den = int(xd.shape[0]) if xd.ndim == 2 else int(np.prod(xd.shape) // xd.shape[1])
    return make_case(
        name + SUFFIX[dtype],
        "torch",
        call,
        dtype,
        "logits",
        xd,
        yv,
        target_kind,
        options,
        per.numpy(),
        loss.item(),
        den,
        note,
    )


def torch_bce(name, x, t, dtype, *, pos_weight=None, weight=None, reduction="mean"):
    """A ``torch.nn.functional.binary_cross_entropy_with_logits`` case."""
    xd, td = as_dtype(x, dtype), as_dtype(t, dtype)
    kw, text = {}, []
    options = {"reduction": reduction}
    if weight is not None:
        wv = as_dtype(weight, dtype)
        kw["weight"] = torch.from_numpy(wv)
        options["weight"] = enc(wv)
        text.append(("weight", "w"))
    if pos_weight is not None:
        pv = as_dtype(pos_weight, dtype)
        kw["pos_weight"] = torch.from_numpy(np.atleast_1d(pv))
        options["pos_weight"] = enc(pv)
        text.append(("pos_weight", "pw"))
    call = (
        f"torch.nn.functional.binary_cross_entropy_with_logits(x, y{kwargs_text(text)}, "
        f"reduction='{reduction}')"
    )
    tx, tt = torch.from_numpy(xd), torch.from_numpy(td)
    per = F.binary_cross_entropy_with_logits(tx, tt, reduction="none", **kw)
    loss = F.binary_cross_entropy_with_logits(tx, tt, reduction=reduction, **kw)
    kind = "binary" if xd.ndim == 1 else "multilabel"
    return make_case(
        name + SUFFIX[dtype],
        "torch",
        call,
        dtype,
        "logits",
        xd,
        td,
        kind,
        options,
        per.numpy(),
        loss.item(),
        int(xd.size),
    )


def torch_nll(name, x, y, dtype, *, weight=None, ignore_index=None, reduction="mean"):
    """A ``torch.nn.functional.nll_loss`` case on ``log_softmax`` output (log-prob inputs)."""
    logp = F.log_softmax(torch.from_numpy(as_dtype(x, dtype)), dim=1)
    yv = np.asarray(y, dtype=np.int64)
    kw, text = {}, []
    options = {"reduction": reduction}
    wlist = None
    if weight is not None:
        wv = as_dtype(weight, dtype)
        wlist = [float(v) for v in wv]
        kw["weight"] = torch.from_numpy(wv)
        options["weight"] = enc(wv)
        text.append(("weight", "w"))
    if ignore_index is not None:
        kw["ignore_index"] = ignore_index
        options["ignore_index"] = ignore_index
        text.append(("ignore_index", ignore_index))
    call = (
        f"torch.nn.functional.nll_loss(x, y{kwargs_text(text)}, reduction='{reduction}')"
        "  # x = torch.nn.functional.log_softmax(logits, dim=1)"
    )
    ty = torch.from_numpy(yv)
    per = F.nll_loss(logp, ty, reduction="none", **kw)
    loss = F.nll_loss(logp, ty, reduction=reduction, **kw)
    ign = -100 if ignore_index is None else ignore_index
    return make_case(
        name + SUFFIX[dtype],
        "torch",
        call,
        dtype,
        "log-probs",
        logp.numpy(),
        yv,
        "index",
        options,
        per.numpy(),
        loss.item(),
        index_denominator(yv, wlist, ign),
    )


def torch_cases():
    rng = np.random.default_rng(20241128)
    n, c = 8, 5
    x = mixed_logits(rng, (n, c))
    y = rng.integers(0, c, n)
    y[[0, 5]] = 2  # class 2 appears (for ignore_index=2)
    w = [0.5, 1.0, 2.0, 0.25, 1.5]
    y_ign = y.copy()
    y_ign[[1, 4, 6]] = -100
    soft = rng.dirichlet(np.ones(c), n)
    soft[3] = np.eye(c)[1]  # one one-hot row
    x_k1 = mixed_logits(rng, (4, 3, 5))
    y_k1 = rng.integers(0, 3, (4, 5))
    y_k1[0, 1] = y_k1[2, 4] = y_k1[3, 0] = -100
    x_k2 = mixed_logits(rng, (3, 4, 2, 3))
    y_k2 = rng.integers(0, 4, (3, 2, 3))
    y_k2[0, 0, 0] = y_k2[1, 1, 2] = y_k2[2, 0, 1] = 1
    w_k2 = [1.0, 0.5, 2.0, 3.0]
    x_inf = mixed_logits(rng, (6, 4))
    y_inf = rng.integers(0, 4, 6)
    for row in range(0, 6, 2):
        x_inf[row, (y_inf[row] + 1) % 4] = -np.inf
    x_inf[1, (y_inf[1] + 2) % 4] = x_inf[1, (y_inf[1] + 3) % 4] = -np.inf
    y_inf_ign = y_inf.copy()
    y_inf_ign[3] = -100
    x_big = np.array(
        [
            [1e4, 1e4 - 1.0, 0.0, -5.0],
            [1e4, -1e4, 3.0, 2.0],
            [1e4, 0.0, 0.0, 0.0],
            [0.3, -1.2, 2.5, 0.0],
            [-1e4, 1e4 + 0.5, 1e4, 7.0],
        ]
    )
    y_big = np.array([1, 0, 2, 3, 2])
    soft_inf = np.eye(4)[y_inf]

    # binary / multi-label
    xb = np.concatenate([mixed_logits(rng, (8,)), [40.0, -1e4]])
    tb = rng.integers(0, 2, 10).astype(float)
    tb[8], tb[9] = 0.0, 1.0  # confident-wrong extremes
    xm = mixed_logits(rng, (6, 4))
    tm = rng.integers(0, 2, (6, 4)).astype(float)
    pw_vec = [1.0, 2.0, 0.5, 4.0]
    wm = [1.0, 0.5, 2.0, 1.5]

    cases = []
    for dt in DTYPES:
        cases += [
            torch_ce("ce_plain", x, y, dt),
            torch_ce("ce_sum", x, y, dt, reduction="sum"),
            torch_ce("ce_weight", x, y, dt, weight=w),
            torch_ce("ce_weight_sum", x, y, dt, weight=w, reduction="sum"),
            torch_ce("ce_ignore_index_-100", x, y_ign, dt, ignore_index=-100),
            torch_ce("ce_ignore_index_-100_sum", x, y_ign, dt, ignore_index=-100, reduction="sum"),
            torch_ce("ce_ignore_index_2", x, y, dt, ignore_index=2),
            torch_ce("ce_label_smoothing_0.1", x, y, dt, label_smoothing=0.1),
            torch_ce("ce_label_smoothing_0.3", x, y, dt, label_smoothing=0.3),
            torch_ce("ce_label_smoothing_0.3_sum", x, y, dt, label_smoothing=0.3, reduction="sum"),
            torch_ce(
                "ce_label_smoothing_negative_-0.1",
                x,
                y,
                dt,
                label_smoothing=-0.1,
                note="torch accepts a negative label_smoothing without error (it rejects only "
                "values > 1) and then ignores it: every value equals label_smoothing=0",
            ),
            torch_ce("ce_label_smoothing_1.0", x, y, dt, label_smoothing=1.0),
            torch_ce(
                "ce_weight_ignore_smoothing",
                x,
                y_ign,
                dt,
                weight=w,
                ignore_index=-100,
                label_smoothing=0.2,
            ),
            torch_ce(
                "ce_weight_ignore_smoothing_sum",
                x,
                y_ign,
                dt,
                weight=w,
                ignore_index=-100,
                label_smoothing=0.2,
                reduction="sum",
            ),
            torch_ce(
                "ce_weight_ignore2_smoothing",
                x,
                y,
                dt,
                weight=w,
                ignore_index=2,
                label_smoothing=0.1,
            ),
            torch_ce("ce_all_ignored", x, np.full(n, -100), dt, ignore_index=-100),
            torch_ce(
                "ce_all_ignored_sum", x, np.full(n, -100), dt, ignore_index=-100, reduction="sum"
            ),
            torch_ce(
                "ce_all_ignored_weight_smoothing",
                x,
                np.full(n, -100),
                dt,
                weight=w,
                ignore_index=-100,
                label_smoothing=0.1,
            ),
            torch_ce("ce_soft_plain", x, soft, dt, target_kind="soft"),
            torch_ce("ce_soft_sum", x, soft, dt, target_kind="soft", reduction="sum"),
            torch_ce("ce_soft_weight", x, soft, dt, target_kind="soft", weight=w),
            torch_ce("ce_soft_smoothing_0.2", x, soft, dt, target_kind="soft", label_smoothing=0.2),
            torch_ce(
                "ce_soft_weight_smoothing_0.2",
                x,
                soft,
                dt,
                target_kind="soft",
                weight=w,
                label_smoothing=0.2,
            ),
            torch_ce("ce_kdim1_ignore", x_k1, y_k1, dt, ignore_index=-100),
            torch_ce("ce_kdim1_ignore_sum", x_k1, y_k1, dt, ignore_index=-100, reduction="sum"),
            torch_ce("ce_kdim2_weight_ignore1", x_k2, y_k2, dt, weight=w_k2, ignore_index=1),
            torch_ce(
                "ce_kdim2_weight_ignore1_smoothing",
                x_k2,
                y_k2,
                dt,
                weight=w_k2,
                ignore_index=1,
                label_smoothing=0.1,
            ),
            torch_ce("ce_neg_inf_nontrue", x_inf, y_inf, dt),
            torch_ce(
                "ce_neg_inf_nontrue_weight_ignore",
                x_inf,
                y_inf_ign,
                dt,
                weight=[1.0, 2.0, 0.5, 1.0],
                ignore_index=-100,
            ),
            torch_ce(
                "ce_neg_inf_nontrue_smoothing",
                x_inf,
                y_inf,
                dt,
                label_smoothing=0.1,
                note="label smoothing puts mass eps/C on the -inf classes: those rows are inf",
            ),
            torch_ce(
                "ce_neg_inf_soft_onehot",
                x_inf,
                soft_inf,
                dt,
                target_kind="soft",
                note="soft target 0 times log-prob -inf is nan in torch (no 0*log0=0 convention)",
            ),
            torch_ce("ce_large_logit_1e4", x_big, y_big, dt),
            torch_ce("ce_temperature_2.0", x, y, dt, temperature=2.0),
            torch_ce("ce_temperature_0.5", x, y, dt, temperature=0.5),
            torch_ce("ce_temperature_2.0_weight", x, y, dt, temperature=2.0, weight=w),
            torch_bce("bce_binary", xb, tb, dt),
            torch_bce("bce_binary_sum", xb, tb, dt, reduction="sum"),
            torch_bce("bce_binary_pos_weight", xb, tb, dt, pos_weight=3.0),
            torch_bce("bce_binary_pos_weight_sum", xb, tb, dt, pos_weight=3.0, reduction="sum"),
            torch_bce("bce_multilabel", xm, tm, dt),
            torch_bce("bce_multilabel_pos_weight", xm, tm, dt, pos_weight=pw_vec),
            torch_bce("bce_multilabel_weight", xm, tm, dt, weight=wm),
            torch_bce(
                "bce_multilabel_weight_pos_weight_sum",
                xm,
                tm,
                dt,
                weight=wm,
                pos_weight=pw_vec,
                reduction="sum",
            ),
            torch_nll("nll_log_softmax", x, y, dt),
            torch_nll("nll_log_softmax_weight_ignore", x, y_ign, dt, weight=w, ignore_index=-100),
            torch_nll(
                "nll_log_softmax_weight_ignore_sum",
                x,
                y_ign,
                dt,
                weight=w,
                ignore_index=-100,
                reduction="sum",
            ),
            torch_nll("nll_log_softmax_weight_ignore2", x, y, dt, weight=w, ignore_index=2),
        ]

    # Later additions draw from their own stream so the cases above never change.
    rng_k = np.random.default_rng(20250611)
    x_ks = mixed_logits(rng_k, (4, 3, 5))
    soft_ks = np.moveaxis(rng_k.dirichlet(np.ones(3), (4, 5)), -1, 1)  # (N, C, d1)
    soft_ks[1, :, 2] = np.eye(3)[0]  # one one-hot position
    for dt in DTYPES:
        cases += [
            torch_ce("ce_kdim1_soft", x_ks, soft_ks, dt, target_kind="soft"),
        ]

    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    observations = [
        observe(
            "torch",
            "torch.nn.functional.cross_entropy(x, y, label_smoothing=1.5)",
            lambda: F.cross_entropy(xt, yt, label_smoothing=1.5).item(),
        ),
        observe(
            "torch",
            "torch.nn.functional.cross_entropy(x, soft_targets, ignore_index=1)",
            lambda: F.cross_entropy(xt, torch.from_numpy(soft), ignore_index=1).item(),
        ),
        observe(
            "torch",
            "torch.nn.functional.cross_entropy(x, y_with_label_5_of_5_classes)",
            lambda: F.cross_entropy(xt, torch.full((n,), c)).item(),
        ),
    ]
    return cases, observations


# --------------------------------------------------------------------------- sklearn


def sk_case(name, p, y, dtype, *, sample_weight=None, normalize=True, note=None):
    """A ``sklearn.metrics.log_loss`` case; per_sample from one-row calls."""
    pd = as_dtype(p, dtype)
    yv = np.asarray(y, dtype=np.int64)
    labels = [0, 1] if pd.ndim == 1 else list(range(pd.shape[1]))
    eps = float(np.finfo(pd.dtype).eps)
    options = {"reduction": "mean" if normalize else "sum", "eps": eps}
    text = [("normalize", normalize), ("labels", labels)]
    sw = None
    if sample_weight is not None:
        sw = np.asarray(sample_weight, dtype=np.float64)
        options["sample_weight"] = enc(sw)
        text.append(("sample_weight", "sw"))
    call = f"sklearn.metrics.log_loss(y, x{kwargs_text(text)})"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loss = log_loss(yv, pd, normalize=normalize, sample_weight=sw, labels=labels)
    msgs = sorted({f"{w.category.__name__}: {w.message}" for w in caught})
    per = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i in range(len(yv)):
            row = log_loss(yv[i : i + 1], pd[i : i + 1], normalize=False, labels=labels)
            # sklearn rejects an all-zero sample_weight, so the weight is applied here
            per.append(row if sw is None else float(sw[i]) * row)
    den = float(sum(sw.tolist())) if sw is not None else len(yv)
    parts = [m for m in [note, *msgs] if m]
    return make_case(
        name,
        "sklearn",
        call,
        dtype,
        "probs",
        pd,
        yv,
        "binary" if pd.ndim == 1 else "index",
        options,
        per,
        loss,
        den if normalize else None,
        "; ".join(parts) or None,
    )


def sklearn_cases():
    rng = np.random.default_rng(7)
    n, c = 8, 4
    p = softmax(rng.standard_normal((n, c)) * 2.0)
    y = rng.integers(0, c, n)
    y[:4] = [0, 1, 2, 3]
    sw = [1.0, 0.5, 2.0, 0.0, 1.0, 3.0, 1.0, 0.25]
    unnorm = np.array(
        [
            [0.2, 0.2, 0.2, 0.2],  # sums to 0.8
            [0.5, 0.5, 0.5, 0.5],  # sums to 2
            [0.1, 0.6, 0.1, 0.1],  # sums to 0.9
            [0.25, 0.25, 0.25, 0.25],  # sums to 1
            [0.9, 0.9, 0.0, 0.0],  # sums to 1.8
        ]
    )
    y_unnorm = np.array([0, 3, 1, 2, 1])
    zero_one = np.array(
        [
            [0.0, 1.0, 0.0, 0.0],  # true class 1: p = 1 -> clipped to 1 - eps
            [1.0, 0.0, 0.0, 0.0],  # true class 2: p = 0 -> clipped to eps
            [0.5, 0.5, 0.0, 0.0],
            [0.0, 0.0, 0.0, 1.0],
            [0.25, 0.25, 0.25, 0.25],
        ]
    )
    y_zero_one = np.array([1, 2, 0, 3, 2])
    p1 = rng.uniform(0.05, 0.95, 8)
    y1 = rng.integers(0, 2, 8)
    y1[:2] = [0, 1]
    p1_edge = np.array([0.0, 1.0, 0.0, 1.0, 0.5, 0.999, 1e-300, 0.3])
    y1_edge = np.array([0, 1, 1, 0, 1, 1, 1, 0])

    cases = [
        sk_case("sk_plain", p, y, "float64"),
        sk_case("sk_sample_weight", p, y, "float64", sample_weight=sw),
        sk_case("sk_sample_weight_sum", p, y, "float64", sample_weight=sw, normalize=False),
        sk_case(
            "sk_unnormalised_rows",
            unnorm,
            y_unnorm,
            "float64",
            note="rows are NOT renormalised: loss is -log(clip(p[y], eps, 1-eps)) of the raw row",
        ),
        sk_case(
            "sk_zero_one_entries",
            zero_one,
            y_zero_one,
            "float64",
            note="exact 0 and 1 are clipped to [eps, 1 - eps] with eps = finfo(float64).eps",
        ),
        sk_case("sk_float32", p, y, "float32"),
        sk_case(
            "sk_float32_zero_one_entries",
            zero_one,
            y_zero_one,
            "float32",
            note="float32 input keeps float32: eps = finfo(float32).eps, 1 - eps = 0.99999988",
        ),
        sk_case("sk_binary_1d", p1, y1, "float64"),
        sk_case(
            "sk_binary_1d_zero_one",
            p1_edge,
            y1_edge,
            "float64",
            note="1-D x is P(class 1); sklearn builds [1 - x, x] and then clips",
        ),
        sk_case("sk_binary_1d_sample_weight", p1, y1, "float64", sample_weight=sw),
        sk_case("sk_sum", p, y, "float64", normalize=False),
    ]
    observations = [
        observe(
            "sklearn",
            "sklearn.metrics.log_loss([0, 1], [[0.5, 1.5], [0.2, 0.8]])",
            lambda: log_loss([0, 1], [[0.5, 1.5], [0.2, 0.8]]),
        ),
        observe(
            "sklearn",
            "sklearn.metrics.log_loss([0, 1, 1], [[0.5, 0.5, 0.0]] * 3)  # no labels=",
            lambda: log_loss([0, 1, 1], [[0.5, 0.5, 0.0]] * 3),
        ),
        observe(
            "sklearn",
            "sklearn.metrics.log_loss([0, 1], [[0.4, 0.6], [0.3, 0.7]], sample_weight=[0, 0])",
            lambda: log_loss([0, 1], [[0.4, 0.6], [0.3, 0.7]], sample_weight=[0.0, 0.0]),
        ),
    ]
    return cases, observations


# --------------------------------------------------------------------------- keras


def import_keras():
    os.environ["KERAS_BACKEND"] = "torch"
    try:
        import keras
    except ImportError as exc:  # pragma: no cover - environment problem
        raise SystemExit("keras missing: /tmp/venv-ref/bin/pip install keras") from exc
    assert keras.backend.backend() == "torch", keras.backend.backend()
    return keras


def keras_case(
    keras,
    name,
    x,
    y,
    dtype,
    *,
    sparse,
    from_logits=False,
    label_smoothing=None,
    ignore_class=None,
    sample_weight=None,
    reduction="sum_over_batch_size",
    note=None,
):
    """A keras Loss-class case; per_sample from the same class with ``reduction=None``."""
    xd = as_dtype(x, dtype)
    yv = np.asarray(y, dtype=np.int64) if sparse else as_dtype(y, dtype)
    cls = (
        keras.losses.SparseCategoricalCrossentropy
        if sparse
        else (keras.losses.CategoricalCrossentropy)
    )
    fn = "sparse_categorical_crossentropy" if sparse else "categorical_crossentropy"
    kw = {"from_logits": from_logits}
    red_name = {
        "sum_over_batch_size": "mean",
        "sum": "sum",
        "mean_with_sample_weight": "weighted_mean",
    }[reduction]
    options = {"reduction": red_name}
    if not from_logits:
        options["eps"] = float(keras.config.epsilon())
    if label_smoothing is not None:
        kw["label_smoothing"] = label_smoothing
        options["label_smoothing"] = label_smoothing
    if ignore_class is not None:
        kw["ignore_class"] = ignore_class
        options["ignore_index"] = ignore_class
    if xd.ndim > 2:
        options["class_axis"] = -1  # keras' classes are on the last axis
    call_kw = {}
    swv = None
    if sample_weight is not None:
        swv = as_dtype(sample_weight, dtype)
        call_kw["sample_weight"] = swv
        options["sample_weight"] = enc(swv)
    dtype_kw = "" if dtype == "float32" else f", dtype='{dtype}'"
    call = (
        f"keras.losses.{cls.__name__}({', '.join(f'{k}={v!r}' for k, v in kw.items())}, "
        f"reduction='{reduction}'{dtype_kw})(y, x"
        f"{', sample_weight=sw' if swv is not None else ''})"
    )
    loss = cls(reduction=reduction, dtype=dtype, **kw)(yv, xd, **call_kw)
    per = cls(reduction=None, dtype=dtype, **kw)(yv, xd, **call_kw)
    per = keras.ops.convert_to_numpy(per)
    loss = keras.ops.convert_to_numpy(loss)
    assert per.dtype == np.dtype(dtype), per.dtype
    tol_dtype = None
    if loss.dtype != np.dtype(dtype):
        tol_dtype = loss.dtype.name
        extra = f"the reduced loss comes back as {loss.dtype.name} although dtype='{dtype}'"
        note = f"{note}; {extra}" if note else extra
    if swv is None:  # the functional form gives the same per-sample values
        fkw = {k: v for k, v in kw.items() if k != "ignore_class"}
        fper = getattr(keras.losses, fn)(yv, xd, **fkw)
        fper = keras.ops.convert_to_numpy(fper)
        if ignore_class is None:
            np.testing.assert_array_equal(fper, per)
    if reduction == "mean_with_sample_weight":
        den = float(sum(float(v) for v in swv))
    elif ignore_class is not None:
        den = int(np.sum(yv != ignore_class))
    else:
        den = int(yv.size) if sparse else int(np.prod(yv.shape[:-1]))
    return make_case(
        name,
        "keras",
        call,
        dtype,
        "logits" if from_logits else "probs",
        xd,
        yv,
        "index" if sparse else "soft",
        options,
        per,
        loss.item(),
        den if reduction != "sum" else None,
        note,
        tol_dtype,
    )


def keras_bce_case(
    keras, name, x, y, dtype, *, sample_weight=None, reduction="sum_over_batch_size", note=None
):
    """A ``keras.losses.BinaryCrossentropy(from_logits=True)`` case on 1-D logits.

    Keras averages over the last axis, so 1-D ``(N,)`` input would be one sample of N elements
    (see the observations); the call therefore gets ``(N, 1)`` columns, the shape a
    ``Dense(1)`` model gives, and the case stores them as 1-D lists.
    """
    xd, yd = as_dtype(x, dtype), as_dtype(y, dtype)
    assert xd.ndim == 1
    assert yd.shape == xd.shape
    cls = keras.losses.BinaryCrossentropy
    red_name = {"sum_over_batch_size": "mean", "sum": "sum"}[reduction]
    options = {"reduction": red_name}
    call_kw = {}
    swv = None
    if sample_weight is not None:
        swv = as_dtype(sample_weight, dtype)
        call_kw["sample_weight"] = swv
        options["sample_weight"] = enc(swv)
    dtype_kw = "" if dtype == "float32" else f", dtype='{dtype}'"
    call = (
        f"keras.losses.BinaryCrossentropy(from_logits=True, reduction='{reduction}'{dtype_kw})"
        f"(y[:, None], x[:, None]{', sample_weight=sw' if swv is not None else ''})"
    )
    x2, y2 = xd[:, None], yd[:, None]
    loss = cls(from_logits=True, reduction=reduction, dtype=dtype)(y2, x2, **call_kw)
    per = cls(from_logits=True, reduction=None, dtype=dtype)(y2, x2, **call_kw)
    per = keras.ops.convert_to_numpy(per)
    loss = keras.ops.convert_to_numpy(loss)
    assert per.dtype == np.dtype(dtype), per.dtype
    assert per.shape == xd.shape, per.shape  # one value per element
    if swv is None:  # the functional form gives the same per-sample values
        fper = keras.losses.binary_crossentropy(y2, x2, from_logits=True)
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(fper), per)
    tol_dtype = None
    if loss.dtype != np.dtype(dtype):
        tol_dtype = loss.dtype.name
        extra = f"the reduced loss comes back as {loss.dtype.name} although dtype='{dtype}'"
        note = f"{note}; {extra}" if note else extra
    return make_case(
        name,
        "keras",
        call,
        dtype,
        "logits",
        xd,
        yd,
        "binary",
        options,
        per,
        loss.item(),
        len(xd) if reduction != "sum" else None,
        note,
        tol_dtype,
    )


def keras_added_cases(keras):
    """Binary and channels-last K-dim cases; their own RNG stream leaves the others unchanged."""
    rng = np.random.default_rng(20250612)
    f32, f64 = "float32", "float64"
    xb = np.concatenate([mixed_logits(rng, (8,)), [40.0, -1e4]])
    tb = rng.integers(0, 2, 10).astype(float)
    tb[8], tb[9] = 0.0, 1.0  # confident-wrong extremes
    swb = [1.0, 0.5, 2.0, 0.0, 1.0, 3.0, 1.0, 0.25, 1.0, 2.0]
    col = "x and y are passed to keras as (N, 1) columns; 1-D (N,) input is averaged to one value"
    x_k1 = mixed_logits(rng, (4, 5, 4))  # (N, d1, C)
    y_k1 = rng.integers(0, 4, (4, 5))
    y_k1[0, 1] = y_k1[2, 4] = y_k1[3, 0] = 3
    y_k1[1, 2] = 0
    x_k2 = mixed_logits(rng, (3, 2, 3, 5))  # (N, d1, d2, C)
    y_k2 = rng.integers(0, 5, (3, 2, 3))
    cases = [
        keras_bce_case(keras, "keras_bce_logits", xb, tb, f32, note=col),
        keras_bce_case(keras, "keras_bce_logits_sum", xb, tb, f32, reduction="sum", note=col),
        keras_bce_case(
            keras,
            "keras_bce_logits_sample_weight",
            xb,
            tb,
            f32,
            sample_weight=swb,
            note=f"{col}; sum_over_batch_size divides sum(sw * loss) by N, not by sum(sw)",
        ),
        keras_bce_case(
            keras,
            "keras_bce_logits_sample_weight_sum",
            xb,
            tb,
            f32,
            sample_weight=swb,
            reduction="sum",
            note=col,
        ),
    ]
    for dt in (f32, f64):
        cases += [
            keras_case(
                keras,
                "keras_sparse_logits_kdim1" + SUFFIX[dt],
                x_k1,
                y_k1,
                dt,
                sparse=True,
                from_logits=True,
            ),
            keras_case(
                keras,
                "keras_sparse_logits_kdim1_ignore_class_3" + SUFFIX[dt],
                x_k1,
                y_k1,
                dt,
                sparse=True,
                from_logits=True,
                ignore_class=3,
            ),
        ]
    cases.append(
        keras_case(
            keras, "keras_sparse_logits_kdim2_f32", x_k2, y_k2, f32, sparse=True, from_logits=True
        )
    )
    bce = keras.losses.BinaryCrossentropy
    xb32, tb32 = as_dtype(xb, f32), as_dtype(tb, f32)
    x3, t3 = np.array([[0.3], [-1.2], [2.0]]), np.array([[1.0], [0.0], [1.0]])
    observations = [
        observe(
            "keras",
            "keras.losses.BinaryCrossentropy(from_logits=True, reduction=None)(y, x)  # 1-D x, y "
            "of keras_bce_logits",
            lambda: keras.ops.convert_to_numpy(bce(from_logits=True, reduction=None)(tb32, xb32)),
        ),
        observe(
            "keras",
            "keras.losses.BinaryCrossentropy(from_logits=True, reduction='sum')(y, x)  # 1-D x, y "
            "of keras_bce_logits",
            lambda: keras.ops.convert_to_numpy(bce(from_logits=True, reduction="sum")(tb32, xb32)),
        ),
        observe(
            "keras",
            "keras.losses.BinaryCrossentropy(from_logits=True, reduction=None, dtype='float64')"
            "(y, x)  # x = [[0.3], [-1.2], [2.0]], y = [[1], [0], [1]]; exact: "
            f"{[math.log1p(math.exp(-0.3)), math.log1p(math.exp(-1.2)), math.log1p(math.exp(-2))]}",
            lambda: keras.ops.convert_to_numpy(
                bce(from_logits=True, reduction=None, dtype=f64)(t3, x3)
            ),
        ),
    ]
    return cases, observations


def keras_cases():
    keras = import_keras()
    rng = np.random.default_rng(11)
    n, c = 6, 4
    z = mixed_logits(rng, (n, c))
    p = softmax(rng.standard_normal((n, c)) * 1.5)
    y = rng.integers(0, c, n)
    y[:4] = [0, 1, 2, 3]
    onehot = np.eye(c)[y]
    soft = rng.dirichlet(np.ones(c), n)
    sw = [1.0, 0.5, 2.0, 0.0, 1.0, 3.0]
    unnorm = np.array(
        [
            [0.2, 0.2, 0.2, 0.2],
            [0.5, 0.5, 0.5, 0.5],
            [0.1, 0.6, 0.1, 0.1],
            [0.25, 0.25, 0.25, 0.25],
            [0.9, 0.9, 0.0, 0.0],
            [0.1, 0.2, 0.3, 0.1],
        ]
    )
    zero_one = np.array(
        [
            [0.0, 1.0, 0.0, 0.0],
            [1.0, 0.0, 0.0, 0.0],
            [0.5, 0.5, 0.0, 0.0],
            [0.0, 0.0, 0.0, 1.0],
            [0.25, 0.25, 0.25, 0.25],
            [0.0, 0.0, 1.0, 0.0],
        ]
    )
    y_zero_one = np.array([1, 2, 0, 3, 2, 2])
    y_ign = y.copy()
    y_ign[[1, 4]] = 3
    f32 = "float32"
    cases = [
        keras_case(keras, "keras_sparse_probs", p, y, f32, sparse=True),
        keras_case(keras, "keras_sparse_logits", z, y, f32, sparse=True, from_logits=True),
        keras_case(
            keras,
            "keras_sparse_probs_unnormalised_rows",
            unnorm,
            y,
            f32,
            sparse=True,
            note="keras divides each row by its sum before clipping (sklearn does not)",
        ),
        keras_case(
            keras,
            "keras_sparse_logits_ignore_class_3",
            z,
            y_ign,
            f32,
            sparse=True,
            from_logits=True,
            ignore_class=3,
        ),
        keras_case(
            keras,
            "keras_sparse_logits_all_ignored",
            z,
            np.full(n, 3),
            f32,
            sparse=True,
            from_logits=True,
            ignore_class=3,
            note="keras divides with divide_no_nan: all ignored gives 0, not nan as in torch",
        ),
        keras_case(keras, "keras_categorical_probs", p, onehot, f32, sparse=False),
        keras_case(
            keras, "keras_categorical_logits", z, onehot, f32, sparse=False, from_logits=True
        ),
        keras_case(
            keras, "keras_categorical_soft_logits", z, soft, f32, sparse=False, from_logits=True
        ),
        keras_case(
            keras,
            "keras_categorical_logits_label_smoothing_0.1",
            z,
            onehot,
            f32,
            sparse=False,
            from_logits=True,
            label_smoothing=0.1,
        ),
        keras_case(
            keras,
            "keras_categorical_probs_label_smoothing_0.2",
            p,
            onehot,
            f32,
            sparse=False,
            label_smoothing=0.2,
        ),
        keras_case(
            keras,
            "keras_categorical_logits_label_smoothing_negative_-0.1",
            z,
            onehot,
            f32,
            sparse=False,
            from_logits=True,
            label_smoothing=-0.1,
            note="keras accepts a negative label_smoothing without error",
        ),
        keras_case(
            keras,
            "keras_cce_sample_weight",
            z,
            onehot,
            f32,
            sparse=False,
            from_logits=True,
            sample_weight=sw,
            note="sum_over_batch_size divides sum(sw * loss) by N, not by sum(sw)",
        ),
        keras_case(
            keras,
            "keras_cce_sample_weight_sum",
            z,
            onehot,
            f32,
            sparse=False,
            from_logits=True,
            sample_weight=sw,
            reduction="sum",
        ),
        keras_case(
            keras,
            "keras_cce_sample_weight_mean_with_sample_weight",
            z,
            onehot,
            f32,
            sparse=False,
            from_logits=True,
            sample_weight=sw,
            reduction="mean_with_sample_weight",
        ),
        keras_case(
            keras,
            "keras_cce_zero_sample_weight",
            z,
            onehot,
            f32,
            sparse=False,
            from_logits=True,
            sample_weight=np.zeros(n),
        ),
        keras_case(
            keras,
            "keras_cce_zero_sample_weight_mean_with_sample_weight",
            z,
            onehot,
            f32,
            sparse=False,
            from_logits=True,
            sample_weight=np.zeros(n),
            reduction="mean_with_sample_weight",
            note="sum(sw) = 0: divide_no_nan gives 0",
        ),
        keras_case(
            keras,
            "keras_sparse_probs_zeros_clip_f32",
            zero_one,
            y_zero_one,
            f32,
            sparse=True,
            note="p = 0 -> -log(1e-7) = 16.118...; clip eps is 1e-7",
        ),
        keras_case(
            keras,
            "keras_sparse_probs_zeros_clip_f64",
            zero_one,
            y_zero_one,
            "float64",
            sparse=True,
            note="the 1e-7 clip applies in float64 too",
        ),
        keras_case(
            keras,
            "keras_categorical_probs_zeros_clip_f32",
            zero_one,
            np.eye(c)[y_zero_one],
            f32,
            sparse=False,
        ),
    ]
    yk = keras.ops.convert_to_tensor(y)
    observations = [
        observe(
            "keras",
            "keras.losses.sparse_categorical_crossentropy(y, x, label_smoothing=0.1)",
            lambda: keras.losses.sparse_categorical_crossentropy(yk, p, label_smoothing=0.1),
        ),
        observe(
            "keras",
            "keras.losses.SparseCategoricalCrossentropy(label_smoothing=0.1)",
            lambda: keras.losses.SparseCategoricalCrossentropy(label_smoothing=0.1),
        ),
    ]
    added, added_obs = keras_added_cases(keras)
    return cases + added, observations + added_obs


# --------------------------------------------------------------------------- optax


def import_optax():
    try:
        import jax
        import jax.numpy as jnp
        import optax
    except ImportError as exc:  # pragma: no cover - environment problem
        raise SystemExit("optax missing: /tmp/venv-ref/bin/pip install optax jax jaxlib") from exc
    jax.config.update("jax_enable_x64", True)
    jax.config.update("jax_platforms", "cpu")
    return jax, jnp, optax


def optax_case(mods, name, x, y, dtype, *, fn, where=None, alpha=None, note=None):
    """An optax case: per-example values and their (masked) ``jnp.mean``."""
    _, jnp, optax = mods
    xd = as_dtype(x, dtype)
    integer = fn == "softmax_cross_entropy_with_integer_labels"
    yv = np.asarray(y, dtype=np.int64) if integer else as_dtype(y, dtype)
    options = {"reduction": "mean"}
    labels = jnp.asarray(yv)
    yexpr = "y"
    if alpha is not None:
        labels = optax.smooth_labels(labels, alpha)
        options["label_smoothing"] = alpha
        yexpr = f"optax.smooth_labels(y, {alpha})"
    kw = {}
    if where is not None:
        kw["where"] = jnp.asarray(np.asarray(where, dtype=bool))
        options["where"] = [bool(v) for v in where]
    per = getattr(optax.losses, fn)(jnp.asarray(xd), labels, **kw)
    if where is None:
        loss = jnp.mean(per)
        call = f"jnp.mean(optax.losses.{fn}(x, {yexpr}))"
        den = len(yv)
    else:
        loss = jnp.mean(per, where=kw["where"])
        call = f"jnp.mean(optax.losses.{fn}(x, {yexpr}, where=mask), where=mask)"
        den = int(sum(bool(v) for v in where))
    per, loss = np.asarray(per), np.asarray(loss)
    assert per.dtype == np.dtype(dtype)
    assert loss.dtype == np.dtype(dtype)
    return make_case(
        name + SUFFIX[dtype],
        "optax",
        call,
        dtype,
        "logits",
        xd,
        yv,
        "index" if integer else ("binary" if fn == "sigmoid_binary_cross_entropy" else "soft"),
        options,
        per,
        loss.item(),
        den,
        note,
    )


def optax_cases():
    mods = import_optax()
    rng = np.random.default_rng(23)
    n, c = 7, 5
    x = mixed_logits(rng, (n, c))
    y = rng.integers(0, c, n)
    soft = rng.dirichlet(np.ones(c), n)
    mask = [True, False, True, True, False, True, True]
    x_inf = mixed_logits(rng, (5, 4))
    y_inf = rng.integers(0, 4, 5)
    for row in range(0, 5, 2):
        x_inf[row, (y_inf[row] + 1) % 4] = -np.inf
    onehot_inf = np.eye(4)[y_inf]
    ints = "softmax_cross_entropy_with_integer_labels"
    cases = []
    for dt in DTYPES:
        cases += [
            optax_case(mods, "optax_integer_labels", x, y, dt, fn=ints),
            optax_case(mods, "optax_soft_labels", x, soft, dt, fn="softmax_cross_entropy"),
            optax_case(
                mods,
                "optax_smooth_labels_0.1",
                x,
                np.eye(c)[y],
                dt,
                fn="softmax_cross_entropy",
                alpha=0.1,
            ),
            optax_case(
                mods,
                "optax_integer_labels_where_mask",
                x,
                y,
                dt,
                fn=ints,
                where=mask,
                note="where= of shape [N] masks samples: masked per-example values are 0",
            ),
            optax_case(
                mods,
                "optax_soft_labels_where_mask",
                x,
                soft,
                dt,
                fn="softmax_cross_entropy",
                where=mask,
            ),
            optax_case(mods, "optax_integer_labels_neg_inf_nontrue", x_inf, y_inf, dt, fn=ints),
            optax_case(
                mods,
                "optax_softmax_cross_entropy_neg_inf_onehot",
                x_inf,
                onehot_inf,
                dt,
                fn="softmax_cross_entropy",
                note="0 * log_softmax(-inf) is nan in softmax_cross_entropy",
            ),
            optax_case(
                mods,
                "optax_safe_softmax_cross_entropy_neg_inf_onehot",
                x_inf,
                onehot_inf,
                dt,
                fn="safe_softmax_cross_entropy",
                note="safe_softmax_cross_entropy uses 0 * log 0 = 0",
            ),
        ]
    # Later additions draw from their own stream so the cases above never change.
    rng_b = np.random.default_rng(20250613)
    xb = np.concatenate([mixed_logits(rng_b, (8,)), [40.0, -1e4]])
    tb = rng_b.integers(0, 2, 10).astype(float)
    tb[8], tb[9] = 0.0, 1.0  # confident-wrong extremes
    for dt in DTYPES:
        cases += [
            optax_case(
                mods,
                "optax_sigmoid_binary_cross_entropy",
                xb,
                tb,
                dt,
                fn="sigmoid_binary_cross_entropy",
            ),
        ]
    return cases, []


# --------------------------------------------------------------------------- main


def versions():
    import jax
    import jaxlib
    import keras
    import optax

    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "torch": torch.__version__,
        "scikit-learn": sklearn.__version__,
        "keras": keras.__version__,
        "keras_backend": keras.backend.backend(),
        "optax": optax.__version__,
        "jax": jax.__version__,
        "jaxlib": jaxlib.__version__,
    }


def to_json(obj, indent=0):
    """JSON with one line per innermost array (compact but diff-friendly); allow_nan=False."""
    pad, inner = " " * indent, " " * (indent + 1)
    if isinstance(obj, dict):
        if not obj:
            return "{}"
        items = [f"{inner}{json.dumps(k)}: {to_json(v, indent + 1)}" for k, v in obj.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(obj, list) and any(isinstance(v, list | dict) for v in obj):
        items = [inner + to_json(v, indent + 1) for v in obj]
        return "[\n" + ",\n".join(items) + "\n" + pad + "]"
    return json.dumps(obj, allow_nan=False, separators=(", ", ": "))


def main():
    """Compute all cases and write the JSON fixture."""
    torch.set_num_threads(1)
    cases, observations = [], []
    for group in (torch_cases, sklearn_cases, keras_cases, optax_cases):
        c, o = group()
        cases += c
        observations += o
    names = [c["name"] for c in cases]
    assert len(names) == len(set(names)), "duplicate case names"
    doc = {
        "generated_by": REL_OUT,
        "versions": versions(),
        "cases": cases,
        "observations": observations,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(to_json(doc) + "\n", encoding="utf-8")
    print(f"wrote {OUT} ({len(cases)} cases, {OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
