"""The loss options and the input-safety options from the command line: their values,
their warnings and their errors (the numbers against the libraries are in
test_loss_semantics.py and test_cli_semantics.py)."""

from __future__ import annotations

import io
import json
import math
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import Result

from xentcli.io import npy as npy_module

Run = Callable[..., Result]
SAMPLE = Path(__file__).resolve().parent.parent / "sample_data"
BASE = ["loss", SAMPLE / "logits.csv", "-l", SAMPLE / "labels.csv"]


def doc(result: Result) -> dict[str, Any]:
    assert result.exit_code == 0, (result.exit_code, result.stderr, result.exception)
    return json.loads(result.stdout)


def one_error(result: Result, code: int, fragment: str) -> None:
    assert result.exit_code == code, (result.exit_code, result.stderr, result.exception)
    assert result.stdout == ""
    assert result.stderr.startswith("Error: ")
    assert result.stderr.count("\n") == 1, result.stderr
    assert fragment in result.stderr, result.stderr


def only_warning(result: Result, fragment: str) -> None:
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Warning: "), result.stderr
    assert fragment in lines[0], result.stderr


# --- --nonfinite ------------------------------------------------------------------------


NONFINITE = "a,b,c\n0,1,2\nnan,1,2\n1,inf,3\n1,2,nan\n4,5,6\n-inf,-inf,-inf\n"
NONFINITE_LABELS = "0\n1\n2\n0\n1\n2\n"


def test_nonfinite_is_an_error_naming_rows_and_the_count(run_xent: Run, in_tmp_path: Path) -> None:
    (in_tmp_path / "x.csv").write_text(NONFINITE)
    (in_tmp_path / "y.csv").write_text(NONFINITE_LABELS)
    one_error(
        run_xent("loss", "x.csv", "-l", "y.csv"),
        65,
        "x.csv line 3: NaN logit for class 0; 1 more row contains NaN (--nonfinite skip "
        "leaves such rows out) [also at line 5]",
    )


def test_nonfinite_skip_leaves_rows_out_counts_and_warns(run_xent: Run, in_tmp_path: Path) -> None:
    (in_tmp_path / "x.csv").write_text(NONFINITE)
    (in_tmp_path / "y.csv").write_text(NONFINITE_LABELS)
    result = run_xent("loss", "x.csv", "-l", "y.csv", "--nonfinite", "skip", "-f", "json")

    d = doc(result)
    only_warning(result, "skipped 4 row(s) with non-finite input (x.csv line 3, x.csv line 4")
    assert [s["index"] for s in d["samples"]] == [0, 4]
    assert d["summary"]["skipped"] == 4
    assert d["summary"]["n"] == 2
    want = np.mean(
        [math.log(sum(map(math.exp, [0, 1, 2]))) - 0, math.log(sum(map(math.exp, [4, 5, 6]))) - 5]
    )
    assert d["summary"]["loss"] == pytest.approx(want, rel=1e-15)
    assert d["summary"]["options"] == {"nonfinite": "skip"}


def test_every_row_skipped_gives_null_or_the_chosen_empty_value(
    run_xent: Run, in_tmp_path: Path
) -> None:
    (in_tmp_path / "x.csv").write_text("nan,1\n1,inf\n")
    (in_tmp_path / "y.csv").write_text("0\n1\n")
    args = ["loss", "x.csv", "-l", "y.csv", "--nonfinite", "skip", "-s", "-f", "json"]
    result = run_xent(*args)
    s = doc(result)["summary"]
    assert s["loss"] is None
    assert s["nonfinite"]["loss"] == "nan"
    assert "no sample counts towards the mean" in result.stderr
    assert doc(run_xent(*args, "--empty", "zero"))["summary"]["loss"] == 0.0
    one_error(run_xent(*args, "--empty", "error"), 65, "the mean loss is undefined")


# --- --max-errors -------------------------------------------------------------------------


BAD_ROWS = "a,b\n" + "".join(f"{i},x\n" for i in range(9))


@pytest.mark.parametrize(
    ("max_errors", "tail"),
    [
        (
            [],
            "8 more bad rows [also at line 3, column 2; line 4, column 2; line 5, column 2; "
            "line 6, column 2; ...]",
        ),
        (["--max-errors", "2"], "8 more bad rows [also at line 3, column 2; ...]"),
        (["--max-errors", "1"], "8 more bad rows\n"),
    ],
)
def test_max_errors_names_that_many_places(
    run_xent: Run, in_tmp_path: Path, max_errors: list[str], tail: str
) -> None:
    (in_tmp_path / "x.csv").write_text(BAD_ROWS)
    (in_tmp_path / "y.csv").write_text("0\n" * 9)
    result = run_xent("loss", "x.csv", "-l", "y.csv", *max_errors)
    one_error(result, 65, "Error: x.csv line 2, column 2: 'x' is not a number; " + tail)


