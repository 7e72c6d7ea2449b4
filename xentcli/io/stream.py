"""Scores in blocks of rows, so inputs of any size run in bounded memory.

:func:`open_scores` reads just enough of an input to know its format, header and width,
then yields :class:`Block` objects: text a few MB at a time (a plain numeric block through
the fast parser, anything else through the strict one, with physical line numbers kept),
``.npy`` files memory-mapped (stdin read row by row), ``.npz`` members in slices.
"""

from __future__ import annotations

import io
import itertools
import os
import stat
from collections.abc import Generator, Iterator
from typing import Any, BinaryIO

import numpy as np

from xentcli.errors import DataError, UsageError
from xentcli.io import blocks
from xentcli.io.blocks import Block, Locator, ScoreStream, read_after, read_bytes, split_at
from xentcli.io.fastparse import count_newlines, parse_numeric_block, whole_numbers
from xentcli.io.npy import MAX_HEADER
from xentcli.io.npystream import npy_stream, npz_stream
from xentcli.io.sources import STDIN_NAME, Format, detect_format, open_input
from xentcli.io.text import decode, is_number, read_table, text_delimiter


def open_scores(path: str, stdin: BinaryIO | None, opts: Any) -> ScoreStream:
    """Open ``path`` (``-``: stdin) and parse its first block. ``opts`` is the io layer's
    ``ReadOptions``.

    Raises
    ------
    UsageError, InputError, DataError
        With the file, line and column of the problem.
    """
    fh, name = open_input(path, stdin)
    try:
        head = read_bytes(fh, blocks.BLOCK_BYTES, name)
        fmt = detect_format(path, head, opts.input_format)
        if opts.key is not None and fmt != "npz":
            raise UsageError(f"--key applies to .npz input, but {name} is {fmt}")
        if fmt in ("csv", "tsv", "txt"):
            return _text_stream(fh, head, name, fmt, opts, _file_size(fh))
        for flag, value in (("--delimiter", opts.delimiter), ("--header/--no-header", opts.header)):
            if value is not None:
                raise UsageError(f"{flag} applies to text input, but {name} is {fmt}")
        if fmt == "npz":
            return npz_stream(fh, head, name, opts)
        while len(head) < MAX_HEADER:  # the whole header, however small the blocks
            more = read_bytes(fh, MAX_HEADER - len(head), name)
            if not more:
                break
            head += more
        return npy_stream(fh, head, name, opts)
    except BaseException:
        if fh is not stdin and not fh.closed:
            fh.close()
        raise


# --- NPY and NPZ --------------------------------------------------------------------------


def _cut(buf: bytes | bytearray, eof: bool) -> int:
    """Where to end a text block: after the last newline outside quotes (all at EOF)."""
    if eof:
        return len(buf)
    cut = buf.rfind(b"\n") + 1
    if b'"' not in buf:
        return cut  # (the usual case: one quick scan instead of a count)
    # A quoted field may hold a newline: never cut inside quotes.
    while cut and buf.count(b'"', 0, cut) % 2:
        cut = buf.rfind(b"\n", 0, cut - 1) + 1
    return cut


def _text_chunks(
    fh: BinaryIO, head: bytes, name: str
) -> Generator[tuple[bytes | bytearray, int, int], None, None]:
    """Text in blocks of whole lines, each with the physical line number it starts on and
    its count of newlines (counted once, here: the fast parser checks its rows against
    it). Closes ``fh`` (unless it is stdin) when done or discarded."""
    try:
        yield from _lines_blocks(fh, head, name)
    finally:
        if name != STDIN_NAME:
            fh.close()


def _lines_blocks(
    fh: BinaryIO, head: bytes, name: str
) -> Iterator[tuple[bytes | bytearray, int, int]]:
    buf: bytes | bytearray = head
    eof, line = len(head) < blocks.BLOCK_BYTES, 1
    while buf or not eof:
        cut = _cut(buf, eof)  # 0: no whole line yet (never at the end, where it is all)
        if cut:
            block, buf = split_at(buf, cut)
            newlines = count_newlines(block)
            yield block, line, newlines
            line += newlines
        if not eof:
            buf, got = read_after(fh, buf, blocks.BLOCK_BYTES, name)
            eof = got == 0


def _prefix_end(buf: bytes | bytearray) -> tuple[int, bool]:
    """End of the second non-blank line: the header (if any) and a first row, parsed
    strictly to learn the layout; the rest of the block can take the fast path. A quote
    in them (a field might span lines) makes the whole buffer the prefix. Also says
    whether two complete lines were found."""
    pos = found = 0
    while pos < len(buf) and found < 2:
        nl = buf.find(b"\n", pos)
        if nl < 0:
            break
        if buf[pos : nl + 1].strip():
            found += 1
        pos = nl + 1
    if found < 2 or b'"' in buf[:pos]:
        return len(buf), found >= 2
    return pos, True


def _file_size(fh: BinaryIO) -> int | None:
    """The size of a regular file (None for a pipe, a terminal, a stream in memory)."""
    try:
        st = os.fstat(fh.fileno())
    except (OSError, AttributeError, ValueError, io.UnsupportedOperation):
        return None
    return st.st_size if stat.S_ISREG(st.st_mode) else None


