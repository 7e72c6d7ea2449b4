"""``.npy`` and ``.npz`` inputs as blocks of rows: files memory-mapped, pipes read row
block by row block, ``.npz`` members in slices."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from typing import Any, BinaryIO

import numpy as np

from xentcli.errors import DataError, UsageError
from xentcli.io import blocks
from xentcli.io.blocks import Block, Locator, ScoreStream, read_bytes
from xentcli.io.npy import MAX_HEADER, NpyHeader, load_npy, load_npz, parse_npy_header, truncated
from xentcli.io.sources import STDIN_NAME
from xentcli.io.text import SIDE_FLAGS, resolve_column


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
    step = max(1, blocks.BLOCK_BYTES // max(row_bytes, 1))
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


def npy_stream(fh: BinaryIO, head: bytes, name: str, opts: Any) -> ScoreStream:
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
    elif size is not None and size - header.offset < header.nbytes:
        fh.close()
        raise truncated(header, size - header.offset, name)
    elif size is not None and not header.fortran:
        # Read in order, a block at a time: a memory map would leave every page it
        # touched counted in the process's memory, up to the whole file.
        blocks = _closing(_npy_rows_from_pipe(fh, head[header.offset :], header, name, taken), fh)
    elif size is not None:
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
        whole = load_npy(head + read_bytes(fh, -1, name), name)
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
    return st.st_size if stat.S_ISREG(st.st_mode) and st.st_size > 0 else None


def _closing(blocks: Iterator[Block], fh: BinaryIO) -> Iterator[Block]:
    try:
        yield from blocks
    finally:
        fh.close()


def _npy_rows_from_pipe(
    fh: BinaryIO, buffered: bytes, header: NpyHeader, name: str, taken: dict[str, int]
) -> Iterator[Block]:
    """C-order rows read from a file or pipe, a block at a time."""
    n = header.shape[0]
    row_shape = header.shape[1:]
    row_bytes = header.nbytes // n
    step = max(1, blocks.BLOCK_BYTES // max(row_bytes, 1))
    pending = buffered
    got = 0
    for start in range(0, n, step):
        want = min(step, n - start) * row_bytes
        while len(pending) < want:
            more = read_bytes(fh, max(want - len(pending), blocks.BLOCK_BYTES), name)
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


def npz_stream(fh: BinaryIO, head: bytes, name: str, opts: Any) -> ScoreStream:
    data = head + read_bytes(fh, -1, name)
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
