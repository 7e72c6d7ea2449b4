"""Defects found by a review of the streaming and loss-semantics work, each kept as a test."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import Result

from xentcli.core import cross_entropy
from xentcli.core.kernel import logits_nll
from xentcli.errors import DataError

Run = Callable[..., Result]
SAMPLE = Path(__file__).resolve().parent.parent / "sample_data"


def summary(result: Result) -> dict[str, Any]:
    assert result.exit_code == 0, (result.stderr, result.exception)
    return json.loads(result.stdout.splitlines()[-1])


def error(result: Result, code: int, fragment: str) -> None:
    assert result.exit_code == code, (result.exit_code, result.stderr, result.exception)
    assert fragment in result.stderr, result.stderr


def test_class_names_that_look_like_numbers_are_names(run_xent: Run, in_tmp_path: Path) -> None:
    (in_tmp_path / "x.csv").write_text("2,0,1,label\n5,0,0,2\n5,0,0,2\n5,0,0,2\n")
    s = summary(run_xent("loss", "x.csv", "--header", "--label-col", "label", "-s", "-f", "jsonl"))
    assert s["loss"] == pytest.approx(np.log1p(2 * np.exp(-5.0)), rel=1e-14)
    (in_tmp_path / "y.csv").write_text("2\n2\n2\n")
    (in_tmp_path / "z.csv").write_text("2,0,1\n5,0,0\n5,0,0\n5,0,0\n")
    s = summary(run_xent("loss", "z.csv", "--header", "-l", "y.csv", "-s", "-f", "jsonl"))
    assert s["loss"] == pytest.approx(np.log1p(2 * np.exp(-5.0)), rel=1e-14)


def test_a_labels_file_with_a_bom_keeps_its_first_label(run_xent: Run, in_tmp_path: Path) -> None:
    (in_tmp_path / "x.csv").write_text("1,2\n3,4\n")
    (in_tmp_path / "y.csv").write_bytes(b"\xef\xbb\xbf0\n1\n")
    assert summary(run_xent("loss", "x.csv", "-l", "y.csv", "-s", "-f", "jsonl"))["n"] == 2


def test_a_misspelt_first_label_is_reported_as_such(run_xent: Run, in_tmp_path: Path) -> None:
    (in_tmp_path / "x.csv").write_text("a,b\n1,2\n3,4\n")
    (in_tmp_path / "y.csv").write_text("c\n1\n")
    error(run_xent("loss", "x.csv", "-l", "y.csv"), 65, "y.csv line 1: unknown class name 'c'")


@pytest.mark.parametrize("extra", [[], ["--multi-label"]])
def test_classes_reorder_targets_with_the_scores(
    run_xent: Run, in_tmp_path: Path, extra: list[str]
) -> None:
    (in_tmp_path / "x.csv").write_text("a,b,c\n5,0,0\n0,5,0\n")
    (in_tmp_path / "t.csv").write_text("a,b,c\n1,0,0\n0,1,0\n")
    base = ["loss", "x.csv", "-l", "t.csv", "-s", "-f", "jsonl", *extra]
    plain = summary(run_xent(*base))["loss"]
    assert summary(run_xent(*base, "--classes", "c,b,a"))["loss"] == plain


def test_kdim_errors_name_the_sample_and_position(run_xent: Run, in_tmp_path: Path) -> None:
    k = np.zeros((3, 4, 2, 2))
    k[1, 0, 1, 1] = np.nan
    np.save(in_tmp_path / "k.npy", k)
    np.save(in_tmp_path / "y.npy", np.zeros((3, 2, 2), dtype=np.int64))
    error(
        run_xent("loss", "k.npy", "-l", "y.npy", "--class-axis", "1"),
        65,
        "k.npy row 1: NaN logit for class 0",
    )
    assert (
        "(at position (1, 1))"
        in run_xent("loss", "k.npy", "-l", "y.npy", "--class-axis", "1").stderr
    )


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--compat", "optax", "--sample-weight", "w.txt"], "optax has no equivalent of --sample"),
        (["--compat", "sklearn", "--ignore-index", "0"], "no equivalent of --ignore-index"),
        (["--compat", "keras", "--pos-weight", "0", "--binary"], "no equivalent of --pos-weight"),
        (["--pos-weight", "3"], "--pos-weight applies to binary and multi-label losses"),
    ],
)
def test_options_a_profile_or_loss_lacks_are_usage_errors(
    run_xent: Run, in_tmp_path: Path, args: list[str], fragment: str
) -> None:
    (in_tmp_path / "x.csv").write_text("1,2\n3,4\n")
    (in_tmp_path / "y.csv").write_text("0\n1\n")
    (in_tmp_path / "w.txt").write_text("1\n2\n")
    error(run_xent("loss", "x.csv", "-l", "y.csv", *args), 2, fragment)


def test_binary_pos_weight_takes_one_number(run_xent: Run) -> None:
    result = run_xent(
        "loss",
        SAMPLE / "binary_scores.csv",
        "-l",
        SAMPLE / "binary_labels.csv",
        "--pos-weight",
        "1,2,3",
    )
    error(result, 2, "--pos-weight has 3 values, but a binary loss has one positive class")


def test_head_zero_in_a_table_and_tsv(run_xent: Run) -> None:
    base = ["loss", SAMPLE / "logits.csv", "-l", SAMPLE / "labels.csv", "--head", "0"]
    table = run_xent(*base, "-f", "table")
    assert table.exit_code == 0, table.stderr
    assert "20 more samples not shown" in table.stdout
    tsv = run_xent(*base, "-f", "tsv").stdout
    assert tsv.startswith("index\tlabel\tpred\t")
    assert "label_name\tpred_name" in tsv


def test_the_table_counts_hidden_samples_of_the_whole_input(
    run_xent: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    from xentcli.io import blocks

    monkeypatch.setattr(blocks, "BLOCK_BYTES", 64)
    out = run_xent(
        "loss", SAMPLE / "logits.csv", "-l", SAMPLE / "labels.csv", "-f", "table", "--head", "2"
    ).stdout
    assert "18 more samples not shown" in out


def test_a_small_temperature_does_not_overflow(run_xent: Run, in_tmp_path: Path) -> None:
    (in_tmp_path / "x.csv").write_text("1e300,0\n0,1\n")
    (in_tmp_path / "y.csv").write_text("0\n1\n")
    result = run_xent("loss", "x.csv", "-l", "y.csv", "-t", "1e-10", "--probs", "-f", "jsonl")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["nll"] for r in records[:2]] == [0.0, 0.0]
    soft = run_xent("softmax", "x.csv", "-t", "1e-10")
    assert soft.stdout == "1.0,0.0\n0.0,1.0\n"


@pytest.mark.parametrize("axis", ["0", "5"])
def test_softmax_checks_the_class_axis(run_xent: Run, axis: str) -> None:
    error(run_xent("softmax", SAMPLE / "seed3.csv", "--class-axis", axis), 2, "does not fit")


def test_softmax_label_column_passes_through_every_format(run_xent: Run, in_tmp_path: Path) -> None:
    (in_tmp_path / "q.csv").write_text('a,"b,x",label\n1,2,"cat, big"\n3,1,dog\n')
    out = run_xent("softmax", "q.csv", "--label-col", "label").stdout
    assert out.splitlines()[0] == 'a,"b,x",label'
    assert out.splitlines()[1].endswith(',"cat, big"')
    rows = run_xent("softmax", "q.csv", "--label-col", "label", "-f", "jsonl").stdout.splitlines()
    assert json.loads(rows[1])["label"] == "dog"
    error(run_xent("softmax", "q.csv", "--label-col", "label", "-o", "p.npy"), 2, "holds text")


def test_kdim_class_names_must_match_the_classes(run_xent: Run) -> None:
    result = run_xent(
        "loss",
        SAMPLE / "segmentation_logits.npy",
        "-l",
        SAMPLE / "segmentation_labels.npy",
        "--class-axis",
        "1",
        "--ignore-index",
        "255",
        "--classes",
        "a,b",
    )
    error(result, 2, "2 class names for 3 classes")


def test_the_width_error_names_the_header_line(run_xent: Run, in_tmp_path: Path) -> None:
    (in_tmp_path / "x.csv").write_text("a,b\n\n\n1,2\n3,4\n5\n")
    (in_tmp_path / "y.csv").write_text("0\n1\n0\n")
    error(
        run_xent("loss", "x.csv", "-l", "y.csv"),
        65,
        "x.csv line 6: expected 2 fields (as on line 1)",
    )


def test_binary_infinite_scores_are_certain_predictions(run_xent: Run, in_tmp_path: Path) -> None:
    (in_tmp_path / "x.csv").write_text("inf\n1\n")
    (in_tmp_path / "y.csv").write_text("0\n1\n")
    result = run_xent("loss", "x.csv", "-l", "y.csv", "-s", "-f", "jsonl")
    assert "infinite score on the wrong side of 0" in result.stderr
    assert "-inf logit" not in result.stderr


def test_explain_errors_do_not_suggest_options_of_loss(run_xent: Run, in_tmp_path: Path) -> None:
    (in_tmp_path / "x.csv").write_text("1,nan\n0,1\n")
    (in_tmp_path / "y.csv").write_text("0\n1\n")
    result = run_xent("explain", "x.csv", "-l", "y.csv")
    error(result, 65, "x.csv line 1: NaN logit for class 1")
    assert "--nonfinite" not in result.stderr


@pytest.mark.parametrize("flag", [["--precision", "3"], ["--classes", "a,b,c,d,e,f,g,h,i,j"]])
def test_softmax_text_options_with_npy_output_are_usage_errors(
    run_xent: Run, in_tmp_path: Path, flag: list[str]
) -> None:
    result = run_xent("softmax", SAMPLE / "logits.npy", "-o", "p.npy", *flag)
    error(result, 2, "applies to text output; .npy output is binary")
    assert not (in_tmp_path / "p.npy").exists()


# -- review of the evaluation features (issue 6) -------------------------------------


def test_metrics_memory_does_not_grow_with_bins() -> None:
    """--metrics kept per-bin one-hot matrices (rows x bins) per block: 1.3 GB at 500
    bins. The terms are now (rows x 3) whatever the number of bins."""
    from xentcli.core.metrics import metric_terms

    rng = np.random.default_rng(0)
    x = rng.normal(size=(1000, 10))
    logp = x - np.log(np.exp(x).sum(axis=1, keepdims=True))
    y = rng.integers(0, 10, 1000)
    terms = metric_terms(x, logp, y, np.ones(1000, bool), None, 500)
    assert terms.columns.shape == (1000, 2)
    assert terms.bin_weights is not None
    assert terms.bin_weights.shape == (1000, 3)


@pytest.mark.parametrize(
    ("args", "gone"),
    [
        (("calibrate", "nan.csv", "-l", "l.csv"), "--nonfinite"),
        (("compare", "nan.csv", "nan.csv", "-l", "l.csv"), "--nonfinite"),
        (("calibrate", "p.csv", "-l", "l.csv", "-k", "probs"), "--renormalize"),
        (("explain", "nan.csv", "-l", "l.csv"), "--nonfinite"),
    ],
)
def test_hints_name_only_options_the_command_has(
    run_xent: Run, in_tmp_path: Path, args: tuple, gone: str
) -> None:
    (in_tmp_path / "nan.csv").write_text("1,nan\n0,1\n")
    (in_tmp_path / "p.csv").write_text("0.5,0.4\n0.2,0.8\n")
    (in_tmp_path / "l.csv").write_text("0\n1\n")
    r = run_xent(*args)
    assert r.exit_code == 65
    assert gone not in r.stderr


def test_loss_keeps_its_own_hints(run_xent: Run, in_tmp_path: Path) -> None:
    (in_tmp_path / "nan.csv").write_text("1,nan\n0,1\n")
    (in_tmp_path / "l.csv").write_text("0\n1\n")
    r = run_xent("loss", "nan.csv", "-l", "l.csv")
    assert r.stderr == (
        "Error: nan.csv line 1: NaN logit for class 1 (--nonfinite skip leaves such rows out)\n"
    )


def test_plot_and_output_paths_are_checked_before_the_run(run_xent: Run, tmp_path: Path) -> None:
    for opt in ("--plot", "-o"):
        r = run_xent(
            "loss",
            SAMPLE / "logits.csv",
            "-l",
            SAMPLE / "labels.csv",
            "-s",
            "-f",
            "csv",
            opt,
            tmp_path / "missing" / "x.png",
        )
        assert r.exit_code == 73
        assert r.stdout == ""
        assert "cannot create: No such file or directory" in r.stderr


def test_a_batch_error_names_the_input(run_xent: Run, tmp_path: Path) -> None:
    short = tmp_path / "short.csv"
    short.write_text("1,2\n3,4\n")
    r = run_xent("loss", SAMPLE / "logits.csv", short, "-l", SAMPLE / "labels.csv", "-f", "csv")
    assert r.exit_code == 65
    assert r.stderr.rstrip().endswith(f"(evaluating {short})")


def test_mean_entropy_and_entropy_share_units(run_xent: Run) -> None:
    args = ("loss", SAMPLE / "logits.csv", "-l", SAMPLE / "labels.csv", "-f", "json")
    bits = json.loads(run_xent(*args, "--metrics", "--extra", "--units", "bits").stdout)
    nats = json.loads(run_xent(*args, "--metrics", "--extra").stdout)
    ratio = math.log(2)
    assert bits["summary"]["mean_entropy"] == pytest.approx(
        nats["summary"]["mean_entropy"] / ratio, rel=1e-14
    )
    mean_bits = sum(s["entropy"] for s in bits["samples"]) / len(bits["samples"])
    assert bits["summary"]["mean_entropy"] == pytest.approx(mean_bits, rel=1e-12)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("--ci", "0.9", "--fail-if", "ci_ece_hi > 0.1"),
            "ci_ece_hi is reported only with --metrics",
        ),
        (("--fail-if", "ci_loss_hi > 1"), "ci_loss_hi is reported only with --ci LEVEL"),
        (("--fail-if", "top_k_accuracy < 1"), "top_k_accuracy is reported only with --top-k K"),
    ],
)
def test_gates_on_unreported_metrics_fail_before_output(
    run_xent: Run, args: tuple, message: str
) -> None:
    r = run_xent(
        "loss", SAMPLE / "logits.csv", "-l", SAMPLE / "labels.csv", "-s", "-f", "csv", *args
    )
    assert r.exit_code == 2
    assert r.stdout == ""
    assert message in r.stderr


def test_leaderboard_keeps_header_class_names_and_sorts_nan_last(
    run_xent: Run, tmp_path: Path
) -> None:
    r = run_xent(
        "loss",
        SAMPLE / "logits.csv",
        SAMPLE / "logits_b.csv",
        "-l",
        SAMPLE / "labels.csv",
        "--per-class",
        "-f",
        "json",
    )
    runs = json.loads(r.stdout)["runs"]
    assert runs[0]["summary"]["per_class"][0]["name"] == "airplane"
    from xentcli.cli.batch import Entry, sort_entries
    from xentcli.core import LossOptions, cross_entropy

    def entry(name: str, x: list, y: list) -> Entry:
        return Entry(name, cross_entropy(x, y, LossOptions(ignore_index=-100)).summary, ())

    nan = entry("nan", [[0.0, 0.0]], [-100])  # no sample counts: loss undefined
    inf = entry("inf", [[0.0, -np.inf]], [1])
    one = entry("one", [[0.0, 0.0]], [0])
    order = [e.input for e in sort_entries([nan, inf, one], "loss", desc=False)]
    assert order == ["one", "inf", "nan"]


def test_interval_bounds_that_are_not_finite_follow_compares_convention(
    run_xent: Run, tmp_path: Path
) -> None:
    logits = tmp_path / "x.csv"
    logits.write_text("0,-inf\n" + "0,0\n" * 99)
    labels = tmp_path / "y.csv"
    labels.write_text("1\n" + "0\n" * 99)
    args = ("loss", logits, "-l", labels, "-s", "--ci", "0.9", "--seed", "3")
    ci = json.loads(run_xent(*args, "-f", "json").stdout)["summary"]["ci"]
    assert ci["loss"][0] == pytest.approx(math.log(2))
    assert ci["loss"][1] is None
    assert ci["nonfinite"] == {"loss": [None, "inf"]}
    import csv
    import io

    row = next(csv.DictReader(io.StringIO(run_xent(*args, "-f", "csv").stdout)))
    assert row["ci_loss_hi"] == "inf"
    assert float(row["ci_loss_lo"]) == pytest.approx(math.log(2))


def test_uint64_labels_beyond_int64_are_out_of_range() -> None:
    from xentcli.core import LossOptions, cross_entropy
    from xentcli.errors import DataError

    labels = np.array([0, 2**64 - 1], dtype=np.uint64)  # wrapped to -1 before
    with pytest.raises(DataError, match="label 18446744073709551615 is out of range"):
        cross_entropy([[0.0, 1.0], [1.0, 0.0]], labels, LossOptions(ignore_index=-1))


def test_plus_inf_and_minus_inf_rows_in_one_chunk_are_one_data_error() -> None:
    # Review (session 4): the chunk's finiteness check summed +inf and -inf row maxima,
    # and NumPy's "invalid value" warning (an error under -W error) came before the
    # DataError naming the first bad row.
    x = np.zeros((4, 3))
    x[1] = -np.inf  # a row of -inf
    x[2, 0] = np.inf  # a +inf logit
    with pytest.raises(DataError, match=r"\+inf logit"):
        logits_nll(x, np.zeros(4, dtype=np.int64))


@pytest.mark.parametrize("n", [0, 5])
def test_the_callers_labels_stay_writable_and_apart(n: int) -> None:
    # Review (session 4): labels that need no conversion were no longer copied when they
    # shared no memory with the input, which an empty array never does: the caller's
    # array came back as result.label, made read-only.
    y = np.zeros(n, dtype=np.int64)
    r = cross_entropy(np.zeros((n, 3), dtype=np.float32), y)
    assert r.label is not y
    assert y.flags.writeable
    y[:] = 2
    assert r.label.tolist() == [0] * n


def test_a_lone_carriage_return_is_never_taken_by_the_fast_parser() -> None:
    # Review (session 4): polars (the fast parser then) read "3\r" as 3; the strict parser
    # sees a line end there (a row of one field). Since the fast parser reads every block
    # of a big file, such a file was accepted whole instead of failing at that line.
    from xentcli.io import fastparse

    block = b"1,2\n3\r,4\n"
    assert fastparse._vouched(block, ",") is None
    assert fastparse.parse_numeric_block(block, ",", 2, 0, 1 << 30) is None
    assert fastparse._vouched(b"1,2\r\n3,4\r\n", ",") == 2  # CRLF line ends are fine


def test_the_fast_parser_does_not_drop_a_delimiter_that_ends_the_input() -> None:
    # Review (session 4): polars, the fast parser then, read "3,4," at the end of a block
    # without a line end as two fields, where the strict parser finds a third, empty one.
    # Kept for pyarrow, which replaced it.
    pytest.importorskip("pyarrow")
    from xentcli.io import fastparse

    assert fastparse._with_pyarrow(b"1,2\n3,4,", ",", 2) is None
    assert fastparse.parse_numeric_block(b"1\n0\n2,", ",", 1, 9 << 20) is None
    got = fastparse._with_pyarrow(b"1,2\n3,4", ",", 2)
    assert got is not None
    assert got.tolist() == [[1.0, 2.0], [3.0, 4.0]]


def test_number_like_classes_option_names_the_label_column_on_every_line(
    run_xent: Run, in_tmp_path: Path
) -> None:
    # Review (session 4): with --classes 2,1,0 the first lines (strict parser) read the
    # label column "0" as the class named "0" (index 2), later lines (fast parser) as
    # index 0. Labels given with -l are names on every line; so must a label column be.
    rows = ["0.3,0.3,0.1", "0.5,0.1,0.2", "0.1,0.2,0.3", "0.1,0.2,0.3"]
    labels = ["0", "1", "2", "2"]
    Path("x.csv").write_text("".join(f"{r},{y}\n" for r, y in zip(rows, labels, strict=True)))
    Path("z.csv").write_text("".join(f"{r}\n" for r in rows))
    Path("y.csv").write_text("".join(f"{y}\n" for y in labels))
    col = run_xent("loss", "x.csv", "--label-col", "-1", "--classes", "2,1,0", "-f", "json")
    lab = run_xent("loss", "z.csv", "-l", "y.csv", "--classes", "2,1,0", "-f", "json")
    assert col.exit_code == 0, col.stderr
    a, b = json.loads(col.stdout), json.loads(lab.stdout)
    assert [s["label"] for s in a["samples"]] == [2, 1, 0, 0]
    assert a["samples"] == b["samples"]
    assert a["summary"] == b["summary"]


@pytest.mark.parametrize("fast_from", [0, 1 << 40])  # pyarrow for every block, or NumPy
def test_a_field_longer_than_the_limit_is_an_error_on_the_fast_path_too(
    run_xent: Run, in_tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fast_from: int
) -> None:
    # Review (session 6): the strict parser refuses a field of more than FIELD_LIMIT
    # characters; both compiled parsers read it (a 1.1 MB run of digits) as a number.
    from xentcli.io import fastparse
    from xentcli.io.text import FIELD_LIMIT

    monkeypatch.setattr(fastparse, "FAST_MIN_BYTES", fast_from)
    monkeypatch.setattr(fastparse, "FAST_MIN_FILE_BYTES", fast_from)
    long = b"0" * FIELD_LIMIT + b"1"
    (in_tmp_path / "x.csv").write_bytes(b"1,2\n" * 3 + b"5," + long + b"\n" + b"1,2\n" * 3)
    (in_tmp_path / "y.csv").write_text("0\n" * 7)
    error(run_xent("loss", "x.csv", "-l", "y.csv", "-s"), 65, "x.csv line 4: a field is longer")
    # At the limit it is read (as the strict parser does), and wide rows are not refused.
    block = b"5," + long[1:] + b"\n" + b",".join([b"1.5"] * 300_000) + b"\n"
    assert not fastparse._long_field(block, ",")
    assert fastparse._long_field(block.replace(b"5,", b"5", 1), ",")


@pytest.mark.parametrize(
    "first",
    [" 0", "0 ", "\t0", '"0"', '" 0"', "0.0 "],
    ids=["lead", "trail", "tab", "q", "qs", "f"],
)
def test_a_padded_or_quoted_first_label_is_a_label_not_a_header(
    run_xent: Run, in_tmp_path: Path, first: str
) -> None:
    # Review (session 6): the fast labels reader took any first line it could not parse
    # for a header and dropped it, where the strict reader reads " 0" or '"0"' as label 0.
    (in_tmp_path / "x.csv").write_text("1,2,3\n4,5,6\n0.5,-inf,2\n")
    (in_tmp_path / "y.csv").write_text(f"{first}\n1\n2\n")
    (in_tmp_path / "z.csv").write_text("0\n1\n2\n")
    got = summary(run_xent("loss", "x.csv", "-l", "y.csv", "-s", "-f", "json"))
    want = summary(run_xent("loss", "x.csv", "-l", "z.csv", "-s", "-f", "json"))
    assert got == want


@pytest.mark.parametrize(
    ("label", "message"),
    [("1.50", "label '1.50' is not a whole number"), ("5e18", "label 5e18 is out of range")],
)
@pytest.mark.parametrize("where", ["file", "streamed file", "column"])
def test_a_bad_label_read_fast_is_reported_as_the_strict_reader_words_it(
    run_xent: Run,
    in_tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    label: str,
    message: str,
    where: str,
) -> None:
    # Review (session 6): a fractional label read by a fast path was reported from its
    # float value ("label 1.5 ..., 2 more labels ..."), the strict reader quotes the
    # token ("label '1.5' ..."). The fast paths now hand such blocks to the strict reader.
    from xentcli.io import blocks, fastparse, inputs, labels

    monkeypatch.setattr(fastparse, "FAST_MIN_BYTES", 0)
    monkeypatch.setattr(blocks, "BLOCK_BYTES", 64)
    monkeypatch.setattr(inputs, "STREAM_LABELS_BYTES", 0)
    monkeypatch.setattr(labels, "LABEL_BLOCK", 16)
    ys = ["0", "1", "2"] * 10
    ys[17] = ys[25] = label
    rows = [f"{0.5 * i},{-i},{i % 3 + 0.25}" for i in range(30)]
    if where == "column":
        text = "".join(f"{r},{y}\n" for r, y in zip(rows, ys, strict=True))
        (in_tmp_path / "x.csv").write_text(text)
        args = ["loss", "x.csv", "--label-col", "-1", "-s"]
    else:
        (in_tmp_path / "x.csv").write_text("".join(r + "\n" for r in rows))
        (in_tmp_path / "y.csv").write_text("\n".join(ys) + "\n")
        if where == "file":
            monkeypatch.setattr(inputs, "STREAM_LABELS_BYTES", 1 << 30)
        args = ["loss", "x.csv", "-l", "y.csv", "-s"]
    result = run_xent(*args)
    error(result, 65, f"line 18: {message}")
    assert "more" not in result.stderr
