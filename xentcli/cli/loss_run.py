"""What ``xent loss`` does with its options, without Typer.

:mod:`xentcli.cli.loss` declares the command for Typer and calls :func:`run_loss`; so
does the lean path of a plain run (:mod:`xentcli.cli.lean`), which skips importing Typer.
The defaults here are the command's (``tests/test_lean.py`` checks they agree).
"""

from __future__ import annotations

import dataclasses
import itertools

from xentcli.cli.choices import (
    DEFAULT_MAX_ERRORS,
    Compat,
    ComputeDtype,
    Empty,
    InputFormat,
    InputKind,
    Nonfinite,
    OutputFormat,
    Reduction,
    Units,
    loss_options,
)
from xentcli.cli.emit import choose_format, emit_chunks, emit_table
from xentcli.cli.gates import check_gates, check_reported, parse_gates
from xentcli.cli.inputs import open_loss_stream, read_options
from xentcli.cli.progress import RowProgress
from xentcli.cli.run import LossRun
from xentcli.cli.sorting import sample_sort_key
from xentcli.cli.streams import Streams
from xentcli.cli.temperature import resolve_temperature
from xentcli.core import LossResult, concat_results, sorted_samples
from xentcli.errors import UsageError
from xentcli.io import check_creatable, read_vector, write_atomic
from xentcli.render import View, loss_csv, loss_json, loss_jsonl
from xentcli.render.records import DEFAULT_HEAD


def run_loss(
    *,
    input: list[str] | None = None,
    labels: str | None = None,
    label_col: str | None = None,
    classes: str | None = None,
    key: str | None = None,
    input_format: InputFormat | None = None,
    delimiter: str | None = None,
    header: bool | None = None,
    fmt: OutputFormat | None = None,
    output: str | None = None,
    probs: bool = False,
    summary: bool = False,
    head: int | None = None,
    precision: int | None = None,
    input_kind: InputKind = InputKind.logits,
    reduction: Reduction = Reduction.mean,
    weight: str | None = None,
    ignore_index: int | None = None,
    label_smoothing: float = 0.0,
    sample_weight: str | None = None,
    sample_weight_col: str | None = None,
    temperature: float | None = None,
    temperature_from: str | None = None,
    renormalize: bool = False,
    clip: float | None = None,
    units: Units = Units.nats,
    nonfinite: Nonfinite = Nonfinite.error,
    empty: Empty | None = None,
    compat: Compat = Compat.xent,
    binary: bool = False,
    multi_label: bool = False,
    pos_weight: str | None = None,
    class_axis: int | None = None,
    compute_dtype: ComputeDtype = ComputeDtype.auto,
    top_k: int | None = None,
    metrics: bool = False,
    bins: int | None = None,
    extra: bool = False,
    per_class: bool = False,
    ci: float | None = None,
    bootstrap: int | None = None,
    seed: int | None = None,
    hist: bool = False,
    plot: str | None = None,
    sort: str | None = None,
    desc: bool = False,
    fail_if: list[str] | None = None,
    jobs: int = 0,
    quiet: bool = False,
    max_errors: int = DEFAULT_MAX_ERRORS,
    no_color: bool = False,
    debug: bool = False,
) -> None:
    """Run ``xent loss`` with these option values (Typer's, after conversion)."""
    del debug  # read by the error guard
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
        from xentcli.cli.batch import Batch, Board, leaderboard  # a plain run needs none

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
