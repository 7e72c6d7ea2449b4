"""Turn the ``xent loss`` input options into validated logits, labels and class names."""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, BinaryIO

import numpy as np
from numpy.typing import NDArray

from xentcli.errors import DataError, UsageError
from xentcli.io.fastparse import parse_numeric_block
from xentcli.io.npy import load_npy, load_npz
from xentcli.io.sources import Format, Source, read_source
from xentcli.io.stream import Block, Locator, ScoreStream, open_scores
from xentcli.io.text import decode, is_number, read_rows, sniff_delimiter


@dataclass(frozen=True)
class ReadOptions:
    """How to read the inputs (the CLI's input options)."""

    input_format: Format | None = None
    delimiter: str | None = None
    header: bool | None = None
    label_col: str | None = None
    sample_weight_col: str | None = None
    key: str | None = None
    classes: tuple[str, ...] | None = None


@dataclass(frozen=True)
class LossInputs:
    """Logits (N, C), integer labels (N,), optional class names, and where each row came from."""

    logits: NDArray[np.generic]
    labels: NDArray[np.generic]
    class_names: tuple[str, ...] | None
    logits_at: Locator
    labels_at: Locator
    sample_weight: NDArray[np.float64] | None = None
    start: int = 0  # row of the whole input where these arrays begin

    def locate(self, source: str | None, sample: int | None) -> str:
        """The place of ``sample`` of ``source`` (``"logits"`` or ``"labels"``)."""
        if source == "sample_weight":
            if self.sample_weight is not None:
                at = self.logits_at  # a column of the logits file
                return at.name if sample is None else at(sample)
            if sample is None:
                return "sample weights"
            return f"sample weights row {sample + self.start}"
        at = self.labels_at if source == "labels" else self.logits_at
        return at.name if sample is None else at(sample)

    @contextmanager
    def located(self) -> Iterator[None]:
        """Give a core ``DataError`` raised inside the block its file and line, and the
        places of further bad rows."""
        try:
            yield
        except DataError as exc:
            if exc.where is None:
                exc.where = self.locate(exc.source, exc.sample)
            if exc.samples is not None and not exc.also:
                others = [int(s) for s in exc.samples[1:MAX_PLACES]]
                exc.also = [_short(self.locate(exc.source, s), exc.where) for s in others]
            raise


MAX_PLACES = 1000


def _short(place: str, first: str) -> str:
    """``"logits.csv line 9"`` as ``"line 9"`` when ``first`` is in the same file."""
    name = first.split(" line ")[0].split(" row ")[0]
    return place.removeprefix(name + " ") if place.startswith(name + " ") else place


def _label_tokens_to_ints(
    tokens: list[str], names: tuple[str, ...] | None, at: Locator
) -> NDArray[np.int64]:
    index = {n: i for i, n in enumerate(names)} if names else {}
    out = np.empty(len(tokens), dtype=np.int64)
    for i, tok in enumerate(tokens):
        if tok in index:
            out[i] = index[tok]
        elif is_number(tok):
            # "3", "3.0" and numpy.savetxt's "3.000000000000000000e+00" are all class 3.
            value = float(tok)
            if not (math.isfinite(value) and value.is_integer()):
                raise DataError(
                    f"label {tok!r} is not a whole number; labels are class indices",
                    where=at(i),
                )
            if abs(value) > 2**62:
                raise DataError(f"label {tok} is out of range", where=at(i))
            out[i] = int(value)
        elif names:
            shown = ", ".join(names[:12]) + (", ..." if len(names) > 12 else "")
            raise DataError(f"unknown class name {tok!r} (classes: {shown})", where=at(i))
        else:
            raise DataError(
                f"label {tok!r} is not a class index, and the classes have no names "
                "(name them with a header row in the logits file or with --classes)",
                where=at(i),
            )
    return out


