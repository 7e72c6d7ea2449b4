"""``xent compare A B -l LABELS``: is model B better than model A on the same samples?"""

from __future__ import annotations

import dataclasses
import io
import itertools
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Annotated, Optional

import typer

from xentcli.cli.compare_run import CompareRun
from xentcli.cli.emit import choose_format, emit_chunks, emit_table
from xentcli.cli.errors import guarded
from xentcli.cli.gates import check_gates, parse_gates
from xentcli.cli.inputs import open_loss_stream, read_options
from xentcli.cli.loss_options import (
    BinaryOpt,
    ClassAxisOpt,
    ClipOpt,
    Compat,
    CompatOpt,
    ComputeDtype,
    ComputeDtypeOpt,
    EmptyOpt,
    IgnoreIndexOpt,
    InputKind,
    InputKindOpt,
    LabelSmoothingOpt,
    MultiLabelOpt,
    PosWeightOpt,
    Reduction,
    ReductionOpt,
    RenormalizeOpt,
    SampleWeightOpt,
    TemperatureOpt,
    Units,
    UnitsOpt,
    WeightOpt,
    loss_options,
)
from xentcli.cli.options import (
    DEFAULT_MAX_ERRORS,
    OUTPUT_PANEL,
    ClassesOpt,
    DebugOpt,
    DelimiterOpt,
    FailIfOpt,
    FormatOpt,
    HeaderOpt,
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
from xentcli.cli.run import LossRun
from xentcli.cli.streams import Streams
from xentcli.core.bootstrap import draw_seed
from xentcli.core.compare import Paired, largest_differences
from xentcli.errors import UsageError
from xentcli.io import read_vector
from xentcli.render import View
from xentcli.render.compare import compare_csv, compare_json, compare_jsonl

STATS_PANEL = "Statistics"
#: Samples in a table unless --head says otherwise.
DEFAULT_COMPARE_HEAD = 10
MIN_REPLICATES = 10

#: Summary numbers a --fail-if condition may test.
COMPARE_METRICS = (
    "n",
    "n_classes",
    "ignored",
    "loss_a",
    "loss_b",
    "delta_loss",
    "delta_loss_ci_lo",
    "delta_loss_ci_hi",
    "accuracy_a",
    "accuracy_b",
    "delta_accuracy",
    "delta_accuracy_ci_lo",
    "delta_accuracy_ci_hi",
    "p_value",
    "a_better",
    "b_better",
    "ties",
)

ModelAArg = Annotated[
    str,
    typer.Argument(
        help="Model A's scores (the baseline): a .csv/.tsv/.txt/.npy/.npz file, or - for stdin.",
        show_default=False,
        metavar="A",
    ),
]
ModelBArg = Annotated[
    str,
    typer.Argument(
        help="Model B's scores on the same samples, in the same order (a file, or - for "
        "stdin when A is a file).",
        show_default=False,
        metavar="B",
    ),
]
CompareHeadOpt = Annotated[
    Optional[int],
    typer.Option(
        "--head",
        help="Show only the N samples with the largest |delta|, largest first (the summary "
        "still covers all). Default: 10 in a table; otherwise every sample, in input order.",
        min=0,
        metavar="N",
        rich_help_panel=OUTPUT_PANEL,
    ),
]
CompareCiOpt = Annotated[
    float,
    typer.Option(
        "--ci",
        help="Level of the bootstrap intervals of delta loss and delta accuracy.",
        metavar="LEVEL",
        rich_help_panel=STATS_PANEL,
    ),
]
CompareBootstrapOpt = Annotated[
    int,
    typer.Option(
        "--bootstrap",
        help="Replicates of the paired bootstrap and of the sign-flip test.",
        metavar="B",
        rich_help_panel=STATS_PANEL,
    ),
]
CompareSeedOpt = Annotated[
    Optional[int],
    typer.Option(
        "--seed",
        help="Seed of the resampling (default: a fresh one, recorded in the summary).",
        min=0,
        metavar="N",
        rich_help_panel=STATS_PANEL,
    ),
]


@guarded
def compare(
    a: ModelAArg,
    b: ModelBArg,
    labels: LabelsOpt = None,
    label_col: LabelColOpt = None,
    classes: ClassesOpt = None,
    key: KeyOpt = None,
    input_format: InputFormatOpt = None,
    delimiter: DelimiterOpt = None,
    header: HeaderOpt = None,
    fmt: FormatOpt = None,
    output: OutputOpt = None,
    summary: Annotated[
        bool,
        typer.Option("--summary", "-s", help="Print only the summary.", rich_help_panel="Output"),
    ] = False,
    head: CompareHeadOpt = None,
    precision: PrecisionOpt = None,
    ci: CompareCiOpt = 0.95,
    bootstrap: CompareBootstrapOpt = 1000,
    seed: CompareSeedOpt = None,
    input_kind: InputKindOpt = InputKind.logits,
    reduction: ReductionOpt = Reduction.mean,
    weight: WeightOpt = None,
    ignore_index: IgnoreIndexOpt = None,
    label_smoothing: LabelSmoothingOpt = 0.0,
    sample_weight: SampleWeightOpt = None,
    temperature: TemperatureOpt = 1.0,
    renormalize: RenormalizeOpt = False,
    clip: ClipOpt = None,
    units: UnitsOpt = Units.nats,
    empty: EmptyOpt = None,
    compat: CompatOpt = Compat.xent,
    binary: BinaryOpt = False,
    multi_label: MultiLabelOpt = False,
    pos_weight: PosWeightOpt = None,
    class_axis: ClassAxisOpt = None,
    compute_dtype: ComputeDtypeOpt = ComputeDtype.auto,
    fail_if: FailIfOpt = None,
    max_errors: MaxErrorsOpt = DEFAULT_MAX_ERRORS,
    no_color: NoColorOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Compare two models' outputs on the same samples: is B better than A?

    Both inputs are scored against the same labels with the same loss options. Reports
    each model's loss and accuracy, their differences (delta = B - A, so a negative delta
    loss favours B) with paired bootstrap intervals, a sign-flip p-value, how many samples
    each model does better on, and the samples with the largest differences.

    Example:

    \b
        xent compare sample_data/logits.csv sample_data/logits_b.csv -l sample_data/labels.csv
    """
    streams = Streams.from_sys(no_color=no_color)
    if a == "-" and b == "-":
        raise UsageError("A and B cannot both come from standard input: give one as a file")
    if not 0.0 < ci < 1.0:
        raise UsageError(f"--ci {ci!r} must be a level between 0 and 1, such as 0.95")
    if bootstrap < MIN_REPLICATES:
        raise UsageError(f"--bootstrap {bootstrap} must be a whole number of at least 10")
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
        empty=empty,
        compat=compat,
        binary=binary,
        multi_label=multi_label,
        pos_weight=pos_weight,
        class_axis=class_axis,
        compute_dtype=compute_dtype,
    )
    sw = read_vector(sample_weight, "--sample-weight") if sample_weight is not None else None
    opts = read_options(
        input_format=input_format,
        delimiter=delimiter,
        header=header,
        label_col=label_col,
        key=key,
        classes=classes,
    )
    gates = parse_gates(fail_if, COMPARE_METRICS)
    out_format = choose_format(fmt, output, streams)
    seed = seed if seed is not None else draw_seed()
    streams_a = streams_b = streams
    stdin = streams.stdin
    if labels == "-" and "-" not in (a, b) and stdin is not None and not streams.stdin_isatty:
        # Both inputs are scored against these labels: read them once.
        data = stdin.read()
        streams_a = dataclasses.replace(streams, stdin=io.BytesIO(data))
        streams_b = dataclasses.replace(streams, stdin=io.BytesIO(data))
    with ExitStack() as stack:
        stream_a = stack.enter_context(open_loss_stream(streams_a, a, labels, opts))
        stream_b = stack.enter_context(open_loss_stream(streams_b, b, labels, opts))
        run = CompareRun(
            LossRun(stream_a, options, sw), LossRun(stream_b, options, sw), seed, bootstrap, ci, sw
        )
        view = View(
            class_names=run.class_names,
            head=head,
            precision=precision,
            show_ignored=options.ignore_index is not None,
        )
        _emit(streams, output, out_format, run, view, summary, (a, b))
    # The same condition in both inputs (all samples ignored, say) is said once.
    once = _WarnOnce(**{f.name: getattr(streams, f.name) for f in dataclasses.fields(streams)})
    run.run_a.warn(once)
    run.run_b.warn(once)
    if gates:
        check_gates(gates, run.summary().flat())


@dataclasses.dataclass
class _WarnOnce(Streams):
    """Streams that write each distinct warning once."""

    said: set[str] = dataclasses.field(default_factory=set)

    def warn(self, message: str) -> None:
        if message not in self.said:
            self.said.add(message)
            super().warn(message)


def _largest(chunks: Iterator[Paired], head: int) -> Iterator[Paired]:
    """The ``head`` largest differences of all the chunks, keeping no more on the way."""
    kept: Paired | None = None
    for pairs in chunks:
        kept = largest_differences([pairs] if kept is None else [kept, pairs], head)
    if kept is not None:
        yield kept


def _emit(
    streams: Streams,
    output: str | None,
    out_format: OutputFormat,
    run: CompareRun,
    view: View,
    summary_only: bool,
    names: tuple[str, str],
) -> None:
    """Write the comparison in the chosen format. The first chunk is computed before
    anything is written, so bad input in it leaves stdout empty."""
    if out_format is OutputFormat.table and view.head is None:
        view = dataclasses.replace(view, head=DEFAULT_COMPARE_HEAD)
    chunks = run.pairs()
    first = next(chunks, None)
    chunks = itertools.chain([] if first is None else [first], chunks)
    if view.head is not None and not summary_only:
        chunks = _largest(chunks, view.head)

    def n_classes() -> int:
        return run.run_a.stats.n_classes if run.run_a.stats is not None else 0

    if out_format is OutputFormat.table:
        from xentcli.render.compare_table import compare_table  # Rich only for tables

        shown = None
        for pairs in chunks:
            shown = pairs
        table = compare_table(run.summary(), None if summary_only else shown, view, names)
        emit_table(streams, output, table)
    elif out_format is OutputFormat.json:
        emit_chunks(
            streams, output, compare_json(chunks, view, run.summary, n_classes, summary_only)
        )
    elif out_format is OutputFormat.jsonl:
        emit_chunks(
            streams, output, compare_jsonl(chunks, view, run.summary, n_classes, summary_only)
        )
    else:
        delim = "," if out_format is OutputFormat.csv else "\t"
        emit_chunks(
            streams, output, compare_csv(chunks, view, run.summary, n_classes, delim, summary_only)
        )
