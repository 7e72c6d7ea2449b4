"""``xent loss``: per-sample and batch cross-entropy of logits against labels."""

import dataclasses
from typing import Annotated

import typer

from xentcli.cli.emit import choose_format, emit_chunks, emit_table
from xentcli.cli.errors import guarded
from xentcli.cli.inputs import read_loss_inputs, warn_about
from xentcli.cli.loss_options import (
    BinaryOpt,
    ClassAxisOpt,
    ClipOpt,
    Compat,
    CompatOpt,
    EmptyOpt,
    IgnoreIndexOpt,
    InputKind,
    InputKindOpt,
    LabelSmoothingOpt,
    MultiLabelOpt,
    Nonfinite,
    NonfiniteOpt,
    PosWeightOpt,
    Reduction,
    ReductionOpt,
    RenormalizeOpt,
    SampleWeightColOpt,
    SampleWeightOpt,
    TemperatureOpt,
    Units,
    UnitsOpt,
    WeightOpt,
    loss_options,
)
from xentcli.cli.options import (
    DEFAULT_MAX_ERRORS,
    ClassesOpt,
    DebugOpt,
    DelimiterOpt,
    FormatOpt,
    HeaderOpt,
    HeadOpt,
    InputArg,
    InputFormatOpt,
    KeyOpt,
    LabelColOpt,
    LabelsOpt,
    MaxErrorsOpt,
    NoColorOpt,
    OutputFormat,
    OutputOpt,
    PrecisionOpt,
)
from xentcli.cli.streams import Streams
from xentcli.core import cross_entropy
from xentcli.errors import UsageError
from xentcli.io import read_vector
from xentcli.render import View, loss_csv, loss_json, loss_jsonl
from xentcli.render.records import DEFAULT_HEAD


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
    input_kind: InputKindOpt = InputKind.logits,
    reduction: ReductionOpt = Reduction.mean,
    weight: WeightOpt = None,
    ignore_index: IgnoreIndexOpt = None,
    label_smoothing: LabelSmoothingOpt = 0.0,
    sample_weight: SampleWeightOpt = None,
    sample_weight_col: SampleWeightColOpt = None,
    temperature: TemperatureOpt = 1.0,
    renormalize: RenormalizeOpt = False,
    clip: ClipOpt = None,
    units: UnitsOpt = Units.nats,
    nonfinite: NonfiniteOpt = Nonfinite.error,
    empty: EmptyOpt = None,
    compat: CompatOpt = Compat.xent,
    binary: BinaryOpt = False,
    multi_label: MultiLabelOpt = False,
    pos_weight: PosWeightOpt = None,
    class_axis: ClassAxisOpt = None,
    max_errors: MaxErrorsOpt = DEFAULT_MAX_ERRORS,
    no_color: NoColorOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Cross-entropy (log loss) of a classifier's logits against the true labels.

    Softmax turns each row of logits into probabilities; each sample's loss is the
    negative log of the probability it gives its true class (nll); the batch loss is
    their mean, in nats.

    Example:

        xent loss sample_data/logits.csv -l sample_data/labels.csv
    """
    streams = Streams.from_sys(no_color=no_color)
    options = loss_options(
        input_kind=input_kind,
        reduction=reduction,
        weight=weight,
        ignore_index=ignore_index,
        label_smoothing=label_smoothing,
        temperature=temperature,
        renormalize=renormalize,
        clip=clip,
        units=units,
        nonfinite=nonfinite,
        empty=empty,
        compat=compat,
        binary=binary,
        multi_label=multi_label,
        pos_weight=pos_weight,
        class_axis=class_axis,
    )
    inputs = read_loss_inputs(
        streams,
        input,
        labels,
        label_col=label_col,
        sample_weight_col=sample_weight_col,
        classes=classes,
        key=key,
        input_format=input_format,
        delimiter=delimiter,
        header=header,
    )
    if sample_weight is not None and sample_weight_col is not None:
        raise UsageError(
            "give sample weights with --sample-weight or --sample-weight-col, not both"
        )
    sw = (
        read_vector(sample_weight, "--sample-weight")
        if sample_weight is not None
        else inputs.sample_weight
    )
    with inputs.located():
        result = cross_entropy(
            inputs.logits, inputs.labels, options, sample_weight=sw, with_probs=probs
        )
        result.stats.summary(final=True)
    warn_about(streams, result, inputs)
    out_format = choose_format(fmt, output, streams)
    view = View(
        class_names=inputs.class_names,
        with_probs=probs,
        head=head,
        precision=precision,
        show_ignored=options.ignore_index is not None,
    )
    if out_format is OutputFormat.table:
        if view.head is None:
            view = dataclasses.replace(view, head=DEFAULT_HEAD)
        from xentcli.render.table import loss_table  # Rich only for tables

        emit_table(streams, output, loss_table(result, view, summary_only=summary))
    elif out_format is OutputFormat.json:
        emit_chunks(streams, output, loss_json(result, view, summary_only=summary))
    elif out_format is OutputFormat.jsonl:
        emit_chunks(streams, output, loss_jsonl(result, view, summary_only=summary))
    else:
        delim = "," if out_format is OutputFormat.csv else "\t"
        emit_chunks(streams, output, loss_csv(result, view, delim, summary_only=summary))
