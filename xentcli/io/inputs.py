"""Turn the ``xent loss`` input options into validated logits, labels and class names."""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import numpy as np
from numpy.typing import NDArray

from xentcli.errors import DataError, UsageError
from xentcli.io.npy import load_npy, load_npz
from xentcli.io.sources import Format, Source, read_source
from xentcli.io.text import (
    SIDE_FLAGS,
    decode,
    is_number,
    read_rows,
    read_table,
    resolve_column,
    sniff_delimiter,
)


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
class Locator:
    """Maps a 0-based sample index to a place a user can open: a file line or array row."""

    name: str
    lines: NDArray[np.int64] | None = None

    def __call__(self, sample: int) -> str:
        if self.lines is not None and 0 <= sample < len(self.lines):
            return f"{self.name} line {int(self.lines[sample])}"
        return f"{self.name} row {sample}"


@dataclass(frozen=True)
class LossInputs:
    """Logits (N, C), integer labels (N,), optional class names, and where each row came from."""

    logits: NDArray[np.generic]
    labels: NDArray[np.generic]
    class_names: tuple[str, ...] | None
    logits_at: Locator
    labels_at: Locator
    sample_weight: NDArray[np.float64] | None = None

    def locate(self, source: str | None, sample: int | None) -> str:
        """The place of ``sample`` of ``source`` (``"logits"`` or ``"labels"``)."""
        if source == "sample_weight":
            if self.sample_weight is not None:
                at = self.logits_at  # a column of the logits file
                return at.name if sample is None else at(sample)
            return "sample weights" if sample is None else f"sample weights row {sample}"
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


def _text_delimiter(src: Source, text: str, opts: ReadOptions) -> str:
    if opts.delimiter is not None:
        return opts.delimiter
    if src.format == "csv":
        return ","
    if src.format == "tsv":
        return "\t"
    return sniff_delimiter(text)


def _reject_text_options(src: Source, opts: ReadOptions) -> None:
    for flag, value in (("--delimiter", opts.delimiter), ("--header/--no-header", opts.header)):
        if value is not None:
            raise UsageError(f"{flag} applies to text input, but {src.name} is {src.format}")


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


def _apply_classes(
    logits: NDArray[np.generic], columns: list[str] | None, classes: tuple[str, ...] | None
) -> tuple[NDArray[np.generic], tuple[str, ...] | None]:
    """Apply ``--classes``: rename the class columns, or reorder them to match the names."""
    ncls = logits.shape[1] if logits.ndim == 2 else None
    if ncls == 1 or logits.ndim == 1:
        # One column of scores is a binary problem: the header names the score, not the
        # two classes; --classes may name them (negative first).
        if classes is not None and len(classes) != 2:
            raise UsageError(
                f"--classes names {len(classes)} classes, but one column of scores is a "
                "binary problem: name its two classes, negative first"
            )
        return logits, classes
    if classes is None:
        return logits, tuple(columns) if columns is not None else None
    if len(set(classes)) != len(classes):
        raise UsageError("--classes has repeated names")
    if ncls is not None and len(classes) != ncls:
        raise UsageError(f"--classes names {len(classes)} classes but the logits have {ncls}")
    if columns is None or list(columns) == list(classes):
        return logits, classes
    missing = [c for c in classes if c not in columns]
    if missing:
        raise UsageError(
            f"--classes names {', '.join(map(repr, missing))}, not in the header "
            f"({', '.join(columns)})"
        )
    order = [columns.index(c) for c in classes]
    return logits[:, order], classes


def _read_labels_file(
    src: Source, names: tuple[str, ...] | None, n_samples: int
) -> tuple[NDArray[np.generic], Locator]:
    if src.format == "npy":
        return load_npy(src.data, src.name), Locator(src.name)
    if src.format == "npz":
        member = load_npz(src.data, src.name, None, "labels")["logits"]
        return load_npy(member, src.name), Locator(src.name)
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
    if not is_label and len(fields) != n_samples:
        fields, lines = fields[1:], lines[1:]
        if not fields:
            raise DataError("the labels input has a header but no labels", where=src.name)
    at = Locator(src.name, np.asarray(lines, dtype=np.int64))
    return _label_tokens_to_ints([r[0] for r in fields], names, at), at


def _read_target_rows(
    name: str, fields: list[list[str]], lines: list[int], n_samples: int
) -> tuple[NDArray[np.generic], Locator]:
    """A labels file with several numbers per line: soft targets or multi-label 0/1 rows."""
    width = len(fields[0])
    if not all(is_number(f) for f in fields[0]) and len(fields) != n_samples:
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


def _weight_tokens(tokens: list[str], at: Locator) -> NDArray[np.float64]:
    """``--sample-weight-col`` strings as numbers, or an error at the first bad one."""
    out = np.empty(len(tokens), dtype=np.float64)
    for i, tok in enumerate(tokens):
        if not is_number(tok):
            raise DataError(f"sample weight {tok!r} is not a number", where=at(i))
        out[i] = float(tok)
    return out


