"""``xent softmax``: a filter from logits to probabilities that keeps the input's format."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from enum import StrEnum
from typing import Annotated, Optional

import numpy as np
import typer

from xentcli.cli.emit import emit_chunks
from xentcli.cli.errors import guarded
from xentcli.cli.inputs import parse_classes, read_options, resolve_input_path
from xentcli.cli.loss_options import ClassAxisOpt, MultiLabelOpt, TemperatureOpt
from xentcli.cli.options import (
    DEFAULT_MAX_ERRORS,
    OUTPUT_PANEL,
    DebugOpt,
    DelimiterOpt,
    HeaderOpt,
    InputArg,
    InputFormatOpt,
    KeyOpt,
    LabelColOpt,
    MaxErrorsOpt,
    NoColorOpt,
    OutputOpt,
    PrecisionOpt,
)
from xentcli.cli.streams import Streams
from xentcli.core.transform import probabilities
from xentcli.errors import DataError, UsageError
from xentcli.io import Block, ScoreStream, open_scores
from xentcli.io.text import WHITESPACE
from xentcli.render.arrays import matrix_jsonl, matrix_text, npy_chunks


class SoftmaxFormat(StrEnum):
    csv = "csv"
    tsv = "tsv"
    txt = "txt"
    npy = "npy"
    jsonl = "jsonl"


_BY_EXTENSION = {".csv": "csv", ".tsv": "tsv", ".txt": "txt", ".npy": "npy", ".jsonl": "jsonl"}


def _out_format(fmt: SoftmaxFormat | None, output: str | None, scores: ScoreStream) -> str:
    """``-f``, else the ``-o`` extension, else the input's own format (npz gives npy)."""
    if fmt is not None:
        return fmt.value
    if output is not None and output != "-":
        ext = "." + output.rsplit(".", 1)[-1].lower() if "." in output else ""
        if ext in _BY_EXTENSION:
            return _BY_EXTENSION[ext]
    return "npy" if scores.format == "npz" else scores.format


def _text_delimiter(out: str, scores: ScoreStream) -> str:
    if out == "csv":
        return ","
    if out == "tsv":
        return "\t"
    delim = scores.delimiter if scores.format == "txt" else None
    return " " if delim in (None, WHITESPACE) else delim


def _header(scores: ScoreStream, classes: tuple[str, ...] | None, n_cols: int) -> list[str] | None:
    names = list(classes) if classes is not None else scores.columns
    if names is None:
        return None
    if len(names) != n_cols:
        raise UsageError(f"--classes names {len(names)} classes but the input has {n_cols}")
    header = list(names)
    for role, i in sorted(scores.side_index.items(), key=lambda kv: kv[1]):
        header.insert(i, scores.side_names.get(role, role))
    return header


