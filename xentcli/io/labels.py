"""Labels in their own file (class indices or names, soft or multi-label targets), and
label and weight columns given as text."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from xentcli.errors import DataError
from xentcli.io.blocks import Locator
from xentcli.io.fastparse import parse_numeric_block
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


def _numeric_labels(
    data: bytes, names: tuple[str, ...] | None = None
) -> tuple[NDArray[Any], int] | None:
    """A plain labels file (one number, or one row of numbers, per line, after an optional
    header line), parsed fast a block at a time into one preallocated array (int32 for
    class indices), so millions of labels never need a float64 copy of them all. Returns
    the values and the physical line of the first, or None if the file is not plain."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]  # a UTF-8 byte order mark
    nl = data.find(b"\n")
    first = data[: nl + 1] if nl >= 0 else data
    skip = 0
    if first.strip() and parse_numeric_block(first, ",", first.count(b",") + 1) is None:
        token = first.strip().decode("utf-8", "replace").strip('"')
        if names and token in names:
            return None  # a label given by name: the strict reader handles names
        skip = len(first)  # a header such as "label"
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
