"""A fast path for plain numeric text blocks: a compiled parser where it is as strict as
the strict parser.

The strict parser (``xentcli.io.text``) reads about 4 MB/s: it checks every field against
the number grammar in Python. Almost every real file is nothing but numbers, delimiters
and line ends, and for such a block a compiled parser gives exactly the strict parser's
result, provided every token it accepts is one the strict grammar accepts, rounded the
same way, and its rows are the file's lines. Two parsers can do that:

- **pyarrow** (the ``xentcli[fast]`` extra, about 400 MB/s here, once the input is 2 MB
  or more). Called with float64 columns, no null markers, no quoting and no skipping of
  blank lines, it accepts exactly the tokens of the strict grammar
  (``[+-]?(digits[.digits]|.digits)([eE][+-]?digits)?``), with spaces or tabs around
  them (which the strict parser strips too), plus ``nan``/``inf`` spellings (refused
  below), and gives Python's ``float`` of each, sign included.
  tests/test_fastparse.py checks that on arbitrary bytes. So a block of more than one
  column is checked for its line structure only (:func:`_lines`): no lone CR, which
  pyarrow takes for a line end, no byte-order mark, which it skips at the start. A
  one-column block (labels) gets the full byte check below first.
- **NumPy's** ``loadtxt`` (about 30 MB/s) is more lenient (``nan``, ``1_000``, ...), so it
  only sees blocks with no byte outside ``0-9 . e E + -``, the delimiter and line ends,
  and no blank line (:func:`_vouched`). A block of one column of plain integers (a
  labels file) is parsed by NumPy arithmetic on its digits instead (:func:`_with_ints`).

Either way no field may be longer than the strict parser's limit (``FIELD_LIMIT``
characters), the result must have one row per line and the expected number of columns,
and no infinite value (a finite-looking token that overflows float64, which the strict
parser must report; a NaN or infinity spelled out is the strict parser's to read).
Anything else (a ragged row, ``1e``, ``--1``, an empty field) makes the parser fail or
these checks reject its result, and the block is re-read by the strict parser, which
names the line and column. See benchmarks/RESULTS.md for the rates.
"""

from __future__ import annotations

import importlib.util
import io
import warnings
from typing import Any

import numpy as np
from numpy.typing import NDArray

from xentcli.io.text import FIELD_LIMIT

_NUMERIC = b"0123456789.eE+-\r\n"
_HAS_FAST: bool | None = None
#: A pipe's blocks go to NumPy while the text read so far, the block included, is less
#: than this (pyarrow's import, ~50 ms, costs what NumPy's loadtxt takes for ~2 MB): with
#: 4 MB blocks, only a pipe shorter than that.
FAST_MIN_BYTES = 2 << 20
#: A file known to be at least this long is read with pyarrow from its first block.
FAST_MIN_FILE_BYTES = 2 << 20
#: Bytes pyarrow parses as one unit (its threads share the units of a block).
BLOCK_SIZE = 1 << 20


def fast_reader_available() -> bool:
    """Whether the optional pyarrow reader is installed (checked once, without importing)."""
    global _HAS_FAST
    if _HAS_FAST is None:
        _HAS_FAST = importlib.util.find_spec("pyarrow") is not None
    return _HAS_FAST


def whole_numbers(values: NDArray[np.float64]) -> bool:
    """Whether every value is a class index the strict reader accepts (a whole number of
    at most 2**62). Labels that are not are re-read by it, so that its error, which
    quotes the token as written, is the one given whichever parser read the block."""
    if not values.size:
        return True
    return bool(np.array_equal(values, np.round(values))) and float(np.abs(values).max()) <= 2**62


def count_newlines(block: bytes | bytearray) -> int:
    """``block.count(b"\\n")``, several times faster (NumPy compares bytes in SIMD)."""
    return int(np.count_nonzero(np.frombuffer(block, dtype=np.uint8) == 10))


def _vouched(block: bytes | bytearray, delimiter: str) -> int | None:
    """The number of lines of a block of nothing but number bytes and no blank line, or
    None if the block is not that."""
    allowed = _NUMERIC + (b" \t" if delimiter == "whitespace" else delimiter.encode())
    if block.translate(None, allowed) or not _rows_are_lines(block):
        return None
    raw = np.frombuffer(block, dtype=np.uint8)
    ends = np.flatnonzero(raw == 10)
    if ends.size > 1:
        gaps = np.diff(ends)
        # A blank line: "\n\n", or "\n\r\n" (the byte before the second end is "\r").
        if (gaps == 1).any() or ((gaps == 2) & (raw[ends[1:] - 1] == 13)).any():
            return None
    return int(ends.size) + (0 if block.endswith(b"\n") else 1)


