"""``xent loss``: per-sample and batch cross-entropy of logits against labels."""

import dataclasses
import itertools
from typing import Annotated

import typer

from xentcli.cli.batch import Batch, Board, JobsOpt, leaderboard
from xentcli.cli.emit import choose_format, emit_chunks, emit_table
from xentcli.cli.errors import guarded
from xentcli.cli.gates import FailIfOpt, check_gates, check_reported, parse_gates
from xentcli.cli.inputs import open_loss_stream, read_options
from xentcli.cli.loss_options import (
    BinaryOpt,
    BinsOpt,
    BootstrapOpt,
    CiOpt,
    ClassAxisOpt,
    ClipOpt,
    Compat,
    CompatOpt,
    ComputeDtype,
    ComputeDtypeOpt,
    EmptyOpt,
    ExtraOpt,
    HistOpt,
    HistPlotOpt,
    IgnoreIndexOpt,
    InputKind,
    InputKindOpt,
    LabelSmoothingOpt,
    MetricsOpt,
    MultiLabelOpt,
    Nonfinite,
    NonfiniteOpt,
    PerClassOpt,
    PosWeightOpt,
    Reduction,
    ReductionOpt,
    RenormalizeOpt,
    SampleWeightColOpt,
    SampleWeightOpt,
    SeedOpt,
    TopKOpt,
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
    InputFormatOpt,
    InputsArg,
    KeyOpt,
    LabelColOpt,
    LabelsOpt,
    MaxErrorsOpt,
    NoColorOpt,
    OutputFormat,
    OutputOpt,
    PrecisionOpt,
)
from xentcli.cli.progress import QuietOpt, RowProgress
from xentcli.cli.run import LossRun
from xentcli.cli.sorting import DescOpt, SortOpt, sample_sort_key
from xentcli.cli.streams import Streams
from xentcli.cli.temperature import (
    MaybeTemperatureOpt,
    TemperatureFromOpt,
    resolve_temperature,
)
from xentcli.core import LossResult, concat_results, sorted_samples
from xentcli.errors import UsageError
from xentcli.io import check_creatable, read_vector, write_atomic
from xentcli.render import View, loss_csv, loss_json, loss_jsonl
from xentcli.render.records import DEFAULT_HEAD


@guarded
def loss(
    input: InputsArg = None,
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
    temperature: MaybeTemperatureOpt = None,
    temperature_from: TemperatureFromOpt = None,
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
    compute_dtype: ComputeDtypeOpt = ComputeDtype.auto,
    top_k: TopKOpt = None,
    metrics: MetricsOpt = False,
    bins: BinsOpt = None,
    extra: ExtraOpt = False,
    per_class: PerClassOpt = False,
    ci: CiOpt = None,
    bootstrap: BootstrapOpt = None,
    seed: SeedOpt = None,
    hist: HistOpt = False,
    plot: HistPlotOpt = None,
    sort: SortOpt = None,
    desc: DescOpt = False,
    fail_if: FailIfOpt = None,
    jobs: JobsOpt = 0,
    quiet: QuietOpt = False,
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
        temperature=resolve_temperature(temperature, temperature_from),
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
        top_k=top_k,
        metrics=metrics,
        bins=bins,
        extra=extra,
        per_class=per_class,
        ci=ci,
        bootstrap=bootstrap,
        seed=seed,
        hist=hist or plot is not None,
        compute_dtype=compute_dtype,
    )
    if sample_weight is not None and sample_weight_col is not None:
        raise UsageError(
            "give sample weights with --sample-weight or --sample-weight-col, not both"
        )
    sw = read_vector(sample_weight, "--sample-weight") if sample_weight is not None else None
    opts = read_options(
        input_format=input_format,
        delimiter=delimiter,
        header=header,
        label_col=label_col,
        sample_weight_col=sample_weight_col,
        key=key,
        classes=classes,
    )
    gates = parse_gates(fail_if)
    check_reported(
        gates, options.top_k is not None, options.bins is not None, options.ci is not None
    )
    out_format = choose_format(fmt, output, streams)
    if plot is not None:
        from xentcli.render.plots import require_matplotlib

        require_matplotlib()  # before any work: a missing extra is a usage error
    for path in (output, plot):
        if path not in (None, "-"):
            check_creatable(path)  # not after a long run
    if input is not None and len(input) > 1:
        per_sample = {"--probs": probs, "--extra": extra, "--head": head is not None}
        per_sample["--plot"] = plot is not None
        leaderboard(
            streams,
            Batch(input, labels, opts, options, sw, jobs, max_errors),
            Board(out_format, output, precision, sort, desc, per_class or hist),
            gates,
            [flag for flag, on in per_sample.items() if on],
        )
        return
    sort = sample_sort_key(sort)
    path = input[0] if input else None
    # Nothing reaches stdout before the end of a table or a file; streamed records on a
    # terminal would mix with the bar.
    bar = not quiet and (
        out_format is OutputFormat.table or output not in (None, "-") or not streams.stdout_isatty
    )
    with (
        open_loss_stream(streams, path, labels, opts) as stream,
        RowProgress(streams, stream.name, bar) as progress,
    ):
        run = LossRun(stream, options, sw, with_probs=probs, progress=progress)
        view = View(
            class_names=stream.class_names,
            with_probs=probs,
            head=head,
            precision=precision,
            show_ignored=options.ignore_index is not None,
            extra=options.extra,
        )
        _emit(streams, output, out_format, run, view, summary, sort, desc)
    run.warn(streams)
    if plot is not None:
        from xentcli.render.plots import histogram_png

        write_atomic(plot, [histogram_png(run.summary(), stream.name)])
    if gates:
        check_gates(gates, run.summary().as_dict())


def _emit(
    streams: Streams,
    output: str | None,
    out_format: OutputFormat,
    run: LossRun,
    view: View,
    summary_only: bool,
    sort: str | None = None,
    desc: bool = False,
) -> None:
    """Stream the results in the chosen format (a table waits for the whole input).

    The first block (and, by the stream's look-ahead, the parsing of the second) is done
    before anything is written, so bad input in it leaves stdout empty.
    """
    results = run.results()
    results = itertools.chain([next(results)], results)
    if sort is not None:
        results = iter([sorted_samples(results, sort, desc, view.head)])
    if out_format is OutputFormat.table:
        from xentcli.render.table import loss_table  # Rich only for tables

        if view.head is None:
            view = dataclasses.replace(view, head=DEFAULT_HEAD)
        head: list[LossResult] = []
        shown, limit = 0, view.head or 0
        for r in results:
            if not head or shown < limit:
                head.append(r)
                shown += r.n
        table = loss_table(concat_results(head), view, summary_only, summary=run.summary())
        emit_table(streams, output, table)
    elif out_format is OutputFormat.json:
        emit_chunks(streams, output, loss_json(results, view, run.summary, summary_only))
    elif out_format is OutputFormat.jsonl:
        emit_chunks(streams, output, loss_jsonl(results, view, run.summary, summary_only))
    else:
        delim = "," if out_format is OutputFormat.csv else "\t"
        chunks = loss_csv(results, view, run.summary, delim, summary_only)
        emit_chunks(streams, output, chunks)
