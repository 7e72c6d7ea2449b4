"""Labels in their own file (class indices or names, soft or multi-label targets), and
label and weight columns given as text."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from xentcli.errors import DataError
from xentcli.io.blocks import Locator, read_after, split_at
from xentcli.io.fastparse import parse_numeric_block, whole_numbers
from xentcli.io.npy import load_npy, load_npz
from xentcli.io.sources import Source
from xentcli.io.text import decode, is_number, read_rows, text_delimiter


def label_tokens_to_ints(
    tokens: list[str], names: tuple[str, ...] | None, at: Locator
) -> NDArray[np.int64]:
    index = {n: i for i, n in enumerate(names)} if names else {}
    out = np.empty(len(tokens), dtype=np.int64)
    for i, tok in enumerate(tokens):
        if tok in index:
            out[i] = index[tok]
        elif is_number(tok):
            # "3", "3.0" and numpy.savetxt's "3.000000000000000000e+00" are all class 3.
            value = float(tok)
            if not (math.isfinite(value) and value.is_integer()):
                raise DataError(
                    f"label {tok!r} is not a whole number; labels are class indices",
                    where=at(i),
                )
            if abs(value) > 2**62:
                raise DataError(f"label {tok} is out of range", where=at(i))
            out[i] = int(value)
        elif names:
            shown = ", ".join(names[:12]) + (", ..." if len(names) > 12 else "")
            raise DataError(f"unknown class name {tok!r} (classes: {shown})", where=at(i))
        else:
            raise DataError(
                f"label {tok!r} is not a class index, and the classes have no names "
                "(name them with a header row in the logits file or with --classes)",
                where=at(i),
            )
    return out


def read_labels_file(
    src: Source, names: tuple[str, ...] | None, n_samples: int | None
) -> tuple[NDArray[np.generic], Locator]:
    """Labels from their own file. ``n_samples`` (when known) settles whether a first line
    that is not a label is a header or a misspelt class name."""
    if src.format in ("npy", "npz"):
        data = src.data
        if src.format == "npz":
            data = load_npz(src.data, src.name, None, "labels")["logits"]
        arr = load_npy(data, src.name)
        if arr.ndim == 0:
            raise DataError(
                "the labels are a single number (0-d); expected one label per sample",
                where=src.name,
            )
        return arr, Locator(src.name)
    # The fast path reads numbers; it must not when a class is named by a number (the
    # name wins), and not when a dropped first line may be a label (the count says so).
    numeric_names = bool(names) and any(is_number(n) for n in names or ())
    fast = None if numeric_names else _numeric_labels(src.data, names)
    if fast is not None and not (fast[1] == 2 and n_samples == len(fast[0]) + 1):
        return fast[0], Locator(src.name, first_line=fast[1])
    text = decode(src.data, src.name)
    delim = text_delimiter(src.format, text)
    rows = read_rows(text, delim, src.name)
    fields, lines = rows.fields, rows.lines
    if not fields:
        raise DataError("the labels input is empty", where=src.name)
    width = len(fields[0])
    if width > 1:
        return _read_target_rows(src.name, fields, lines, n_samples)
    for row, line in zip(fields, lines, strict=True):
        if len(row) != 1:
            raise DataError(
                f"expected one label per line (as on line {lines[0]}), found {len(row)} "
                "fields (for labels in a column of the logits file, use --label-col)",
                where=f"{src.name} line {line}",
            )
    first = fields[0][0]
    # A first line that is neither a number nor a class name is a header such as
    # "label", unless the line count says it is a label (a misspelt class name, which
    # must be reported as such rather than dropped).
    is_label = is_number(first) or bool(names and first in names)
    if not is_label and (n_samples is None or len(fields) != n_samples):
        fields, lines = fields[1:], lines[1:]
        if not fields:
            raise DataError("the labels input has a header but no labels", where=src.name)
    at = Locator(src.name, np.asarray(lines, dtype=np.int64))
    return label_tokens_to_ints([r[0] for r in fields], names, at), at


def _read_target_rows(
    name: str, fields: list[list[str]], lines: list[int], n_samples: int | None
) -> tuple[NDArray[np.generic], Locator]:
    """A labels file with several numbers per line: soft targets or multi-label 0/1 rows."""
    width = len(fields[0])
    header_like = not all(is_number(f) for f in fields[0])
    if header_like and (n_samples is None or len(fields) != n_samples):
        fields, lines = fields[1:], lines[1:]  # a header of class names
        if not fields:
            raise DataError("the labels input has a header but no rows", where=name)
    out = np.empty((len(fields), width), dtype=np.float64)
    for i, (row, line) in enumerate(zip(fields, lines, strict=True)):
        if len(row) != width:
            raise DataError(
                f"expected {width} target values (as on line {lines[0]}), found {len(row)}",
                where=f"{name} line {line}",
            )
        for j, tok in enumerate(row):
            if not is_number(tok):
                raise DataError(
                    f"{tok!r} is not a number (soft or multi-label targets are numbers)",
                    where=f"{name} line {line}, column {j + 1}",
                )
        out[i] = [float(t) for t in row]
    return out, Locator(name, np.asarray(lines, dtype=np.int64))


#: Bytes of a labels file parsed at a time.
LABEL_BLOCK = 4 << 20


def _compact(values: NDArray[np.float64]) -> NDArray[Any]:
    """Class indices as int32 (a quarter of the memory of float64 for 20 million labels);
    anything else (soft targets, huge or fractional values) as it is."""
    if values.ndim == 1 and values.size and np.all(np.abs(values) < 2**31):
        as_int = values.astype(np.int32)
        if np.array_equal(as_int, values):
            return as_int
    return values


def _is_header(line: bytes, names: tuple[str, ...] | None) -> bool:
    """Whether the first line of a labels file, which the fast parser refused, is one
    the strict reader takes for a header: not when it names a class, and not when its
    fields are numbers the fast parser does not take (padded, quoted, ``nan``): the strict
    reader reads those as labels."""
    try:
        rows = read_rows(line.decode("utf-8", "replace"), ",", "labels")
    except DataError:
        return False
    fields = rows.fields[0] if rows.fields else []
    if names and any(f in names for f in fields):
        return False
    return not all(is_number(f) for f in fields)


def _plain_head(data: bytes, names: tuple[str, ...] | None) -> tuple[bytes, int] | None:
    """``data`` without a UTF-8 byte order mark, and the length of its header line (0
    when the first line is numbers the fast parser takes); None when the first line is
    neither (the strict reader then reads the file). Used by the whole and the streamed
    readers alike: a body the streamed one cannot take (rows of several numbers) makes
    it fall back to the whole one (:class:`NotPlain`)."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    nl = data.find(b"\n")
    first = data[: nl + 1] if nl >= 0 else data
    if not first.strip() or parse_numeric_block(first, ",", first.count(b",") + 1) is not None:
        return data, 0
    if not _is_header(first, names):
        return None
    return data, len(first)  # a header such as "label"


