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
from typing import Annotated

import numpy as np
import typer
from numpy.typing import NDArray

from xentcli.cli.gates import flat_summary
from xentcli.cli.options import OUTPUT_PANEL
from xentcli.cli.run import LossRun
from xentcli.cli.streams import Streams
from xentcli.core import LossOptions, Summary
from xentcli.errors import UsageError, XentError
from xentcli.io import ReadOptions, open_loss_inputs

JobsOpt = Annotated[
    int,
    typer.Option(
        "--jobs",
        "-j",
        help="With several inputs: how many to evaluate at once, in worker processes "
        "(default 0: one per CPU core when the inputs total 32 MiB or more; 1: one "
        "after another in this process).",
        min=0,
        metavar="N",
        rich_help_panel=OUTPUT_PANEL,
    ),
]


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


def run_batch(
    inputs: Sequence[str],
    labels: str | None,
    read: ReadOptions,
    options: LossOptions,
    sample_weight: NDArray[np.float64] | None,
    jobs: int,
    max_errors: int,
    streams: Streams,
) -> list[Entry]:
    """Every input's entry, in the order given; the first failure (in that order) is
    raised once all are done, so nothing is written for a failed batch."""
    workers = min(len(inputs), jobs or os.cpu_count() or 1)
    if jobs == 0 and _total_bytes(inputs) < AUTO_PARALLEL_BYTES:
        workers = 1  # starting a worker (~0.5 s) would cost more than it saves
    args = [(p, labels, read, options, sample_weight, max_errors) for p in inputs]
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
