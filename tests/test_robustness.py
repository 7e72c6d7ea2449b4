"""Robustness of ``xent loss``: exact round trips, fuzzed inputs, Ctrl-C and closed pipes.

1. Every finite float64 (subnormals, extremes, -0.0) written as CSV / TSV / whitespace
   text with ``repr`` or as ``.npy`` is read back bit for bit, and the accepted text
   oddities (BOM, CRLF, blank lines, quoted numbers, no final newline) change nothing.
2. Random bytes as stdin, as a logits file or as a labels file never escape as an
   exception: the outcome is exit 0 with JSON on stdout (and at most ``Warning:`` lines
   on stderr), or one ``Error:`` line on stderr, nothing on stdout and a documented exit
   code (70, an internal error, is a bug). Inputs found to crash xent are kept as
   regression cases (test_regression).
3. Ctrl-C while reading stdin: exit 130, ``Interrupted.``, no traceback, no output file
   or temporary file left behind, an existing output file untouched.
4. A closed downstream pipe (``xent loss ... | head -1``): exit 0, no traceback.
"""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import traceback
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from typer.testing import CliRunner, Result

from xentcli.cli import app
from xentcli.io import LossInputs, ReadOptions, load_inputs

BOM = b"\xef\xbb\xbf"
NPY_MAGIC = b"\x93NUMPY"
ZIP_MAGIC = b"PK\x03\x04"
EXPECTED_CODES = {0, 2, 65, 66}
FUZZ_LABELS = "0\n1\n0\n"  # three samples, classes 0 and 1

ROUND_TRIP = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FUZZ = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --------------------------------------------------------------------------- helpers


def npy_bytes(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=False)
    return buf.getvalue()


def bits(array: np.ndarray) -> np.ndarray:
    """The raw bit patterns of a float array (so -0.0 != 0.0 and every ulp counts)."""
    a = np.ascontiguousarray(array)
    return a.view({4: np.uint32, 8: np.uint64}[a.dtype.itemsize])


def assert_bit_identical(got: np.ndarray, want: np.ndarray) -> None:
    assert got.dtype == want.dtype, (got.dtype, want.dtype)
    assert got.shape == want.shape, (got.shape, want.shape)
    diff = np.flatnonzero(bits(got) != bits(want))
    assert diff.size == 0, [(int(i), float(got.flat[i]), float(want.flat[i])) for i in diff[:5]]


def read(directory: Path, name: str, data: bytes, labels: list[int]) -> LossInputs:
    (directory / name).write_bytes(data)
    (directory / "labels.csv").write_text("".join(f"{y}\n" for y in labels))
    return load_inputs(str(directory / name), str(directory / "labels.csv"), ReadOptions(), None)


def text_lines(matrix: np.ndarray, sep: str, quote: bool = False) -> list[str]:
    q = '"' if quote else ""
    return [sep.join(f"{q}{float(v)!r}{q}" for v in row) for row in matrix]


def joined(lines: list[str], newline: str = "\n", final: bool = True) -> bytes:
    return (newline.join(lines) + (newline if final else "")).encode()


def run_xent(*args: object, input: bytes | None = None) -> Result:
    return CliRunner().invoke(app, [str(a) for a in args], input=input)


def assert_clean_outcome(result: Result, what: object) -> None:
    """Exit 0 with JSON, or one ``Error:`` line and a documented code; never a crash."""
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        tb = "".join(traceback.format_exception(*result.exc_info))  # type: ignore[misc]
        pytest.fail(f"exception escaped for {what!r}:\n{tb}")
    context = (what, result.exit_code, result.stdout[:300], result.stderr[:500])
    assert result.exit_code in EXPECTED_CODES, context
    if result.exit_code == 0:
        # Success may come with warnings (e.g. an infinite loss), never anything else.
        assert all(line.startswith("Warning: ") for line in result.stderr.splitlines()), context

        def reject(token: str) -> None:
            raise AssertionError(f"non-standard JSON constant {token}: {context}")

        doc = json.loads(result.stdout, parse_constant=reject)
        assert isinstance(doc, dict), context
    else:
        assert result.stdout == "", context
        assert result.stderr.startswith("Error: "), context
        assert result.stderr.endswith("\n"), context
        assert result.stderr.count("\n") == 1, context


