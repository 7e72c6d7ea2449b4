"""``xent calibrate``: fit a temperature on held-out data, and show calibration before/after."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from xentcli.cli.emit import choose_format, emit_chunks, emit_table
from xentcli.cli.errors import guarded
from xentcli.cli.gates import check_gates, parse_gates
from xentcli.cli.inputs import read_loss_inputs, resolve_input_path
from xentcli.cli.loss_options import IgnoreIndexOpt, InputKind, InputKindOpt
from xentcli.cli.options import (
    DEFAULT_MAX_ERRORS,
    ClassesOpt,
    DebugOpt,
    DelimiterOpt,
    FailIfOpt,
    FormatOpt,
    HeaderOpt,
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
from xentcli.core.calibration import Calibration, calibrate
from xentcli.io import check_creatable, write_atomic

DEFAULT_BINS = 15

BinsOpt = Annotated[
    int,
    typer.Option(
        "--bins",
        help="Equal-width confidence bins of the ECE and the reliability table.",
        min=1,
        metavar="N",
    ),
]
SaveOpt = Annotated[
    Optional[str],
    typer.Option(
        "--save",
        help="Also write the temperature to this JSON file (atomically), for xent loss "
        "--temperature-from.",
        metavar="PATH",
    ),
]
PlotOpt = Annotated[
    Optional[str],
    typer.Option(
        "--plot",
        help="Also draw the reliability diagrams to this PNG image (needs matplotlib: pip "
        "install 'xentcli[plot]').",
        metavar="FILE.png",
    ),
]
#: What --fail-if may test here (see _gate_values).
GATE_METRICS = ("n", "n_classes", "ignored", "loss", "accuracy", "brier", "ece", "mce", "rmsce")


@guarded
def calibrate_command(
    input: InputArg = None,
    labels: LabelsOpt = None,
    label_col: LabelColOpt = None,
    classes: ClassesOpt = None,
    key: KeyOpt = None,
    input_format: InputFormatOpt = None,
    delimiter: DelimiterOpt = None,
    header: HeaderOpt = None,
    input_kind: InputKindOpt = InputKind.logits,
    ignore_index: IgnoreIndexOpt = None,
    bins: BinsOpt = DEFAULT_BINS,
    save: SaveOpt = None,
    plot: PlotOpt = None,
    fmt: FormatOpt = None,
    output: OutputOpt = None,
    precision: PrecisionOpt = None,
    fail_if: FailIfOpt = None,
    max_errors: MaxErrorsOpt = DEFAULT_MAX_ERRORS,
    no_color: NoColorOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Fit the temperature T that minimises the NLL (temperature scaling) on held-out data.

    Reports the NLL, accuracy, ECE, MCE, RMSCE and Brier score before (T = 1) and after,
    the reliability table and the reliability diagram. Apply T to other data with
    --save T.json and xent loss --temperature-from T.json. The input is read whole.

    Example:

    \b
        xent calibrate sample_data/logits.csv -l sample_data/labels.csv --save T.json
        xent loss test_logits.csv -l test_labels.csv --temperature-from T.json
    """
    streams = Streams.from_sys(no_color=no_color)
    gates = parse_gates(fail_if, GATE_METRICS)
    if plot is not None:
        from xentcli.render.plots import require_matplotlib

        require_matplotlib()  # before any work: a missing extra is a usage error
    for where in (output, plot, save):
        if where not in (None, "-"):
            check_creatable(where)  # before the fit, not after it
    out_format = choose_format(fmt, output, streams)
    path = resolve_input_path(input, streams, "calibrate")
    inputs = read_loss_inputs(
        streams,
        path,
        labels,
        label_col=label_col,
        classes=classes,
        key=key,
        input_format=input_format,
        delimiter=delimiter,
        header=header,
    )
    with inputs.located():
        cal = calibrate(
            inputs.logits,
            inputs.labels,
            input_kind=input_kind.value,
            ignore_index=ignore_index,
            bins=bins,
        )
    if plot is not None:
        from xentcli.render.plots import reliability_png

        write_atomic(plot, [reliability_png(cal)])
    if save is not None:
        from xentcli.render.calibrate import temperature_json

        write_atomic(save, [temperature_json(cal, input_kind.value)])
    _emit(streams, output, out_format, cal, precision)
    for note in cal.notes:
        streams.warn(note)
    if gates:
        check_gates(gates, _gate_values(cal))


def _gate_values(cal: Calibration) -> dict[str, float]:
    """The numbers ``--fail-if`` may test: the calibrated (after) metrics; ``loss`` is
    the NLL after."""
    after = cal.after
    return {
        "n": cal.n,
        "n_classes": cal.n_classes,
        "ignored": cal.ignored,
        "loss": after.nll,
        "accuracy": after.accuracy,
        "brier": after.brier,
        "ece": after.ece,
        "mce": after.mce,
        "rmsce": after.rmsce,
    }


def _emit(
    streams: Streams,
    output: str | None,
    out_format: OutputFormat,
    cal: Calibration,
    precision: int | None,
) -> None:
    if out_format is OutputFormat.table:
        from xentcli.render.calibrate_table import calibration_table  # Rich only for tables

        emit_table(streams, output, calibration_table(cal, precision))
        return
    from xentcli.render.calibrate import calibration_csv, calibration_json, calibration_jsonl

    if out_format is OutputFormat.json:
        text = calibration_json(cal, precision)
    elif out_format is OutputFormat.jsonl:
        text = calibration_jsonl(cal, precision)
    else:
        delim = "," if out_format is OutputFormat.csv else "\t"
        text = calibration_csv(cal, delim, precision)
    emit_chunks(streams, output, [text])
