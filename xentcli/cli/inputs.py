"""From the input options to validated arrays (a thin adapter over ``xentcli.io``)."""

from __future__ import annotations

from xentcli.cli.choices import InputFormat
from xentcli.cli.streams import Streams
from xentcli.errors import UsageError
from xentcli.io import LossInputs, LossStream, ReadOptions, load_inputs, open_loss_inputs
from xentcli.io.text import parse_delimiter


def resolve_input_path(input_path: str | None, streams: Streams, command: str = "loss") -> str:
    """``INPUT``, or ``-`` when data is piped in; never wait on a terminal."""
    if input_path is not None:
        return input_path
    if streams.stdin is None or streams.stdin_isatty:
        labels = " -l labels.csv" if command == "loss" else ""
        raise UsageError(
            f"no input: give a logits file (xent {command} logits.csv{labels}) or pipe "
            f"data in (python eval.py | xent {command}{labels}); see xent {command} --help"
        )
    return "-"


def parse_classes(value: str | None) -> tuple[str, ...] | None:
    """``--classes a,b,c`` as a tuple of stripped, non-empty names."""
    if value is None:
        return None
    names = tuple(n.strip() for n in value.split(","))
    if any(not n for n in names):
        raise UsageError(f"--classes {value!r} has an empty name")
    return names


def read_options(
    *,
    input_format: InputFormat | None = None,
    delimiter: str | None = None,
    header: bool | None = None,
    label_col: str | None = None,
    sample_weight_col: str | None = None,
    key: str | None = None,
    classes: str | None = None,
) -> ReadOptions:
    """The io layer's read options from the command-line values."""
    return ReadOptions(
        input_format=input_format.value if input_format is not None else None,
        delimiter=parse_delimiter(delimiter) if delimiter is not None else None,
        header=header,
        label_col=label_col,
        sample_weight_col=sample_weight_col,
        key=key,
        classes=parse_classes(classes),
    )


def open_loss_stream(
    streams: Streams,
    input_path: str | None,
    labels_path: str | None,
    opts: ReadOptions,
) -> LossStream:
    """Open the logits (and labels) for block-by-block reading, as ``xent loss`` does."""
    path = resolve_input_path(input_path, streams)
    if labels_path == "-" and path != "-" and streams.stdin_isatty:
        raise UsageError("-l - reads labels from stdin, but stdin is a terminal")
    return open_loss_inputs(path, labels_path, opts, streams.stdin)


def read_loss_inputs(
    streams: Streams,
    input_path: str | None,
    labels_path: str | None,
    *,
    label_col: str | None,
    classes: str | None,
    sample_weight_col: str | None = None,
    key: str | None,
    input_format: InputFormat | None,
    delimiter: str | None,
    header: bool | None,
) -> LossInputs:
    """Read logits and labels as the loss-like commands do."""
    opts = read_options(
        input_format=input_format,
        delimiter=delimiter,
        header=header,
        label_col=label_col,
        sample_weight_col=sample_weight_col,
        key=key,
        classes=classes,
    )
    path = resolve_input_path(input_path, streams)
    if labels_path == "-" and path != "-" and streams.stdin_isatty:
        raise UsageError("-l - reads labels from stdin, but stdin is a terminal")
    return load_inputs(path, labels_path, opts, streams.stdin)
