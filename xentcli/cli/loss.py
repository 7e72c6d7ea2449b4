"""``xent loss``: per-sample and batch cross-entropy of logits against labels."""

import dataclasses
from typing import Annotated

import typer

from xentcli.cli.emit import choose_format, emit_chunks, emit_table
from xentcli.cli.errors import guarded
from xentcli.cli.inputs import read_loss_inputs
from xentcli.cli.options import (
    ClassesOpt,
    DelimiterOpt,
    FormatOpt,
    HeaderOpt,
    HeadOpt,
    InputArg,
    InputFormatOpt,
    KeyOpt,
    LabelColOpt,
    LabelsOpt,
    NoColorOpt,
    OutputFormat,
    OutputOpt,
    PrecisionOpt,
)
from xentcli.cli.streams import Streams
from xentcli.core import cross_entropy
from xentcli.render import View, loss_csv, loss_json, loss_jsonl, loss_table
from xentcli.render.table import DEFAULT_HEAD


@guarded
def loss(
    input: InputArg = None,
    labels: LabelsOpt = None,
    label_col: LabelColOpt = None,
    classes: ClassesOpt = None,
    key: KeyOpt = None,
    input_format: InputFormatOpt = None,
    delimiter: DelimiterOpt = None,
    header: HeaderOpt = None,
    fmt: FormatOpt = None,
    output: OutputOpt = None,
    probs: Annotated[
        bool,
        typer.Option(
            "--probs", help="Add each sample's full probability vector.", rich_help_panel="Output"
        ),
    ] = False,
    summary: Annotated[
        bool,
        typer.Option(
            "--summary", "-s", help="Print only the batch summary.", rich_help_panel="Output"
        ),
    ] = False,
    head: HeadOpt = None,
    precision: PrecisionOpt = None,
    no_color: NoColorOpt = False,
) -> None:
    """Cross-entropy (log loss) of a classifier's logits against the true labels.

    Softmax turns each row of logits into probabilities; each sample's loss is the
    negative log of the probability it gives its true class (nll); the batch loss is
    their mean, in nats.

    Example:

        xent loss sample_data/logits.csv -l sample_data/labels.csv
    """
    streams = Streams.from_sys(no_color=no_color)
    inputs = read_loss_inputs(
        streams,
        input,
        labels,
        label_col=label_col,
        classes=classes,
        key=key,
        input_format=input_format,
        delimiter=delimiter,
        header=header,
    )
    with inputs.located():
        result = cross_entropy(inputs.logits, inputs.labels, with_probs=probs)
    out_format = choose_format(fmt, output, streams)
    view = View(
        class_names=inputs.class_names,
        with_probs=probs,
        head=head,
        precision=precision,
    )
    if out_format is OutputFormat.table:
        if view.head is None:
            view = dataclasses.replace(view, head=DEFAULT_HEAD)
        emit_table(streams, output, loss_table(result, view, summary_only=summary))
    elif out_format is OutputFormat.json:
        emit_chunks(streams, output, loss_json(result, view, summary_only=summary))
    elif out_format is OutputFormat.jsonl:
        emit_chunks(streams, output, loss_jsonl(result, view, summary_only=summary))
    else:
        delim = "," if out_format is OutputFormat.csv else "\t"
        emit_chunks(streams, output, loss_csv(result, view, delim, summary_only=summary))
