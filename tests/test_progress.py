"""The progress bar of long runs: stderr only, on a terminal only, hidden by -q."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import Result

from xentcli.cli import progress
from xentcli.cli.streams import Streams
from xentcli.io import blocks

Run = Callable[..., Result]


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    logits = tmp_path / "logits.csv"
    logits.write_text("".join(f"{i % 7}.5,1,{i % 3}\n" for i in range(3000)))
    labels = tmp_path / "labels.csv"
    labels.write_text("".join(f"{i % 3}\n" for i in range(3000)))
    return logits, labels


@pytest.fixture
def terminal_stderr(monkeypatch: pytest.MonkeyPatch) -> None:
    real = Streams.from_sys.__func__  # type: ignore[attr-defined]

    def from_sys(cls: type[Streams], no_color: bool = False) -> Streams:
        streams = real(cls, no_color=no_color)
        streams.stderr_isatty = True
        return streams

    monkeypatch.setattr(Streams, "from_sys", classmethod(from_sys))
    monkeypatch.setattr(progress, "DELAY", 0.0)  # every run is "long"
    monkeypatch.setattr(blocks, "BLOCK_BYTES", 4096)  # several blocks


def test_bar_on_stderr_never_on_stdout(
    run_xent: Run, files: tuple[Path, Path], terminal_stderr: None
) -> None:
    r = run_xent("loss", files[0], "-l", files[1], "-s", "-f", "json")
    assert r.exit_code == 0
    assert "rows" in r.stderr
    assert "3,000 rows" in r.stderr  # the last update
    assert "rows/s" in r.stderr
    assert json.loads(r.stdout)["summary"]["n"] == 3000  # stdout is only the data


def test_quiet_hides_it(run_xent: Run, files: tuple[Path, Path], terminal_stderr: None) -> None:
    r = run_xent("loss", files[0], "-l", files[1], "-s", "-f", "json", "-q")
    assert r.exit_code == 0
    assert r.stderr == ""


def test_not_on_a_pipe_or_short_run(run_xent: Run, files: tuple[Path, Path]) -> None:
    r = run_xent("loss", files[0], "-l", files[1], "-s", "-f", "json")
    assert r.stderr == ""


def test_not_while_records_stream_to_a_terminal(
    run_xent: Run, files: tuple[Path, Path], terminal_stderr: None, fake_tty: Callable[..., None]
) -> None:
    fake_tty(stdout=True)  # after terminal_stderr: both patches chain
    r = run_xent("loss", files[0], "-l", files[1], "-f", "jsonl", "--head", "2")
    assert r.exit_code == 0
    assert "rows/s" not in r.stderr
