"""The library reference cases again, through the command line, from every input format.

Each case of ``tests/fixtures/loss_semantics.json`` is written as CSV, TSV and whitespace
text (when it is at most 2-D), ``.npy`` files and one ``.npz`` archive; its options become
command-line flags (the README option table's spelling), and ``xent loss -f json`` must
report the library's reduced loss.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from test_loss_semantics import CASES, REJECTED, inputs, number, tolerance, translate
from typer.testing import Result

from xentcli import LossOptions

Run = Callable[..., Result]

FLAGS = {
    "reduction": "--reduction",
    "weight": "--weight",
    "ignore_index": "--ignore-index",
    "label_smoothing": "--label-smoothing",
    "temperature": "--temperature",
    "input_kind": "--input-kind",
    "compat": "--compat",
    "empty": "--empty",
    "pos_weight": "--pos-weight",
    "class_axis": "--class-axis",
}


def flags(opts: LossOptions) -> list[str]:
    out: list[str] = []
    for key, value in opts.changed().items():
        if key == "task":
            out.append("--multi-label" if value == "multilabel" else "--binary")
        elif isinstance(value, list):
            out += [FLAGS[key], ",".join(repr(v) for v in value)]
        else:
            out += [FLAGS[key], str(value)]
    return out


def write_text(path: Path, array: np.ndarray, delimiter: str) -> None:
    rows = array.reshape(len(array), -1).tolist() if array.ndim else [[array.item()]]
    path.write_text("".join(delimiter.join(repr(v) for v in row) + "\n" for row in rows))


def dtype_specific(case: dict[str, Any]) -> bool:
    # Text is read as float64, so clipping at float32's epsilon cannot be reproduced from it.
    return case["library"] == "sklearn" and case["dtype"] == "float32"


PARAMS = [
    pytest.param(name, fmt, id=f"{name}-{fmt}")
    for name in sorted(set(CASES) - REJECTED)
    for fmt in ("csv", "tsv", "txt", "npy", "npz")
    if fmt in ("npy", "npz")
    or (np.ndim(CASES[name]["inputs"]) <= 2 and not dtype_specific(CASES[name]))
]


@pytest.mark.parametrize(("name", "fmt"), PARAMS)
def test_library_reference_from_the_command_line(
    name: str, fmt: str, run_xent: Run, tmp_path: Path
) -> None:
    case = CASES[name]
    opts, sw = translate(case)
    x, t = inputs(case)
    logits, labels = tmp_path / f"logits.{fmt}", tmp_path / f"labels.{fmt}"
    given: list[object] = [logits, "-l", labels]
    if fmt == "npy":
        np.save(logits, x)
        np.save(labels, t)
    elif fmt == "npz":
        np.savez(logits, logits=x, labels=t)  # one archive, labels found in it
        given = [logits]
    else:
        delimiter = {"csv": ",", "tsv": "\t", "txt": " "}[fmt]
        write_text(logits, x, delimiter)
        write_text(labels, t, delimiter)
    args = ["loss", *given, "-s", "-f", "json", *flags(opts)]
    if sw is not None:
        np.save(tmp_path / "sw.npy", sw)
        args += ["--sample-weight", tmp_path / "sw.npy"]

    result = run_xent(*args)

    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)["summary"]
    want = number(case["expected"]["loss"])
    got = summary["loss"]
    if math.isnan(want):
        assert got is None
        assert summary["nonfinite"]["loss"] == "nan"
        assert "Warning: " in result.stderr
    elif math.isinf(want):
        assert got is None
        assert summary["nonfinite"]["loss"] == ("inf" if want > 0 else "-inf")
    else:
        tol = tolerance(case)
        if "comes back as float32" in case.get("note", ""):
            tol = {"rel": 1e-7, "abs": 1e-7}
        assert got == pytest.approx(want, **tol)
    assert summary["options"] == opts.changed() | (
        {"sample_weight": True} if sw is not None else {}
    )
