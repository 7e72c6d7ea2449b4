"""Strict CSV / TSV / whitespace-separated text parsing into float64 tables.

Every error names the physical line (1-based, counting the header and blank lines) and,
for a bad field, the 1-based column, so the user can open the file right there.
"""

from __future__ import annotations

import csv
import functools
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from xentcli.errors import DataError, UsageError

# A plain decimal or scientific number. ASCII digits only: Python's float() also takes
# "1_000", " 1", Arabic-Indic digits and more, which must not pass as numbers.
_NUMBER = r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
_NONFINITE = r"[+-]?(?:[iI][nN][fF](?:[iI][nN][iI][tT][yY])?|[nN][aA][nN])"
_FIELD = rf"(?:{_NUMBER}|{_NONFINITE})"


@functools.cache
def _regex(pattern: str) -> re.Pattern[str]:
    """Compiled on first use: compiling these three costs 2 ms of every start-up."""
    return re.compile(pattern)


_ROW = rf"{_FIELD}(?:\x00{_FIELD})*"

FIELD_LIMIT = 1 << 20
WHITESPACE = "whitespace"

_DELIMITER_NAMES = {
    "tab": "\t",
    "\\t": "\t",
    "comma": ",",
    "semicolon": ";",
    "space": WHITESPACE,
    "whitespace": WHITESPACE,
}


def parse_delimiter(value: str) -> str:
    """Turn a ``--delimiter`` value (one character, ``tab``, ``\\t``, ``whitespace``...)
    into the delimiter used by :func:`read_rows`."""
    if value in _DELIMITER_NAMES:
        return _DELIMITER_NAMES[value]
    if len(value) != 1 or value in '"\r\n' or value.isalnum() or value in ".+-":
        raise UsageError(
            f"--delimiter {value!r} is not usable: give one character such as ',' or ';', "
            "or 'tab' or 'whitespace'"
        )
    return value


def is_number(token: str) -> bool:
    """True if ``token`` is a number xent accepts (decimal, scientific, inf, nan)."""
    return _regex(_FIELD).fullmatch(token) is not None


