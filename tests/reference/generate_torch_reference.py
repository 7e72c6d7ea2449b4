"""Write tests/fixtures/torch_reference.json: PyTorch cross-entropy reference values.

Run from the repository root with an environment that has torch and numpy::

    python tests/reference/generate_torch_reference.py

Sample data is read with numpy only (xentcli is deliberately not imported). Each case records
the inputs and torch.nn.functional.cross_entropy results (per-sample ``nll``, mean ``loss``,
``sum``), ``log_softmax`` and argmax ``accuracy``. Computation is float64 unless the case's
``dtype`` is "float32"; float32 cases also carry ``nll_float64`` (same values upcast first).
Every case also has ``nll_exact``: the per-sample loss computed with mpmath at 100 digits and
rounded to float64. Torch computes ``logsumexp(x) - x[label]``, which cancels: for very
confident rows it returns 0.0 (printed as -0.0) where the exact loss is ~1e-18.

JSON encoding: floats use Python's repr (round-trip exact). NaN/Infinity are never written
(``allow_nan=False``); a -inf logit is encoded as the string "-inf" (top-level field
``"neg_inf_encoding": "-inf string"``), and a -inf log_softmax entry is encoded the same way.
Decode with ``float(v)`` for every element.
"""

import json
import platform
from pathlib import Path

import mpmath
import numpy as np
import torch
import torch.nn.functional as F

SAMPLE = Path("sample_data")
OUT = Path("tests/fixtures/torch_reference.json")
NEG_INF = "-inf"


def encode(values):
    """Nested lists of Python floats, with -inf replaced by the string "-inf"."""
    out = np.asarray(values, dtype=np.float64).tolist()

    def fix(v):
        if isinstance(v, list):
            return [fix(x) for x in v]
        if v == float("-inf"):
            return NEG_INF
        return v

    return fix(out)


def torch_ce(logits, labels, dtype):
    """Per-sample nll, mean, sum and log-softmax computed by torch in the given dtype."""
    x = torch.from_numpy(np.asarray(logits)).to(dtype)
    y = torch.from_numpy(np.asarray(labels, dtype=np.int64))
    nll = F.cross_entropy(x, y, reduction="none")
    mean = F.cross_entropy(x, y, reduction="mean").item()
    total = F.cross_entropy(x, y, reduction="sum").item()
    return nll.numpy(), mean, total, F.log_softmax(x, dim=1).numpy()


def exact_nll(logits, labels):
    """Per-sample cross-entropy in 100-digit arithmetic, rounded to float64.

    Written as ``log1p(sum_{j != argmax} exp(x_j - m)) + (m - x_y)`` so that a loss as
    small as 1e-300 keeps all its digits: ``log(sum(exp(x)))`` at fixed precision would
    need over 300 digits to tell ``1 + 1e-300`` from 1.
    """
    out = []
    with mpmath.workdps(100):
        for row, t in zip(np.asarray(logits, dtype=np.float64).tolist(), labels, strict=True):
            xs = [mpmath.mpf(v) for v in row]
            k = max(range(len(xs)), key=lambda j: xs[j])
            m = xs[k]
            rest = mpmath.fsum(mpmath.exp(v - m) for j, v in enumerate(xs) if j != k)
            out.append(float(mpmath.log1p(rest) + (m - xs[t])))
    return out


def make_case(name, logits, labels, dtype="float64"):
    """Build one JSON case from numpy logits (converted to ``dtype``) and integer labels."""
    logits = np.asarray(logits, dtype=np.dtype(dtype))
    labels = np.asarray(labels, dtype=np.int64)
    nll, mean, total, logp = torch_ce(logits, labels, getattr(torch, dtype))
    case = {
        "name": name,
        "dtype": dtype,
        "logits": encode(logits),
        "labels": labels.tolist(),
        "nll": encode(nll),
        "loss": mean,
        "sum": total,
        "nll_exact": exact_nll(logits, labels.tolist()),
        "log_softmax": encode(logp),
        "accuracy": float(np.mean(logits.argmax(axis=1) == labels)),
    }
    if dtype == "float32":
        case["nll_float64"] = encode(torch_ce(logits, labels, torch.float64)[0])
    return case


def build_cases():
    """All reference cases, in a fixed order."""
    cases = [
        make_case("sample_logits", np.load(SAMPLE / "logits.npy"), np.load(SAMPLE / "labels.npy")),
        make_case(
            "seed3",
            np.loadtxt(SAMPLE / "seed3.csv", delimiter=",", ndmin=2),
            np.loadtxt(SAMPLE / "seed3_labels.csv", dtype=np.int64, ndmin=1),
        ),
    ]
    rng = np.random.default_rng(1)
    cases.append(make_case("random_small", rng.standard_normal((50, 7)), rng.integers(0, 7, 50)))
    cases.append(
        make_case("random_scaled_100", rng.standard_normal((40, 5)) * 100, rng.integers(0, 5, 40))
    )

    big = rng.uniform(-1e4, 1e4, size=(30, 6))
    big = np.vstack([big, 1e4 + rng.uniform(-1.0, 1.0, size=(1, 6))])  # all entries ~1e4 +- 1
    cases.append(make_case("large_magnitude_1e4", big, rng.integers(0, 6, 31)))

    x = rng.standard_normal((10, 4))
    y = rng.integers(0, 4, 10)
    for row in range(0, 10, 2):  # every other row: one wrong class -> -inf
        x[row, (y[row] + 1) % 4] = -np.inf
    x[1, (y[1] + 2) % 4] = -np.inf  # row 1: two wrong classes -> -inf
    x[1, (y[1] + 3) % 4] = -np.inf
    cases.append(make_case("neg_inf_wrong_class", x, y))

    x32 = (rng.standard_normal((64, 10)) * 3).astype(np.float32)
    cases.append(make_case("float32_random", x32, rng.integers(0, 10, 64), dtype="float32"))

    tiny = np.array(
        [
            [40.0, 0.0, -3.0],
            [41.0, 1.0, -2.0],
            [42.0, -1.0, 0.5],
            [45.0, 2.0, -4.0],
            [40.0, -3.0, 0.0],
        ]
    )
    cases.append(make_case("confident_tiny_nll", tiny, np.zeros(5, dtype=np.int64)))
    return cases


def main():
    """Compute all cases and write the JSON fixture."""
    torch.set_num_threads(1)
    doc = {
        "generator": "tests/reference/generate_torch_reference.py",
        "torch_version": torch.__version__,
        "numpy_version": np.__version__,
        "python_version": platform.python_version(),
        "neg_inf_encoding": "-inf string",
        "cases": build_cases(),
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(doc, indent=1, allow_nan=False) + "\n", encoding="utf-8")
    print(f"wrote {OUT} ({len(doc['cases'])} cases)")


if __name__ == "__main__":
    main()
