"""Small vectors given on the command line or in a file: class and sample weights."""

from __future__ import annotations

import os

import numpy as np
from numpy.typing import NDArray

from xentcli.errors import DataError, UsageError
from xentcli.io.npy import load_npy
from xentcli.io.sources import read_source
from xentcli.io.text import decode, is_number, read_rows, text_delimiter


def _numbers(tokens: list[tuple[str, str]], what: str) -> NDArray[np.float64]:
    """Each ``(place, token)`` as a float, or a DataError naming the place."""
    out = np.empty(len(tokens), dtype=np.float64)
    for i, (where, tok) in enumerate(tokens):
        if not is_number(tok):
            raise DataError(f"{what}: {tok!r} is not a number", where=where)
        out[i] = float(tok)
        if not np.isfinite(out[i]):
            raise DataError(f"{what}: {tok!r} is not a finite number", where=where)
    return out


def read_vector(spec: str, what: str) -> NDArray[np.float64]:
    """Numbers from ``spec``: a comma list (``1,2.5,3``) or a file holding them.

    A file is ``.npy`` (a 1-D array, or (N, 1)), or text with one number per line or
    per field (a first line that is not numeric is a header and skipped).

    Raises
    ------
    UsageError
        A comma list with something that is not a number.
    InputError, DataError
        The file cannot be read, or holds something else.
    """
    if not os.path.exists(spec) and spec != "-":
        parts = [p.strip() for p in spec.split(",")]
        if not all(is_number(p) for p in parts):
            bad = next(p for p in parts if not is_number(p))
            raise UsageError(
                f"{what} {spec!r}: {bad!r} is not a number, and no file has that name "
                "(give comma-separated numbers or a file)"
            )
        return np.array([float(p) for p in parts], dtype=np.float64)
    src = read_source(spec, None)
    if src.format in ("npy", "npz"):
        if src.format == "npz":
            raise UsageError(f"{what}: give an .npy or text file, not an .npz archive")
        arr = load_npy(src.data, src.name)
        if arr.ndim == 2 and arr.shape[1] == 1:
            arr = arr[:, 0]
        if arr.ndim != 1 or arr.dtype.kind not in "iuf":
            raise DataError(
                f"{what}: expected a 1-D array of numbers, got shape {arr.shape} of {arr.dtype}",
                where=src.name,
            )
        return np.asarray(arr, dtype=np.float64)
    text = decode(src.data, src.name)
    delim = text_delimiter(src.format, text)
    rows = read_rows(text, delim, src.name)
    tokens = [
        (f"{src.name} line {line}", tok)
        for row, line in zip(rows.fields, rows.lines, strict=True)
        for tok in row
    ]
    if tokens and not is_number(tokens[0][1]) and rows.lines:
        tokens = [t for t in tokens if not t[0].endswith(f" line {rows.lines[0]}")]
    if not tokens:
        raise DataError(f"{what}: the file holds no numbers", where=src.name)
    return _numbers(tokens, what)
