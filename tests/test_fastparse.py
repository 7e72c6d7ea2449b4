"""The byte checks that decide whether a text block may take the compiled parser, and
which compiled parser."""

from __future__ import annotations

import io
import os
import re
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
    ("read_so_far", "total", "fast"),
    [
        (0, None, False),  # the start of a pipe: NumPy until FAST_MIN_BYTES have been read
        (fastparse.FAST_MIN_BYTES, None, True),
        (0, fastparse.FAST_MIN_FILE_BYTES - 1, False),  # a file too small to pay
        (0, fastparse.FAST_MIN_FILE_BYTES, True),  # a big file: pyarrow from block one
    ],
)
def test_pyarrow_is_chosen_by_what_was_read_or_the_files_size(
    monkeypatch: pytest.MonkeyPatch, read_so_far: int, total: int | None, fast: bool
) -> None:
    calls: list[int] = []

    def fake_pyarrow(block: bytes, delimiter: str, ncols: int) -> object:
        calls.append(ncols)
        return fastparse._with_numpy(block, delimiter)

    monkeypatch.setattr(fastparse, "_HAS_FAST", True)
    monkeypatch.setattr(fastparse, "_with_pyarrow", fake_pyarrow)
    values = fastparse.parse_numeric_block(b"1,2\n3.5,-4e1\n", ",", 2, read_so_far, total)
    assert values is not None
    assert values.tolist() == [[1.0, 2.0], [3.5, -40.0]]
    assert calls == ([2] if fast else [])


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


def _tokens() -> list[bytes]:
    """Every token of up to 4 characters of ``.eE+-0``; random soups of the number
    alphabet, and of any byte but the delimiter and line ends; random numbers of up to 25
    digits (halfway cases, over- and underflow); padded, BOM-led and spelled-out ones."""
    import itertools
    import random

    rnd = random.Random(5)
    tokens = {"".join(p) for k in range(1, 5) for p in itertools.product(".eE+-0", repeat=k)}
    alphabet = "0123456789.eE+-"
    tokens |= {"".join(rnd.choices(alphabet, k=rnd.randint(1, 12))) for _ in range(1500)}
    for _ in range(1500):
        digits = str(rnd.randint(0, 10 ** rnd.randint(1, 25)))
        cut = rnd.randint(0, len(digits))
        token = rnd.choice(["", "-", "+"]) + (
            digits[:cut] + "." + digits[cut:] if rnd.random() < 0.5 else digits
        )
        if rnd.random() < 0.5:
            token += rnd.choice("eE") + rnd.choice(["", "+", "-"]) + str(rnd.randint(0, 400))
        tokens.add(token)
    tokens |= {"2.4703282292062327e-324", "2.4703282292062328e-324", "9007199254740993"}
    tokens |= {"nan", "-inf", "Infinity", "NaN", "1_000", "0x1p3", "1,5", "1d5"}
    out = {t.encode() for t in tokens}
    other = [bytes([b]) for b in range(256) if b not in b",\n\r"]
    for _ in range(3000):
        picks = [rnd.choice(other) if rnd.random() < 0.3 else rnd.choice(alphabet).encode()]
        picks += [rnd.choice(alphabet).encode() for _ in range(rnd.randint(0, 6))]
        rnd.shuffle(picks)
        pad = [b"", b" ", b"\t", b"\x0b", b"\xa0", b"\x00", b"\xef\xbb\xbf"]
        out.add(rnd.choice(pad) + b"".join(picks) + rnd.choice(pad[:4]))
    return sorted(out)


