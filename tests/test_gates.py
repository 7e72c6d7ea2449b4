"""``--fail-if``: conditions on the summary that make a run fail after its output."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import Result

Run = Callable[..., Result]
SAMPLE = Path(__file__).resolve().parent.parent / "sample_data"
BASE = ["loss", SAMPLE / "logits.csv", "-l", SAMPLE / "labels.csv", "-s", "-f", "json"]
LOSS = 0.9686772424767962  # the sample data's loss; accuracy is 0.8


@pytest.mark.parametrize(
    ("gates", "code"),
    [
        (["loss > 0.9"], 1),
        (["loss > 1"], 0),
        (["loss >= 0.9686772424767962"], 1),
        (["loss < 0.9686772424767962"], 0),
        (["accuracy < 0.8"], 0),
        (["accuracy <= 0.8"], 1),
        (["loss > 1", "accuracy < 0.9"], 1),
        (["n >= 20", "skipped > 0"], 1),
    ],
)
def test_gates_fail_the_run_after_the_output(run_xent: Run, gates: list[str], code: int) -> None:
    args = [a for g in gates for a in ("--fail-if", g)]
    result = run_xent(*BASE, *args)
    assert result.exit_code == code, result.stderr
    # The output is written either way.
    assert json.loads(result.stdout)["summary"]["loss"] == LOSS
    if code:
        assert result.stderr.startswith("Error: --fail-if: ")
        assert result.stderr.count("\n") == 1
    else:
        assert result.stderr == ""


def test_every_failed_condition_is_named(run_xent: Run) -> None:
    result = run_xent(*BASE, "--fail-if", "loss > 0.7", "--fail-if", "accuracy < 0.9")
    assert result.stderr == (
        "Error: --fail-if: loss = 0.968677, and loss > 0.7 holds; accuracy = 0.8, and "
        "accuracy < 0.9 holds\n"
    )


def test_an_undefined_metric_fails_its_gate(run_xent: Run, in_tmp_path: Path) -> None:
    (in_tmp_path / "x.csv").write_text("1,2\n3,4\n")
    (in_tmp_path / "y.csv").write_text("-100\n-100\n")
    result = run_xent(
        "loss", "x.csv", "-l", "y.csv", "--ignore-index", "-100", "--fail-if", "loss > 5"
    )
    assert result.exit_code == 1
    assert "loss is undefined (null), so loss > 5 cannot be checked" in result.stderr


@pytest.mark.parametrize(
    ("gate", "fragment"),
    [
        ("loss >> 1", "expected METRIC OP NUMBER"),
        ("loss = 1", "expected METRIC OP NUMBER"),
        ("loss > x", "expected METRIC OP NUMBER"),
        ("auc > 0.5", "no metric 'auc'"),
        ("loss > nan", "must be a number, not nan"),
    ],
)
def test_malformed_gates_are_usage_errors_before_any_work(
    run_xent: Run, gate: str, fragment: str
) -> None:
    result = run_xent(*BASE, "--fail-if", gate)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert fragment in result.stderr
