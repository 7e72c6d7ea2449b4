"""Inputs read in blocks: the same numbers whatever the block size, errors at the right
line in any block, and output that starts before the input is all read.

The block size is lowered (``xentcli.io.stream.BLOCK_BYTES``) so small files span many
blocks; the fast numeric parser and the strict one are both exercised.
"""

from __future__ import annotations

import io
import json
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import Result

from xentcli.cli.streams import Streams
from xentcli.errors import InputError
from xentcli.io import blocks as stream_module
from xentcli.io import fastparse, stream
from xentcli.io.blocks import read_after, read_bytes, split_at
from xentcli.io.stream import _lines_blocks

Run = Callable[..., Result]
SAMPLE = Path(__file__).resolve().parent.parent / "sample_data"


def out(result: Result) -> str:
    assert result.exit_code == 0, (result.exit_code, result.stderr, result.exception)
    return result.stdout


@pytest.fixture
def data(tmp_path: Path) -> dict[str, Path]:
    rng = np.random.default_rng(7)
    x = np.round(rng.normal(0, 3, size=(300, 5)), 6)
    x[17, 2] = -np.inf
    y = rng.integers(0, 5, size=300)
    y[5] = -100
    w = np.round(rng.uniform(0, 2, size=300), 3)
    files = {
        "csv": tmp_path / "x.csv",
        "tsv": tmp_path / "x.tsv",
        "txt": tmp_path / "x.txt",
        "npy": tmp_path / "x.npy",
        "npz": tmp_path / "x.npz",
        "labels": tmp_path / "y.csv",
        "weights": tmp_path / "w.txt",
        "side": tmp_path / "side.csv",
    }
    header = "a,b,c,d,e"
    rows = [",".join(repr(v) for v in r) for r in x.tolist()]
    files["csv"].write_text(header + "\n" + "\n".join(rows) + "\n")
    files["tsv"].write_text("\n".join(r.replace(",", "\t") for r in rows) + "\n")
    files["txt"].write_text("\n".join(r.replace(",", "   ") for r in rows) + "\n")
    np.save(files["npy"], x)
    np.savez(files["npz"], logits=x, labels=y)
    files["labels"].write_text("label\n" + "\n".join(map(str, y)) + "\n")
    files["weights"].write_text("\n".join(map(repr, w.tolist())) + "\n")
    files["side"].write_text(
        "w,label,"
        + header
        + "\n"
        + "\n".join(
            f"{wi!r},{yi},{r}" for wi, yi, r in zip(w.tolist(), y.tolist(), rows, strict=True)
        )
        + "\n"
    )
    return files


VARIANTS = {
    "csv": lambda f: [f["csv"], "-l", f["labels"]],
    "tsv": lambda f: [f["tsv"], "-l", f["labels"]],
    "txt": lambda f: [f["txt"], "-l", f["labels"]],
    "npy": lambda f: [f["npy"], "-l", f["labels"]],
    "npz": lambda f: [f["npz"]],
    "side_columns": lambda f: [f["side"], "--label-col", "label", "--sample-weight-col", "w"],
    "weights_file": lambda f: [f["csv"], "-l", f["labels"], "--sample-weight", f["weights"]],
    "classes_reordered": lambda f: [f["csv"], "-l", f["labels"], "--classes", "e,d,c,b,a"],
}