def _long_field(block: bytes | bytearray, delimiter: str) -> bool:
    """Whether a field of the block is longer than ``FIELD_LIMIT`` characters, which the
    strict parser (Python's csv module) refuses and the compiled parsers would read.

    A field that long spans a whole aligned window of ``FIELD_LIMIT // 2`` bytes with no
    line end in it; only when some window has none (a very wide row, or such a field) are
    the fields measured."""
    half = FIELD_LIMIT // 2
    if all(block.find(b"\n", a, a + half) >= 0 for a in range(0, len(block) - half + 1, half)):
        return False
    raw = np.frombuffer(block, dtype=np.uint8)
    seps = np.flatnonzero((raw == ord(delimiter)) | (raw == 10) | (raw == 13))
    edges = np.concatenate(([-1], seps, [raw.size]))
    return bool((np.diff(edges) - 1).max() > FIELD_LIMIT)


def _rows_are_lines(block: bytes | bytearray) -> bool:
    """Whether every compiled parser reads the block's lines as the strict parser does,
    as far as line ends go: no lone CR (a line end to the strict parser and pyarrow, not
    to every reader), no blank first line, no byte-order mark (which pyarrow skips at
    the start). Blank lines further on are each parser's check."""
    if block.startswith((b"\n", b"\r", b"\xef\xbb\xbf")):
        return False
    return not (b"\r" in block and block.count(b"\r") != block.count(b"\r\n"))


def _lines(block: bytes | bytearray, newlines: int | None = None) -> int | None:
    """The number of lines of a block that pyarrow may read, or None (see
    :func:`_rows_are_lines`; pyarrow itself refuses blank lines, as it is called).
    ``newlines``: the block's count of newlines, when the caller has it."""
    if not _rows_are_lines(block):
        return None
    if newlines is None:
        newlines = count_newlines(block)
    return newlines + (0 if block.endswith(b"\n") else 1)


def _with_pyarrow(block: bytes | bytearray, delimiter: str, ncols: int) -> NDArray[Any] | None:
    import pyarrow as pa  # type: ignore[import-untyped,import-not-found,unused-ignore]
    import pyarrow.csv as pacsv  # type: ignore[import-untyped,import-not-found,unused-ignore]

    names = [f"c{i}" for i in range(ncols)]
    try:
        table = pacsv.read_csv(
            pa.py_buffer(block),
            read_options=pacsv.ReadOptions(column_names=names, block_size=BLOCK_SIZE),
            # A blank line is a row of one empty field (an error), never skipped: rows
            # stay lines.
            parse_options=pacsv.ParseOptions(
                delimiter=delimiter, quote_char=False, ignore_empty_lines=False
            ),
            # No null markers: "", "NA", "nan" and the like are errors, not nulls.
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.float64()),
                null_values=[],
                strings_can_be_null=False,
            ),
            # malloc, not pyarrow's default mimalloc: a 2 GB pipe took 10.9 s against
            # 12.0, at 223-242 against 235-257 MiB peak RSS (two runs each).
            memory_pool=pa.system_memory_pool(),
        )
    except Exception:  # any failure: the strict parser will say why
        return None
    out = np.empty((table.num_rows, ncols), dtype=np.float64)
    for i, column in enumerate(table.columns):
        if column.null_count:
            return None
        at = 0
        for chunk in column.chunks:
            n = len(chunk)
            out[at : at + n, i] = chunk.to_numpy(zero_copy_only=False)
            at += n
    return out


#: Digits an integer may have on the integer path (exact in float64 up to 2**53).
INT_DIGITS = 15


#: Bytes of a block the integer path reads at a time. Its temporaries take ~30 bytes a
#: line, and ~20 more per digit of the longest number in the piece (a digit matrix): a
#: piece of 128 KB of one-digit lines with one 15-digit line needs ~22 MB.
INT_PIECE = 1 << 17


