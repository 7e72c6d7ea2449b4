"""A matrix of numbers as text (CSV/TSV/whitespace), JSON Lines or NPY bytes, in chunks."""

from __future__ import annotations

import io
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
from numpy.lib import format as npformat
from numpy.typing import NDArray

from xentcli.render.machine import dumps_strict
from xentcli.render.records import rounder

CHUNK_ROWS = 4096


def _cell(v: float, rnd: Any) -> str:
    if v != v:
        return "nan"
    if v in (float("inf"), float("-inf")):
        return "inf" if v > 0 else "-inf"
    return repr(rnd(v))


def _quoted(text: str, delimiter: str) -> str:
    """A text cell as CSV needs it: quoted when it holds the delimiter, a quote or a
    line break."""
    if delimiter in text or '"' in text or "\n" in text or "\r" in text:
        return '"' + text.replace('"', '""') + '"'
    return text


def matrix_text(
    values: NDArray[np.float64],
    *,
    delimiter: str,
    header: Sequence[str] | None = None,
    side: Mapping[int, Sequence[str]] | None = None,
    precision: int | None = None,
) -> Iterator[str]:
    """Rows of ``values`` joined by ``delimiter`` (``" "`` for whitespace), with an
    optional header; ``side`` re-inserts pass-through columns (by original position)
    as they were. Numbers round-trip unless ``precision`` asks for fewer digits."""
    rnd = rounder(precision)
    side = side or {}
    width = values.shape[1] + len(side)
    order = [i for i in range(width) if i not in side]
    if header is not None:
        yield delimiter.join(_quoted(h, delimiter) for h in header) + "\n"
    for first in range(0, values.shape[0], CHUNK_ROWS):
        block = values[first : first + CHUNK_ROWS].tolist()
        lines = []
        for r, row in enumerate(block, start=first):
            cells = [""] * width
            for j, v in zip(order, row, strict=True):
                cells[j] = _cell(v, rnd)
            for j, col in side.items():
                cells[j] = _quoted(col[r], delimiter)
            lines.append(delimiter.join(cells))
        yield "\n".join(lines) + "\n"


def matrix_jsonl(
    values: NDArray[np.float64],
    *,
    key: str,
    precision: int | None = None,
    start: int = 0,
    extra: Mapping[str, Sequence[Any]] | None = None,
) -> Iterator[str]:
    """One ``{"index": i, key: [...]}`` object per row (non-finite values as null);
    ``start`` is the index of the first row; ``extra`` adds pass-through columns."""
    extra = extra or {}
    rnd = rounder(precision)
    for first in range(0, values.shape[0], CHUNK_ROWS):
        out = []
        rows = values[first : first + CHUNK_ROWS].tolist()
        for i, row in enumerate(rows, start=start + first):
            cells = [rnd(v) if v == v and abs(v) != float("inf") else None for v in row]
            rec: dict[str, Any] = {"index": i}
            for name, col in extra.items():
                v = col[i - start]
                rec[name] = v if isinstance(v, str) else float(v)
            rec[key] = cells
            out.append(dumps_strict(rec) + "\n")
        yield "".join(out)


def npy_chunks(array: NDArray[Any]) -> Iterator[bytes]:
    """The NPY file of ``array``: its header, then its data in slices."""
    arr = np.ascontiguousarray(array)
    head = io.BytesIO()
    npformat.write_array_header_1_0(head, npformat.header_data_from_array_1_0(arr))
    yield head.getvalue()
    flat = arr.reshape(-1)
    step = 1 << 20
    for start in range(0, flat.shape[0], step):
        yield flat[start : start + step].tobytes()
