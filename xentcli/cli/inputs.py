"""From the input options to validated arrays (a thin adapter over ``xentcli.io``)."""

from __future__ import annotations

from xentcli.cli.options import InputFormat
from xentcli.cli.streams import Streams
from xentcli.errors import UsageError
from xentcli.io import LossInputs, ReadOptions, load_inputs
from xentcli.io.text import parse_delimiter


def resolve_input_path(input_path: str | None, streams: Streams) -> str:
    """``INPUT``, or ``-`` when data is piped in; never wait on a terminal."""
    if input_path is not None:
        return input_path
    if streams.stdin is None or streams.stdin_isatty:
        raise UsageError(
            "no input: give a logits file (xent loss logits.csv -l labels.csv) or pipe "
            "data in (python eval.py | xent loss -l labels.csv); see xent loss --help"
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


def read_loss_inputs(
    streams: Streams,
    input_path: str | None,
    labels_path: str | None,
    *,
    label_col: str | None,
    classes: str | None,
    key: str | None,
    input_format: InputFormat | None,
    delimiter: str | None,
    header: bool | None,
) -> LossInputs:
    """Read logits and labels as the loss-like commands do."""
    opts = ReadOptions(
        input_format=input_format.value if input_format is not None else None,
        delimiter=parse_delimiter(delimiter) if delimiter is not None else None,
        header=header,
        label_col=label_col,
        key=key,
        classes=parse_classes(classes),
    )
    path = resolve_input_path(input_path, streams)
    if labels_path == "-" and path != "-" and streams.stdin_isatty:
        raise UsageError("-l - reads labels from stdin, but stdin is a terminal")
    return load_inputs(path, labels_path, opts, streams.stdin)
