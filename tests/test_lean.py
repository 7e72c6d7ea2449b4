"""The lean path of ``xent loss`` (no Typer): same values, same output, or Typer's turn.

``xentcli.cli.lean`` parses the common options of ``xent loss`` itself, for start-up
time, and calls the function the Typer command calls. These tests hold the two paths
together: the defaults, the values each command line turns into, and what a user sees.
"""

from __future__ import annotations

import inspect
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import xentcli.cli.loss as loss_module
from xentcli.cli import errors, lean
from xentcli.cli.application import build_app
from xentcli.cli.loss_run import run_loss

ROOT = Path(__file__).resolve().parent.parent
LOGITS = "sample_data/logits.csv"
LABELS = "sample_data/labels.csv"


def test_run_loss_has_the_commands_parameters_and_defaults() -> None:
    typer_params = inspect.signature(loss_module.loss).parameters
    plain_params = inspect.signature(run_loss).parameters
    assert list(plain_params) == list(typer_params)
    for name, param in typer_params.items():
        assert plain_params[name].default == param.default, name


def test_the_hinted_flags_are_the_commands() -> None:
    hinted = {flag for flag, _, _ in errors._HINTS}
    assert hinted & errors._flags_of(loss_module.loss) == lean.HINTED_FLAGS


def typer_values(args: list[str], monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The keyword arguments the Typer command passes to run_loss for ``xent loss ARGS``."""
    seen: dict[str, Any] = {}
    monkeypatch.setattr(loss_module, "run_loss", lambda **kw: seen.update(kw))
    result = CliRunner().invoke(build_app("loss"), ["loss", *args])
    assert result.exit_code == 0, result.output
    return seen


@pytest.mark.parametrize(
    "args",
    [
        [LOGITS, "-l", LABELS],
        ["-", "--labels", LABELS, "-s"],
        ["a.npy", "b.npy", "-l", "y.npy", "-f", "jsonl", "-q", "--no-color"],
        [LOGITS, "--labels=y.csv", "--format=csv", "-o", "out.csv", "--summary"],
        ["-l", LABELS, "--quiet", "--output", "-"],
        [],
        ["-f", "tsv", LOGITS],
    ],
)
def test_lean_values_equal_typers(args: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    parsed = lean.parse(args)
    assert parsed is not None
    defaults = {n: p.default for n, p in inspect.signature(run_loss).parameters.items()}
    want = typer_values(args, monkeypatch)
    got = {**defaults, **parsed}
    assert got == want
    assert {type(v) for v in got.values()} == {type(v) for v in want.values()}


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        [LOGITS, "-h"],
        [LOGITS, "-sq"],  # combined short flags
        [LOGITS, "-l"],  # a value missing
        [LOGITS, "-l", LABELS, "-l", LABELS],  # repeated
        [LOGITS, "-l", LABELS, "--units", "bits"],  # an option the lean path does not read
        [LOGITS, "-f", "JSON"],  # Typer's case-insensitive choice: its own conversion
        [LOGITS, "-f", "xml"],  # Typer's usage error
        [LOGITS, "--", "-x"],
        [LOGITS, "-s=1"],
        [LOGITS, "--summary=yes"],
        [LOGITS, "--labels="],
        [LOGITS, "-l", "-s"],  # a value that looks like an option
        [LOGITS, "-l=y.csv"],
        [LOGITS, "--debug"],
    ],
)
def test_anything_else_is_left_to_typer(args: list[str]) -> None:
    assert lean.parse(args) is None


def run(argv: list[str], lean_path: bool) -> subprocess.CompletedProcess[str]:
    """``xent ARGV`` through main() (the lean path when it applies) or Typer's app."""
    if lean_path:
        code = (
            f"import sys; sys.argv = ['xent', *{argv!r}]\n"
            "from xentcli.cli import main\n"
            "try:\n    main()\nfinally:\n"
            "    print('typer' in sys.modules, file=sys.stderr)\n"
        )
    else:
        code = (
            f"import sys; sys.argv = ['xent', *{argv!r}]\n"
            "from xentcli.cli.application import build_app\n"
            "try:\n    build_app('loss')(prog_name='xent')\nfinally:\n"
            "    print('typer' in sys.modules, file=sys.stderr)\n"
        )
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60
    )


@pytest.mark.parametrize(
    "argv",
    [
        ["loss", LOGITS, "-l", LABELS, "-s", "-f", "json"],
        ["loss", LOGITS, "-l", LABELS, "-f", "csv"],
        ["loss", LOGITS, "-l", "sample_data/missing.csv", "-s"],  # an input error
        ["loss", LOGITS, "-l", LOGITS, "-s", "-f", "json"],  # a data error (bad labels)
        ["loss", LOGITS, LOGITS, "-l", LABELS, "-f", "jsonl"],  # a leaderboard
    ],
)
def test_the_lean_path_prints_what_typer_prints(argv: list[str]) -> None:
    fast, slow = run(argv, lean_path=True), run(argv, lean_path=False)
    assert fast.stderr.splitlines()[-1] == "False"  # Typer was not imported
    assert slow.stderr.splitlines()[-1] == "True"
    assert (fast.returncode, fast.stdout) == (slow.returncode, slow.stdout)
    assert fast.stderr.splitlines()[:-1] == slow.stderr.splitlines()[:-1]
    assert fast.stdout or fast.stderr.startswith("Error: ")


def test_a_command_line_the_lean_path_declines_still_runs() -> None:
    out = run(["loss", LOGITS, "-l", LABELS, "-s", "-f", "json", "--units", "bits"], True)
    assert out.returncode == 0
    assert '"units": "bits"' in out.stdout
    assert out.stderr.splitlines()[-1] == "True"  # Typer parsed it