def _with_ints(block: bytes | bytearray) -> NDArray[np.float64] | None:
    """One column of plain integers (``[+-]?[0-9]{1,15}`` per line, nothing else), parsed
    by NumPy arithmetic on the digits, or None when the block is anything else.

    Labels files are this: millions of short lines, which ``loadtxt`` reads at ~8 MB/s
    (its cost is per line); here about 15 NumPy passes over the bytes (~67 MB/s). Integers need no
    rounding, so the values are exactly those of the strict parser (``-0`` included).
    """
    if b"." in block or b"e" in block or b"E" in block or b"\r" in block:
        return None  # floats (a column of scores), or CRLF: decline before any NumPy pass
    parts = []
    start = 0
    while start < len(block):
        end = block.rfind(b"\n", start, start + INT_PIECE) + 1
        if end <= start or start + INT_PIECE >= len(block):
            end = len(block)
        part = _ints(block[start:end])
        if part is None:
            return None
        parts.append(part)
        start = end
    if not parts:
        return None
    out: NDArray[np.float64] = np.concatenate(parts)[:, None]
    return out


def _ints(piece: bytes | bytearray) -> NDArray[np.float64] | None:
    raw = np.frombuffer(piece, dtype=np.uint8)
    if raw[-1] != 10:
        raw = np.append(raw, np.uint8(10))
    ends = np.flatnonzero(raw == 10)
    starts = np.empty_like(ends)
    starts[0] = 0
    starts[1:] = ends[:-1] + 1
    first = raw[starts]
    signed = (first == 45) | (first == 43)
    begin = starts + signed
    length = ends - begin
    if length.min() < 1 or length.max() > INT_DIGITS:
        return None
    other = (raw != 10) & ((raw < 48) | (raw > 57))  # bytes that are no digit
    if not np.array_equal(np.flatnonzero(other), starts[signed]):
        return None  # a dot, an exponent, a sign inside, a "\r", a delimiter
    width = int(length.max())
    k = np.arange(width)
    pad = (width - length)[:, None]
    # Right-aligned digits; the places before a shorter number read its newline.
    digits = raw[np.where(k >= pad, begin[:, None] + k - pad, ends[:, None])].astype(np.int64)
    digits -= 48
    digits[digits < 0] = 0
    values = (digits @ (10 ** np.arange(width - 1, -1, -1, dtype=np.int64))).astype(np.float64)
    np.negative(values, out=values, where=first == 45)
    return values


def _with_numpy(block: bytes | bytearray, delimiter: str) -> NDArray[Any] | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            return np.loadtxt(
                io.BytesIO(block),
                delimiter=None if delimiter == "whitespace" else delimiter,
                dtype=np.float64,
                ndmin=2,
                encoding="ascii",
            )
    except Exception:  # as above
        return None


def parse_numeric_block(
    block: bytes | bytearray,
    delimiter: str,
    ncols: int,
    read_so_far: int = 0,
    total: int | None = None,
    newlines: int | None = None,
) -> NDArray[np.float64] | None:
    """The (rows, ncols) float64 values of a block of plain numeric lines, or None when
    the block is not plain (the caller then uses the strict parser). ``read_so_far``
    (bytes of the input before this block) and ``total`` (the input's size, when it is a
    file) decide whether pyarrow is worth loading; ``newlines`` is the block's count of
    newlines when the caller has counted them (a text stream counts them for its line
    numbers), to check pyarrow's rows against without counting again."""
    if not block or (delimiter != "whitespace" and _long_field(block, delimiter)):
        return None
    big = read_so_far + len(block) >= FAST_MIN_BYTES or (total or 0) >= FAST_MIN_FILE_BYTES
    fast = delimiter != "whitespace" and big and fast_reader_available()
    if fast and ncols > 1:
        # pyarrow is as strict as the grammar itself (module docstring): only the line
        # structure needs checking, not every byte.
        rows = _lines(block, newlines)
        values = _with_pyarrow(block, delimiter, ncols) if rows is not None else None
    else:
        rows = _vouched(block, delimiter)
        if rows is None:
            return None
        values = _with_ints(block) if ncols == 1 else None
        if values is None and fast:
            values = _with_pyarrow(block, delimiter, ncols)
        if values is None:
            values = _with_numpy(block, delimiter)
    if values is None or values.shape != (rows, ncols) or not np.isfinite(values).all():
        return None
    return np.ascontiguousarray(values, dtype=np.float64)