# --------------------------------------------------------------- 1. round trips

SPECIAL_FLOATS = [
    0.0,
    -0.0,
    5e-324,  # smallest subnormal
    -5e-324,
    2.2250738585072009e-308,  # largest subnormal
    2.2250738585072014e-308,  # smallest normal
    1.7976931348623157e308,  # largest finite
    -1.7976931348623157e308,
    1e-300,
    1e300,
    0.1,
    1 / 3,
    123456789012345680.0,
    9007199254740993.0,
]
FINITE = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(SPECIAL_FLOATS),
    st.floats(min_value=-1e-300, max_value=1e-300),  # mostly subnormal / tiny
)


@st.composite
def matrices_and_labels(draw: st.DrawFn) -> tuple[np.ndarray, list[int]]:
    n = draw(st.integers(1, 20))
    c = draw(st.integers(2, 8))
    matrix = draw(hnp.arrays(np.float64, (n, c), elements=FINITE))
    labels = draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n))
    return matrix, labels


@ROUND_TRIP
@given(matrices_and_labels())
def test_text_and_npy_round_trip_is_bit_exact(case: tuple[np.ndarray, list[int]]) -> None:
    matrix, labels = case
    files = {
        "x.csv": joined(text_lines(matrix, ",")),
        "x.tsv": joined(text_lines(matrix, "\t")),
        "x.txt": joined(text_lines(matrix, " ")),
        "x.npy": npy_bytes(matrix),
    }
    with tempfile.TemporaryDirectory() as tmp:
        for name, data in files.items():
            got = read(Path(tmp), name, data, labels)
            assert_bit_identical(np.asarray(got.logits), matrix)
            assert got.labels.tolist() == labels, name
            assert got.class_names is None, name
        # The same CSV on standard input (format sniffed).
        (Path(tmp) / "labels.csv").write_text("".join(f"{y}\n" for y in labels))
        got = load_inputs(
            "-", str(Path(tmp) / "labels.csv"), ReadOptions(), io.BytesIO(files["x.csv"])
        )
        assert_bit_identical(np.asarray(got.logits), matrix)
        assert got.labels.tolist() == labels


@ROUND_TRIP
@given(
    matrices_and_labels(),
    st.sampled_from(["<f8", ">f8"]),
    st.booleans(),
)
def test_npy_byte_order_and_fortran_order_round_trip(
    case: tuple[np.ndarray, list[int]], dtype: str, fortran: bool
) -> None:
    matrix, labels = case
    stored = matrix.astype(dtype)
    if fortran:
        stored = np.asfortranarray(stored)
    with tempfile.TemporaryDirectory() as tmp:
        got = read(Path(tmp), "x.npy", npy_bytes(stored), labels)
    assert_bit_identical(np.asarray(got.logits).astype("<f8"), matrix)
    assert got.labels.tolist() == labels


@ROUND_TRIP
@given(
    st.integers(1, 20).flatmap(
        lambda n: st.tuples(
            hnp.arrays(
                np.float32,
                st.tuples(st.just(n), st.integers(2, 8)),
                elements=st.floats(width=32, allow_nan=False, allow_infinity=False),
            ),
            st.lists(st.integers(0, 1), min_size=n, max_size=n),
        )
    )
)
def test_float32_npy_round_trip_is_bit_exact(case: tuple[np.ndarray, list[int]]) -> None:
    matrix, labels = case
    with tempfile.TemporaryDirectory() as tmp:
        got = read(Path(tmp), "x.npy", npy_bytes(matrix), labels)
    logits = np.asarray(got.logits)
    # float32 may be kept or widened; widening is exact, so the float32 values survive.
    assert logits.dtype in (np.float32, np.float64)
    assert_bit_identical(logits.astype(np.float32), matrix)
    assert_bit_identical(logits.astype(np.float64), matrix.astype(np.float64))
    assert got.labels.tolist() == labels