def _numeric_labels(
    data: bytes, names: tuple[str, ...] | None = None
) -> tuple[NDArray[Any], int] | None:
    """A plain labels file (one number, or one row of numbers, per line, after an optional
    header line), parsed fast a block at a time into one preallocated array (int32 for
    class indices), so millions of labels never need a float64 copy of them all. Returns
    the values and the physical line of the first, or None if the file is not plain."""
    head = _plain_head(data, names)
    if head is None:
        return None  # labels the fast path does not take: the strict reader reads all
    data, skip = head
    body = data[skip:]
    if not body.strip():
        return None
    nl = body.find(b"\n")
    width = body[: nl + 1 if nl >= 0 else len(body)].count(b",") + 1
    rows = body.count(b"\n") + (0 if body.endswith(b"\n") else 1)
    out: NDArray[Any] = np.empty(rows, dtype=np.int32) if width == 1 else np.empty((rows, width))
    at = start = 0
    while start < len(body):
        end = body.rfind(b"\n", start, start + LABEL_BLOCK) + 1
        if end <= start or start + LABEL_BLOCK >= len(body):
            end = len(body)
        values = parse_numeric_block(body[start:end], ",", width, start)
        if values is None or at + len(values) > rows:
            return None
        if width == 1 and not whole_numbers(values[:, 0]):
            return None  # a bad class index: the strict reader names it as written
        block = values[:, 0] if width == 1 else values
        if out.dtype == np.int32:
            compact = _compact(block)
            if compact.dtype != np.int32:
                out = out.astype(np.float64)
            block = compact
        out[at : at + len(block)] = block
        at += len(block)
        start = end
    if at != rows:
        return None
    return out, 2 if skip else 1


