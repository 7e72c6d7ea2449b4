"""Turn the ``xent loss`` input options into validated logits, labels and class names."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, BinaryIO

import numpy as np
from numpy.typing import NDArray

from xentcli.errors import DataError, UsageError
from xentcli.io.blocks import Block, Locator, ScoreStream, prefetched
from xentcli.io.labels import (
    STREAM_LABELS_BYTES,
    NotPlain,
    NpyLabels,
    StreamedLabels,
    WholeLabels,
    label_tokens_to_ints,
    read_labels_file,
    weight_tokens,
)
from xentcli.io.sources import Format, Source, detect_format, read_source
from xentcli.io.stream import open_scores


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


LABELS_KEPT = 1 << 20


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
        if self.labels is not None:
            self.labels.close()

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
        self.labels: WholeLabels | StreamedLabels | NpyLabels | None = None
        self._labels_path = labels_path
        self._labels_src: Source | None = None
        if "label" in first.side:
            pass
        elif labels_path is not None:
            self.labels = _streamed(labels_path, self.class_names)
            if self.labels is None:
                self.labels = self._whole_labels(labels_path, stdin)
        elif scores.npz_labels is not None:
            at = Locator(f"{scores.name} labels")
            self.labels = WholeLabels(scores.npz_labels, at)
        else:
            raise UsageError(
                "no labels: give -l/--labels FILE, --label-col COLUMN, or an .npz with a "
                "'labels' array"
            )

    def _whole_labels(self, path: str, stdin: BinaryIO | None) -> WholeLabels:
        lsrc = read_source(path, stdin, None)
        labels, at = read_labels_file(lsrc, self.class_names, None)
        # Kept to re-read a first line taken for a header (see _mismatch); a big file's
        # bytes are not worth holding for that.
        self._labels_src = lsrc if len(lsrc.data) <= LABELS_KEPT else None
        return WholeLabels(labels, at)

    def __iter__(self) -> Iterator[LossBlock]:
        # One block of look-ahead, so the last block knows it is the last and a count
        # mismatch is reported with exact numbers before its rows are used.
        assert self._first is not None, "a LossStream is read once"
        pending, self._first = self._first, None
        for block in prefetched(self.scores.blocks):
            yield self._block(pending, last=False)
            pending = block
        yield self._block(pending, last=True)

    def _block(self, block: Block, last: bool) -> LossBlock:
        values = block.values if self.order is None else block.values[:, self.order]
        start, n = block.start, block.rows
        self.rows = start + n
        side_label = block.side.get("label")
        if isinstance(side_label, list):
            labels: NDArray[Any] = label_tokens_to_ints(side_label, self.class_names, block.at)
            labels_at = block.at
        elif side_label is not None:
            labels, labels_at = np.asarray(side_label), block.at
        else:
            labels, labels_at = self._take_labels(start, n, last)
            if self.order is not None and labels.ndim == 2 and labels.shape[1] == len(self.order):
                # Soft or multi-label targets are columns in the input's class order too.
                labels = labels[:, self.order]
        weight = block.side.get("sample_weight")
        sw = None
        if isinstance(weight, list):
            sw = weight_tokens(weight, block.at)
        elif weight is not None:
            sw = np.asarray(weight, dtype=np.float64)
        inputs = LossInputs(values, labels, self.class_names, block.at, labels_at, sw, start)
        return LossBlock(values, labels, sw, start, inputs)

    def _take_labels(self, start: int, n: int, last: bool) -> tuple[NDArray[Any], Locator]:
        """Labels ``start .. start + n`` of their own file (or the npz), checking the count:
        short, or (for the last block) longer than the logits, is an error."""
        source = self.labels
        assert source is not None
        try:
            labels, at = source.take(start, n)
            streamed = not isinstance(source, WholeLabels)
            # The count, where it decides (reading, not keeping, the rest of the file).
            more = streamed and last and source.count() > start + n
            if streamed and len(labels) < n:
                source.count()
        except NotPlain:
            # Not plain numbers after all (a class name, a typo): read the file whole,
            # so that its errors name their line as for any labels file.
            source.close()
            assert self._labels_path is not None
            self.labels = source = self._whole_labels(self._labels_path, None)
            labels, at = source.take(start, n)
            more = False
        if isinstance(source, WholeLabels):
            count = source.count()
            if count != -1 and (count < start + n or (last and count != start + n)):
                self._mismatch(start + n, exact=last)
            return labels, at
        if len(labels) < n or more:
            self._mismatch(start + n, exact=last)
        return labels, at

    def _mismatch(self, rows: int, exact: bool) -> None:
        source = self.labels
        assert source is not None
        count = source.count()
        src = self._labels_src
        if isinstance(source, StreamedLabels) and source.first_line == 2 and self._labels_path:
            src = read_source(self._labels_path, None)  # only to say what the first line is
        if src is not None and exact and count + 1 == rows:
            # One label short, and the first line was taken for a header: read it as a
            # label, so a misspelt class name is reported as such.
            read_labels_file(src, self.class_names, rows)
        n = str(rows) if exact else f"at least {rows}"
        raise DataError(
            f"logits have {n} samples but labels have {count}; they must be the "
            "same samples in the same order",
            where=source.name,
        )


def _streamed(path: str, names: tuple[str, ...] | None) -> StreamedLabels | NpyLabels | None:
    """A big plain-text or ``.npy`` labels file as a stream; None for anything else (read
    whole)."""
    if path == "-" or not os.path.isfile(path):
        return None
    if os.path.getsize(path) < STREAM_LABELS_BYTES:
        return None
    with open(path, "rb") as fh:
        head = fh.read(8)
    fmt = detect_format(path, head)
    if fmt == "npy":
        return NpyLabels.open(path)
    if fmt not in ("csv", "tsv", "txt"):
        return None
    return StreamedLabels.open(path, names)


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
    labels_at = at
    if stream.labels is not None:
        # Per block: a streamed labels file may have changed to a whole read on the way.
        labels_at = _joined([b.inputs.labels_at for b in blocks], [b.rows for b in blocks])
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
