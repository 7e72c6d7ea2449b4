"""The byte checks that decide whether a text block may take the compiled parser, and
which compiled parser."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pytest

from xentcli.io import fastparse, stream
from xentcli.io.fastparse import _vouched, count_newlines


@pytest.mark.parametrize(
    ("block", "rows"),
    [
        (b"1,2\n3,4\n", 2),
        (b"1,2\n3,4", 2),  # the last line without its end
        (b"1,2\r\n3,4\r\n", 2),
        (b"1e5,-2.5\n", 1),
        (b"1,2\n\n3,4\n", None),  # a blank line: rows would not be lines
        (b"1,2\r\n\r\n3,4\r\n", None),
        (b"\n1,2\n", None),
        (b"\r\n1,2\n", None),
        (b"1,2\nnan,4\n", None),  # letters: the strict parser decides
        (b'"1",2\n', None),
        (b"1;2\n", None),  # another delimiter
    ],
)
def test_vouched_counts_lines_or_refuses(block: bytes, rows: int | None) -> None:
    assert _vouched(block, ",") == rows


def test_count_newlines_is_bytes_count() -> None:
    for block in (b"", b"\n", b"a\nb\n\nc", b"x" * 10000 + b"\n" * 37):
        assert count_newlines(block) == block.count(b"\n")


@pytest.mark.parametrize(
    ("read_so_far", "total", "polars"),
    [
        (0, None, False),  # the start of a pipe: NumPy until 8 MB have been read
        (fastparse.POLARS_MIN_BYTES, None, True),
        (0, fastparse.POLARS_MIN_FILE_BYTES - 1, False),  # a file too small to pay
        (0, fastparse.POLARS_MIN_FILE_BYTES, True),  # a big file: polars from block one
    ],
)
def test_polars_is_chosen_by_what_was_read_or_the_files_size(
    monkeypatch: pytest.MonkeyPatch, read_so_far: int, total: int | None, polars: bool
) -> None:
    calls: list[int] = []

    def fake_polars(block: bytes, delimiter: str, ncols: int) -> None:
        calls.append(ncols)  # and decline: NumPy parses the block

    monkeypatch.setattr(fastparse, "_HAS_POLARS", True)
    monkeypatch.setattr(fastparse, "_with_polars", fake_polars)
    values = fastparse.parse_numeric_block(b"1,2\n3.5,-4e1\n", ",", 2, read_so_far, total)
    assert values is not None
    assert values.tolist() == [[1.0, 2.0], [3.5, -40.0]]
    assert calls == ([2] if polars else [])


def test_file_size_is_known_only_for_regular_files(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_bytes(b"1,2\n" * 100)
    with path.open("rb") as fh:
        assert stream._file_size(fh) == 400
    r, w = os.pipe()
    with os.fdopen(r, "rb") as fh, os.fdopen(w, "wb"):
        assert stream._file_size(fh) is None
    assert stream._file_size(io.BytesIO(b"1,2\n")) is None


@pytest.mark.parametrize("seed", range(12))
def test_integer_lines_parse_exactly_as_float_does(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The integer path of one-column blocks (labels files) against Python's float of
    # each token: signs, -0, up to 15 digits, several pieces, with or without a final
    # newline.
    monkeypatch.setattr(fastparse, "INT_PIECE", 4096)
    rng = np.random.default_rng(seed)
    n, digits = int(rng.integers(1, 5000)), int(rng.integers(1, 16))
    tokens = [str(v) for v in rng.integers(-(10**digits) + 1, 10**digits, n).tolist()]
    tokens = ["+" + t if seed % 3 == 0 and not t.startswith("-") else t for t in tokens]
    tokens[0] = "-0" if seed % 2 else tokens[0]
    block = ("\n".join(tokens) + ("\n" if seed % 4 else "")).encode()
    got = fastparse.parse_numeric_block(block, ",", 1)
    assert got is not None
    want = np.array([float(t) for t in tokens])
    assert np.array_equal(got[:, 0], want)
    assert np.array_equal(np.signbit(got[:, 0]), np.signbit(want))


@pytest.mark.parametrize(
    "block",
    [b"1.5\n", b"1e3\n", b"1-2\n", b"-\n", b"12\r\n", b"1,2\n", b"1234567890123456\n", b"--1\n"],
)
def test_anything_but_plain_integers_leaves_the_integer_path(block: bytes) -> None:
    assert fastparse._with_ints(block) is None
