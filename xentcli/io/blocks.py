"""Blocks of rows, and where each row came from: the units that inputs are read in."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import numpy as np
from numpy.typing import NDArray

from xentcli.errors import InputError
from xentcli.io.sources import Format

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


def _wait(fh: Any) -> None:
    """Wait until ``fh``, a non-blocking pipe that had nothing to read, has something (a
    parent process may leave stdin non-blocking; its "nothing yet" is not the end)."""
    import select

    select.select([fh], [], [])


def read_bytes(fh: BinaryIO, n: int, name: str) -> bytes:
    """``n`` bytes of ``fh`` (all of it when ``n < 0``), fewer only at the end of the
    input."""
    parts: list[bytes] = []
    want = n
    try:
        while want:
            more = fh.read(want)
            if more is None:  # a non-blocking pipe with nothing to read yet
                _wait(fh)
                continue
            if not more:
                break
            parts.append(more)
            if want > 0:
                want -= len(more)
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", where=name) from exc
    return parts[0] if len(parts) == 1 else b"".join(parts)


def read_after(fh: BinaryIO, carry: bytes | bytearray, n: int, name: str) -> tuple[bytearray, int]:
    """``carry`` followed by ``n`` more bytes of ``fh`` (fewer only at the end of the
    input), in one new buffer, and how many bytes were read (0 at the end). The bytes
    are read straight into the buffer: joining a 4 MB read to the carry and then
    cutting the block at its last line end copied it twice more, into fresh memory
    whose page faults cost as much as parsing the block (~6 ms of ~11 here)."""
    k = len(carry)
    buf = bytearray(k + n)
    buf[:k] = carry
    readinto = getattr(fh, "readinto", None)
    got = 0
    try:
        if readinto is None:
            more = read_bytes(fh, n, name)
            got = len(more)
            buf[k : k + got] = more
        else:
            with memoryview(buf) as view:
                while got < n:
                    with view[k + got :] as tail:
                        r = readinto(tail)
                    if r is None:  # a non-blocking pipe with nothing to read yet
                        _wait(fh)
                        continue
                    if not r:
                        break
                    got += r
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", where=name) from exc
    if got < n:
        del buf[k + got :]
    return buf, got


def split_at(buf: bytes | bytearray, cut: int) -> tuple[bytes | bytearray, bytes]:
    """``buf[:cut]`` and ``buf[cut:]``; a bytearray is cut in place (only the tail, a
    partial line, is copied)."""
    tail = bytes(buf[cut:])
    if isinstance(buf, bytearray):
        del buf[cut:]
        return buf, tail
    return buf[:cut], tail


_END = object()


class _Next(threading.Thread):
    """``next(items)`` on a thread of its own; :meth:`result` waits and returns it (or
    raises what it raised). A thread per block of megabytes costs nothing measurable,
    and ``concurrent.futures`` (with ``logging``) would cost 5 ms of every start-up."""

    def __init__(self, items: Iterator[Any]) -> None:
        super().__init__(name="xent-read", daemon=True)
        self.items = items
        self.value: Any = _END
        self.error: BaseException | None = None
        self.start()

    def run(self) -> None:
        try:
            self.value = next(self.items, _END)
        except BaseException as exc:  # re-raised in the caller's thread by result()
            self.error = exc

    def result(self) -> Any:
        self.join()
        if self.error is not None:
            raise self.error
        return self.value


def prefetched(items: Iterator[Any]) -> Iterator[Any]:
    """``items``, with the next one produced on a worker thread while the caller works on
    the current one: reading and parsing block k + 1 overlaps computing block k (pyarrow
    and NumPy release the GIL). Errors surface in order, where the item would have; a
    caller that stops early waits for the item in progress (the reader is then idle)."""
    pending = _Next(items)
    try:
        while True:
            item = pending.result()
            if item is _END:
                return
            pending = _Next(items)
            yield item
    finally:
        pending.join()