def weight_tokens(tokens: list[str], at: Locator) -> NDArray[np.float64]:
    """``--sample-weight-col`` strings as numbers, or an error at the first bad one."""
    out = np.empty(len(tokens), dtype=np.float64)
    for i, tok in enumerate(tokens):
        if not is_number(tok):
            raise DataError(f"sample weight {tok!r} is not a number", where=at(i))
        out[i] = float(tok)
    return out


#: Labels files at least this big are read a block at a time, as the logits need them.
STREAM_LABELS_BYTES = 16 << 20


class NotPlain(Exception):
    """A block of a streamed labels file is not plain numbers: read the file whole."""


class WholeLabels:
    """Labels read at once (small files, NPY/NPZ, stdin, names, soft targets)."""

    def __init__(self, labels: NDArray[Any], at: Locator) -> None:
        self.labels = labels
        self.at = at
        self.name = at.name

    def take(self, start: int, n: int) -> tuple[NDArray[Any], Locator]:
        """Labels ``start .. start + n`` (fewer at the end) and their places."""
        return self.labels[start : start + n], _shifted(self.at, start)

    def count(self) -> int:
        """How many labels there are in all (-1 for a single 0-d label)."""
        return len(self.labels) if self.labels.ndim >= 1 else -1

    def close(self) -> None:
        pass


class StreamedLabels:
    """A big plain labels file (an optional header, then one number per line), parsed a
    block at a time: memory holds one block of labels, not the file.

    :meth:`take` raises :class:`NotPlain` when a block is not plain numbers (a class
    name, a blank line, a typo); the caller then reads the file whole, with the strict
    parser's messages.
    """

    def __init__(self, path: str, fh: Any, first: bytes, skip: int, names: Any) -> None:
        self.name = path
        self.fh = fh
        self.names = names
        self.pending: bytes | bytearray = first[skip:]  # read but not parsed yet
        self.eof = False
        self.buf: NDArray[Any] = np.zeros(0, dtype=np.int32)
        self.taken = 0  # labels handed out
        self.first_line = 2 if skip else 1
        self.read_bytes = len(first)
        self.total: int | None = None  # known once count() has read to the end

    @classmethod
    def open(cls, path: str, names: tuple[str, ...] | None) -> StreamedLabels | None:
        """The stream of a plain labels file, or None when its first block is not plain
        (or a class is named by a number, where names win): read it whole then."""
        if names and any(is_number(n) for n in names):
            return None
        fh = open(path, "rb")  # noqa: SIM115 (closed by close())
        try:
            head = _plain_head(fh.read(LABEL_BLOCK), names)
            if head is None:
                fh.close()
                return None
            first, skip = head
            if not first[skip:].strip():
                fh.close()
                return None  # empty, or a header alone: the whole reader says so
            return cls(path, fh, first, skip, names)
        except BaseException:
            fh.close()
            raise

    def _next_values(self) -> NDArray[Any] | None:
        """The labels of the next block of whole lines (None at the end of the file);
        :class:`NotPlain` if that block is not plain numbers."""
        while self.pending or not self.eof:
            if not self.eof:
                self.pending, got = read_after(self.fh, self.pending, LABEL_BLOCK, self.name)
                self.read_bytes += got
                self.eof = not got
            end = len(self.pending) if self.eof else self.pending.rfind(b"\n") + 1
            if end <= 0:
                continue  # no whole line yet
            body, self.pending = split_at(self.pending, end)
            values = parse_numeric_block(body, ",", 1, self.read_bytes)
            if values is None or not whole_numbers(values[:, 0]):
                raise NotPlain
            return _compact(values[:, 0])
        return None

    def _fill(self, need: int) -> None:
        while len(self.buf) < need:
            values = self._next_values()
            if values is None:
                return
            self.buf = np.concatenate([self.buf, values])

    def take(self, start: int, n: int) -> tuple[NDArray[Any], Locator]:
        """The next ``n`` labels (the caller asks in order: ``start`` is how many it has
        had), fewer at the end of the file."""
        assert start == self.taken, "labels are streamed in order"
        self._fill(n)
        out, self.buf = self.buf[:n], self.buf[n:]
        at = Locator(self.name, first_line=self.first_line + self.taken)
        self.taken += len(out)
        return out, at

    def count(self) -> int:
        """How many labels the file holds in all: those handed out, those buffered, and
        those of the rest of the file, parsed a block at a time and not kept. Raises
        :class:`NotPlain` if the rest is not plain numbers (a blank line at the end, a
        typo), so the caller reads the file whole and judges it as it would any file."""
        if self.total is not None:
            return self.total
        rows = self.taken + len(self.buf)
        while (values := self._next_values()) is not None:
            rows += len(values)
        self.total = rows
        return rows

    def close(self) -> None:
        self.fh.close()