def _text_stream(
    fh: BinaryIO, head: bytes, name: str, fmt: Format, opts: Any, size: int | None = None
) -> ScoreStream:
    chunks = _text_chunks(fh, head, name)
    buf, buf_line = b"", 1
    try:
        # Enough text for a header and a row (blocks may be smaller than a line or two).
        for block, line, _ in chunks:
            if not buf:
                buf_line = line
            buf += block
            if _prefix_end(buf)[1]:
                break
        cut = _prefix_end(buf)[0]
        prefix, rest = buf[:cut], buf[cut:]
        text = decode(prefix, name, first_line=buf_line, first_block=buf_line == 1)
        if not text.strip():
            raise DataError("the input is empty (no rows)", where=name)
        delim = text_delimiter(fmt, text, opts.delimiter)
        try:
            table = _first_table(text, name, delim, opts, buf_line)
        except DataError:
            if cut == len(buf):
                raise
            # Report every problem of the first block, not just of its first lines.
            full = decode(buf, name, first_line=buf_line, first_block=buf_line == 1)
            _first_table(full, name, delim, opts, buf_line)
            raise
    except BaseException:
        chunks.close()
        raise
    n_fields = table.values.shape[1] + len(table.side)
    # The line the field count was taken from: the first non-blank one (the header, if any).
    lead = len(text) - len(text.lstrip("\r\n \t"))
    width_line = buf_line + text.count("\n", 0, lead)
    side_index = dict(table.side_index)
    rest_line = buf_line + prefix.count(b"\n")
    return _text_blocks(
        name,
        fmt,
        delim,
        table,
        chunks,
        n_fields,
        width_line,
        side_index,
        (rest, rest_line, count_newlines(rest)),
        size,
        opts.classes,
    )


def _first_table(first_text: str, name: str, delim: str, opts: Any, first_line: int) -> Any:
    return read_table(
        first_text,
        name,
        delimiter=delim,
        header=opts.header,
        label_col=opts.label_col,
        sample_weight_col=opts.sample_weight_col,
        first_line=first_line,
    )


def _text_blocks(
    name: str,
    fmt: Format,
    delim: str,
    table: Any,
    chunks: Generator[tuple[bytes | bytearray, int, int], None, None],
    n_fields: int,
    width_line: int,
    side_index: dict[str, int],
    rest: tuple[bytes | bytearray, int, int],
    size: int | None = None,
    classes: tuple[str, ...] | None = None,
) -> ScoreStream:
    # A label column of class names that look like numbers ("2"), from the header or
    # from --classes, must be read as names, which only the strict parser keeps as text.
    names = [*(table.columns or []), *(classes or ())]
    fast = not ("label" in side_index and any(is_number(c) for c in names))

    def blocks() -> Iterator[Block]:
        yield Block(table.values, 0, Locator(name, lines=table.lines), dict(table.side))
        start = table.values.shape[0]
        read = 0
        for block, line, newlines in itertools.chain([rest], chunks):
            if not block:
                continue
            b = _parse_block(
                block,
                line,
                name,
                delim,
                n_fields,
                width_line,
                side_index,
                (read, size),
                fast,
                newlines,
            )
            read += len(block)  # bytes before the next block
            if b is None:
                continue
            yield Block(b.values, start, b.at, b.side)
            start += b.rows

    return ScoreStream(
        name,
        fmt,
        table.columns,
        side_index,
        dict(table.side_names),
        delim,
        blocks(),
        closer=chunks,
    )


def _parse_block(
    block: bytes | bytearray,
    line: int,
    name: str,
    delim: str,
    n_fields: int,
    width_line: int,
    side_index: dict[str, int],
    read: tuple[int, int | None] = (0, None),
    fast: bool = True,
    newlines: int | None = None,
) -> Block | None:
    """``read``: the bytes of the input before this block, and its size if known;
    ``newlines``: the block's count of newlines, if known."""
    values = parse_numeric_block(block, delim, n_fields, *read, newlines) if fast else None
    label = side_index.get("label")
    if values is not None and label is not None and not whole_numbers(values[:, label]):
        values = None  # a bad label: the strict reader names it as written
    if values is not None:
        side: dict[str, Any] = {role: values[:, i] for role, i in side_index.items()}
        if side_index:
            values = np.delete(values, list(side_index.values()), axis=1)
        return Block(values, 0, Locator(name, first_line=line), side)
    text = decode(block, name, first_line=line, first_block=False)
    if not text.strip():
        return None
    specs = {role: str(i) for role, i in side_index.items()}
    table = read_table(
        text,
        name,
        delimiter=delim,
        header=False,
        label_col=specs.get("label"),
        sample_weight_col=specs.get("sample_weight"),
        first_line=line,
        width=(n_fields, width_line),
    )
    return Block(table.values, 0, Locator(name, lines=table.lines), dict(table.side))


__all__ = ["Block", "Locator", "ScoreStream", "open_scores"]