def test_pyarrow_takes_exactly_the_strict_grammars_tokens_and_rounds_as_float(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The pyarrow path checks no byte of a block (module docstring): it relies on pyarrow
    # accepting a token only if the strict grammar accepts it (spaces and tabs around it
    # stripped, as the strict parser strips them) and giving float()'s value, sign
    # included; everything else (a NaN, an overflow to inf, a BOM) must come back None.
    pytest.importorskip("pyarrow")
    from xentcli.io.text import _NUMBER

    monkeypatch.setattr(fastparse, "FAST_MIN_BYTES", 0)
    strict = re.compile(_NUMBER)
    wrong: list[tuple[bytes, object]] = []
    for i, token in enumerate(_tokens()):
        second = i % 2  # the token on line 1, or on line 2 (after a byte-order mark's place)
        got = fastparse.parse_numeric_block(b"7,0\n" * second + token + b",0\n", ",", 2)
        got = got if got is None else got[second:]
        text = token.decode("latin-1").strip(" \t")
        valid = token.isascii() and strict.fullmatch(text) is not None
        if not valid or not np.isfinite(float(text)):
            if got is not None:
                wrong.append((token, got))
            continue
        want = float(text)
        same = got is not None and got.shape == (1, 2) and got[0, 0] == want
        if not (same and got is not None and np.signbit(got[0, 0]) == np.signbit(want)):
            wrong.append((token, got))
    assert wrong == []


@pytest.mark.parametrize("seed", range(4))
def test_fast_blocks_equal_floats_of_their_tokens(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Many-column blocks through parse_numeric_block, pyarrow from the first byte: the
    # values are float() of every token, or the block is refused (a bad token in it).
    pytest.importorskip("pyarrow")
    monkeypatch.setattr(fastparse, "FAST_MIN_BYTES", 0)
    rng = np.random.default_rng(seed)
    values = rng.standard_normal((500, 7)) * 10.0 ** rng.integers(-300, 300, (500, 7))
    tokens = [
        [repr(v) if (i + j) % 3 else f"{v:.6e}" for j, v in enumerate(row)]
        for i, row in enumerate(values.tolist())
    ]
    block = "\r\n".join(",".join(row) for row in tokens).encode() + (b"\r\n" if seed % 2 else b"")
    got = fastparse.parse_numeric_block(block, ",", 7, 0, None)
    assert got is not None
    assert np.array_equal(got, np.array([[float(t) for t in row] for row in tokens]))
    bad = block.replace(b",", b",,", 1)  # an empty field in line 1
    assert fastparse.parse_numeric_block(bad, ",", 7, 0, None) is None


@pytest.mark.parametrize(
    "block",
    [
        b"1,2\n3\r,4\n",  # a lone CR: a line end to pyarrow
        b"1,2\n\n3,4\n",  # a blank line
        b"1,2\n \n3,4\n",  # a line of spaces
        b"\n1,2\n",
        b"\xef\xbb\xbf1,2\n",  # a byte-order mark, which pyarrow skips
        b'"1",2\n',  # quotes
        b"NA,2\n",  # a null marker to pyarrow by default
        b"1,\n",  # an empty field
        b"1,2\n3\n",  # a ragged row
        b"1,2\n3,4,5\n",
        b"1,2\n3,4,",  # a delimiter that ends the input
        b"1e400,2\n",  # an overflow
        b"nan,2\n",
    ],
)
def test_the_pyarrow_path_refuses_what_the_strict_parser_must_read(
    block: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("pyarrow")
    monkeypatch.setattr(fastparse, "FAST_MIN_BYTES", 0)
    assert fastparse.parse_numeric_block(block, ",", 2) is None


@pytest.mark.parametrize(
    "block", [b"1,2\n\n3,4\n", b'"1",2\n', b"NA,2\n", b",2\n", b"1,2\n3\r\r\n"]
)
def test_pyarrow_is_called_so_that_blank_lines_nulls_and_quotes_are_errors(
    block: bytes,
) -> None:
    # The options of the call itself (the line checks before it would refuse some of
    # these too): a blank line is not skipped, nothing is a null, a quote is a byte.
    pytest.importorskip("pyarrow")
    assert fastparse._with_pyarrow(block, ",", 2) is None


def test_a_block_of_several_pyarrow_chunks_is_assembled_in_order(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # pyarrow parses a block in units of BLOCK_SIZE bytes; each column comes back in
    # several chunks, which must land at their rows.
    pytest.importorskip("pyarrow")
    monkeypatch.setattr(fastparse, "FAST_MIN_BYTES", 0)
    monkeypatch.setattr(fastparse, "BLOCK_SIZE", 4096)
    rng = np.random.default_rng(3)
    values = rng.standard_normal((20_000, 3))
    block = "\n".join(",".join(map(repr, row)) for row in values.tolist()).encode()
    got = fastparse.parse_numeric_block(block, ",", 3)
    assert got is not None
    assert np.array_equal(got, values)