def _take_columns(logits: NDArray[np.generic], opts: ReadOptions, name: str) -> dict[str, int]:
    """Column indices of ``--label-col`` and ``--sample-weight-col`` in an array."""
    specs = {"label": opts.label_col, "sample_weight": opts.sample_weight_col}
    taken: dict[str, int] = {}
    for role, spec in specs.items():
        if spec is None:
            continue
        flag = SIDE_FLAGS[role]
        if logits.ndim != 2:
            raise DataError(f"{flag} needs a 2-D array; got shape {logits.shape}", where=name)
        taken[role] = resolve_column(spec, None, logits.shape[1], name, flag)
    if len(set(taken.values())) != len(taken):
        raise UsageError(f"--label-col and --sample-weight-col name the same column of {name}")
    return taken


@dataclass(frozen=True)
class Scores:
    """The score matrix of an input, and what came with it.

    ``values`` are the scores (any shape for NPY); ``columns`` the header's names of the
    score columns; ``side`` the raw side columns (``"label"``, ``"sample_weight"``) as
    strings (text) or arrays (NPY) and ``side_index`` their positions in the original
    columns; ``npz_labels`` an .npz's ``labels`` array; ``delimiter`` the text delimiter.
    """

    source: Source
    values: NDArray[np.generic]
    columns: list[str] | None
    at: Locator
    side: dict[str, Any] = field(default_factory=dict)
    side_index: dict[str, int] = field(default_factory=dict)
    side_names: dict[str, str] = field(default_factory=dict)
    npz_labels: NDArray[np.generic] | None = None
    delimiter: str | None = None


def read_scores(src: Source, opts: ReadOptions) -> Scores:
    """Parse the scores of ``src`` (text, NPY or NPZ) with the side columns split off.

    Raises
    ------
    UsageError, DataError
        With the file, line and column of the problem.
    """
    if opts.key is not None and src.format != "npz":
        raise UsageError(f"--key applies to .npz input, but {src.name} is {src.format}")
    if src.format in ("csv", "tsv", "txt"):
        text = decode(src.data, src.name)
        delim = _text_delimiter(src, text, opts)
        table = read_table(
            text,
            src.name,
            delimiter=delim,
            header=opts.header,
            label_col=opts.label_col,
            sample_weight_col=opts.sample_weight_col,
        )
        scores = Scores(
            source=src,
            values=table.values,
            columns=table.columns,
            at=Locator(src.name, table.lines),
            side=dict(table.side),
            side_index=dict(table.side_index),
            side_names=dict(table.side_names),
            delimiter=delim,
        )
    else:
        _reject_text_options(src, opts)
        npz_labels = None
        if src.format == "npz":
            members = load_npz(src.data, src.name, opts.key, "logits")
            values = load_npy(members["logits"], src.name)
            if "labels" in members:
                npz_labels = load_npy(members["labels"], f"{src.name} (labels)")
        else:
            values = load_npy(src.data, src.name)
        taken = _take_columns(values, opts, src.name)
        side = {role: values[:, i] for role, i in taken.items()}
        if taken:
            values = np.delete(values, list(taken.values()), axis=1)
        scores = Scores(
            source=src,
            values=values,
            columns=None,
            at=Locator(src.name),
            side=side,
            side_index=taken,
            npz_labels=npz_labels,
        )
    if scores.values.ndim == 0:
        raise DataError(
            "the array is a single number (0-d); expected one row of scores per sample",
            where=src.name,
        )
    if scores.values.shape[0] == 0:
        raise DataError("the input has no samples (0 rows)", where=src.name)
    return scores


def load_inputs(
    input_path: str,
    labels_path: str | None,
    opts: ReadOptions,
    stdin: BinaryIO | None,
) -> LossInputs:
    """Read logits and labels as ``xent loss`` does.

    Raises
    ------
    UsageError, InputError, DataError
        With the file, line and column of the problem.
    """
    if labels_path is not None and opts.label_col is not None:
        raise UsageError("give labels either with -l/--labels or with --label-col, not both")
    if input_path == "-" and labels_path == "-":
        raise UsageError("logits and labels cannot both come from standard input")
    src = read_source(input_path, stdin, opts.input_format)
    scores = read_scores(src, opts)
    logits_at = scores.at
    sample_weight: NDArray[np.float64] | None = None
    raw_weight = scores.side.get("sample_weight")
    if isinstance(raw_weight, list):
        sample_weight = _weight_tokens(raw_weight, logits_at)
    elif raw_weight is not None:
        sample_weight = np.asarray(raw_weight, dtype=np.float64)
    logits, names = _apply_classes(scores.values, scores.columns, opts.classes)

    labels: NDArray[np.generic]
    raw_label = scores.side.get("label")
    if isinstance(raw_label, list):
        labels_at = logits_at
        labels = _label_tokens_to_ints(raw_label, names, labels_at)
    elif raw_label is not None:
        labels, labels_at = raw_label, logits_at
    elif labels_path is not None:
        lsrc = read_source(labels_path, stdin, None)
        labels, labels_at = _read_labels_file(lsrc, names, int(logits.shape[0]))
    elif scores.npz_labels is not None:
        labels, labels_at = scores.npz_labels, Locator(f"{src.name} labels")
    else:
        raise UsageError(
            "no labels: give -l/--labels FILE, --label-col COLUMN, or an .npz with a 'labels' array"
        )
    return LossInputs(logits, labels, names, logits_at, labels_at, sample_weight)
