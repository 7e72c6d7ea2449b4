"""Several inputs' summaries side by side: JSON, JSON Lines, CSV/TSV and a Rich table."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import TYPE_CHECKING

from xentcli.core import Summary
from xentcli.render.machine import dumps_strict, flat_summary_row
from xentcli.render.records import DEFAULT_PRECISION, summary_record

if TYPE_CHECKING:
    from rich.table import Table

SCHEMA_LEADERBOARD = "xent.leaderboard/1"

#: (input, its summary, its class names).
Runs = Sequence[tuple[str, Summary, Sequence[str] | None]]


def leaderboard_json(runs: Runs, precision: int | None = None) -> str:
    """``{"schema": "xent.leaderboard/1", "runs": [{"input": ..., "summary": {...}}]}``."""
    parts = [
        "  " + dumps_strict({"input": name, "summary": summary_record(s, precision, names)})
        for name, s, names in runs
    ]
    return (
        '{"schema": ' + dumps_strict(SCHEMA_LEADERBOARD) + ', "runs": [\n' + ",\n".join(parts)
    ) + "\n]}\n"


def leaderboard_jsonl(runs: Runs, precision: int | None = None) -> str:
    """One ``{"type": "summary", "input": ..., ...}`` line per input."""
    return "".join(
        dumps_strict({"type": "summary", "input": name, **summary_record(s, precision, names)})
        + "\n"
        for name, s, names in runs
    )


def leaderboard_csv(runs: Runs, precision: int | None = None, delimiter: str = ",") -> str:
    """A header, then one row per input: ``input`` and the columns of ``-s -f csv``
    (the union of every input's columns, in order of first appearance)."""
    rows = [
        {"input": name, **flat_summary_row(summary_record(s, precision, names))}
        for name, s, names in runs
    ]
    header: dict[str, None] = {}
    for row in rows:
        header.update(dict.fromkeys(k for k in row if k != "nonfinite"))
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        flags = row.get("nonfinite", {})
        writer.writerow([flags.get(k, "" if row.get(k) is None else row.get(k)) for k in header])
    return buf.getvalue()


#: Optional columns of the table: summary key, heading.
_COLUMNS = (
    ("top_k_accuracy", "top-{top_k} acc"),
    ("brier", "Brier"),
    ("ece", "ECE"),
    ("mean_entropy", "entropy"),
)


def leaderboard_table(runs: Runs, precision: int | None = None, sort: str | None = None) -> Table:
    """One row per input: samples, loss (with its interval when there is one), accuracy,
    perplexity and the extra metrics asked for."""
    from rich.table import Table

    from xentcli.render.table import fmt

    p = precision if precision is not None else DEFAULT_PRECISION
    first = runs[0][1]
    title = "Inputs" + (f", by {sort}" if sort else "")
    table = Table(title=title, title_justify="left", header_style="bold")
    table.add_column("#", justify="right", style="dim")
    table.add_column("input")
    table.add_column("samples", justify="right")
    table.add_column(f"loss ({first.units})", justify="right")
    ci = "ci" in first.extra
    if ci:
        table.add_column(f"{100 * first.extra['ci']['level']:g}% CI", justify="right")
    table.add_column("accuracy", justify="right")
    table.add_column("perplexity", justify="right")
    extra = [(k, h.format(**first.extra)) for k, h in _COLUMNS if k in first.extra]
    for _, heading in extra:
        table.add_column(heading, justify="right")
    for i, (name, s, _) in enumerate(runs, start=1):
        cells = [str(i), name, str(s.n), fmt(s.loss, p)]
        if ci:
            lo, hi = s.extra["ci"]["loss"]
            cells.append(f"{fmt(lo, p)} to {fmt(hi, p)}")
        cells += [fmt(s.accuracy, p), fmt(s.perplexity, p)]
        cells += [fmt(float(s.extra[k]), p) for k, _ in extra]
        table.add_row(*cells)
    return table
