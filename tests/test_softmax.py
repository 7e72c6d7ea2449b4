"""``xent softmax``: logits to probabilities, in the input's format, composing with loss."""

from __future__ import annotations

import io
import json
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from typer.testing import Result

Run = Callable[..., Result]
SAMPLE = Path(__file__).resolve().parent.parent / "sample_data"
LOGITS = np.load(SAMPLE / "logits.npy")
CLASSES = (SAMPLE / "logits.csv").read_text().splitlines()[0]


def ok(result: Result) -> str:
    assert result.exit_code == 0, (result.exit_code, result.stderr, result.exception)
    assert result.stderr == ""
    return result.stdout


def reference_softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """Independent float64 softmax (mpmath is overkill for these magnitudes)."""
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def loss_summary(run_xent: Run, *args: object, input: str | bytes | None = None) -> dict:
    return json.loads(ok(run_xent("loss", *args, "-s", "-f", "json", input=input)))["summary"]


def test_csv_keeps_the_header_and_round_trips_every_probability(run_xent: Run) -> None:
    lines = ok(run_xent("softmax", SAMPLE / "logits.csv")).splitlines()
    assert lines[0] == CLASSES
    got = np.array([[float(v) for v in line.split(",")] for line in lines[1:]])
    np.testing.assert_allclose(got, reference_softmax(LOGITS), rtol=1e-14, atol=0)


def test_softmax_piped_into_loss_gives_the_loss_of_the_logits(run_xent: Run) -> None:
    labels = SAMPLE / "labels.csv"
    direct = loss_summary(run_xent, SAMPLE / "logits.csv", "-l", labels)
    probs = ok(run_xent("softmax", SAMPLE / "logits.csv"))
    piped = loss_summary(run_xent, "-", "--input-kind", "probs", "-l", labels, input=probs)
    assert piped["loss"] == pytest.approx(direct["loss"], rel=1e-14)
    assert piped["accuracy"] == direct["accuracy"]
    logp = ok(run_xent("softmax", "--log", SAMPLE / "logits.csv"))
    exact = loss_summary(run_xent, "-", "--input-kind", "log-probs", "-l", labels, input=logp)
    # Log-probabilities round-trip exactly, and -log p(true) is the same subtraction.
    assert exact["loss"] == direct["loss"]


def test_npy_in_npy_out(run_xent: Run, tmp_path: Path) -> None:
    out = tmp_path / "p.npy"
    assert ok(run_xent("softmax", SAMPLE / "logits.npy", "-o", out)) == ""
    got = np.load(out)
    assert got.dtype == np.float64
    assert got.shape == LOGITS.shape
    np.testing.assert_allclose(got, reference_softmax(LOGITS), rtol=1e-14)
    piped = loss_summary(run_xent, out, "--input-kind", "probs", "-l", SAMPLE / "labels.npy")
    assert piped["loss"] == pytest.approx(0.9686772424767962, rel=1e-14)


def test_npy_to_a_pipe_is_binary_and_to_a_terminal_is_refused(
    run_xent: Run, fake_tty: Callable[..., None]
) -> None:
    result = run_xent("softmax", SAMPLE / "logits.npy")
    assert result.exit_code == 0
    got = np.load(io.BytesIO(result.stdout_bytes))
    np.testing.assert_allclose(got, reference_softmax(LOGITS), rtol=1e-14)
    fake_tty(stdout=True)
    result = run_xent("softmax", SAMPLE / "logits.npy")
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: NPY is binary")


def test_tsv_and_whitespace_text_keep_their_delimiters(run_xent: Run, tmp_path: Path) -> None:
    (tmp_path / "x.tsv").write_text("a\tb\n0\t0\n1\t-1\n")
    assert ok(run_xent("softmax", tmp_path / "x.tsv")).splitlines()[:2] == ["a\tb", "0.5\t0.5"]
    (tmp_path / "x.txt").write_text("0  0\n")
    assert ok(run_xent("softmax", tmp_path / "x.txt")) == "0.5 0.5\n"
    assert ok(run_xent("softmax", tmp_path / "x.txt", "-f", "csv")) == "0.5,0.5\n"