def _class_order(
    shape: tuple[int, ...], columns: list[str] | None, classes: tuple[str, ...] | None
) -> tuple[list[int] | None, tuple[str, ...] | None]:
    """Apply ``--classes``: the class names, and the column order that matches them (None
    to keep the columns as they are)."""
    ncls = shape[1] if len(shape) == 2 else None
    if ncls == 1 or len(shape) == 1:
        # One column of scores is a binary problem: the header names the score, not the
        # two classes; --classes may name them (negative first).
        if classes is not None and len(classes) != 2:
            raise UsageError(
                f"--classes names {len(classes)} classes, but one column of scores is a "
                "binary problem: name its two classes, negative first"
            )
        return None, classes
    if classes is None:
        return None, tuple(columns) if columns is not None else None
    if len(set(classes)) != len(classes):
        raise UsageError("--classes has repeated names")
    if ncls is not None and len(classes) != ncls:
        raise UsageError(f"--classes names {len(classes)} classes but the logits have {ncls}")
    if columns is None or list(columns) == list(classes):
        return None, classes
    missing = [c for c in classes if c not in columns]
    if missing:
        raise UsageError(
            f"--classes names {', '.join(map(repr, missing))}, not in the header "
            f"({', '.join(columns)})"
        )
    return [columns.index(c) for c in classes], classes


def _read_labels_file(
    src: Source, names: tuple[str, ...] | None, n_samples: int | None
) -> tuple[NDArray[np.generic], Locator]:
    """Labels from their own file. ``n_samples`` (when known) settles whether a first line
    that is not a label is a header or a misspelt class name."""
    if src.format in ("npy", "npz"):
        data = src.data
        if src.format == "npz":
            data = load_npz(src.data, src.name, None, "labels")["logits"]
        arr = load_npy(data, src.name)
        if arr.ndim == 0:
            raise DataError(
                "the labels are a single number (0-d); expected one label per sample",
                where=src.name,
            )
        return arr, Locator(src.name)
    fast = _numeric_labels(src.data)
    if fast is not None:
        return fast, Locator(src.name, first_line=1)
    text = decode(src.data, src.name)
    delim = "," if src.format == "csv" else "\t" if src.format == "tsv" else sniff_delimiter(text)
    rows = read_rows(text, delim, src.name)
    fields, lines = rows.fields, rows.lines
    if not fields:
        raise DataError("the labels input is empty", where=src.name)
    width = len(fields[0])
    if width > 1:
        return _read_target_rows(src.name, fields, lines, n_samples)
    for row, line in zip(fields, lines, strict=True):
        if len(row) != 1:
            raise DataError(
                f"expected one label per line (as on line {lines[0]}), found {len(row)} "
                "fields (for labels in a column of the logits file, use --label-col)",
                where=f"{src.name} line {line}",
            )
    first = fields[0][0]
    # A first line that is neither a number nor a class name is a header such as
    # "label", unless the line count says it is a label (a misspelt class name, which
    # must be reported as such rather than dropped).
    is_label = is_number(first) or bool(names and first in names)
    if not is_label and (n_samples is None or len(fields) != n_samples):
        fields, lines = fields[1:], lines[1:]
        if not fields:
            raise DataError("the labels input has a header but no labels", where=src.name)
    at = Locator(src.name, np.asarray(lines, dtype=np.int64))
    return _label_tokens_to_ints([r[0] for r in fields], names, at), at


def _read_target_rows(
    name: str, fields: list[list[str]], lines: list[int], n_samples: int | None
) -> tuple[NDArray[np.generic], Locator]:
    """A labels file with several numbers per line: soft targets or multi-label 0/1 rows."""
    width = len(fields[0])
    header_like = not all(is_number(f) for f in fields[0])
    if header_like and (n_samples is None or len(fields) != n_samples):
        fields, lines = fields[1:], lines[1:]  # a header of class names
        if not fields:
            raise DataError("the labels input has a header but no rows", where=name)
    out = np.empty((len(fields), width), dtype=np.float64)
    for i, (row, line) in enumerate(zip(fields, lines, strict=True)):
        if len(row) != width:
            raise DataError(
                f"expected {width} target values (as on line {lines[0]}), found {len(row)}",
                where=f"{name} line {line}",
            )
        for j, tok in enumerate(row):
            if not is_number(tok):
                raise DataError(
                    f"{tok!r} is not a number (soft or multi-label targets are numbers)",
                    where=f"{name} line {line}, column {j + 1}",
                )
        out[i] = [float(t) for t in row]
    return out, Locator(name, np.asarray(lines, dtype=np.int64))


