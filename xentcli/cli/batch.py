"""``xent loss A.npy B.npy C.npy -l labels``: one summary per input, a leaderboard.

Each input is evaluated against the same labels by the same block loop as a single
``xent loss``; inputs run in parallel worker processes (``--jobs``). Output waits for all
of them: an error in any input fails the run before anything is written.
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from xentcli.cli.choices import OutputFormat
from xentcli.cli.emit import emit_chunks, emit_table
from xentcli.cli.gates import Gate, check_gates, flat_summary
from xentcli.cli.run import LossRun
from xentcli.cli.sorting import metric_sort_key
from xentcli.cli.streams import Streams
from xentcli.core import LossOptions, Summary
from xentcli.errors import GateError, UsageError, XentError
from xentcli.io import ReadOptions, open_loss_inputs


@dataclass(frozen=True)
class Entry:
    """One input's outcome: its summary and the warnings it gave."""

    input: str
    summary: Summary
    warnings: tuple[str, ...]
    class_names: tuple[str, ...] | None = None


@dataclass(frozen=True)
class _Failure:
    """An expected error in a worker, carried back as its class and text (a XentError
    with keyword arguments does not survive pickling as itself)."""

    kind: type[XentError]
    text: str


def evaluate(
    path: str,
    labels: str | None,
    read: ReadOptions,
    options: LossOptions,
    sample_weight: NDArray[np.float64] | None,
    max_errors: int,
) -> Entry | _Failure:
    """Run one input to its summary (in a worker process or in this one)."""
    err = io.StringIO()
    quiet = Streams(
        stdin=None,
        stdout=io.StringIO(),
        stderr=err,
        stdin_isatty=False,
        stdout_isatty=False,
        stderr_isatty=False,
        no_color=True,
    )
    try:
        with open_loss_inputs(path, labels, read, None) as stream:
            run = LossRun(stream, options, sample_weight)
            for _ in run.results():
                pass
            summary = run.summary()
            names = stream.class_names
        run.warn(quiet)
    except XentError as exc:
        if hasattr(exc, "max_also"):
            exc.max_also = max_errors - 1
        text = str(exc)
        # An error about the labels file (shared by every input) must say which input.
        if not text.startswith(path):
            text += f" (evaluating {path})"
        return _Failure(type(exc), text)
    warnings = tuple(line.removeprefix("Warning: ") for line in err.getvalue().splitlines() if line)
    return Entry(path, summary, warnings, names)


#: With ``--jobs 0`` (the default), inputs smaller than this in total run in-process.
AUTO_PARALLEL_BYTES = 32 * 2**20


def _total_bytes(paths: Sequence[str]) -> int:
    """Total size of the input files (a missing one counts 0: its worker reports it)."""
    return sum(os.path.getsize(p) for p in paths if os.path.isfile(p))


def check_batch(inputs: Sequence[str], labels: str | None) -> None:
    """Several inputs are read from files, side by side; stdin can hold only one."""
    if "-" in inputs:
        raise UsageError(
            "with several inputs, each must be a file: stdin (-) can hold only one input"
        )
    if labels == "-":
        raise UsageError("with several inputs, read the labels from a file, not stdin")
    twice = sorted({p for p in inputs if inputs.count(p) > 1})
    if twice:
        raise UsageError(f"input {twice[0]} is given more than once")


@dataclass(frozen=True)
class Batch:
    """What to evaluate: the inputs, and what each is read and computed with."""

    inputs: Sequence[str]
    labels: str | None
    read: ReadOptions
    options: LossOptions
    sample_weight: NDArray[np.float64] | None
    jobs: int
    max_errors: int


@dataclass(frozen=True)
class Board:
    """How to show the leaderboard."""

    format: OutputFormat
    output: str | None
    precision: int | None
    sort: str | None
    desc: bool
    nested: bool  # --per-class or --hist: no place for them in the table


def leaderboard(
    streams: Streams, batch: Batch, board: Board, gates: Sequence[Gate], per_sample: list[str]
) -> None:
    """``xent loss A B C ...``: evaluate every input, write one summary per input, then
    check the gates of each (exit 1 naming the inputs that failed)."""
    if per_sample:
        raise UsageError(
            f"{', '.join(per_sample)}: several inputs give one summary each, no "
            "per-sample output; run one input at a time for it"
        )
    if board.format is OutputFormat.table and board.nested:
        raise UsageError(
            "with several inputs the table is a leaderboard: for --per-class or --hist "
            "use -f json (a summary per input) or run one input at a time"
        )
    check_batch(batch.inputs, batch.labels)
    order = metric_sort_key(board.sort)
    entries = run_batch(batch, streams)
    if order is not None:
        entries = sort_entries(entries, order, board.desc)
    _emit(streams, board, entries, order)
    failed = []
    for entry in entries:
        try:
            check_gates(gates, entry.summary.as_dict())
        except GateError as exc:
            failed.append(f"{entry.input}: {exc.message.removeprefix('--fail-if: ')}")
    if failed:
        raise GateError("--fail-if: " + "; ".join(failed))


def _emit(streams: Streams, board: Board, entries: list[Entry], order: str | None) -> None:
    """One summary per input, in the chosen format."""
    from xentcli.render import leaderboard as render

    runs = [(e.input, e.summary, e.class_names) for e in entries]
    fmt, output, precision = board.format, board.output, board.precision
    if fmt is OutputFormat.table:
        emit_table(streams, output, render.leaderboard_table(runs, precision, order))
    elif fmt is OutputFormat.json:
        emit_chunks(streams, output, [render.leaderboard_json(runs, precision)])
    elif fmt is OutputFormat.jsonl:
        emit_chunks(streams, output, [render.leaderboard_jsonl(runs, precision)])
    else:
        delim = "," if fmt is OutputFormat.csv else "\t"
        emit_chunks(streams, output, [render.leaderboard_csv(runs, precision, delim)])


def run_batch(batch: Batch, streams: Streams) -> list[Entry]:
    """Every input's entry, in the order given; the first failure (in that order) is
    raised once all are done, so nothing is written for a failed batch."""
    inputs, jobs = batch.inputs, batch.jobs
    workers = min(len(inputs), jobs or os.cpu_count() or 1)
    if jobs == 0 and _total_bytes(inputs) < AUTO_PARALLEL_BYTES:
        workers = 1  # starting a worker (~0.5 s) would cost more than it saves
    args = [
        (p, batch.labels, batch.read, batch.options, batch.sample_weight, batch.max_errors)
        for p in inputs
    ]
    if workers <= 1:
        outcomes = [evaluate(*a) for a in args]
    else:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        # spawn: a clean interpreter per worker (fork would copy this process's threads).
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            outcomes = list(pool.map(evaluate, *zip(*args, strict=True)))
    for outcome in outcomes:
        if isinstance(outcome, _Failure):
            raise outcome.kind(outcome.text)
    entries = [o for o in outcomes if isinstance(o, Entry)]
    for entry in entries:
        for warning in entry.warnings:
            streams.warn(f"{entry.input}: {warning}")
    return entries


def sort_entries(entries: list[Entry], key: str, desc: bool) -> list[Entry]:
    """Entries ordered by the summary number ``key`` (undefined values last, after
    infinite ones; ties keep the order given)."""

    def value(entry: Entry) -> tuple[bool, float]:
        v = flat_summary(entry.summary.as_dict()).get(key)
        if not isinstance(v, (int, float)) or isinstance(v, bool) or math.isnan(v):
            return (True, 0.0)  # undefined: after every number, infinities included
        return (False, -float(v) if desc else float(v))

    return sorted(entries, key=value)
