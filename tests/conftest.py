"""Fixtures for the command-line tests (test_cli_*.py, test_golden.py).

Kept small on purpose; each fixture name says what it is for.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from xentcli.cli import app
from xentcli.cli.streams import Streams


@pytest.fixture
def run_xent() -> Callable[..., Result]:
    """Invoke ``xent ARGS...`` in-process through Typer's ``CliRunner``.

    Arguments may be ``Path`` objects; ``input`` (str or bytes) becomes stdin, which the
    runner never presents as a terminal. ``result.stdout`` and ``result.stderr`` are
    separate.
    """
    runner = CliRunner()

    def invoke(*args: object, input: str | bytes | None = None) -> Result:
        return runner.invoke(app, [str(a) for a in args], input=input)

    return invoke


@pytest.fixture
def fake_tty(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """Make ``xent`` believe stdin and/or stdout is a terminal.

    Call it once, before ``run_xent``: ``fake_tty(stdin=True)``. The streams stay the
    test runner's; only the ``isatty`` answers change.
    """

    def install(*, stdin: bool = False, stdout: bool = False) -> None:
        real = Streams.from_sys.__func__  # type: ignore[attr-defined]

        def from_sys(cls: type[Streams], no_color: bool = False) -> Streams:
            streams = real(cls, no_color=no_color)
            streams.stdin_isatty = stdin
            streams.stdout_isatty = stdout
            return streams

        monkeypatch.setattr(Streams, "from_sys", classmethod(from_sys))

    return install


@pytest.fixture
def in_tmp_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``tmp_path``, made the working directory so file names in messages are short."""
    monkeypatch.chdir(tmp_path)
    return tmp_path