def _numeric_labels(data: bytes) -> NDArray[np.float64] | None:
    """A plain one-number-per-line labels file, parsed fast (None if it is not plain)."""
    width = data[: data.find(b"\n") + 1 or len(data)].count(b",") + 1
    values = parse_numeric_block(data, ",", width)
    if values is None:
        return None
    return values[:, 0] if width == 1 else values


def _weight_tokens(tokens: list[str], at: Locator) -> NDArray[np.float64]:
    """``--sample-weight-col`` strings as numbers, or an error at the first bad one."""
    out = np.empty(len(tokens), dtype=np.float64)
    for i, tok in enumerate(tokens):
        if not is_number(tok):
            raise DataError(f"sample weight {tok!r} is not a number", where=at(i))
        out[i] = float(tok)
    return out


@dataclass(frozen=True)
class LossBlock:
    """A block of rows of the inputs, ready for the core: logits, labels, sample weights,
    and a way to name the place of any of its rows."""

    logits: NDArray[Any]
    labels: NDArray[Any]
    sample_weight: NDArray[np.float64] | None
    start: int
    inputs: LossInputs

    @property
    def rows(self) -> int:
        return int(self.logits.shape[0])


class LossStream:
    """The loss inputs as a stream of :class:`LossBlock` (bounded memory for any size).

    Labels and sample weights given in their own files are read whole (one number per
    sample); the logits, and the columns that come with them, are read a block at a time.
    """

    def __init__(
        self,
        scores: ScoreStream,
        opts: ReadOptions,
        labels_path: str | None,
        stdin: BinaryIO | None,
    ) -> None:
        self.name = scores.name
        self.scores = scores
        self.rows = 0
        try:
            self._open(opts, labels_path, stdin)
        except BaseException:
            scores.close()
            raise

    def close(self) -> None:
        """Release the input files."""
        self.scores.close()

    def __enter__(self) -> LossStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _open(self, opts: ReadOptions, labels_path: str | None, stdin: BinaryIO | None) -> None:
        scores = self.scores
        first = next(scores.blocks)
        self._first: Block | None = first
        self.order, self.class_names = _class_order(
            first.values.shape, scores.columns, opts.classes
        )
        self.labels: NDArray[Any] | None = None
        self.labels_at = Locator(scores.name)
        self._labels_src: Source | None = None
        if "label" in first.side:
            pass
        elif labels_path is not None:
            lsrc = read_source(labels_path, stdin, None)
            self.labels, self.labels_at = _read_labels_file(lsrc, self.class_names, None)
            self._labels_src = lsrc
        elif scores.npz_labels is not None:
            self.labels, self.labels_at = scores.npz_labels, Locator(f"{scores.name} labels")
        else:
            raise UsageError(
                "no labels: give -l/--labels FILE, --label-col COLUMN, or an .npz with a "
                "'labels' array"
            )

    def __iter__(self) -> Iterator[LossBlock]:
        # One block of look-ahead, so the last block knows it is the last and a count
        # mismatch is reported with exact numbers before its rows are used.
        assert self._first is not None, "a LossStream is read once"
        pending, self._first = self._first, None
        for block in self.scores.blocks:
            yield self._block(pending, last=False)
            pending = block
        yield self._block(pending, last=True)

    def _block(self, block: Block, last: bool) -> LossBlock:
        values = block.values if self.order is None else block.values[:, self.order]
        start, n = block.start, block.rows
        self.rows = start + n
        side_label = block.side.get("label")
        if isinstance(side_label, list):
            labels: NDArray[Any] = _label_tokens_to_ints(side_label, self.class_names, block.at)
            labels_at = block.at
        elif side_label is not None:
            labels, labels_at = np.asarray(side_label), block.at
        else:
            assert self.labels is not None
            count = len(self.labels) if self.labels.ndim >= 1 else -1
            if count != -1 and (count < start + n or (last and count != start + n)):
                self._mismatch(start + n, exact=last)
            labels = self.labels[start : start + n]
            labels_at = _shifted(self.labels_at, start)
        weight = block.side.get("sample_weight")
        sw = None
        if isinstance(weight, list):
            sw = _weight_tokens(weight, block.at)
        elif weight is not None:
            sw = np.asarray(weight, dtype=np.float64)
        inputs = LossInputs(values, labels, self.class_names, block.at, labels_at, sw, start)
        return LossBlock(values, labels, sw, start, inputs)

    def _mismatch(self, rows: int, exact: bool) -> None:
        assert self.labels is not None
        src = self._labels_src
        if src is not None and exact and len(self.labels) + 1 == rows:
            # One label short, and the first line was taken for a header: read it as a
            # label, so a misspelt class name is reported as such.
            _read_labels_file(src, self.class_names, rows)
        n = str(rows) if exact else f"at least {rows}"
        raise DataError(
            f"logits have {n} samples but labels have {len(self.labels)}; they must be the "
            "same samples in the same order",
            where=self.labels_at.name,
        )


