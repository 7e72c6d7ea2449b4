"""The byte checks that decide whether a text block may take the compiled parser."""

from __future__ import annotations

import pytest

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
