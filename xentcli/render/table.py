"""Rich tables for people: the samples and a summary panel that names its units."""

from __future__ import annotations

import math

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from xentcli.core import LossResult, Summary
from xentcli.render.records import View, shown_count

DEFAULT_HEAD = 20
DEFAULT_PRECISION = 6


def fmt(x: float, precision: int) -> str:
    """A float with ``precision`` significant digits; ``inf``/``-inf``/``nan`` spelled out."""
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return format(x, f".{precision}g")


def _class(c: int, names: tuple[str, ...] | None) -> str:
    return names[c] if names is not None else str(c)


def samples_table(result: LossResult, view: View) -> Table:
    """One row per shown sample; wrong predictions in red, right ones in green."""
    p = view.precision if view.precision is not None else DEFAULT_PRECISION
    shown = shown_count(result, view)
    table = Table(title="Samples", title_justify="left", header_style="bold")
    table.add_column("#", justify="right", style="dim")
    table.add_column("label")
    table.add_column("pred")
    table.add_column("p(true)", justify="right")
    table.add_column("log p(true)", justify="right")
    table.add_column("nll", justify="right")
    names = view.class_names
    if view.with_probs:
        for c in range(result.n_classes):
            table.add_column(f"p({_class(c, names)})", justify="right")
    probs = result.probs
    for i in range(shown):
        label, pred = int(result.label[i]), int(result.pred[i])
        ok = label == pred
        cells: list[RenderableType] = [
            str(int(result.index[i])),
            _class(label, names),
            Text(_class(pred, names), style="green" if ok else "red"),
            fmt(float(result.p_true[i]), p),
            fmt(float(result.log_p_true[i]), p),
            fmt(float(result.nll[i]), p),
        ]
        if view.with_probs and probs is not None:
            cells += [fmt(float(v), p) for v in probs[i]]
        table.add_row(*cells)
    hidden = result.n - shown
    if hidden > 0:
        table.caption = f"{hidden} more sample{'s' if hidden != 1 else ''} not shown (--head N)"
        table.caption_justify = "left"
    return table


def summary_panel(summary: Summary, precision: int | None = None) -> Panel:
    """The batch summary, each number with its unit and its meaning."""
    p = precision if precision is not None else DEFAULT_PRECISION
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column(justify="right")
    grid.add_column(style="dim")
    u = summary.units
    correct = round(summary.accuracy * summary.n) if summary.n else 0
    grid.add_row("samples", str(summary.n), f"over {summary.n_classes} classes")
    grid.add_row(
        "loss", f"{fmt(summary.loss, p)} {u}", "cross-entropy = mean negative log-likelihood"
    )
    grid.add_row("sum nll", f"{fmt(summary.sum_nll, p)} {u}", "sum of -log p(true class)")
    grid.add_row(
        "log-likelihood",
        f"{fmt(summary.log_likelihood, p)} {u}",
        "log of the product of p(true class)",
    )
    grid.add_row("perplexity", fmt(summary.perplexity, p), "exp(loss)")
    grid.add_row(
        "accuracy", fmt(summary.accuracy, p), f"{correct} of {summary.n} predicted correctly"
    )
    return Panel(grid, title="Summary", title_align="left", expand=False)


def loss_table(result: LossResult, view: View, summary_only: bool = False) -> RenderableType:
    """The samples table (unless ``summary_only``) followed by the summary panel."""
    panel = summary_panel(result.summary, view.precision)
    if summary_only:
        return panel
    return Group(samples_table(result, view), panel)