def _shifted(at: Locator, start: int) -> Locator:
    """``at`` for the rows from ``start`` on."""
    if at.lines is not None:
        return Locator(at.name, lines=at.lines[start:])
    if at.first_line is not None:
        return Locator(at.name, first_line=at.first_line + start)
    return Locator(at.name, first_row=at.first_row + start)


def open_loss_inputs(
    input_path: str, labels_path: str | None, opts: ReadOptions, stdin: BinaryIO | None
) -> LossStream:
    """Open the logits (and labels) for reading in blocks, as ``xent loss`` does.

    Raises
    ------
    UsageError, InputError, DataError
        With the file, line and column of the problem.
    """
    if labels_path is not None and opts.label_col is not None:
        raise UsageError("give labels either with -l/--labels or with --label-col, not both")
    if input_path == "-" and labels_path == "-":
        raise UsageError("logits and labels cannot both come from standard input")
    return LossStream(open_scores(input_path, stdin, opts), opts, labels_path, stdin)


def load_inputs(
    input_path: str,
    labels_path: str | None,
    opts: ReadOptions,
    stdin: BinaryIO | None,
) -> LossInputs:
    """Read all the logits and labels at once (for commands that need them whole).

    Raises
    ------
    UsageError, InputError, DataError
        With the file, line and column of the problem.
    """
    with open_loss_inputs(input_path, labels_path, opts, stdin) as stream:
        blocks = list(stream)
    if len(blocks) == 1:
        return blocks[0].inputs
    first = blocks[0].inputs
    logits = np.concatenate([b.logits for b in blocks])
    labels = np.concatenate([np.asarray(b.labels) for b in blocks])
    sws = [b.sample_weight for b in blocks]
    sw = None if sws[0] is None else np.concatenate([w for w in sws if w is not None])
    at = _joined([b.inputs.logits_at for b in blocks], [b.rows for b in blocks])
    labels_at = first.labels_at if stream.labels is not None else at
    return LossInputs(logits, labels, first.class_names, at, labels_at, sw)


def _joined(ats: list[Locator], rows: list[int]) -> Locator:
    if all(a.lines is None and a.first_line is None for a in ats):
        return Locator(ats[0].name)
    lines = np.concatenate(
        [
            a.lines[:n]
            if a.lines is not None
            else np.arange(n, dtype=np.int64) + (a.first_line or 0)
            for a, n in zip(ats, rows, strict=True)
        ]
    )
    return Locator(ats[0].name, lines=lines)
