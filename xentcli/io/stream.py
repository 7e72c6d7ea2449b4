"""Scores in blocks of rows, so inputs of any size run in bounded memory.

:func:`open_scores` reads just enough of an input to know its format, header and width,
then yields :class:`Block` objects: text a few MB at a time (a plain numeric block through
the fast parser, anything else through the strict one, with physical line numbers kept),
``.npy`` files memory-mapped (stdin read row by row), ``.npz`` members in slices.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import numpy as np
from numpy.typing import NDArray

from xentcli.errors import DataError, InputError, UsageError
from xentcli.io.fastparse import parse_numeric_block
from xentcli.io.npy import MAX_HEADER, NpyHeader, load_npy, load_npz, parse_npy_header, truncated
from xentcli.io.sources import _EXTENSIONS, NPY_MAGIC, STDIN_NAME, ZIP_MAGIC, Format
from xentcli.io.text import (
    SIDE_FLAGS,
    decode,
    read_table,
    resolve_column,
    sniff_delimiter,
)

#: Bytes of text parsed at a time, and the size of a block of binary rows.
BLOCK_BYTES = 4 << 20


@dataclass(frozen=True)
class Locator:
    """Maps a 0-based row of a block to a place a user can open: a file line or array row.

    ``lines`` lists each row's physical line; without it, rows are consecutive lines from
    ``first_line`` (text), or array rows offset by ``first_row`` (binary input).
    """

    name: str
    lines: NDArray[np.int64] | None = None
    first_line: int | None = None
    first_row: int = 0

    def __call__(self, sample: int) -> str:
        if self.lines is not None and 0 <= sample < len(self.lines):
            return f"{self.name} line {int(self.lines[sample])}"
        if self.first_line is not None:
            return f"{self.name} line {self.first_line + sample}"
        return f"{self.name} row {self.first_row + sample}"


@dataclass(frozen=True)
class Block:
    """Rows ``start .. start + len(values)`` of an input's scores, and their side columns
    (``"label"``, ``"sample_weight"``: strings from text, arrays from NPY)."""

    values: NDArray[Any]
    start: int
    at: Locator
    side: dict[str, Any] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        return int(self.values.shape[0])


@dataclass
class ScoreStream:
    """An open input: what its first block said (format, header, side columns) and an
    iterator over all its blocks (the first included)."""

    name: str
    format: Format
    columns: list[str] | None
    side_index: dict[str, int]
    side_names: dict[str, str]
    delimiter: str | None
    blocks: Iterator[Block]
    npz_labels: NDArray[Any] | None = None
    closer: Any = None

    def close(self) -> None:
        """Release the input file (also done when the blocks run out)."""
        for it in (self.blocks, self.closer):
            close = getattr(it, "close", None)
            if close is not None:
                close()

    def __enter__(self) -> ScoreStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _open(path: str, stdin: BinaryIO | None) -> tuple[BinaryIO, str]:
    if path == "-":
        if stdin is None:
            raise UsageError("no standard input to read from")
        return stdin, STDIN_NAME
    try:
        return open(path, "rb"), path  # closed by the block iterator
    except FileNotFoundError:
        raise InputError("no such file", where=path) from None
    except IsADirectoryError:
        raise InputError("is a directory, not a file", where=path) from None
    except PermissionError:
        raise InputError("permission denied", where=path) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", where=path) from exc


def _read(fh: BinaryIO, n: int, name: str) -> bytes:
    try:
        return fh.read(n)
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", where=name) from exc


def _format(path: str, head: bytes, forced: Format | None) -> Format:
    if forced is not None:
        return forced
    ext = os.path.splitext(path)[1].lower() if path != "-" else ""
    if ext in _EXTENSIONS:
        return _EXTENSIONS[ext]
    if head.startswith(NPY_MAGIC):
        return "npy"
    if head.startswith(ZIP_MAGIC):
        return "npz"
    return "txt"


def open_scores(path: str, stdin: BinaryIO | None, opts: Any) -> ScoreStream:
    """Open ``path`` (``-``: stdin) and parse its first block. ``opts`` is the io layer's
    ``ReadOptions``.

    Raises
    ------
    UsageError, InputError, DataError
        With the file, line and column of the problem.
    """
    fh, name = _open(path, stdin)
    try:
        head = _read(fh, BLOCK_BYTES, name)
        fmt = _format(path, head, opts.input_format)
        if opts.key is not None and fmt != "npz":
            raise UsageError(f"--key applies to .npz input, but {name} is {fmt}")
        if fmt in ("csv", "tsv", "txt"):
            return _text_stream(fh, head, name, fmt, opts)
        for flag, value in (("--delimiter", opts.delimiter), ("--header/--no-header", opts.header)):
            if value is not None:
                raise UsageError(f"{flag} applies to text input, but {name} is {fmt}")
        if fmt == "npz":
            return _npz_stream(fh, head, name, opts)
        while len(head) < MAX_HEADER:  # the whole header, however small the blocks
            more = _read(fh, MAX_HEADER - len(head), name)
            if not more:
                break
            head += more
        return _npy_stream(fh, head, name, opts)
    except BaseException:
        if fh is not stdin and not fh.closed:
            fh.close()
        raise


# --- NPY and NPZ --------------------------------------------------------------------------


def _take_columns(shape: tuple[int, ...], opts: Any, name: str) -> dict[str, int]:
    """Column indices of ``--label-col`` / ``--sample-weight-col`` in an array."""
    taken: dict[str, int] = {}
    for role, spec in (("label", opts.label_col), ("sample_weight", opts.sample_weight_col)):
        if spec is None:
            continue
        flag = SIDE_FLAGS[role]
        if len(shape) != 2:
            raise DataError(f"{flag} needs a 2-D array; got shape {shape}", where=name)
        taken[role] = resolve_column(spec, None, shape[1], name, flag)
    if len(set(taken.values())) != len(taken):
        raise UsageError(f"--label-col and --sample-weight-col name the same column of {name}")
    return taken


def _array_blocks(
    get: Any, n: int, row_bytes: int, name: str, taken: dict[str, int]
) -> Iterator[Block]:
    step = max(1, BLOCK_BYTES // max(row_bytes, 1))
    keep: list[int] | None = None
    for start in range(0, n, step):
        rows = np.asarray(get(start, min(n, start + step)))
        side = {role: rows[:, i] for role, i in taken.items()}
        if taken:
            if keep is None:
                keep = [i for i in range(rows.shape[1]) if i not in taken.values()]
            rows = rows[:, keep]
        yield Block(rows, start, Locator(name, first_row=start), side)


def _check_array(shape: tuple[int, ...], name: str) -> None:
    if len(shape) == 0:
        raise DataError(
            "the array is a single number (0-d); expected one row of scores per sample",
            where=name,
        )
    if shape[0] == 0:
        raise DataError("the input has no samples (0 rows)", where=name)


def _npy_stream(fh: BinaryIO, head: bytes, name: str, opts: Any) -> ScoreStream:
    header = parse_npy_header(head[:MAX_HEADER], name)
    _check_array(header.shape, name)
    taken = _take_columns(header.shape, opts, name)
    n = header.shape[0]
    row_bytes = header.nbytes // n if n else 0
    size = _file_size(fh)
    if header.nbytes == 0:
        # No data (a zero dimension): nothing to map or stream.
        empty = load_npy(head[: header.offset], name)
        if name != STDIN_NAME:
            fh.close()
        blocks = _array_blocks(lambda a, b: empty[a:b], n, 1, name, taken)
    elif size is not None:
        available = size - header.offset
        if available < header.nbytes:
            fh.close()
            raise truncated(header, available, name)
        data = np.memmap(
            fh,
            dtype=header.dtype,
            mode="r",
            offset=header.offset,
            shape=header.shape,
            order="F" if header.fortran else "C",
        )
        fh.close()  # the map keeps its own reference to the file
        blocks = _array_blocks(lambda a, b: data[a:b], n, row_bytes, name, taken)
    elif header.fortran:
        whole = load_npy(head + _read(fh, -1, name), name)
        if name != STDIN_NAME:
            fh.close()
        blocks = _array_blocks(lambda a, b: whole[a:b], n, row_bytes, name, taken)
    else:
        blocks = _npy_rows_from_pipe(fh, head[header.offset :], header, name, taken)
    return ScoreStream(name, "npy", None, taken, {}, None, blocks)


def _file_size(fh: BinaryIO) -> int | None:
    """The size of a regular file (which can be memory-mapped), else None."""
    try:
        st = os.fstat(fh.fileno())
    except (OSError, AttributeError, ValueError):
        return None
    import stat

    return st.st_size if stat.S_ISREG(st.st_mode) and st.st_size > 0 else None


def _npy_rows_from_pipe(
    fh: BinaryIO, buffered: bytes, header: NpyHeader, name: str, taken: dict[str, int]
) -> Iterator[Block]:
    """C-order rows read from a pipe a block at a time (nothing can be mapped)."""
    n = header.shape[0]
    row_shape = header.shape[1:]
    row_bytes = header.nbytes // n
    step = max(1, BLOCK_BYTES // max(row_bytes, 1))
    pending = buffered
    got = 0
    for start in range(0, n, step):
        want = min(step, n - start) * row_bytes
        while len(pending) < want:
            more = _read(fh, max(want - len(pending), BLOCK_BYTES), name)
            if not more:
                raise truncated(header, got + len(pending), name)
            pending += more
        chunk, pending = pending[:want], pending[want:]
        got += want
        rows = np.frombuffer(chunk, dtype=header.dtype).reshape((-1, *row_shape))
        side = {role: rows[:, i] for role, i in taken.items()}
        if taken:
            rows = np.delete(rows, list(taken.values()), axis=1)
        yield Block(rows, start, Locator(name, first_row=start), side)


def _npz_stream(fh: BinaryIO, head: bytes, name: str, opts: Any) -> ScoreStream:
    data = head + _read(fh, -1, name)
    if name != STDIN_NAME:
        fh.close()
    members = load_npz(data, name, opts.key, "logits")
    values = load_npy(members["logits"], name)
    labels = load_npy(members["labels"], f"{name} (labels)") if "labels" in members else None
    _check_array(values.shape, name)
    taken = _take_columns(values.shape, opts, name)
    row_bytes = values.nbytes // values.shape[0]
    blocks = _array_blocks(lambda a, b: values[a:b], values.shape[0], row_bytes, name, taken)
    return ScoreStream(name, "npz", None, taken, {}, None, blocks, npz_labels=labels)


# --- text -----------------------------------------------------------------------------------


def _text_delimiter(fmt: Format, text: str, opts: Any) -> str:
    if opts.delimiter is not None:
        return str(opts.delimiter)
    if fmt == "csv":
        return ","
    if fmt == "tsv":
        return "\t"
    return sniff_delimiter(text)


def _cut(buf: bytes, eof: bool) -> int:
    """Where to end a text block: after the last newline outside quotes (all at EOF)."""
    if eof:
        return len(buf)
    cut = buf.rfind(b"\n") + 1
    # A quoted field may hold a newline: never cut inside quotes.
    while cut and buf.count(b'"', 0, cut) % 2:
        cut = buf.rfind(b"\n", 0, cut - 1) + 1
    return cut


def _text_chunks(fh: BinaryIO, head: bytes, name: str) -> Generator[tuple[bytes, int], None, None]:
    """Text in blocks of whole lines, each with the physical line number it starts on.
    Closes ``fh`` (unless it is stdin) when done or discarded."""
    try:
        yield from _lines_blocks(fh, head, name)
    finally:
        if name != STDIN_NAME:
            fh.close()


def _lines_blocks(fh: BinaryIO, head: bytes, name: str) -> Iterator[tuple[bytes, int]]:
    buf, eof, line = head, len(head) < BLOCK_BYTES, 1
    while buf or not eof:
        cut = _cut(buf, eof)
        if cut == 0:
            more = _read(fh, BLOCK_BYTES, name)
            eof = not more
            buf += more
            continue
        block, buf = buf[:cut], buf[cut:]
        yield block, line
        line += block.count(b"\n")
        if not eof:
            more = _read(fh, BLOCK_BYTES, name)
            eof = len(more) == 0
            buf += more


def _prefix_end(buf: bytes) -> tuple[int, bool]:
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


def _text_stream(fh: BinaryIO, head: bytes, name: str, fmt: Format, opts: Any) -> ScoreStream:
    chunks = _text_chunks(fh, head, name)
    buf, buf_line = b"", 1
    try:
        # Enough text for a header and a row (blocks may be smaller than a line or two).
        for block, line in chunks:
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
        delim = _text_delimiter(fmt, text, opts)
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
    width_line = int(table.lines[0]) - (1 if table.columns is not None else 0)
    side_index = dict(table.side_index)
    rest_line = buf_line + prefix.count(b"\n")
    return _text_blocks(
        name, fmt, delim, table, chunks, n_fields, width_line, side_index, (rest, rest_line)
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
    chunks: Generator[tuple[bytes, int], None, None],
    n_fields: int,
    width_line: int,
    side_index: dict[str, int],
    rest: tuple[bytes, int],
) -> ScoreStream:
    def blocks() -> Iterator[Block]:
        yield Block(table.values, 0, Locator(name, lines=table.lines), dict(table.side))
        start = table.values.shape[0]
        read = 0
        for block, line in itertools.chain([rest], chunks):
            if not block:
                continue
            read += len(block)
            b = _parse_block(block, line, name, delim, n_fields, width_line, side_index, read)
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
    block: bytes,
    line: int,
    name: str,
    delim: str,
    n_fields: int,
    width_line: int,
    side_index: dict[str, int],
    read_so_far: int = 0,
) -> Block | None:
    values = parse_numeric_block(block, delim, n_fields, read_so_far)
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


def concat_blocks(stream: ScoreStream) -> Block:
    """All of a stream's blocks as one (for commands that need the whole input)."""
    parts = list(stream.blocks)
    values = np.concatenate([b.values for b in parts]) if len(parts) > 1 else parts[0].values
    side: dict[str, Any] = {}
    for role in parts[0].side:
        cols = [b.side[role] for b in parts]
        if isinstance(cols[0], list):
            side[role] = [v for c in cols for v in c]
        else:
            side[role] = np.concatenate([np.asarray(c) for c in cols])
    return Block(values, 0, _joined_locator(stream.name, parts), side)


def _joined_locator(name: str, parts: list[Block]) -> Locator:
    if len(parts) == 1:
        return parts[0].at
    if all(b.at.lines is None and b.at.first_line is None for b in parts):
        return Locator(name)
    lines = np.concatenate(
        [
            b.at.lines
            if b.at.lines is not None
            else np.arange(b.rows, dtype=np.int64) + (b.at.first_line or 0)
            for b in parts
        ]
    )
    return Locator(name, lines=lines)


__all__ = ["BLOCK_BYTES", "Block", "Locator", "ScoreStream", "concat_blocks", "open_scores"]