@guarded
def softmax_command(
    input: InputArg = None,
    log: Annotated[
        bool,
        typer.Option("--log", help="Write log-probabilities (computed directly, exactly)."),
    ] = False,
    temperature: TemperatureOpt = 1.0,
    multi_label: MultiLabelOpt = False,
    class_axis: ClassAxisOpt = None,
    label_col: LabelColOpt = None,
    classes: Annotated[
        Optional[str],
        typer.Option(
            "--classes",
            help="Class names for the output header, comma-separated (replaces the input's).",
            metavar="A,B,...",
        ),
    ] = None,
    key: KeyOpt = None,
    input_format: InputFormatOpt = None,
    delimiter: DelimiterOpt = None,
    header: HeaderOpt = None,
    fmt: Annotated[
        Optional[SoftmaxFormat],
        typer.Option(
            "--format",
            "-f",
            help="Output format (default: the input's; .npz input gives .npy).",
            case_sensitive=False,
            rich_help_panel=OUTPUT_PANEL,
        ),
    ] = None,
    output: OutputOpt = None,
    precision: PrecisionOpt = None,
    max_errors: MaxErrorsOpt = DEFAULT_MAX_ERRORS,
    no_color: NoColorOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Turn logits into probabilities (a softmax over each row), keeping the format.

    CSV stays CSV with the same header, TSV stays TSV, .npy stays .npy (binary: give -o
    or a pipe). One column of scores (or --multi-label) gets a sigmoid per score: the
    probability of the positive class. A --label-col column is passed through unchanged,
    so the output feeds `xent loss --input-kind probs`.

    Examples:

    \b
        xent softmax sample_data/logits.csv
        xent softmax sample_data/logits.csv | xent loss --input-kind probs -l sample_data/labels.csv
    """
    streams = Streams.from_sys(no_color=no_color)
    opts = read_options(
        input_format=input_format,
        delimiter=delimiter,
        header=header,
        label_col=label_col,
        key=key,
    )
    path = resolve_input_path(input, streams, "softmax")
    with open_scores(path, streams.stdin, opts) as stream:
        _softmax(
            streams,
            stream,
            output,
            fmt,
            classes,
            log,
            temperature,
            multi_label,
            class_axis,
            precision,
        )


def _softmax(
    streams: Streams,
    stream: ScoreStream,
    output: str | None,
    fmt: SoftmaxFormat | None,
    classes: str | None,
    log: bool,
    temperature: float,
    multi_label: bool,
    class_axis: int | None,
    precision: int | None,
) -> None:
    first = next(stream.blocks)
    shape = first.values.shape
    if class_axis is not None and not (
        -len(shape) <= class_axis < len(shape) and class_axis % len(shape) != 0
    ):
        raise UsageError(
            f"--class-axis {class_axis} does not fit samples of shape {shape[1:]} (axis 0 "
            "counts the samples; the classes are on axis 1 or later)"
        )
    sigmoid = multi_label or len(shape) == 1 or (len(shape) == 2 and shape[1] == 1)
    if len(shape) > 2 and class_axis is None and not multi_label:
        raise DataError(
            f"the input has rows of shape {shape[1:]}: say which axis holds the classes with "
            "--class-axis (1 for (N, C, d1, ...), -1 for channels-last)",
            where=stream.name,
        )

    def convert(block: Block) -> np.ndarray:
        try:
            return probabilities(
                block.values,
                link="sigmoid" if sigmoid else "softmax",
                log=log,
                temperature=temperature,
                axis=class_axis if class_axis is not None else -1,
            )
        except DataError as exc:
            if exc.where is None:
                exc.where = block.at.name if exc.sample is None else block.at(exc.sample)
                if exc.samples is not None:
                    exc.also = [block.at(s) for s in exc.samples[1:1000]]
            raise

    blocks = itertools.chain([first], stream.blocks)
    out = _out_format(fmt, output, stream)
    if out == "npy":
        for flag, value in (("--classes", classes), ("--precision", precision)):
            if value is not None:
                raise UsageError(f"{flag} applies to text output; .npy output is binary")
        if (output is None or output == "-") and streams.stdout_isatty:
            raise UsageError(
                "NPY is binary: write it with -o FILE.npy or pipe it into another program"
            )
        if any(isinstance(b, list) for b in first.side.values()):
            raise UsageError(
                "the --label-col column holds text, which an .npy cannot: write CSV or TSV "
                "(-f csv), or leave out --label-col"
            )
        # The NPY header needs the row count: the probabilities are gathered first.
        parts = [_with_side(convert(b), b, stream) for b in blocks]
        emit_chunks(streams, output, npy_chunks(np.concatenate(parts)))
        return
    if len(shape) > 2:
        raise UsageError(
            f"probabilities with rows of shape {shape[1:]} need a binary format: -f npy "
            "(or -o FILE.npy)"
        )
    emit_chunks(
        streams, output, _text_chunks(blocks, convert, out, stream, classes, log, precision)
    )


def _text_chunks(
    blocks: Iterator[Block],
    convert: Callable[[Block], np.ndarray],
    out: str,
    stream: ScoreStream,
    classes: str | None,
    log: bool,
    precision: int | None,
) -> Iterator[str]:
    """Text output, block by block: the first record is out before the input is read."""
    for i, block in enumerate(blocks):
        probs = convert(block)
        matrix = probs.reshape(probs.shape[0], -1)
        if out == "jsonl":
            key = "log_probs" if log else "probs"
            extra = {
                stream.side_names.get(role, role): list(block.side[role])
                for role in stream.side_index
            }
            yield from matrix_jsonl(
                matrix, key=key, precision=precision, start=block.start, extra=extra
            )
            continue
        side = {
            idx: [v if isinstance(v, str) else repr(float(v)) for v in block.side[role]]
            for role, idx in stream.side_index.items()
        }
        yield from matrix_text(
            matrix,
            delimiter=_text_delimiter(out, stream),
            header=_header(stream, parse_classes(classes), matrix.shape[1]) if i == 0 else None,
            side=side,
            precision=precision,
        )


def _with_side(probs: np.ndarray, block: Block, stream: ScoreStream) -> np.ndarray:
    """NPY rows, with pass-through columns put back in their places."""
    arr = probs
    for role, i in sorted(stream.side_index.items(), key=lambda kv: kv[1]):
        arr = np.insert(arr, i, np.asarray(block.side[role], dtype=np.float64), axis=1)
    return arr
