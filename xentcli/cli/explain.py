"""``xent explain``: every step from logits to the loss, on the user's own numbers."""

from enum import StrEnum
from typing import Annotated, Optional

import typer

from xentcli.cli.emit import emit_chunks, emit_table
from xentcli.cli.errors import guarded
from xentcli.cli.inputs import read_loss_inputs
from xentcli.cli.options import (
    ClassesOpt,
    DebugOpt,
    DelimiterOpt,
    HeaderOpt,
    InputFormatOpt,
    KeyOpt,
    LabelColOpt,
    LabelsOpt,
    NoColorOpt,
    OutputOpt,
    PrecisionOpt,
)
from xentcli.cli.streams import Streams
from xentcli.core.explain import SEED3_LABELS, SEED3_LOGITS, explain
from xentcli.errors import UsageError
from xentcli.render.machine import dumps_strict
from xentcli.render.records import DEFAULT_PRECISION

DEFAULT_HEAD = 3


class ExplainFormat(StrEnum):
    table = "table"
    json = "json"


@guarded
def explain_command(
    input: Annotated[
        Optional[str],
        typer.Argument(
            help="Logits file (as for xent loss), or - for stdin. Without it, the built-in "
            "three-sample example (sample_data/seed3.csv, labels 1, 3, 5).",
            show_default=False,
            metavar="[INPUT]",
        ),
    ] = None,
    labels: LabelsOpt = None,
    label_col: LabelColOpt = None,
    classes: ClassesOpt = None,
    key: KeyOpt = None,
    input_format: InputFormatOpt = None,
    delimiter: DelimiterOpt = None,
    header: HeaderOpt = None,
    step: Annotated[
        Optional[int],
        typer.Option("--step", help="Show only step N (1-8).", min=1, max=8, metavar="N"),
    ] = None,
    head: Annotated[
        int,
        typer.Option(
            "--head",
            help="Samples shown in the per-sample tables (totals use all samples).",
            min=1,
            metavar="N",
        ),
    ] = DEFAULT_HEAD,
    fmt: Annotated[
        Optional[ExplainFormat],
        typer.Option(
            "--format",
            "-f",
            help="table (default on a terminal) or json (default otherwise).",
            case_sensitive=False,
        ),
    ] = None,
    output: OutputOpt = None,
    precision: PrecisionOpt = None,
    no_color: NoColorOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Walk from logits to the cross-entropy loss, one step at a time, on real numbers.

    Softmax, the probability of the true class, the likelihood (and where its product
    underflows), the log, the minus sign, the mean, and the gradient.

    Examples:

    \b
        xent explain
        xent explain sample_data/logits.csv -l sample_data/labels.csv --step 4
    """
    streams = Streams.from_sys(no_color=no_color)
    if input is None:
        if any(v is not None for v in (labels, label_col, key, input_format, delimiter, header)):
            raise UsageError("input options need an INPUT (use - for stdin)")
        if classes is not None:
            raise UsageError("--classes needs an INPUT")
        e, names = explain(SEED3_LOGITS, SEED3_LABELS), None
    else:
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
        names = inputs.class_names
        with inputs.located():
            e = explain(inputs.logits, inputs.labels)
    p = precision if precision is not None else DEFAULT_PRECISION
    # Imported here: it loads Rich, which a plain `xent loss` never needs.
    from xentcli.render.explain import (
        MATRIX_PRECISION,
        explain_json_doc,
        explain_renderable,
        explain_steps,
    )

    steps = explain_steps(e, names, head, p)
    if step is not None:
        steps = [steps[step - 1]]
    use_table = fmt is ExplainFormat.table or (
        fmt is None and streams.stdout_isatty and output is None
    )
    if use_table:
        mp = precision if precision is not None else MATRIX_PRECISION
        view = explain_renderable(e, steps, names, head, p, mp)
        emit_table(streams, output, view)
    else:
        doc = explain_json_doc(e, steps, names, head, precision)
        emit_chunks(streams, output, [dumps_strict(doc) + "\n"])
