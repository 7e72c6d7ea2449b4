"""The process's streams in one object, so tests can swap them and ask "is it a terminal?"."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, BinaryIO, TextIO

if TYPE_CHECKING:
    from rich.console import Console


def _isatty(stream: object) -> bool:
    try:
        return bool(stream.isatty())  # type: ignore[attr-defined]
    except (AttributeError, ValueError, OSError):
        return False


@dataclass
class Streams:
    """stdin (bytes), stdout, stderr and whether each is a terminal."""

    stdin: BinaryIO | None
    stdout: TextIO
    stderr: TextIO
    stdin_isatty: bool
    stdout_isatty: bool
    stderr_isatty: bool
    no_color: bool = False

    @classmethod
    def from_sys(cls, no_color: bool = False) -> Streams:
        """The current ``sys`` streams (read at call time, so test runners' swaps count)."""
        stdin = getattr(sys.stdin, "buffer", None) if sys.stdin is not None else None
        return cls(
            stdin=stdin,
            stdout=sys.stdout,
            stderr=sys.stderr,
            stdin_isatty=_isatty(sys.stdin),
            stdout_isatty=_isatty(sys.stdout),
            stderr_isatty=_isatty(sys.stderr),
            no_color=no_color or "NO_COLOR" in os.environ,
        )

    def err_console(self) -> Console:
        """A console for messages on stderr (colour only on a terminal, never with NO_COLOR)."""
        from rich.console import Console

        return Console(
            file=self.stderr,
            force_terminal=self.stderr_isatty,
            no_color=self.no_color,
            highlight=False,
            soft_wrap=True,
        )

    def out_console(self) -> Console:
        """A console for tables on stdout, used only when stdout is a terminal."""
        from rich.console import Console

        return Console(
            file=self.stdout,
            force_terminal=self.stdout_isatty,
            no_color=self.no_color,
            highlight=False,
        )

    def warn(self, message: str) -> None:
        """One ``Warning: ...`` line on stderr (never on stdout)."""
        self.stderr.write("Warning: " + " ".join(message.split("\n")) + "\n")
        self.stderr.flush()