def decode(
    data: bytes | bytearray, name: str, first_line: int = 1, first_block: bool = True
) -> str:
    """Decode UTF-8 (with or without BOM); reject UTF-16, NUL bytes and invalid UTF-8.

    ``data`` may be a later block of a longer input, starting on physical line
    ``first_line`` (then ``first_block`` is False: no BOM or UTF-16 mark to look for)."""
    if first_block:
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            raise DataError(
                "the file is UTF-16 text; xent reads UTF-8 (convert with: iconv -f UTF-16 "
                "-t UTF-8)",
                where=name,
            )
        if data.startswith(b"\xef\xbb\xbf"):
            data = data[3:]
    nul = data.find(b"\0")
    if nul >= 0:
        line = data.count(b"\n", 0, nul) + first_line
        raise DataError(
            "NUL byte in text input: this looks like a binary file "
            "(for NumPy files use a .npy/.npz name or --input-format npy)",
            where=f"{name} line {line}",
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + first_line
        byte = data[exc.start]
        raise DataError(
            f"invalid UTF-8 byte 0x{byte:02x}: the input must be UTF-8 text",
            where=f"{name} line {line}",
        ) from None


def text_delimiter(fmt: str, text: str, forced: str | None = None) -> str:
    """``forced`` (``--delimiter``), else ``,`` for CSV and tab for TSV, else sniffed."""
    if forced is not None:
        return forced
    if fmt == "csv":
        return ","
    if fmt == "tsv":
        return "\t"
    return sniff_delimiter(text)


def sniff_delimiter(text: str) -> str:
    """Delimiter of a ``.txt``/stdin text: tab, comma or whitespace, from the first line."""
    for line in text.splitlines():
        if line.strip():
            if "\t" in line:
                return "\t"
            if "," in line:
                return ","
            return WHITESPACE
    return ","


@dataclass(frozen=True)
class Rows:
    """Non-blank rows of stripped string fields and the physical line each starts on."""

    fields: list[list[str]]
    lines: list[int]


def _iter_csv(
    text: str, delimiter: str, name: str, first_line: int = 1
) -> Iterator[tuple[int, list[str]]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    line = first_line
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            msg = str(exc)
            if "field larger than field limit" in msg:
                msg = f"a field is longer than {FIELD_LIMIT} characters"
            elif "unexpected end of data" in msg or "EOF" in msg:
                msg = "unterminated quoted field (a '\"' is never closed)"
            raise DataError(msg, where=f"{name} line {line}") from None
        yield line, row
        line = first_line + reader.line_num


def _iter_whitespace(text: str, first_line: int = 1) -> Iterator[tuple[int, list[str]]]:
    for number, line in enumerate(text.splitlines(), start=first_line):
        yield number, line.split()


def read_rows(text: str, delimiter: str, name: str, first_line: int = 1) -> Rows:
    """Split ``text`` into rows of fields, skipping blank lines; CRLF and LF both work.
    ``first_line`` is the physical line number of the text's first line."""
    limit = csv.field_size_limit()
    csv.field_size_limit(FIELD_LIMIT)
    try:
        it = (
            _iter_whitespace(text, first_line)
            if delimiter == WHITESPACE
            else _iter_csv(text, delimiter, name, first_line)
        )
        fields: list[list[str]] = []
        lines: list[int] = []
        for line, row in it:
            stripped = [f.strip() for f in row]
            if not any(stripped):
                continue
            fields.append(stripped)
            lines.append(line)
    finally:
        csv.field_size_limit(limit)
    return Rows(fields, lines)


def _bad_token(token: str, delimiter: str) -> str:
    shown = token if len(token) <= 40 else token[:37] + "..."
    msg = f"{shown!r} is not a number"
    if not token:
        return "empty field where a number is expected"
    if ";" in token and delimiter != ";":
        return msg + " (the file looks ';'-separated: try --delimiter ';')"
    if re.fullmatch(r"[+-]?[0-9]+,[0-9]+", token):
        return msg + " (decimal commas are not read: use a decimal point)"
    if "_" in token:
        return msg + " (digit separators such as '_' are not allowed)"
    if "\t" in token and delimiter != "\t":
        return msg + " (the file looks tab-separated: try --delimiter tab)"
    return msg


class _Problems:
    """Bad rows found while parsing: the first one's message, the others' places, and
    how many there are in all, so one error line can report them together."""

    def __init__(self) -> None:
        self.first: tuple[str, str] | None = None
        self.places: list[str] = []
        self.count = 0

    def add(self, where: str, message: str) -> None:
        self.count += 1
        if self.first is None:
            self.first = (where, message)
        elif len(self.places) < 1000:
            self.places.append(where)

    def raise_if_any(self, name: str) -> None:
        if self.first is None:
            return
        where, message = self.first
        if self.count > 1:
            message += f"; {self.count - 1} more bad row{'s' if self.count > 2 else ''}"
        err = DataError(message, where=where)
        err.also = [p.removeprefix(name + " ") for p in self.places]
        raise err


@dataclass(frozen=True)
class TextTable:
    """A numeric table read from text.

    ``values`` holds the numeric columns (N, C); ``columns`` their header names (or None);
    ``side`` the raw strings of each named side column (``"label"``, ``"sample_weight"``)
    and ``side_names`` their header names; ``lines`` the physical line of each row.
    """

    values: NDArray[np.float64]
    columns: list[str] | None
    side: dict[str, list[str]]
    lines: NDArray[np.int64]
    side_names: dict[str, str] = field(default_factory=dict)
    side_index: dict[str, int] = field(default_factory=dict)

    @property
    def label_tokens(self) -> list[str] | None:
        """The label column's strings, if ``--label-col`` named one."""
        return self.side.get("label")


def resolve_column(
    spec: str, header: list[str] | None, n_fields: int, name: str, flag: str = "--label-col"
) -> int:
    """Turn a column option (a header name or a 0-based index, negative from the end)
    into a 0-based field index."""
    if header is not None and spec in header:
        return header.index(spec)
    try:
        idx = int(spec)
    except ValueError:
        if header is None:
            raise UsageError(
                f"{flag} {spec!r}: {name} has no header row, so give a 0-based "
                "column index instead of a name"
            ) from None
        raise UsageError(
            f"{flag} {spec!r}: no such column in {name} (columns: {', '.join(header)})"
        ) from None
    if not -n_fields <= idx < n_fields:
        raise UsageError(
            f"{flag} {idx} is out of range: {name} has {n_fields} columns "
            f"(0..{n_fields - 1}, or -1 for the last)"
        )
    return idx % n_fields


SIDE_FLAGS = {"label": "--label-col", "sample_weight": "--sample-weight-col"}


def _is_header(row: list[str], skip: set[int]) -> bool:
    return any(not is_number(f) for i, f in enumerate(row) if i not in skip)


def _side_columns(
    specs: dict[str, str], first: list[str], header: bool | None, name: str
) -> tuple[dict[str, int], bool | None]:
    """Resolve the side columns; a name among the first row's fields implies a header."""
    idx: dict[str, int] = {}
    width = len(first)
    # A name that is not in a header-like first row must say "no such column", not
    # "no header row".
    header_like = header is True or (header is None and _is_header(first, set()))
    for role, spec in specs.items():
        named = spec in first and header is not False
        idx[role] = resolve_column(
            spec, first if named or header_like else None, width, name, SIDE_FLAGS[role]
        )
        if named and header is None:
            header = True
    if len(set(idx.values())) != len(idx):
        raise UsageError(
            f"{' and '.join(SIDE_FLAGS[r] for r in idx)} name the same column of {name}"
        )
    return idx, header


def read_table(
    text: str,
    name: str,
    *,
    delimiter: str,
    header: bool | None = None,
    label_col: str | None = None,
    sample_weight_col: str | None = None,
    first_line: int = 1,
    width: tuple[int, int] | None = None,
) -> TextTable:
    """Parse a numeric table, optionally with a header row and side columns (labels,
    sample weights) that are not scores.

    ``header=None`` detects a header: the first row is one if any of its fields (other
    than the side columns) is not a number. For a later block of a longer input,
    ``first_line`` is its first physical line and ``width`` the (field count, line) that
    the rows must match.

    Raises
    ------
    DataError
        Empty input, ragged rows, non-numeric fields or values that overflow float64.
    """
    rows = read_rows(text, delimiter, name, first_line)
    if not rows.fields:
        raise DataError("the input is empty (no rows)", where=name)
    first = rows.fields[0]
    n_fields, width_line = width if width is not None else (len(first), rows.lines[0])
    specs = {
        role: spec
        for role, spec in (("label", label_col), ("sample_weight", sample_weight_col))
        if spec is not None
    }
    side_idx, header = _side_columns(
        specs, first if width is None else [""] * n_fields, header, name
    )
    skip = set(side_idx.values())
    if header is None:
        header = _is_header(first, skip)
    body = rows.fields[1:] if header else rows.fields
    body_lines = rows.lines[1:] if header else rows.lines
    if not body:
        raise DataError("the input has a header row but no data rows", where=name)
    keep = [i for i in range(n_fields) if i not in skip]
    tokens: list[str] = []
    side: dict[str, list[str]] = {role: [] for role in side_idx}
    problems = _Problems()
    for row, line in zip(body, body_lines, strict=True):
        if len(row) != n_fields:
            problems.add(
                f"{name} line {line}",
                f"expected {n_fields} fields (as on line {width_line}), found {len(row)}",
            )
            continue
        if skip:
            for role, i in side_idx.items():
                side[role].append(row[i])
            row = [row[i] for i in keep]
        if _regex(_ROW).fullmatch("\x00".join(row)) is None:
            col = next(c for c, tok in enumerate(row) if not is_number(tok))
            problems.add(
                f"{name} line {line}, column {keep[col] + 1}", _bad_token(row[col], delimiter)
            )
            continue
        tokens.extend(row)
    problems.raise_if_any(name)
    ncols = len(keep)
    values = np.array([float(t) for t in tokens], dtype=np.float64).reshape(len(body), ncols)
    for flat in np.flatnonzero(np.isinf(values)):
        tok = tokens[flat]
        if _regex(_NUMBER).fullmatch(tok):
            r, c = divmod(int(flat), ncols)
            raise DataError(
                f"{tok!r} overflows float64 (largest is about 1.8e308)",
                where=f"{name} line {body_lines[r]}, column {keep[c] + 1}",
            )
    return TextTable(
        values=values,
        columns=[first[i] for i in keep] if header else None,
        side=side,
        lines=np.asarray(body_lines, dtype=np.int64),
        side_names={role: first[i] for role, i in side_idx.items()} if header else {},
        side_index=side_idx,
    )
