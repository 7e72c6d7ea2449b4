"""A progress bar on stderr for long runs: rows read and their rate, never on stdout.

It appears only when stderr is a terminal, once a run has taken :data:`DELAY` seconds
(short runs stay silent), disappears when the run ends, and ``-q`` turns it off.
"""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING, Any

from xentcli.cli.streams import Streams

if TYPE_CHECKING:
    from rich.progress import Progress

#: Seconds a run takes before the bar appears.
DELAY = 1.0


class RowProgress:
    """Counts rows as blocks come in; draws a transient Rich bar once it is worth it."""

    def __init__(self, streams: Streams, name: str, enabled: bool) -> None:
        self.streams = streams
        self.name = name
        self.enabled = enabled and streams.stderr_isatty
        self.start = time.monotonic()
        self.bar: Progress | None = None
        self.task: Any = None

    def __call__(self, rows: int) -> None:
        """``rows`` of the input are done."""
        if not self.enabled:
            return
        elapsed = time.monotonic() - self.start
        if self.bar is None:
            if elapsed < DELAY:
                return
            self._begin()
        assert self.bar is not None
        rate = f"{rows / elapsed:,.0f} rows/s" if elapsed > 0 else ""
        self.bar.update(self.task, completed=rows, rate=rate)

    def _begin(self) -> None:
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self.bar = Progress(
            SpinnerColumn(),
            TextColumn("{task.completed:,} rows"),
            TextColumn("{task.fields[rate]}"),
            TimeElapsedColumn(),
            TextColumn("{task.description}"),
            console=self.streams.err_console(),
            transient=True,
            # Never capture sys.stdout/stderr: stdout carries only data.
            redirect_stdout=False,
            redirect_stderr=False,
        )
        self.bar.start()
        self.task = self.bar.add_task(os.path.basename(self.name), total=None, rate="")

    def close(self) -> None:
        """Remove the bar (if it was drawn)."""
        if self.bar is not None:
            self.bar.stop()
            self.bar = None

    def __enter__(self) -> RowProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
