"""``xent loss`` through the command line: inputs, options and every output format.

The numbers are checked against the PyTorch reference in ``tests/fixtures`` once
(:func:`test_sample_logits_match_torch_reference`); every other way of feeding the same
data must then give exactly the same output as the clean ``sample_data`` files.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import shlex
import subprocess
import sys
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import typer.main
from typer.testing import Result

from xentcli.cli import app

SAMPLE = Path(__file__).resolve().parent.parent / "sample_data"
REFERENCE = Path(__file__).resolve().parent / "fixtures" / "torch_reference.json"
LOGITS_CSV = SAMPLE / "logits.csv"
LABELS_CSV = SAMPLE / "labels.csv"

CLEAN_TEXT = LOGITS_CSV.read_text(encoding="utf-8")
HEADER, *ROWS = CLEAN_TEXT.splitlines()
CLASSES = tuple(HEADER.split(","))
LABELS = [int(t) for t in LABELS_CSV.read_text(encoding="utf-8").split()[1:]]
SAMPLE_FIELDS = ["index", "label", "pred", "p_true", "log_p_true", "nll", "loss"]
NAME_FIELDS = ["label_name", "pred_name"]
SUMMARY_FIELDS = [
    "n",
    "n_classes",
    "task",
    "loss",
    "reduction",
    "denominator",
    "sum_nll",
    "log_likelihood",
    "perplexity",
    "accuracy",
    "units",
    "compat",
    "ignored",
    "skipped",
    "options",
]
Run = Callable[..., Result]


def reference_case(name: str) -> dict[str, Any]:
    cases = json.loads(REFERENCE.read_text(encoding="utf-8"))["cases"]
    return next(c for c in cases if c["name"] == name)


def _reject_constant(token: str) -> None:
    raise AssertionError(f"non-standard JSON token {token}")


def strict_json(text: str) -> Any:
    """``json.loads`` that fails on ``NaN``, ``Infinity`` and ``-Infinity``."""
    return json.loads(text, parse_constant=_reject_constant)


def ok(result: Result, warning: str | None = None) -> str:
    """The stdout of a successful run that wrote nothing to stderr (or one warning line
    containing ``warning``)."""
    assert result.exit_code == 0, (result.exit_code, result.stderr, result.exception)
    if warning is None:
        assert result.stderr == ""
    else:
        assert result.stderr.startswith("Warning: "), result.stderr
        assert result.stderr.count("\n") == 1, result.stderr
        assert warning in result.stderr, result.stderr
    return result.stdout


def npy_bytes(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, array)
    return buf.getvalue()


def rows_with(sep: str, rows: list[str] | None = None) -> str:
    return "".join(sep.join(r.split(",")) + "\n" for r in (rows or [HEADER, *ROWS]))


def csv_rows(text: str, delimiter: str = ",") -> list[list[str]]:
    return list(csv.reader(io.StringIO(text), delimiter=delimiter))


def csv_records(text: str, delimiter: str = ",") -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text), delimiter=delimiter))


def without_names(doc: dict[str, Any]) -> dict[str, Any]:
    samples = [{k: v for k, v in s.items() if k not in NAME_FIELDS} for s in doc["samples"]]
    return {**doc, "samples": samples}


@pytest.fixture
def clean_json(run_xent: Run) -> dict[str, Any]:
    """The JSON output for the clean sample files, which every variant must reproduce."""
    return strict_json(ok(run_xent("loss", LOGITS_CSV, "-l", LABELS_CSV, "-f", "json")))


# --- The numbers ---------------------------------------------------------------------------


def test_sample_logits_match_torch_reference(clean_json: dict[str, Any]) -> None:
    ref = reference_case("sample_logits")
    samples, summary = clean_json["samples"], clean_json["summary"]
    assert [s["index"] for s in samples] == list(range(20))
    assert [s["label"] for s in samples] == ref["labels"] == LABELS
    assert [s["pred"] for s in samples] == np.argmax(ref["logits"], axis=1).tolist()
    nll = np.array([s["nll"] for s in samples])
    np.testing.assert_allclose(nll, ref["nll_exact"], rtol=1e-12, atol=0)
    np.testing.assert_allclose([s["loss"] for s in samples], nll, rtol=0, atol=0)
    np.testing.assert_allclose([s["log_p_true"] for s in samples], -nll, rtol=0, atol=0)
    np.testing.assert_allclose([s["p_true"] for s in samples], np.exp(-nll), rtol=1e-15)
    assert summary["n"] == 20
    assert summary["n_classes"] == 10
    assert summary["loss"] == pytest.approx(ref["loss"], rel=1e-12, abs=0)
    assert summary["sum_nll"] == pytest.approx(ref["sum"], rel=1e-12, abs=0)
    assert summary["log_likelihood"] == -summary["sum_nll"]
    assert summary["perplexity"] == pytest.approx(math.exp(ref["loss"]), rel=1e-12, abs=0)
    assert summary["accuracy"] == 0.8
    assert sum(s["label"] == s["pred"] for s in samples) == 16
    assert summary["units"] == "nats"


def test_neg_inf_on_a_wrong_class_is_finite(run_xent: Run, tmp_path: Path) -> None:
    ref = reference_case("neg_inf_wrong_class")
    logits = tmp_path / "logits.csv"
    logits.write_text("".join(",".join(map(str, row)) + "\n" for row in ref["logits"]))
    labels = tmp_path / "labels.csv"
    labels.write_text("".join(f"{y}\n" for y in ref["labels"]))
    assert "-inf" in logits.read_text()

    doc = strict_json(ok(run_xent("loss", logits, "-l", labels, "-f", "json")))

    assert all("nonfinite" not in s for s in doc["samples"])
    assert "nonfinite" not in doc["summary"]
    nll = [s["nll"] for s in doc["samples"]]
    np.testing.assert_allclose(nll, ref["nll_exact"], rtol=1e-12, atol=0)
    assert doc["summary"]["loss"] == pytest.approx(ref["loss"], rel=1e-12, abs=0)
    assert doc["summary"]["accuracy"] == ref["accuracy"]


@pytest.fixture
def neg_inf_on_true_class(tmp_path: Path) -> list[object]:
    """Sample 0 gives its true class (1) a -inf logit; sample 1 is ordinary."""
    logits = tmp_path / "logits.csv"
    logits.write_text("0,-inf,1\n1,2,3\n")
    labels = tmp_path / "labels.csv"
    labels.write_text("1\n0\n")
    return [logits, "-l", labels]


INF_WARNING = "1 sample(s) have a -inf logit for the true class, so their loss is infinite"


def test_neg_inf_on_the_true_class_is_null_in_strict_json(
    run_xent: Run, neg_inf_on_true_class: list[object]
) -> None:
    out = ok(run_xent("loss", *neg_inf_on_true_class, "-f", "json"), INF_WARNING)

    for token in ("NaN", "Infinity"):
        assert token not in out
    doc = strict_json(out)
    bad, good = doc["samples"]
    assert bad["p_true"] == 0.0
    assert bad["nll"] is None
    assert bad["loss"] is None
    assert bad["log_p_true"] is None
    assert bad["nonfinite"] == {"log_p_true": "-inf", "nll": "inf", "loss": "inf"}
    assert "nonfinite" not in good
    assert good["nll"] == pytest.approx(math.log(sum(map(math.exp, [1, 2, 3]))) - 1, rel=1e-14)
    summary = doc["summary"]
    assert summary["loss"] is None
    assert summary["perplexity"] is None
    assert summary["nonfinite"] == {
        "loss": "inf",
        "sum_nll": "inf",
        "log_likelihood": "-inf",
        "perplexity": "inf",
    }
    assert summary["accuracy"] == 0.0


def test_neg_inf_on_the_true_class_in_other_formats(
    run_xent: Run, neg_inf_on_true_class: list[object]
) -> None:
    lines = ok(run_xent("loss", *neg_inf_on_true_class, "-f", "jsonl"), INF_WARNING).splitlines()
    records = [strict_json(line) for line in lines]
    assert records[0]["nonfinite"]["nll"] == "inf"
    assert records[-1]["type"] == "summary"
    assert records[-1]["perplexity"] is None

    rows = csv_records(ok(run_xent("loss", *neg_inf_on_true_class, "-f", "csv"), INF_WARNING))
    assert (rows[0]["nll"], rows[0]["log_p_true"], rows[0]["p_true"]) == ("inf", "-inf", "0.0")
    [summary] = csv_records(
        ok(run_xent("loss", *neg_inf_on_true_class, "-s", "-f", "csv"), INF_WARNING)
    )
    assert summary["loss"] == "inf"
    assert summary["perplexity"] == "inf"

    table = ok(run_xent("loss", *neg_inf_on_true_class, "-f", "table"), INF_WARNING)
    assert "inf nats" in table


# --- Every way of giving the same input -----------------------------------------------------


def npz(*, compressed: bool = False, **arrays: np.ndarray) -> bytes:
    buf = io.BytesIO()
    (np.savez_compressed if compressed else np.savez)(buf, **arrays)
    return buf.getvalue()


def savetxt(array: np.ndarray) -> str:
    """What ``numpy.savetxt`` writes with its default format."""
    buf = io.StringIO()
    np.savetxt(buf, array)
    return buf.getvalue()


X, Y = np.load(SAMPLE / "logits.npy"), np.array(LABELS)
HEADERLESS = rows_with(",", ROWS)
NAME_LABELS = "".join(f"{CLASSES[y]}\n" for y in LABELS)
LABELS_TEXT = LABELS_CSV.read_text(encoding="utf-8")
WITH_LABELS = (SAMPLE / "logits_with_labels.csv").read_text(encoding="utf-8").splitlines()
PERM = np.random.default_rng(7).permutation(10)

# (id, files written to the working directory, arguments ({S} is sample_data/), stdin,
#  whether the classes have names). Each must give exactly the clean files' output.
VARIANTS: list[tuple[str, dict[str, str | bytes], str, str | bytes | None, bool]] = [
    ("csv", {}, "{S}/logits.csv -l {S}/labels.csv", None, True),
    ("tsv", {"x.tsv": rows_with("\t")}, "x.tsv -l {S}/labels.csv", None, True),
    ("txt_tab", {"x.txt": rows_with("\t")}, "x.txt -l {S}/labels.csv", None, True),
    ("txt_comma", {"x.txt": CLEAN_TEXT}, "x.txt -l {S}/labels.csv", None, True),
    (
        "txt_whitespace",
        {"x.txt": "".join(f"  {r.replace(',', '   ')} \n" for r in [HEADER, *ROWS])},
        "x.txt -l {S}/labels.csv",
        None,
        True,
    ),
    (
        "txt_whitespace_labels",
        {"x.txt": rows_with(" "), "y.txt": "".join(f" {y}\n" for y in LABELS)},
        "x.txt -l y.txt",
        None,
        True,
    ),
    ("npy", {}, "{S}/logits.npy -l {S}/labels.npy", None, False),
    ("npy_csv_labels", {}, "{S}/logits.npy -l {S}/labels.csv", None, False),
    ("npy_float_labels", {"y.npy": npy_bytes(Y * 1.0)}, "{S}/logits.npy -l y.npy", None, False),
    ("npz", {"x.npz": npz(logits=X, labels=Y)}, "x.npz", None, False),
    ("npz_compressed", {"x.npz": npz(compressed=True, logits=X, labels=Y)}, "x.npz", None, False),
    (
        "npz_key",
        {"x.npz": npz(scores=X, decoy=X[:, ::-1], labels=Y)},
        "x.npz --key scores",
        None,
        False,
    ),
    ("npz_labels_file", {"y.npz": npz(labels=Y)}, "{S}/logits.npy -l y.npz", None, False),
    ("stdin_text", {}, "-l {S}/labels.csv", CLEAN_TEXT, True),
    ("stdin_text_dash", {}, "- -l {S}/labels.csv", CLEAN_TEXT, True),
    ("stdin_npy_bytes", {}, "-l {S}/labels.csv", npy_bytes(X), False),
    (
        "stdin_bom_crlf",
        {},
        "-l {S}/labels.csv",
        b"\xef\xbb\xbf" + CLEAN_TEXT.replace("\n", "\r\n").encode(),
        True,
    ),
    ("labels_from_stdin", {}, "{S}/logits.csv -l -", LABELS_TEXT, True),
    ("labels_from_stdin_npy", {}, "{S}/logits.csv -l -", npy_bytes(Y), True),
    (
        "input_format_forced",
        {"x.dat": CLEAN_TEXT},
        "x.dat --input-format csv -l {S}/labels.csv",
        None,
        True,
    ),
    ("label_col_name", {}, "{S}/logits_with_labels.csv --label-col label", None, True),
    ("label_col_index", {}, "{S}/logits_with_labels.csv --label-col 0", None, True),
    (
        "label_col_minus_one",
        {"x.csv": "".join(f"{r.split(',', 1)[1]},{r.split(',', 1)[0]}\n" for r in WITH_LABELS)},
        "x.csv --label-col -1",
        None,
        True,
    ),
    (
        "label_col_index_numeric_labels",
        {"x.csv": "".join(f"{r},{y}\n" for r, y in zip(ROWS, LABELS, strict=True))},
        "x.csv --label-col 10",
        None,
        False,
    ),
    (
        "label_col_npy",
        {"x.npy": npy_bytes(np.column_stack([X, Y * 1.0]))},
        "x.npy --label-col -1",
        None,
        False,
    ),
    (
        "class_name_labels",
        {"y.csv": "label\n" + NAME_LABELS},
        "{S}/logits.csv -l y.csv",
        None,
        True,
    ),
    ("class_name_labels_no_header", {"y.csv": NAME_LABELS}, "{S}/logits.csv -l y.csv", None, True),
    (
        "shuffled_columns_with_classes",
        {"x.csv": "".join(",".join(np.array(r.split(","))[PERM]) + "\n" for r in [HEADER, *ROWS])},
        "x.csv -l {S}/labels.csv --classes " + ",".join(CLASSES),
        None,
        True,
    ),
    (
        "headerless_with_classes_and_name_labels",
        {"x.csv": HEADERLESS, "y.csv": NAME_LABELS},
        "x.csv -l y.csv --classes '" + " , ".join(CLASSES) + "'",
        None,
        True,
    ),
    ("header_forced", {}, "{S}/logits.csv -l {S}/labels.csv --header", None, True),
    ("no_header_forced", {"x.csv": HEADERLESS}, "x.csv --no-header -l {S}/labels.csv", None, False),
    ("no_header_detected", {"x.csv": HEADERLESS}, "x.csv -l {S}/labels.csv", None, False),
    (
        "delimiter_semicolon",
        {"x.csv": rows_with(";")},
        "x.csv -d ';' -l {S}/labels.csv",
        None,
        True,
    ),
    ("delimiter_tab", {"x.csv": rows_with("\t")}, "x.csv -d tab -l {S}/labels.csv", None, True),
    (
        "delimiter_whitespace",
        {"x.csv": rows_with("  ")},
        "x.csv -d whitespace -l {S}/labels.csv",
        None,
        True,
    ),
    (
        "utf8_bom",
        {"x.csv": b"\xef\xbb\xbf" + CLEAN_TEXT.encode()},
        "x.csv -l {S}/labels.csv",
        None,
        True,
    ),
    ("crlf", {"x.csv": CLEAN_TEXT.replace("\n", "\r\n")}, "x.csv -l {S}/labels.csv", None, True),
    (
        "crlf_whitespace_txt",
        {"x.txt": rows_with(" ").replace("\n", "\r\n")},
        "x.txt -l {S}/labels.csv",
        None,
        True,
    ),
    (
        "blank_lines",
        {
            "x.csv": "\n\n" + "\n".join([HEADER, *ROWS[:2]]) + "\n\n  \n" + "\n\n".join(ROWS[2:]),
            "y.csv": "\nlabel\n\n" + "\n\n".join(map(str, LABELS)) + "\n\n",
        },
        "x.csv -l y.csv",
        None,
        True,
    ),
    (
        "quoted_numbers",
        {
            "x.csv": "".join(",".join(f'"{f}"' for f in r.split(",")) + "\n" for r in ROWS),
            "y.csv": '"label"\n' + "".join(f'"{y}"\n' for y in LABELS),
        },
        "x.csv -l y.csv --classes " + ",".join(CLASSES),
        None,
        True,
    ),
    (
        "quoted_header_and_numbers",
        {
            "x.csv": "".join(
                ",".join(f'"{f}"' for f in r.split(",")) + "\n" for r in [HEADER, *ROWS]
            )
        },
        "x.csv -l {S}/labels.csv",
        None,
        True,
    ),
    ("spaces_around_fields", {"x.csv": rows_with(" ,  ")}, "x.csv -l {S}/labels.csv", None, True),
    (
        "integral_float_labels",
        {"y.csv": "label\n" + "".join(f"{y}.0\n" for y in LABELS)},
        "{S}/logits.csv -l y.csv",
        None,
        True,
    ),
    (
        "numpy_savetxt_labels",  # "9.000000000000000000e+00"
        {"y.txt": savetxt(Y)},
        "{S}/logits.csv -l y.txt",
        None,
        True,
    ),
    (
        "no_final_newline",
        {"x.csv": CLEAN_TEXT.rstrip("\n"), "y.csv": LABELS_TEXT.rstrip("\n")},
        "x.csv -l y.csv",
        None,
        True,
    ),
    (
        "labels_bom_crlf",
        {"y.csv": b"\xef\xbb\xbf" + LABELS_TEXT.replace("\n", "\r\n").encode()},
        "{S}/logits.csv -l y.csv",
        None,
        True,
    ),
]


@pytest.mark.parametrize(
    ("files", "args", "stdin", "named"),
    [pytest.param(*v[1:], id=v[0]) for v in VARIANTS],
)
def test_every_input_variant_gives_the_clean_result(
    run_xent: Run,
    in_tmp_path: Path,
    clean_json: dict[str, Any],
    files: dict[str, str | bytes],
    args: str,
    stdin: str | bytes | None,
    named: bool,
) -> None:
    for name, data in files.items():
        (in_tmp_path / name).write_bytes(data.encode() if isinstance(data, str) else data)
    argv = [a.format(S=SAMPLE) for a in shlex.split(args)]

    doc = strict_json(ok(run_xent("loss", *argv, "-f", "json", input=stdin)))

    if named:
        assert doc == clean_json
    else:
        assert doc == without_names(clean_json)


# --- Class names ---------------------------------------------------------------------------


def test_shuffled_header_columns_with_name_labels_give_the_same_loss(
    run_xent: Run, tmp_path: Path, clean_json: dict[str, Any]
) -> None:
    perm = [3, 9, 0, 7, 1, 8, 2, 6, 4, 5]
    text = "".join(",".join(np.array(r.split(","))[perm]) + "\n" for r in [HEADER, *ROWS])
    logits = tmp_path / "shuffled.csv"
    logits.write_text(text)
    labels = tmp_path / "names.csv"
    labels.write_text(NAME_LABELS)

    doc = strict_json(ok(run_xent("loss", logits, "-l", labels)))

    # The same numbers, up to the rounding of a sum taken in another order.
    assert doc["summary"]["loss"] == pytest.approx(clean_json["summary"]["loss"], rel=1e-14)
    assert doc["summary"]["accuracy"] == 0.8
    for got, want in zip(doc["samples"], clean_json["samples"], strict=True):
        assert got["nll"] == pytest.approx(want["nll"], rel=1e-14)
        assert got["label_name"] == want["label_name"]
        assert got["pred_name"] == want["pred_name"]
        # Class indices follow the file's column order.
        assert got["label"] == perm.index(want["label"])


def test_classes_reorders_the_header_columns(
    run_xent: Run, tmp_path: Path, clean_json: dict[str, Any]
) -> None:
    labels = tmp_path / "names.csv"
    labels.write_text(NAME_LABELS)
    reverse = ",".join(reversed(CLASSES))

    doc = strict_json(ok(run_xent("loss", LOGITS_CSV, "-l", labels, "--classes", reverse)))

    assert doc["summary"]["loss"] == pytest.approx(clean_json["summary"]["loss"], rel=1e-14)
    assert doc["summary"]["accuracy"] == 0.8
    for got, want in zip(doc["samples"], clean_json["samples"], strict=True):
        assert got["nll"] == pytest.approx(want["nll"], rel=1e-14)
        assert (got["label"], got["pred"]) == (9 - want["label"], 9 - want["pred"])
        assert (got["label_name"], got["pred_name"]) == (want["label_name"], want["pred_name"])


def test_classes_names_the_classes_of_a_headerless_file(run_xent: Run) -> None:
    args = ["loss", SAMPLE / "seed3.csv", "-l", SAMPLE / "seed3_labels.csv"]
    names = "c0,c1,c2,c3,c4,c5,c6,c7,c8,c9"

    doc = strict_json(ok(run_xent(*args, "--classes", names)))
    plain = strict_json(ok(run_xent(*args)))

    assert [(s["label_name"], s["pred_name"]) for s in doc["samples"]] == [
        ("c1", "c1"),
        ("c3", "c3"),
        ("c5", "c2"),
    ]
    assert without_names(doc) == plain
    table = ok(run_xent(*args, "--classes", names, "-f", "table"))
    assert "c5" in table


# --- Output formats ------------------------------------------------------------------------

BASE = ["loss", LOGITS_CSV, "-l", LABELS_CSV]
SEED3 = ["loss", SAMPLE / "seed3.csv", "-l", SAMPLE / "seed3_labels.csv"]


def test_table_when_forced_is_plain_text_with_the_numbers(run_xent: Run) -> None:
    out = ok(run_xent(*BASE, "-f", "table"))

    assert "\x1b" not in out
    assert "0.968677 nats" in out
    assert "16 of 20 predicted correctly" in out
    assert "Samples" in out
    assert "Summary" in out
    assert "truck" in out
    assert "not shown" not in out  # the default head of 20 shows all 20 samples
    assert "│ 19 │" in out


def test_json_is_the_default_when_stdout_is_not_a_terminal(
    run_xent: Run, clean_json: dict[str, Any]
) -> None:
    assert strict_json(ok(run_xent(*BASE))) == clean_json


def test_table_is_the_default_on_a_terminal(run_xent: Run, fake_tty: Callable[..., None]) -> None:
    fake_tty(stdout=True)

    out = ok(run_xent(*BASE, "--no-color"))

    assert "Summary" in out
    assert "0.968677" in out
    assert not out.lstrip().startswith("{")


def test_json_layout_and_keys(run_xent: Run) -> None:
    out = ok(run_xent(*BASE, "-f", "json"))
    doc = strict_json(out)

    assert list(doc) == ["schema", "samples", "summary"]
    assert doc["schema"] == "xent.loss/1"
    assert out.index('"samples"') < out.index('"summary"')
    assert out.endswith("}\n")
    assert len(doc["samples"]) == 20
    for s in doc["samples"]:
        assert list(s) == SAMPLE_FIELDS + NAME_FIELDS
        assert s["label_name"] == CLASSES[s["label"]]
        assert s["pred_name"] == CLASSES[s["pred"]]
    assert list(doc["summary"]) == SUMMARY_FIELDS


def test_json_without_class_names_has_no_name_keys(run_xent: Run) -> None:
    doc = strict_json(ok(run_xent(*SEED3, "-f", "json")))

    assert [list(s) for s in doc["samples"]] == [SAMPLE_FIELDS] * 3
    ref = reference_case("seed3")
    np.testing.assert_allclose([s["nll"] for s in doc["samples"]], ref["nll_exact"], rtol=1e-12)
    assert doc["summary"]["loss"] == pytest.approx(ref["loss"], rel=1e-12, abs=0)


def test_jsonl_samples_then_one_summary_line(run_xent: Run, clean_json: dict[str, Any]) -> None:
    lines = ok(run_xent(*BASE, "-f", "jsonl")).splitlines()

    records = [strict_json(line) for line in lines]
    assert len(records) == 21
    assert [r["type"] for r in records] == ["sample"] * 20 + ["summary"]
    samples = [{k: v for k, v in r.items() if k != "type"} for r in records[:-1]]
    assert samples == clean_json["samples"]
    assert {k: v for k, v in records[-1].items() if k != "type"} == clean_json["summary"]


@pytest.mark.parametrize(("fmt", "delimiter"), [("csv", ","), ("tsv", "\t")])
def test_csv_and_tsv_rows(
    run_xent: Run, fmt: str, delimiter: str, clean_json: dict[str, Any]
) -> None:
    out = ok(run_xent(*BASE, "-f", fmt))

    rows = csv_rows(out, delimiter)
    assert rows[0] == SAMPLE_FIELDS + NAME_FIELDS
    assert len(rows) == 21
    for got, want in zip(csv_records(out, delimiter), clean_json["samples"], strict=True):
        assert int(got["index"]) == want["index"]
        assert int(got["label"]) == want["label"]
        assert got["label_name"] == want["label_name"]
        for key in ("p_true", "log_p_true", "nll", "loss"):
            assert float(got[key]) == want[key]  # round-trips exactly


@pytest.mark.parametrize(("fmt", "delimiter"), [("csv", ","), ("tsv", "\t")])
def test_csv_and_tsv_probs_columns(run_xent: Run, fmt: str, delimiter: str) -> None:
    named = csv_rows(ok(run_xent(*BASE, "-f", fmt, "--probs")), delimiter)
    plain = csv_rows(ok(run_xent(*SEED3, "-f", fmt, "--probs")), delimiter)

    assert named[0] == SAMPLE_FIELDS + NAME_FIELDS + [f"p_{c}" for c in CLASSES]
    assert plain[0] == SAMPLE_FIELDS + [f"p_{c}" for c in range(10)]
    for table in (named, plain):
        for row in table[1:]:
            probs = [float(v) for v in row[-10:]]
            assert math.fsum(probs) == pytest.approx(1.0, abs=1e-15)
            assert probs[int(row[1])] == float(row[3])  # p_<label> is p_true


def test_json_probs_sum_to_one(run_xent: Run) -> None:
    doc = strict_json(ok(run_xent(*BASE, "--probs")))

    for s in doc["samples"]:
        assert list(s)[-1] == "probs"
        assert len(s["probs"]) == 10
        assert math.fsum(s["probs"]) == pytest.approx(1.0, abs=1e-15)
        assert s["probs"][s["label"]] == s["p_true"]
        assert int(np.argmax(s["probs"])) == s["pred"]


@pytest.mark.parametrize("fmt", ["json", "jsonl", "csv", "tsv", "table"])
def test_summary_only_in_every_format(run_xent: Run, fmt: str, clean_json: dict[str, Any]) -> None:
    out = ok(run_xent(*BASE, "-s", "-f", fmt))
    want = clean_json["summary"]

    if fmt == "json":
        assert strict_json(out) == {"schema": "xent.loss/1", "summary": want}
    elif fmt == "jsonl":
        assert out.count("\n") == 1
        assert strict_json(out) == {"type": "summary", **want}
    elif fmt in ("csv", "tsv"):
        delimiter = "," if fmt == "csv" else "\t"
        assert csv_rows(out, delimiter)[0] == SUMMARY_FIELDS
        [got] = csv_records(out, delimiter)
        assert float(got["loss"]) == want["loss"]
        assert int(got["n"]) == 20
        assert got["units"] == "nats"
    else:
        assert "Summary" in out
        assert "Samples" not in out
        assert "0.968677 nats" in out


@pytest.mark.parametrize("fmt", ["json", "jsonl", "csv", "tsv", "table"])
def test_head_in_every_format(run_xent: Run, fmt: str, clean_json: dict[str, Any]) -> None:
    out = ok(run_xent(*BASE, "--head", "3", "-f", fmt))

    if fmt == "json":
        doc = strict_json(out)
        assert doc["samples"] == clean_json["samples"][:3]
        assert doc["summary"] == clean_json["summary"]  # the summary still covers all 20
    elif fmt == "jsonl":
        records = [strict_json(line) for line in out.splitlines()]
        assert [r["type"] for r in records] == ["sample"] * 3 + ["summary"]
        assert records[-1]["n"] == 20
    elif fmt in ("csv", "tsv"):
        assert len(out.splitlines()) == 1 + 3
    else:
        assert "│ 2 │" in out
        assert "│ 3 │" not in out
        assert "17 more samples not shown (--head N)" in out
        assert re.search(r"samples +20 +over 10 classes", out)


@pytest.mark.parametrize("fmt", ["json", "jsonl", "csv", "tsv"])
def test_head_zero_keeps_the_summary(run_xent: Run, fmt: str) -> None:
    out = ok(run_xent(*BASE, "--head", "0", "-f", fmt))

    if fmt == "json":
        assert strict_json(out)["samples"] == []
    elif fmt == "jsonl":
        assert strict_json(out)["type"] == "summary"
    else:
        assert len(out.splitlines()) == 1


def test_precision(run_xent: Run, clean_json: dict[str, Any]) -> None:
    doc = strict_json(ok(run_xent(*BASE, "--precision", "3", "--probs")))

    for got, want in zip(doc["samples"], clean_json["samples"], strict=True):
        for key in ("p_true", "log_p_true", "nll", "loss"):
            assert got[key] == float(f"{want[key]:.3g}")
        assert all(p == float(f"{p:.3g}") for p in got["probs"])
    assert doc["summary"]["loss"] == 0.969
    assert doc["summary"]["perplexity"] == 2.63

    rows = csv_records(ok(run_xent(*BASE, "-f", "csv", "--precision", "2")))
    assert rows[1]["nll"] == "9.4"  # 9.353...

    table = ok(run_xent(*BASE, "-f", "table", "--precision", "3"))
    assert "0.969 nats" in table
    assert "0.968677" not in table


# --- Writing to a file ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("suffix", "fmt"),
    [(".json", "json"), (".jsonl", "jsonl"), (".csv", "csv"), (".tsv", "tsv"), (".txt", "table")],
)
def test_output_file_format_follows_the_extension(
    run_xent: Run, tmp_path: Path, suffix: str, fmt: str
) -> None:
    target = tmp_path / f"out{suffix}"

    assert ok(run_xent(*BASE, "-o", target)) == ""

    assert target.read_text(encoding="utf-8") == ok(run_xent(*BASE, "-f", fmt))
    assert sorted(p.name for p in tmp_path.iterdir()) == [target.name]


def test_output_file_format_option_beats_the_extension(run_xent: Run, tmp_path: Path) -> None:
    target = tmp_path / "out.json"

    assert ok(run_xent(*BASE, "-o", target, "-f", "csv", "-s")) == ""

    assert target.read_text().startswith("n,n_classes,task,loss,")


def test_output_file_replaces_an_existing_file(run_xent: Run, tmp_path: Path) -> None:
    target = tmp_path / "out.jsonl"
    target.write_text("old contents that are longer than the new ones\n" * 1000)

    assert ok(run_xent(*BASE, "-s", "-o", target)) == ""

    assert strict_json(target.read_text())["type"] == "summary"
    assert sorted(p.name for p in tmp_path.iterdir()) == [target.name]


def test_output_file_is_written_through_a_symlink(run_xent: Run, tmp_path: Path) -> None:
    (tmp_path / "real.jsonl").write_text("old\n")
    link = tmp_path / "link.jsonl"
    link.symlink_to("real.jsonl")

    assert ok(run_xent(*BASE, "-s", "-o", link)) == ""

    assert link.is_symlink()
    assert strict_json((tmp_path / "real.jsonl").read_text())["type"] == "summary"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.jsonl", "real.jsonl"]


def test_output_dash_is_stdout(run_xent: Run, clean_json: dict[str, Any]) -> None:
    assert strict_json(ok(run_xent(*BASE, "-o", "-"))) == clean_json


# --- Help and version ----------------------------------------------------------------------


GROUP = typer.main.get_command(app)


def _commands() -> list[str]:
    return sorted(GROUP.commands)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "args", [[], *[[c] for c in _commands()]], ids=lambda a: " ".join(a) or "xent"
)
def test_help_ends_with_an_example(run_xent: Run, args: list[str]) -> None:
    command = GROUP.commands[args[0]] if args else GROUP  # type: ignore[attr-defined]
    last_line = (command.help or "").rstrip().splitlines()[-1]

    out = ok(run_xent(*args, "--help"))

    assert "Example" in out
    assert last_line.strip().startswith("xent "), last_line
    assert f"\n  {last_line.rstrip()}\n" in out  # shown as written, not re-wrapped


def test_loss_is_a_command(run_xent: Run) -> None:
    assert "loss" in _commands()
    assert "loss" in ok(run_xent("--help"))


def test_version(run_xent: Run) -> None:
    assert ok(run_xent("--version")) == f"xent {version('xentcli')}\n"


def test_python_dash_m_version() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "xentcli", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == f"xent {version('xentcli')}\n"
    assert proc.stderr == ""


# --- A closed pipe -------------------------------------------------------------------------


def test_closed_pipe_is_quiet(tmp_path: Path) -> None:
    """``xent loss ... -f csv | head -1``: a real pipe that the reader closes early."""
    rng = np.random.default_rng(0)
    logits = tmp_path / "logits.csv"
    np.savetxt(logits, rng.normal(size=(20_000, 10)), delimiter=",", fmt="%.4f")
    labels = tmp_path / "labels.csv"
    np.savetxt(labels, rng.integers(0, 10, size=20_000), fmt="%d")
    cmd = [sys.executable, "-m", "xentcli", "loss", str(logits), "-l", str(labels), "-f", "csv"]

    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
        assert proc.stdout is not None
        assert proc.stderr is not None
        first = proc.stdout.readline()
        proc.stdout.close()  # the output is ~2 MB, far more than a pipe buffer holds
        stderr = proc.stderr.read().decode()
        code = proc.wait(timeout=60)

    assert first == b"index,label,pred,p_true,log_p_true,nll,loss\n"
    assert "Traceback" not in stderr
    assert "BrokenPipe" not in stderr
    assert stderr == ""
    assert code == 0