@dataclass(frozen=True)
class Oddities:
    """The accepted deviations from a clean text file."""

    bom: bool
    crlf: bool
    final_newline: bool
    quote: bool  # every number double-quoted (CSV only)
    blanks: list[tuple[int, str]]  # (line position, blank line, possibly spaces)


ODDITIES = st.builds(
    Oddities,
    bom=st.booleans(),
    crlf=st.booleans(),
    final_newline=st.booleans(),
    quote=st.booleans(),
    blanks=st.lists(st.tuples(st.integers(0, 25), st.sampled_from(["", " ", "  "])), max_size=4),
)


def odd_file(matrix: np.ndarray, sep: str, odd: Oddities, quotable: bool) -> bytes:
    lines = text_lines(matrix, sep, quote=odd.quote and quotable)
    for pos, blank in sorted(odd.blanks, reverse=True):
        lines.insert(min(pos, len(lines)), blank)
    data = joined(lines, "\r\n" if odd.crlf else "\n", final=odd.final_newline)
    return (BOM if odd.bom else b"") + data


@ROUND_TRIP
@given(matrices_and_labels(), ODDITIES)
def test_accepted_text_oddities_change_nothing(
    case: tuple[np.ndarray, list[int]], odd: Oddities
) -> None:
    matrix, labels = case
    with tempfile.TemporaryDirectory() as tmp:
        for name, sep, quotable in (
            ("x.csv", ",", True),
            ("x.tsv", "\t", False),
            ("x.txt", " ", False),
        ):
            clean = read(Path(tmp), name, joined(text_lines(matrix, sep)), labels)
            odd_read = read(Path(tmp), name, odd_file(matrix, sep, odd, quotable), labels)
            assert_bit_identical(np.asarray(odd_read.logits), np.asarray(clean.logits))
            assert_bit_identical(np.asarray(odd_read.logits), matrix)
            assert odd_read.labels.tolist() == clean.labels.tolist() == labels, name
            assert odd_read.class_names == clean.class_names


# --------------------------------------------------------------------- 2. fuzzing

TEXT_PIECES = [
    b"0",
    b"1",
    b"7",
    b"42",
    b"3.5",
    b".",
    b"-",
    b"+",
    b"e",
    b"E",
    b"e-",
    b",",
    b'"',
    b"'",
    b"\n",
    b"\r",
    b"\r\n",
    b"\t",
    b" ",
    b";",
    b"_",
    b"nan",
    b"NaN",
    b"inf",
    b"-inf",
    b"Infinity",
    b"1e308",
    b"1e309",
    b"-1e400",
    b"5e-324",
    b"1e-400",
    BOM,
    b"\x00",
    b"\xff",
    b"\xfe",
    b"\x80",
    b"\xc3\xa9",
    b"\xe2\x80\xa8",
    b"\x0b",
    b"\x0c",
    b"\x1c",
    b"\x85",
    b"label",
    b"cat",
    b"\xd9\xa1",
    b"\xef\xbc\x91",
    b"#",
]
NUMBER_TOKENS = [
    "0",
    "1",
    "-1",
    "2.5",
    "-0",
    "-0.0",
    ".5",
    "5.",
    "1e3",
    "1E-3",
    "+4",
    "1e308",
    "1e309",
    "-1e309",
    "5e-324",
    "1e-400",
    "1" + "0" * 400,
    "nan",
    "-NaN",
    "inf",
    "-inf",
    "+Infinity",
    "-infinity",
    "1_0",
    "0x1",
    "",
    " ",
    '"1"',
    '" 2 "',
    '"',
    "1e",
    "e1",
    "--1",
    "\u0661",
    "\uff11",
    "1,5",
    "\u00a0",
    "1\u00a02",
]


