"""Output dispatch: pick the format, then send text to stdout or atomically to a file."""

from __future__ import annotations

import io
import os
from collections.abc import Iterable
from typing import TYPE_CHECKING

from xentcli.cli.choices import OutputFormat
from xentcli.cli.streams import Streams
from xentcli.io import write_atomic

if TYPE_CHECKING:
    from rich.console import RenderableType

_BY_EXTENSION = {
    ".json": OutputFormat.json,
    ".jsonl": OutputFormat.jsonl,
    ".ndjson": OutputFormat.jsonl,
    ".csv": OutputFormat.csv,
    ".tsv": OutputFormat.tsv,
    ".txt": OutputFormat.table,
}


def choose_format(fmt: OutputFormat | None, output: str | None, streams: Streams) -> OutputFormat:
    """``-f`` if given; else from the ``-o`` extension (json if unknown); else table on a
    terminal and json in a pipe."""
    if fmt is not None:
        return fmt
    if output is not None and output != "-":
        return _BY_EXTENSION.get(os.path.splitext(output)[1].lower(), OutputFormat.json)
    return OutputFormat.table if streams.stdout_isatty else OutputFormat.json


def plain_text(renderable: RenderableType) -> str:
    """Render without colour at the renderable's natural width, so tables are never cut
    at 80 columns."""
    from rich.console import Console
    from rich.measure import Measurement

    # force_terminal=False: with FORCE_COLOR or TTY_COMPATIBLE=1 set, Rich would treat the
    # StringIO as a terminal, and with TERM=dumb cap its width at 80, cutting the table.
    wide = Console(width=10_000, color_system=None, file=io.StringIO(), force_terminal=False)
    width = Measurement.get(wide, wide.options, renderable).maximum
    console = Console(
        width=max(width, 20), color_system=None, file=io.StringIO(), force_terminal=False
    )
    with console.capture() as capture:
        console.print(renderable)
    return capture.get()


def emit_chunks(streams: Streams, output: str | None, chunks: Iterable[str | bytes]) -> None:
    """Write text (or bytes) to ``-o`` atomically, or stream it to stdout."""
    if output is not None and output != "-":
        write_atomic(output, chunks)
        return
    out = streams.stdout
    for chunk in chunks:
        if isinstance(chunk, bytes):
            out.flush()
            out.buffer.write(chunk)
        else:
            out.write(chunk)
    out.flush()
    getattr(out, "buffer", out).flush()


def emit_table(streams: Streams, output: str | None, renderable: RenderableType) -> None:
    """A Rich renderable: straight to a terminal, else as plain text (see plain_text)."""
    if (output is None or output == "-") and streams.stdout_isatty:
        streams.out_console().print(renderable)
        return
    emit_chunks(streams, output, [plain_text(renderable)])