def test_jsonl_output(run_xent: Run) -> None:
    rows = [
        json.loads(line)
        for line in ok(
            run_xent("softmax", SAMPLE / "seed3.csv", "-f", "jsonl", "--log")
        ).splitlines()
    ]
    assert [r["index"] for r in rows] == [0, 1, 2]
    x = np.loadtxt(SAMPLE / "seed3.csv", delimiter=",")
    np.testing.assert_allclose(rows[2]["log_probs"], np.log(reference_softmax(x))[2], rtol=1e-13)


def test_label_column_passes_through(run_xent: Run) -> None:
    out = ok(run_xent("softmax", SAMPLE / "logits_with_labels.csv", "--label-col", "label"))
    lines = out.splitlines()
    assert lines[0] == "label," + CLASSES
    assert lines[1].startswith("truck,")
    summary = loss_summary(
        run_xent, "-", "--label-col", "label", "--input-kind", "probs", input=out
    )
    assert summary["loss"] == pytest.approx(0.9686772424767962, rel=1e-14)


def test_temperature_divides_the_logits(run_xent: Run) -> None:
    lines = ok(run_xent("softmax", SAMPLE / "logits.csv", "-t", "2.5")).splitlines()[1:]
    got = np.array([[float(v) for v in line.split(",")] for line in lines])
    np.testing.assert_allclose(got, reference_softmax(LOGITS / 2.5), rtol=1e-14)


def test_one_column_and_multi_label_get_a_sigmoid(run_xent: Run, tmp_path: Path) -> None:
    lines = ok(run_xent("softmax", SAMPLE / "binary_scores.csv")).splitlines()
    assert lines[0] == "score"
    first = float((SAMPLE / "binary_scores.csv").read_text().splitlines()[1])
    assert float(lines[1]) == pytest.approx(1 / (1 + math.exp(-first)), rel=1e-15)
    (tmp_path / "m.csv").write_text("0,40,-1000\n")
    got = ok(run_xent("softmax", tmp_path / "m.csv", "--multi-label", "--log")).split(",")
    assert float(got[0]) == pytest.approx(-math.log(2), rel=1e-15)
    assert float(got[1]) == pytest.approx(-math.exp(-40), rel=1e-12)  # not rounded to 0
    assert float(got[2]) == -1000.0


def test_segmentation_logits_along_the_class_axis(run_xent: Run, tmp_path: Path) -> None:
    x = np.load(SAMPLE / "segmentation_logits.npy").astype(np.float64)
    out = tmp_path / "p.npy"
    ok(run_xent("softmax", SAMPLE / "segmentation_logits.npy", "--class-axis", "1", "-o", out))
    np.testing.assert_allclose(np.load(out), reference_softmax(x, axis=1), rtol=1e-14)
    result = run_xent("softmax", SAMPLE / "segmentation_logits.npy", "-f", "csv")
    assert result.exit_code == 65
    assert "--class-axis" in result.stderr


@pytest.mark.parametrize(
    ("content", "code", "fragment"),
    [
        ("1,2\nnan,0\n", 65, "x.csv line 2: NaN logit for class 0"),
        ("1,2\n3,inf\n", 65, "x.csv line 2: +inf logit for class 1"),
        ("1,2\n3,x\n", 65, "x.csv line 2, column 2: 'x' is not a number"),
        ("", 65, "x.csv: the input is empty"),
    ],
)
def test_bad_input(
    run_xent: Run, in_tmp_path: Path, content: str, code: int, fragment: str
) -> None:
    (in_tmp_path / "x.csv").write_text(content)
    result = run_xent("softmax", "x.csv")
    assert result.exit_code == code
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert fragment in result.stderr, result.stderr