@pytest.fixture(params=["numpy", "pyarrow"])
def parser(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The compiled parser of the fast path: NumPy's loadtxt, or pyarrow for any size."""
    if request.param == "pyarrow":
        pytest.importorskip("pyarrow")
        monkeypatch.setattr(fastparse, "FAST_MIN_BYTES", 0)
    else:
        monkeypatch.setattr(fastparse, "_HAS_FAST", False)
    return str(request.param)


@pytest.mark.parametrize("variant", sorted(VARIANTS))
@pytest.mark.parametrize("block", [64, 1000, 1 << 22])
def test_results_do_not_depend_on_the_block_size(
    run_xent: Run,
    data: dict[str, Path],
    monkeypatch: pytest.MonkeyPatch,
    variant: str,
    block: int,
    parser: str,
) -> None:
    args = ["loss", *VARIANTS[variant](data), "--ignore-index", "-100", "-f", "json"]
    whole = json.loads(out(run_xent(*args)))
    monkeypatch.setattr(stream_module, "BLOCK_BYTES", block)
    blocked = json.loads(out(run_xent(*args)))
    assert blocked == whole
    assert len(blocked["samples"]) == 300
    assert blocked["summary"]["ignored"] == 1


def test_every_block_after_the_first_lines_takes_the_fast_path(
    run_xent: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, parser: str
) -> None:
    # A clean file is parsed strictly only for its header and first row; every later
    # block is read by the compiled parser, its rows checked against the newlines the
    # stream counted (a wrong count would send each block to the strict parser).
    calls: list[int] = []
    strict = stream.read_table

    def counted(text: str, *args: Any, **kwargs: Any) -> Any:
        calls.append(text.count("\n"))
        return strict(text, *args, **kwargs)

    x = np.round(np.random.default_rng(3).normal(0, 3, size=(300, 5)), 6)
    logits, labels = tmp_path / "x.csv", tmp_path / "y.csv"
    logits.write_text("a,b,c,d,e\n" + "".join(",".join(map(repr, r)) + "\n" for r in x.tolist()))
    labels.write_text("".join(f"{i % 5}\n" for i in range(300)))
    args = ["loss", logits, "-l", labels, "-s", "-f", "json"]
    whole = json.loads(out(run_xent(*args)))
    monkeypatch.setattr(stream, "read_table", counted)
    monkeypatch.setattr(stream_module, "BLOCK_BYTES", 1000)
    assert json.loads(out(run_xent(*args))) == whole
    assert calls == [2]  # the header and the first row


def test_stdin_npy_is_read_in_blocks(
    run_xent: Run, data: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    args = ["loss", "-", "-l", data["labels"], "-s", "-f", "json", "--ignore-index", "-100"]
    whole = json.loads(out(run_xent(*args, input=data["npy"].read_bytes())))
    monkeypatch.setattr(stream_module, "BLOCK_BYTES", 200)
    blocked = json.loads(out(run_xent(*args, input=data["npy"].read_bytes())))
    assert blocked == whole


def test_a_truncated_npy_on_stdin_is_an_error(run_xent: Run, data: dict[str, Path]) -> None:
    result = run_xent(
        "loss",
        "-",
        "-l",
        data["labels"],
        "--ignore-index",
        "-100",
        input=data["npy"].read_bytes()[:-80],
    )
    assert result.exit_code == 65
    assert "the file is truncated" in result.stderr


@pytest.mark.parametrize("block", [64, 1 << 22])
def test_errors_in_later_blocks_name_the_physical_line(
    run_xent: Run, data: dict[str, Path], monkeypatch: pytest.MonkeyPatch, block: int, parser: str
) -> None:
    lines = data["csv"].read_text().splitlines()
    lines[250] = lines[250].replace(",", ",x", 1)  # physical line 251
    lines.insert(100, "")  # a blank line: everything after moves down one
    data["csv"].write_text("\n".join(lines) + "\n")
    monkeypatch.setattr(stream_module, "BLOCK_BYTES", block)
    result = run_xent(
        "loss", data["csv"], "-l", data["labels"], "--ignore-index", "-100", "-f", "json"
    )
    assert result.exit_code == 65
    assert "x.csv line 252, column 2: 'x" in result.stderr


def test_label_errors_in_later_blocks_name_the_labels_line(
    run_xent: Run, data: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    labels = data["labels"].read_text().splitlines()
    labels[201] = "7"  # physical line 202, sample 200
    data["labels"].write_text("\n".join(labels) + "\n")
    monkeypatch.setattr(stream_module, "BLOCK_BYTES", 64)
    result = run_xent("loss", data["csv"], "-l", data["labels"], "--ignore-index", "-100")
    assert result.exit_code == 65
    assert "y.csv line 202: label 7 is out of range for 5 classes" in result.stderr


def test_label_count_mismatch_is_found_whatever_the_blocks(
    run_xent: Run, data: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    data["labels"].write_text("\n".join(data["labels"].read_text().splitlines()[:-3]) + "\n")
    monkeypatch.setattr(stream_module, "BLOCK_BYTES", 64)
    result = run_xent("loss", data["csv"], "-l", data["labels"], "--ignore-index", "-100")
    assert result.exit_code == 65
    assert "but labels have 297" in result.stderr


class _CountingStdin(io.RawIOBase):
    """stdin that records how many bytes xent has read so far."""

    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buf: Any) -> int:
        n = min(len(buf), len(self.data) - self.pos, 4096)
        buf[:n] = self.data[self.pos : self.pos + n]
        self.pos += n
        return n


def test_the_first_record_is_written_before_the_input_is_read(
    data: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    from xentcli.cli.loss import loss

    rows = data["csv"].read_text().splitlines()[1:] * 20  # 6000 rows, about 280 KB
    payload = ("\n".join(rows) + "\n").encode()
    labels = data["labels"].read_text().splitlines()[1:] * 20
    data["labels"].write_text("\n".join(labels) + "\n")
    stdin = _CountingStdin(payload)
    read_at_first_write: list[int] = []

    class Stdout(io.StringIO):
        def write(self, s: str) -> int:
            if not read_at_first_write:
                read_at_first_write.append(stdin.pos)
            return super().write(s)

    stdout = Stdout()
    monkeypatch.setattr(stream_module, "BLOCK_BYTES", 4096)
    monkeypatch.setattr(
        Streams,
        "from_sys",
        classmethod(
            lambda cls, no_color=False: cls(
                io.BufferedReader(stdin), stdout, io.StringIO(), False, False, False
            )
        ),
    )
    loss(input="-", labels=str(data["labels"]), fmt=None, ignore_index=-100)
    assert read_at_first_write[0] < len(payload) / 10
    assert stdout.getvalue().count('"index"') == 6000


@pytest.mark.parametrize(
    "token",
    ["1e", "e5", "1-2", ".", "+", "--1", "1e5.5", "1.2.3", "1e+", "1..2", "+-1", "", "1e400"],
)
def test_the_fast_path_never_accepts_what_the_strict_parser_rejects(
    token: str, parser: str
) -> None:
    block = f"0.5,1\n2,{token}\n3,4\n".encode()
    assert fastparse.parse_numeric_block(block, ",", 2) is None


@pytest.mark.parametrize("token", ["+.5", "-.5", "1.", "5e-3", "1E+05", "+1", "00012", "-0"])
def test_the_fast_path_reads_what_the_strict_parser_reads(token: str, parser: str) -> None:
    got = fastparse.parse_numeric_block(f"0.5,1\n2,{token}\n".encode(), ",", 2)
    assert got is not None
    assert got[1, 1] == float(token)
    assert np.signbit(got[1, 1]) == np.signbit(float(token))


class _Trickle(io.RawIOBase):
    """A pipe that gives at most ``step`` bytes a read."""

    def __init__(self, data: bytes, step: int) -> None:
        self.data, self.pos, self.step = data, 0, step

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        n = min(len(b), self.step, len(self.data) - self.pos)
        b[:n] = self.data[self.pos : self.pos + n]
        self.pos += n
        return n


class _ReadOnly:
    """A stream with ``read`` and no ``readinto``."""

    def __init__(self, data: bytes) -> None:
        self.fh = io.BytesIO(data)

    def read(self, n: int = -1) -> bytes:
        return self.fh.read(n)


@pytest.mark.parametrize(
    "make",
    [io.BytesIO, lambda d: _Trickle(d, 7), lambda d: _Trickle(d, 1000), _ReadOnly],
    ids=["file", "trickle-7", "trickle-1000", "read-only"],
)
def test_text_blocks_are_whole_lines_whatever_the_reads(
    make: Callable[[bytes], Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    text = b"".join(f"{i},{i * 0.37!r}\n".encode() for i in range(2000))
    monkeypatch.setattr(stream_module, "BLOCK_BYTES", 300)
    got = list(_lines_blocks(make(text[300:]), text[:300], "x.csv"))
    assert b"".join(block for block, _, _ in got) == text
    assert all(block.endswith(b"\n") for block, _, _ in got)
    assert all(n == block.count(b"\n") for block, _, n in got)
    starts = [line for _, line, _ in got]
    assert starts[0] == 1
    ends = [1 + sum(b.count(b"\n") for b, _, _ in got[:i]) for i in range(1, len(got))]
    assert starts[1:] == ends


class _Broken(io.RawIOBase):
    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        raise OSError(5, "Input/output error")


def test_a_failing_read_is_an_input_error() -> None:
    with pytest.raises(InputError, match="cannot read: Input/output error") as info:
        read_after(_Broken(), b"1,2\n", 10, "x.csv")
    assert info.value.where == "x.csv"


def test_split_at_cuts_a_bytearray_in_place() -> None:
    buf = bytearray(b"1,2\n3,4\n5,")
    head, tail = split_at(buf, 8)
    assert head is buf
    assert (bytes(head), tail) == (b"1,2\n3,4\n", b"5,")
    assert split_at(b"1,2\n3,", 4) == (b"1,2\n", b"3,")


@pytest.mark.skipif(not hasattr(os, "set_blocking"), reason="no non-blocking pipes")
def test_a_non_blocking_pipe_is_waited_for_not_taken_as_ended(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A parent may leave stdin non-blocking: "nothing to read yet" is not the end.
    data = b"".join(f"{i},{i * 0.37!r}\n".encode() for i in range(40))
    r, w = os.pipe()
    os.set_blocking(r, False)
    os.write(w, data[:100])

    def rest() -> None:
        time.sleep(0.2)
        os.write(w, data[100:])
        os.close(w)

    writer = threading.Thread(target=rest)
    writer.start()
    monkeypatch.setattr(stream_module, "BLOCK_BYTES", 64)
    with open(r, "rb") as fh:
        head = read_bytes(fh, 64, "<stdin>")
        got = b"".join(block for block, _, _ in _lines_blocks(fh, head, "<stdin>"))
    writer.join()
    assert got == data
