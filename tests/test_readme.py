"""README is executable documentation: its examples run and print what it shows."""

from __future__ import annotations

import doctest
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from xentcli.errors import ExitCode

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def console_examples() -> list[tuple[str, str]]:
    """(command, expected output) pairs from the ```console blocks."""
    examples: list[tuple[str, str]] = []
    for block in re.findall(r"```console\n(.*?)```", README, flags=re.S):
        command: str | None = None
        output: list[str] = []
        for line in block.splitlines():
            if line.startswith("$ "):
                if command is not None:
                    examples.append((command, "\n".join(output)))
                command, output = line[2:], []
            else:
                output.append(line)
        if command is not None:
            examples.append((command, "\n".join(output)))
    return examples


EXAMPLES = console_examples()


def _normalise(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip("\n").splitlines())


def test_readme_has_examples() -> None:
    assert len(EXAMPLES) >= 8


@pytest.mark.parametrize(("command", "expected"), EXAMPLES, ids=[c for c, _ in EXAMPLES])
def test_console_example(command: str, expected: str) -> None:
    env = dict(os.environ)
    # The `xent` script installed beside this interpreter, whatever the PATH says.
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    env.pop("NO_COLOR", None)
    proc = subprocess.run(
        command, shell=True, cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert _normalise(proc.stdout) == _normalise(expected)


def test_python_examples() -> None:
    parser = doctest.DocTestParser()
    blocks = re.findall(r"```pycon\n(.*?)```", README, flags=re.S)
    assert blocks
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    for i, block in enumerate(blocks):
        test = parser.get_doctest(block, {}, f"README[{i}]", "README.md", 0)
        runner.run(test)
    assert runner.failures == 0


def test_exit_code_table_matches_the_code() -> None:
    table = dict(re.findall(r"^\| (\d+) \| (.+?) \|$", README, flags=re.M))
    assert sorted(int(k) for k in table) == sorted(int(c) for c in ExitCode)


@pytest.mark.parametrize("command", ["loss", "explain", "softmax", "compare", "calibrate"])
def test_every_option_is_documented(command: str) -> None:
    from typer.main import get_command

    from xentcli.cli import app

    cmd = get_command(app).commands[command]  # type: ignore[attr-defined]
    assert f"xent {command}" in README
    for param in cmd.params:
        for opt in param.opts:
            if opt.startswith("-"):
                assert f"`{opt}" in README or f" {opt}" in README, f"{opt} is not in README"