@st.composite
def near_valid_text(draw: st.DrawFn) -> bytes:
    """Mostly three rows of two or three numeric-looking fields: reaches the core often."""
    n = draw(st.sampled_from([3, 3, 3, 1, 2, 4]))
    c = draw(st.integers(1, 3))
    sep = draw(st.sampled_from([",", ",", "\t", " ", ";", ", "]))
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    rows = [
        sep.join(draw(st.lists(st.sampled_from(NUMBER_TOKENS), min_size=c, max_size=c)))
        for _ in range(n)
    ]
    if draw(st.booleans()):
        rows.insert(
            0, sep.join(draw(st.sampled_from(["a", "b", "label", "1", ""])) for _ in range(c))
        )
    data = (newline.join(rows) + draw(st.sampled_from([newline, ""]))).encode()
    return (BOM if draw(st.booleans()) else b"") + data


TEXTISH = st.one_of(
    st.binary(max_size=300),
    st.lists(st.sampled_from(TEXT_PIECES), max_size=80).map(b"".join),
    near_valid_text(),
)


DESCRS = [
    "'<f8'",
    "'>f8'",
    "'<f4'",
    "'<f2'",
    "'<f16'",
    "'<i8'",
    "'|i1'",
    "'<u8'",
    "'|b1'",
    "'<c16'",
    "'|O'",
    "'<U3'",
    "'|S2'",
    "'|V8'",
    "'<M8[s]'",
    "'<m8[s]'",
    "[('a', '<f8')]",
    "('<f8', (2,))",
    "'x'",
    "3",
    "None",
]
DIMS = st.one_of(st.integers(-2, 4), st.sampled_from([3, 2, 2**31, 2**62, 2**64]))


@st.composite
def npy_like(draw: st.DrawFn) -> bytes:
    """NPY magic, a version, a (mostly plausible) header dict and a payload."""
    version = draw(
        st.sampled_from([b"\x01\x00", b"\x02\x00", b"\x03\x00", b"\x00\x00", b"\x09\x01"])
    )
    if draw(st.integers(0, 5)) == 0:
        header = draw(st.text(max_size=80))
    else:
        descr = draw(st.sampled_from(DESCRS))
        fortran = draw(st.sampled_from(["False", "True", "0", "'no'"]))
        dims = draw(st.lists(DIMS, max_size=3))
        shape = "(" + "".join(f"{d}, " for d in dims) + ")"
        items = [f"'descr': {descr}", f"'fortran_order': {fortran}", f"'shape': {shape}"]
        items = draw(st.lists(st.sampled_from(items), unique=True, min_size=2, max_size=3))
        header = "{" + ", ".join(items) + ", }"
    raw = header.encode("utf-8", "replace")
    length_size = 2 if version == b"\x01\x00" else 4
    pad = (-(len(NPY_MAGIC) + 2 + length_size + len(raw) + 1)) % 64
    raw += b" " * pad + b"\n"
    hlen = len(raw) if draw(st.integers(0, 4)) else draw(st.integers(0, 2**16 - 1))
    prefix = NPY_MAGIC + version + hlen.to_bytes(length_size, "little")
    payload = draw(
        st.one_of(
            st.binary(max_size=200),
            st.sampled_from([6, 8, 12, 16, 24, 48, 96]).map(lambda k: bytes(k)),
            hnp.arrays(np.float64, st.sampled_from([(3, 2), (3, 3), (6,)]), elements=FINITE).map(
                lambda a: a.tobytes()
            ),
        )
    )
    return prefix + raw + payload


@st.composite
def zip_like(draw: st.DrawFn) -> bytes:
    """Zip magic and random bytes, or a real archive, possibly damaged."""
    if draw(st.booleans()):
        return ZIP_MAGIC + draw(st.binary(max_size=200))
    buf = io.BytesIO()
    method = draw(st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED]))
    with zipfile.ZipFile(buf, "w", compression=method) as zf:
        for name in draw(
            st.lists(
                st.sampled_from(["logits.npy", "labels.npy", "a.npy", "b.txt"]),
                unique=True,
                max_size=3,
            )
        ):
            member = draw(st.one_of(npy_like(), st.binary(max_size=50)))
            zf.writestr(name, member)
    data = bytearray(buf.getvalue())
    for pos, byte in draw(
        st.lists(st.tuples(st.integers(0, max(len(data) - 1, 0)), st.integers(0, 255)), max_size=3)
    ):
        if data:
            data[pos] = byte
    return bytes(data)