class NpyLabels:
    """A big ``.npy`` labels file (a file, C order, 1-D or 2-D), read a block of rows at
    a time as the logits need them, like the logits themselves."""

    first_line = 0  # (no header line to reconsider; see LossStream._mismatch)

    def __init__(self, path: str) -> None:
        from xentcli.io.npy import MAX_HEADER
        from xentcli.io.npystream import npy_stream

        self.name = path
        fh = open(path, "rb")  # noqa: SIM115 (npy_stream closes it)
        try:
            head = fh.read(MAX_HEADER)
            fh.seek(len(head))
            self.stream = npy_stream(fh, head, path, _NO_COLUMNS)
        except BaseException:
            fh.close()
            raise
        self.total = -1
        self.buf: NDArray[Any] | None = None
        self.taken = 0

    @classmethod
    def open(cls, path: str) -> NpyLabels | None:
        """The stream of a plain ``.npy`` labels file, or None (read it whole) for a
        0-d array or a Fortran-order one."""
        from xentcli.io.npy import MAX_HEADER, parse_npy_header

        with open(path, "rb") as fh:
            header = parse_npy_header(fh.read(MAX_HEADER), path)
        if len(header.shape) not in (1, 2) or header.fortran or header.shape[0] == 0:
            return None
        labels = cls(path)
        labels.total = header.shape[0]
        return labels

    def take(self, start: int, n: int) -> tuple[NDArray[Any], Locator]:
        """The next ``n`` labels (asked for in order), fewer at the end."""
        assert start == self.taken, "labels are streamed in order"
        parts = [] if self.buf is None else [self.buf]
        have = 0 if self.buf is None else len(self.buf)
        while have < n:
            block = next(self.stream.blocks, None)
            if block is None:
                break
            parts.append(block.values)
            have += block.rows
        whole = np.concatenate(parts) if len(parts) > 1 else parts[0] if parts else None
        if whole is None:
            return np.zeros(0, dtype=np.int64), Locator(self.name, first_row=start)
        out, self.buf = whole[:n], whole[n:]
        self.taken += len(out)
        return out, Locator(self.name, first_row=start)

    def count(self) -> int:
        """How many labels the file holds (from its header)."""
        return self.total

    def close(self) -> None:
        self.stream.close()


class _NoColumns:
    label_col = None
    sample_weight_col = None


_NO_COLUMNS = _NoColumns()


def _shifted(at: Locator, start: int) -> Locator:
    """``at`` for the rows from ``start`` on."""
    if at.lines is not None:
        return Locator(at.name, lines=at.lines[start:])
    if at.first_line is not None:
        return Locator(at.name, first_line=at.first_line + start)
    return Locator(at.name, first_row=at.first_row + start)
