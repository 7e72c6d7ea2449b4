"""A fast path for plain numeric text blocks, vouched for byte by byte.

The strict parser (``xentcli.io.text``) reads about 4 MB/s: it checks every field against
the number grammar in Python. Almost every real file is nothing but digits, signs, dots,
exponents, delimiters and newlines, and for such a block a compiled parser gives exactly
the strict parser's result: every token it accepts is one the strict grammar accepts, and
both round correctly. So a block is handed to a compiled parser only when

- it contains no byte outside ``0-9 . e E + -``, the delimiter and line ends (no quotes,
  no letters, so no ``nan``/``inf``/``1_000``/hex/non-ASCII digits), and no blank line
  (so row ``i`` is physical line ``first_line + i``);
- the parser returns exactly one row per line and the expected number of columns;
- no value is infinite (a finite-looking token that overflows float64, which the strict
  parser must report).

Anything else (a ragged row, ``1e``, ``--1``, an empty field) makes the parser fail or the
checks above reject its result, and the block is re-read by the strict parser, which
names the line and column. The compiled parser is polars when it is installed (the
``xentcli[fast]`` extra, about 400 MB/s here) and NumPy's ``loadtxt`` otherwise (about
30 MB/s); see benchmarks/RESULTS.md. A block of one column of plain integers (a labels
file) is parsed by NumPy arithmetic on its digits instead (:func:`_with_ints`).
"""

from __future__ import annotations

import importlib.util
import io
import warnings
from typing import Any

import numpy as np
from numpy.typing import NDArray

_NUMERIC = b"0123456789.eE+-\r\n"
_HAS_POLARS: bool | None = None
#: Inputs smaller than this are not worth importing polars for (its import takes ~0.3 s):
#: polars takes over once this much text has been read.
POLARS_MIN_BYTES = 8 << 20
#: A file known to be at least this long is read with polars from its first block:
#: NumPy would take ~0.3 s for 12 MB, polars' import and parse about as long (measured
#: on a 40 MB file: 0.64 s in-process instead of 0.92 s, where NumPy read the first 8 MB).
POLARS_MIN_FILE_BYTES = 12 << 20


def polars_available() -> bool:
    """Whether the optional polars reader is installed (checked once, without importing)."""
    global _HAS_POLARS
    if _HAS_POLARS is None:
        _HAS_POLARS = importlib.util.find_spec("polars") is not None
    return _HAS_POLARS


def count_newlines(block: bytes) -> int:
    """``block.count(b"\\n")``, several times faster (NumPy compares bytes in SIMD)."""
    return int(np.count_nonzero(np.frombuffer(block, dtype=np.uint8) == 10))


def _vouched(block: bytes, delimiter: str) -> int | None:
    """The number of lines of a block of nothing but number bytes and no blank line, or
    None if the block is not that."""
    allowed = _NUMERIC + (b" \t" if delimiter == "whitespace" else delimiter.encode())
    if block.translate(None, allowed) or block.startswith((b"\n", b"\r")):
        return None
    if b"\r" in block and block.count(b"\r") != block.count(b"\r\n"):
        return None  # a lone CR: a line end to the strict parser, nothing to polars
    raw = np.frombuffer(block, dtype=np.uint8)
    ends = np.flatnonzero(raw == 10)
    if ends.size > 1:
        gaps = np.diff(ends)
        # A blank line: "\n\n", or "\n\r\n" (the byte before the second end is "\r").
        if (gaps == 1).any() or ((gaps == 2) & (raw[ends[1:] - 1] == 13)).any():
            return None
    return int(ends.size) + (0 if block.endswith(b"\n") else 1)


def _with_polars(block: bytes, delimiter: str, ncols: int) -> NDArray[Any] | None:
    import polars as pl  # type: ignore[import-not-found,unused-ignore]

    if not block.endswith(b"\n"):
        # polars drops a delimiter that ends the input ("3,4," as two fields); with the
        # line end it sees the ragged line and fails, as the strict parser does.
        block += b"\n"

    try:
        frame = pl.read_csv(
            io.BytesIO(block),
            has_header=False,
            separator=delimiter,
            schema={f"c{i}": pl.Float64 for i in range(ncols)},
            truncate_ragged_lines=False,
        )
    except Exception:  # any failure: the strict parser will say why
        return None
    if any(frame.null_count().row(0)):
        return None
    out: NDArray[Any] = frame.to_numpy()
    return out


#: Digits an integer may have on the integer path (exact in float64 up to 2**53).
INT_DIGITS = 15


#: Bytes of a block the integer path reads at a time. Its temporaries take ~30 bytes a
#: line, and ~20 more per digit of the longest number in the piece (a digit matrix): a
#: piece of 128 KB of one-digit lines with one 15-digit line needs ~22 MB.
INT_PIECE = 1 << 17


def _with_ints(block: bytes) -> NDArray[np.float64] | None:
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


def _ints(piece: bytes) -> NDArray[np.float64] | None:
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


def _with_numpy(block: bytes, delimiter: str) -> NDArray[Any] | None:
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
    block: bytes, delimiter: str, ncols: int, read_so_far: int = 0, total: int | None = None
) -> NDArray[np.float64] | None:
    """The (rows, ncols) float64 values of a block of plain numeric lines, or None when
    the block is not plain (the caller then uses the strict parser). ``read_so_far``
    (bytes of the input before this block) and ``total`` (the input's size, when it is a
    file) decide whether polars is worth loading."""
    rows = _vouched(block, delimiter) if block else None
    if rows is None:
        return None
    values = _with_ints(block) if ncols == 1 else None
    big = read_so_far + len(block) >= POLARS_MIN_BYTES or (total or 0) >= POLARS_MIN_FILE_BYTES
    if values is None and delimiter != "whitespace" and big and polars_available():
        values = _with_polars(block, delimiter, ncols)
    if values is None:
        values = _with_numpy(block, delimiter)
    if values is None or values.shape != (rows, ncols) or not np.isfinite(values).all():
        return None
    return np.ascontiguousarray(values, dtype=np.float64)