@st.composite
def saved_arrays(draw: st.DrawFn) -> bytes:
    """A genuine .npy of any numeric dtype and rank (including NaN, inf, huge values)."""
    dtype = draw(st.sampled_from(["<f8", ">f8", "<f4", "<f2", "<i8", "|u1", "<u8", "|b1", "<i2"]))
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4))
    return npy_bytes(draw(hnp.arrays(dtype, shape)))


BINARYISH = st.one_of(
    st.binary(max_size=300),
    st.binary(max_size=300).map(lambda b: NPY_MAGIC + b),
    npy_like(),
    zip_like(),
    saved_arrays(),
)


# ---------------------------------------------------------- regressions
#
# Inputs these fuzzers found to crash xent (all fixed); each is a regression case below.


def npy_with_header(header: str, payload: bytes = b"") -> bytes:
    raw = header.encode("latin-1")
    raw += b" " * ((-(len(NPY_MAGIC) + 4 + len(raw) + 1)) % 64) + b"\n"
    return NPY_MAGIC + b"\x01\x00" + len(raw).to_bytes(2, "little") + raw + payload


def npy_header(shape: str, descr: str = "<f8") -> str:
    return f"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}"


def npz_patched(
    *,
    set_bytes: tuple[tuple[int, int, int], ...] = (),
    or_bytes: tuple[tuple[int, int, int], ...] = (),
    central_directory_offset: int | None = None,
) -> bytes:
    """A valid NPZ holding only ``logits.npy``, with bytes set (or OR-ed) at the given
    (local header offset, central directory offset, value) in both headers, and
    optionally a new central directory offset in the end record."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("logits.npy", npy_bytes(np.zeros((3, 2))))
    data = bytearray(buf.getvalue())
    local, central = data.find(b"PK\x03\x04"), data.find(b"PK\x01\x02")
    for local_off, central_off, value in set_bytes:
        data[local + local_off] = data[central + central_off] = value
    for local_off, central_off, mask in or_bytes:
        data[local + local_off] |= mask
        data[central + central_off] |= mask
    if central_directory_offset is not None:
        end = data.rfind(b"PK\x05\x06")
        data[end + 16 : end + 20] = central_directory_offset.to_bytes(4, "little")
    return bytes(data)


# (id, file name, bytes, expected exit code, what crashed before the fix).
# A file named labels.* is the labels of "1,2 / 0.5,-1 / 3,3"; any other file is the
# logits, with labels "0 1 0".
REGRESSIONS: list[tuple[str, str, bytes, int, str]] = [
    (
        "zero_d_npy_logits",
        "x.npy",
        npy_bytes(np.array(1.0)),
        65,
        "was: 0-d .npy logits with -l crash in load_inputs (IndexError: logits.shape[0])",
    ),
    (
        "npy_two_negative_dims",
        "x.npy",
        npy_with_header(npy_header("(-1, -1)"), bytes(48)),
        65,
        "was: negative NPY dimensions reach reshape (ValueError: one unknown dimension)",
    ),
    (
        "npy_negative_dim_accepted",
        "x.npy",
        npy_with_header(npy_header("(3, -2)"), bytes(48)),
        65,
        "was: an NPY header with shape (3, -2) is read as (3, 2) instead of rejected",
    ),
    (
        "npy_huge_and_zero_dims",
        "x.npy",
        npy_with_header(npy_header(f"({2**64}, 0)")),
        65,
        "was: shape (2**64, 0) passes the size check; reshape raises ValueError",
    ),
    (
        "npy_header_tokenize_error",
        "x.npy",
        NPY_MAGIC + b"\x01\x00\x01\x00{",
        65,
        "was: numpy's header filter raises tokenize.TokenError, which load_npy lets through",
    ),
    (
        "npy_python2_header_warns",
        "x.npy",
        npy_with_header(npy_header("(3L, 2L)"), bytes(48)),
        0,
        "was: numpy's UserWarning about a Python 2 header leaks to stderr (exit 70 under -W error)",
    ),
    (
        "float16_npy_labels_warn",
        "labels.npy",
        npy_bytes(np.zeros(3, dtype=np.float16)),
        0,
        "was: check_labels compares float16 labels with 2**62: RuntimeWarning (overflow in "
        "cast) on stderr (exit 70 under -W error)",
    ),
    (
        "finite_losses_sum_overflows",
        "x.csv",
        b"0,1e308\n0,0\n0,1e308\n",  # mean loss 6.7e307; the sum of the losses is 2e308
        0,
        "was: CompensatedSum.of (math.fsum) raises OverflowError when the sum of finite "
        "losses overflows",
    ),
    (
        "npz_unsupported_compression",
        "x.npz",
        npz_patched(set_bytes=((8, 10, 99), (9, 11, 0))),  # compression method 99 (AES)
        65,
        "zipfile's NotImplementedError (compression method) was not caught",
    ),
    (
        "npz_encrypted_member",
        "x.npz",
        npz_patched(or_bytes=((6, 8, 0x01),)),  # general-purpose flag bit 0: encrypted
        65,
        "was: zipfile's RuntimeError (encrypted member) is not caught by load_npz",
    ),
    (
        "npz_member_name_not_utf8",
        "x.npz",
        # Flag bit 11 (the names are UTF-8) on a name that is not UTF-8.
        npz_patched(or_bytes=((7, 9, 0x08),), set_bytes=((30, 46, 0xFF),)),
        65,
        "was: zipfile's UnicodeDecodeError (member name) is not caught by load_npz",
    ),
    (
        "npz_central_directory_offset_past_end",
        "x.npz",
        npz_patched(central_directory_offset=0x1000),
        65,
        "was: zipfile's ValueError (negative seek value) is not caught by load_npz",
    ),
]


@pytest.mark.parametrize(
    ("name", "data", "code"),
    [pytest.param(name, data, code, id=case) for case, name, data, code, _ in REGRESSIONS],
)
def test_regression(name: str, data: bytes, code: int, tmp_path: Path) -> None:
    (tmp_path / name).write_bytes(data)
    if name.startswith("labels"):
        (tmp_path / "x.csv").write_text("1,2\n0.5,-1\n3,3\n")
        logits, labels = tmp_path / "x.csv", tmp_path / name
    else:
        (tmp_path / "labels.csv").write_text(FUZZ_LABELS)
        logits, labels = tmp_path / name, tmp_path / "labels.csv"
    result = run_xent("loss", logits, "-l", labels, "-f", "json")
    assert_clean_outcome(result, (name, data))
    assert result.exit_code == code, (result.exit_code, result.stderr)


@FUZZ
@given(TEXTISH)
def test_fuzzed_stdin_never_crashes(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        labels = Path(tmp) / "labels.csv"
        labels.write_text(FUZZ_LABELS)
        result = run_xent("loss", "-", "-l", labels, "-f", "json", input=data)
    assert_clean_outcome(result, data)


@FUZZ
@given(TEXTISH)
def test_fuzzed_text_logits_file_never_crashes(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        (d / "labels.csv").write_text(FUZZ_LABELS)
        for name in ("x.csv", "x.txt"):
            (d / name).write_bytes(data)
            result = run_xent("loss", d / name, "-l", d / "labels.csv", "-f", "json")
            assert_clean_outcome(result, (name, data))


@FUZZ
@given(BINARYISH)
def test_fuzzed_binary_logits_file_never_crashes(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        (d / "labels.csv").write_text(FUZZ_LABELS)
        for name in ("x.npy", "x.npz", "x"):  # "x": format sniffed from the bytes
            (d / name).write_bytes(data)
            result = run_xent("loss", d / name, "-l", d / "labels.csv", "-f", "json")
            assert_clean_outcome(result, (name, data))
        # On standard input the format is sniffed too.
        result = run_xent("loss", "-", "-l", d / "labels.csv", "-f", "json", input=data)
        assert_clean_outcome(result, ("<stdin>", data))


@FUZZ
@given(st.one_of(TEXTISH, BINARYISH))
def test_fuzzed_labels_file_never_crashes(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        (d / "x.csv").write_text("1,2\n0.5,-1\n3,3\n")
        for name in ("labels.csv", "labels.npy", "labels.npz", "labels"):
            (d / name).write_bytes(data)
            result = run_xent("loss", d / "x.csv", "-l", d / name, "-f", "json")
            assert_clean_outcome(result, (name, data))


# ------------------------------------------------------------ 3. Ctrl-C, 4. pipes

posix_only = pytest.mark.skipif(os.name != "posix", reason="needs POSIX signals and pipes")


def xent_process(args: list[str], cwd: Path, **kwargs: object) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env.pop("XENT_DEBUG", None)
    return subprocess.Popen(  # type: ignore[call-overload, no-any-return]
        [sys.executable, "-m", "xentcli", *args], cwd=cwd, env=env, **kwargs
    )


def wait_until_reading_stdin(proc: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    """Wait until ``proc`` blocks in ``read(0, ...)`` (Linux), else sleep 1.5 s."""
    number = {"x86_64": "0", "aarch64": "63"}.get(os.uname().machine)
    syscall = Path(f"/proc/{proc.pid}/syscall")
    deadline = time.monotonic() + timeout
    while number is not None and proc.poll() is None and time.monotonic() < deadline:
        try:
            fields = syscall.read_text().split()
        except OSError:
            break
        if fields[:2] == [number, "0x0"]:
            time.sleep(0.1)  # let it settle in the read
            return
        time.sleep(0.05)
    time.sleep(1.5)


@posix_only
@pytest.mark.parametrize("existing", [False, True], ids=["new_output", "existing_output"])
def test_ctrl_c_while_reading_stdin(tmp_path: Path, existing: bool) -> None:
    (tmp_path / "labels.csv").write_text("0\n1\n1\n")
    old = '{"previous": "run"}\n'
    if existing:
        (tmp_path / "out.json").write_text(old)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    with xent_process(
        ["loss", "-", "-l", "labels.csv", "-o", "out.json"],
        tmp_path,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as proc:
        assert proc.stdin is not None
        try:
            proc.stdin.write(b"1.0,2.0\n0.5,-1.0\n")  # valid rows; stdin stays open
            proc.stdin.flush()
            wait_until_reading_stdin(proc)
            assert proc.poll() is None, proc.communicate()
            proc.send_signal(signal.SIGINT)
            out, err = proc.communicate(timeout=20)
        finally:
            if proc.poll() is None:
                proc.kill()
    stderr = err.decode()
    assert proc.returncode == 130, (proc.returncode, stderr)
    assert "Traceback" not in stderr, stderr
    assert stderr.splitlines()[-1:] == ["Interrupted."], stderr
    assert stderr.count("\n") == 1, stderr
    assert out == b""
    after = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert after == before  # no out.json, no .out.json.*.part, old output unchanged


@posix_only
def test_closed_downstream_pipe_exits_quietly(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    n = 20_000
    logits = rng.normal(size=(n, 4))
    np.savetxt(tmp_path / "big.csv", logits, delimiter=",", fmt="%.17g")
    (tmp_path / "labels.csv").write_text("".join(f"{y}\n" for y in rng.integers(0, 4, n)))
    with xent_process(
        ["loss", "big.csv", "-l", "labels.csv", "-f", "jsonl"],
        tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as proc:
        assert proc.stdout is not None
        assert proc.stderr is not None
        try:
            first = proc.stdout.readline()
            proc.stdout.close()  # like `| head -1`
            err = proc.stderr.read().decode()
            proc.wait(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
    assert json.loads(first)  # the first record did arrive
    assert "Traceback" not in err, err
    assert err == "", err
    assert proc.returncode == 0, (proc.returncode, err)
