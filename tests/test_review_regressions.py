"""Defects found by a review of the streaming and loss-semantics work, each kept as a test."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import Result

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
