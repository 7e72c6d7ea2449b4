"""From the input options to validated arrays (a thin adapter over ``xentcli.io``)."""

from __future__ import annotations

import math

import numpy as np

from xentcli.cli.options import InputFormat
from xentcli.cli.streams import Streams
from xentcli.core import LossResult
from xentcli.errors import UsageError
from xentcli.io import LossInputs, ReadOptions, load_inputs
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


def _places(inputs: LossInputs, samples: list[int], limit: int = 3) -> str:
    shown = ", ".join(inputs.locate("logits", s) for s in samples[:limit])
    more = len(samples) - limit
    return shown + (f" and {more} more" if more > 0 else "")


def warn_about(streams: Streams, result: LossResult, inputs: LossInputs) -> None:
    """Warnings on stderr for results that are valid but need a second look."""
    summary = result.summary
    if result.skipped.size:
        streams.warn(
            f"skipped {result.skipped.size} row(s) with non-finite input "
            f"({_places(inputs, result.skipped.tolist())})"
        )
    if summary.empty and math.isnan(summary.loss):
        streams.warn(
            "no sample counts towards the mean (all ignored, skipped or of zero weight): "
            "the loss is undefined and reported as null (--empty zero|error to change)"
        )
    nan_rows = [int(i) for i in result.index[np.isnan(result.loss)]]
    if nan_rows and not summary.empty:
        streams.warn(
            f"{len(nan_rows)} sample(s) have a NaN loss ({_places(inputs, nan_rows)}), so "
            "the loss is NaN, reported as null"
            + (
                ": this profile takes 0 * log 0 as NaN, as the library does"
                if result.stats.options.compat in ("torch", "keras", "optax")
                else ""
            )
        )
    infinite = [int(i) for i in result.index[result.nll == math.inf]]
    if infinite:
        streams.warn(
            f"{len(infinite)} sample(s) give the true class probability 0, so their loss "
            f"is infinite ({_places(inputs, infinite)}); --clip EPS bounds it"
            if result.stats.options.input_kind != "logits"
            else f"{len(infinite)} sample(s) have a -inf logit for the true class, so their "
            f"loss is infinite ({_places(inputs, infinite)})"
        )