def test_max_errors_for_labels_checked_in_the_core(run_xent: Run, in_tmp_path: Path) -> None:
    (in_tmp_path / "y.csv").write_text("label\n" + "".join(f"{i}\n" for i in range(20)))
    result = run_xent("loss", SAMPLE / "logits.csv", "-l", "y.csv", "--max-errors", "3")
    one_error(
        result,
        65,
        "y.csv line 12: label 10 is out of range for 10 classes (valid: 0..9); 9 more labels "
        "are out of range [also at line 13; line 14; ...]",
    )


# --- internal errors and --debug ---------------------------------------------------------


def boom(*args: object, **kwargs: object) -> None:
    raise RuntimeError("boom\nsecond line")


def test_an_internal_error_is_one_line_and_exit_70(
    run_xent: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("XENT_DEBUG", raising=False)
    monkeypatch.setattr("xentcli.cli.run.cross_entropy", boom)
    one_error(
        run_xent(*BASE),
        70,
        "Error: internal error (RuntimeError: boom second line). This is a bug in xent: "
        "please report it with the output of the same command run with --debug",
    )


@pytest.mark.parametrize("how", ["flag", "env"])
def test_debug_shows_the_traceback(
    run_xent: Run, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    monkeypatch.setattr("xentcli.cli.run.cross_entropy", boom)
    if how == "env":
        monkeypatch.setenv("XENT_DEBUG", "1")
        result = run_xent(*BASE)
    else:
        monkeypatch.delenv("XENT_DEBUG", raising=False)
        result = run_xent(*BASE, "--debug")
    assert isinstance(result.exception, RuntimeError)
    assert result.exit_code == 1


def test_explain_maps_internal_errors_too(run_xent: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("XENT_DEBUG", raising=False)
    monkeypatch.setattr("xentcli.cli.explain.explain", boom)
    one_error(run_xent("explain"), 70, "internal error (RuntimeError: boom second line)")


# --- NPZ caps -------------------------------------------------------------------------------


def npz_bytes(**arrays: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    return buf.getvalue()


def test_npz_zip_bomb_is_refused(
    run_xent: Run, in_tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Zeros compress about 1000:1; the check applies above RATIO_CHECK_BYTES (lowered here
    # so the test stays small).
    monkeypatch.setattr(npy_module, "RATIO_CHECK_BYTES", 1 << 16)
    (in_tmp_path / "x.npz").write_bytes(
        npz_bytes(logits=np.zeros((1000, 20)), labels=np.zeros(1000, dtype=np.int64))
    )
    one_error(run_xent("loss", "x.npz"), 65, "x.npz: member 'logits.npy' expands")
    assert "looks like a zip bomb" in run_xent("loss", "x.npz").stderr


def test_npz_member_larger_than_the_memory_cap_is_refused(
    run_xent: Run, in_tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(npy_module, "max_member_bytes", lambda: 1000)
    (in_tmp_path / "x.npz").write_bytes(npz_bytes(logits=np.ones((100, 3)), labels=np.zeros(100)))
    one_error(run_xent("loss", "x.npz"), 65, "more than the 1000-byte limit")


def test_npz_with_too_many_members_is_refused(
    run_xent: Run, in_tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(npy_module, "MAX_MEMBERS", 3)
    arrays = {f"a{i}": np.zeros(2) for i in range(4)}
    (in_tmp_path / "x.npz").write_bytes(npz_bytes(**arrays))
    one_error(run_xent("loss", "x.npz"), 65, "the archive has 4 members, more than the 3")


def test_npz_member_whose_header_lies_about_its_size(run_xent: Run, in_tmp_path: Path) -> None:
    buf = io.BytesIO()
    np.save(buf, np.ones((4, 3)))
    payload = buf.getvalue()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("logits.npy", payload)
    data = bytearray(out.getvalue())
    # Shrink the declared uncompressed size in the central directory and local header.
    size = len(payload).to_bytes(4, "little")
    smaller = (len(payload) - 16).to_bytes(4, "little")
    data = bytearray(bytes(data).replace(size, smaller))
    (in_tmp_path / "x.npz").write_bytes(bytes(data))
    result = run_xent("loss", "x.npz", "-l", SAMPLE / "labels.csv")
    assert result.exit_code == 65, result.stderr
    assert result.stderr.startswith("Error: x.npz")
    assert "Traceback" not in result.stderr


# --- option values ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "code", "fragment"),
    [
        (["--label-smoothing", "-0.1"], 2, "--label-smoothing -0.1 must be between 0 and 1"),
        (["--label-smoothing", "1.5"], 2, "--label-smoothing 1.5 must be between 0 and 1"),
        (["--temperature", "0"], 2, "--temperature 0.0 must be a positive finite number"),
        (["--temperature", "inf"], 2, "--temperature inf must be a positive finite number"),
        (["--weight", "1,2"], 2, "--weight has 2 values but the input has 10 classes"),
        (["--weight", "1,a"], 2, "--weight '1,a': 'a' is not a number, and no file has that name"),
        (["--weight", ",".join(["1"] * 9 + ["-1"])], 2, "class weights must be finite and non-neg"),
        (["--clip", "1e-7"], 2, "--clip applies to probabilities"),
        (["--renormalize"], 2, "--renormalize applies to --input-kind probs or log-probs"),
        (
            ["--compat", "sklearn", "--weight", "1"],
            2,
            "--compat sklearn: scikit-learn's log_loss has no equivalent of --weight",
        ),
        (["--compat", "keras", "--weight", ",".join(["1"] * 10)], 2, "Keras has no equivalent"),
        (["--binary", "--multi-label"], 2, "--binary and --multi-label exclude each other"),
        (["--pos-weight", "-1", "--multi-label"], 2, "--pos-weight -1.0: positive-class weights"),
        (["--binary"], 65, "--binary needs one score per sample"),
        (["--class-axis", "0"], 2, "--class-axis 0 does not fit samples of shape (10,)"),
        (["--reduction", "avg"], 2, "Invalid value for '--reduction'"),
        (["--compat", "jax"], 2, "Invalid value for '--compat'"),
        (["--sample-weight", "1,2"], 65, "--sample-weight has 2 weights but the input has 20"),
        (["--sample-weight", "nope.csv"], 2, "'nope.csv' is not a number, and no file has that"),
    ],
)
def test_bad_option_values(run_xent: Run, args: list[str], code: int, fragment: str) -> None:
    result = run_xent(*BASE, *args)
    assert result.exit_code == code, (result.stderr, result.exception)
    assert result.stdout == ""
    assert fragment in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def test_negative_sample_weight_names_its_row(run_xent: Run, in_tmp_path: Path) -> None:
    (in_tmp_path / "sw.txt").write_text("\n".join(["1"] * 5 + ["-2"] + ["1"] * 14) + "\n")
    one_error(
        run_xent(*BASE, "--sample-weight", "sw.txt"),
        65,
        "sample weights row 5: sample weight -2.0 is not a finite non-negative number",
    )


# --- values -------------------------------------------------------------------------------


def test_units_bits_divide_every_log_by_ln2(run_xent: Run) -> None:
    nats = doc(run_xent(*BASE, "-f", "json"))
    bits = doc(run_xent(*BASE, "-f", "json", "--units", "bits"))
    for a, b in zip(nats["samples"], bits["samples"], strict=True):
        assert b["nll"] == pytest.approx(a["nll"] / math.log(2), rel=1e-15)
        assert b["log_p_true"] == pytest.approx(a["log_p_true"] / math.log(2), rel=1e-15)
        assert b["p_true"] == a["p_true"]
    for k in ("loss", "sum_nll", "log_likelihood"):
        assert bits["summary"][k] == pytest.approx(nats["summary"][k] / math.log(2), rel=1e-15)
    assert bits["summary"]["perplexity"] == nats["summary"]["perplexity"]
    assert bits["summary"]["units"] == "bits"


def test_sample_weights_from_a_column_of_text_or_npy(run_xent: Run, in_tmp_path: Path) -> None:
    (in_tmp_path / "x.csv").write_text("w,a,b,label\n1,0.5,0.1,0\n2,0.1,2,1\n0,5,1,1\n")
    x = np.array([[1, 0.5, 0.1, 0], [2, 0.1, 2, 1], [0, 5, 1, 1]])
    np.save(in_tmp_path / "x.npy", x)
    nll = [
        math.log(math.exp(0.5) + math.exp(0.1)) - 0.5,
        math.log(math.exp(0.1) + math.exp(2)) - 2,
    ]
    want = (1 * nll[0] + 2 * nll[1]) / 3
    for args in (
        ["x.csv", "--label-col", "label", "--sample-weight-col", "w"],
        ["x.npy", "--label-col", "-1", "--sample-weight-col", "0"],
    ):
        s = doc(run_xent("loss", *args, "-s", "-f", "json"))["summary"]
        assert s["loss"] == pytest.approx(want, rel=1e-14)
        assert s["denominator"] == 3.0
        assert s["options"] == {"sample_weight": True}


def test_probs_input_checks_rows_and_reports_zero_probability(
    run_xent: Run, in_tmp_path: Path
) -> None:
    (in_tmp_path / "p.csv").write_text("0.5,0.5\n0.2,0.7\n0.0,1.0\n")
    (in_tmp_path / "y.csv").write_text("0\n1\n0\n")
    base = ["loss", "p.csv", "-l", "y.csv", "--input-kind", "probs"]
    one_error(
        run_xent(*base),
        65,
        "p.csv line 2: the probabilities of this row have sum 0.8999999999999999, not 1 "
        "(tolerance 1e-06; 1 row(s) out of tolerance, this is the worst); --renormalize",
    )
    result = run_xent(*base, "--renormalize", "-f", "json")
    d = doc(result)
    assert d["samples"][1]["p_true"] == pytest.approx(0.7 / 0.9, rel=1e-15)
    assert d["samples"][2]["nll"] is None
    assert d["samples"][2]["nonfinite"]["nll"] == "inf"
    only_warning(result, "1 sample(s) give the true class probability 0, so their loss is infinite")
    clipped = doc(run_xent(*base, "--renormalize", "--clip", "1e-12", "-f", "json"))
    assert clipped["samples"][2]["nll"] == pytest.approx(-math.log(1e-12), rel=1e-15)


def test_multi_label_records_list_the_classes_that_are_on(run_xent: Run, in_tmp_path: Path) -> None:
    (in_tmp_path / "x.csv").write_text("cat,dog,bird\n2,-1,0.5\n-3,1,4\n")
    (in_tmp_path / "y.csv").write_text("1,0,0\n0,1,1\n")
    base = ["loss", "x.csv", "-l", "y.csv", "--multi-label"]
    d = doc(run_xent(*base, "-f", "json"))
    first, second = d["samples"]
    assert first["label"] == [0]
    assert first["pred"] == [0, 2]
    assert first["label_name"] == ["cat"]
    assert first["pred_name"] == ["cat", "bird"]
    assert second["label"] == [1, 2] == second["pred"]

    def softplus(z: float) -> float:
        return math.log1p(math.exp(-abs(z))) + max(z, 0.0)

    want0 = softplus(-2) + softplus(-1) + softplus(0.5)
    assert first["nll"] == pytest.approx(want0, rel=1e-15)
    s = d["summary"]
    assert s["task"] == "multilabel"
    assert s["denominator"] == 6.0
    assert s["accuracy"] == 0.5
    rows = run_xent(*base, "-f", "csv").stdout.splitlines()
    assert rows[1].startswith("0,0,0 2,")


def test_soft_targets_from_a_csv(run_xent: Run, in_tmp_path: Path) -> None:
    (in_tmp_path / "x.csv").write_text("1,2,3\n0,0,0\n")
    (in_tmp_path / "t.csv").write_text("0.25,0.25,0.5\n0,1,0\n")
    d = doc(run_xent("loss", "x.csv", "-l", "t.csv", "-f", "json"))
    lse = math.log(math.exp(1) + math.exp(2) + math.exp(3))
    want0 = -(0.25 * (1 - lse) + 0.25 * (2 - lse) + 0.5 * (3 - lse))
    assert d["samples"][0]["nll"] == pytest.approx(want0, rel=1e-15)
    assert d["samples"][0]["label"] == 2
    assert d["samples"][1]["nll"] == pytest.approx(math.log(3), rel=1e-15)
    assert d["summary"]["task"] == "multiclass-soft"


def test_a_table_shows_the_loss_column_when_it_differs_from_nll(run_xent: Run) -> None:
    plain = run_xent(*BASE, "-f", "table", "--head", "2").stdout
    weighted = run_xent(*BASE, "-f", "table", "--head", "2", "--label-smoothing", "0.1").stdout
    assert "loss " not in plain.split("Summary")[0]
    assert "loss " in weighted.split("Summary")[0]
    assert "label-smoothing=0.1" in weighted
