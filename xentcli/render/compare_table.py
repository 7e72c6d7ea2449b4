"""``xent compare`` for people: a summary panel, a one-line verdict, the largest
differences."""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray
from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from xentcli.core.compare import CompareSummary, Paired
from xentcli.render.records import DEFAULT_PRECISION, View
from xentcli.render.table import fmt

#: Significant digits of the verdict line unless --precision says otherwise.
VERDICT_PRECISION = 3


def _signed(x: float, p: int) -> str:
    return ("+" if x > 0 else "") + fmt(x, p)


def _interval(ci: tuple[float, float], level: float, p: int) -> str:
    if math.isnan(ci[0]):
        return "no interval"
    return f"{level * 100:g}% CI {fmt(ci[0], p)} to {fmt(ci[1], p)}"


def verdict(s: CompareSummary, precision: int | None = None) -> str:
    """One plain-English line: which model is better, by the interval of delta loss."""
    p = precision if precision is not None else VERDICT_PRECISION
    lo, hi = s.delta_loss_ci
    if math.isnan(s.delta_loss):
        return "No verdict: delta loss is undefined"
    detail = f"delta loss {_signed(s.delta_loss, p)} ({_interval(s.delta_loss_ci, s.ci, p)})"
    if not math.isnan(s.p_value):
        detail += f", p = {fmt(s.p_value, p)}"
    if hi < 0:
        head = "B is better than A"
    elif lo > 0:
        head = "A is better than B"
    elif math.isnan(lo):
        head = "No verdict without an interval"
    else:
        head = "No clear difference between A and B"
    return f"{head}: {detail}"


def compare_panel(s: CompareSummary, names: tuple[str, str], precision: int | None) -> Panel:
    """The comparison's numbers, each with its meaning."""
    p = precision if precision is not None else DEFAULT_PRECISION
    u = s.units
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column(justify="right")
    grid.add_column(style="dim")
    counted = s.n - s.ignored
    grid.add_row("samples", str(s.n), f"over {s.n_classes} classes, the same for A and B")
    if s.ignored:
        grid.add_row("ignored", str(s.ignored), "excluded by --ignore-index")
    grid.add_row("loss A", f"{fmt(s.loss_a, p)} {u}", names[0])
    grid.add_row("loss B", f"{fmt(s.loss_b, p)} {u}", names[1])
    grid.add_row(
        "delta loss",
        f"{_signed(s.delta_loss, p)} {u}",
        f"B - A; {_interval(s.delta_loss_ci, s.ci, p)}",
    )
    grid.add_row("accuracy A", fmt(s.accuracy_a, p), "")
    grid.add_row("accuracy B", fmt(s.accuracy_b, p), "")
    grid.add_row(
        "delta accuracy",
        _signed(s.delta_accuracy, p),
        f"B - A; {_interval(s.delta_accuracy_ci, s.ci, p)}",
    )
    grid.add_row("p-value", fmt(s.p_value, p), "sign-flip test of delta loss = 0")
    grid.add_row(
        "per sample",
        f"B {s.b_better}, A {s.a_better}",
        f"lower nll; {s.ties} tied, of {counted}",
    )
    grid.add_row(
        "resampling", str(s.replicates), f"paired Poisson bootstrap replicates, seed {s.seed}"
    )
    return Panel(grid, title="Compare", title_align="left", expand=False)


def differences_table(pairs: Paired, view: View, n_classes: int, total: int) -> Table:
    """The samples of ``pairs`` (the largest differences); B's gains in green."""
    p = view.precision if view.precision is not None else DEFAULT_PRECISION
    names = view.class_names
    table = Table(title="Largest differences", title_justify="left", header_style="bold")
    table.add_column("#", justify="right", style="dim")
    if pairs.position is not None:
        table.add_column("position", style="dim")
    for col in ("label", "pred A", "pred B"):
        table.add_column(col)
    for col in ("nll A", "nll B", "delta"):
        table.add_column(col, justify="right")

    def cls(v: NDArray[np.int64]) -> str:
        if v.ndim == 1:
            on = [names[j] if names else str(j) for j in np.flatnonzero(v)]
            return ",".join(on) if on else "-"
        c = int(v)
        return names[c] if names is not None and 0 <= c < n_classes else str(c)

    delta = pairs.delta
    for i in range(pairs.n):
        cells: list[RenderableType] = [str(int(pairs.index[i]))]
        if pairs.position is not None:
            cells.append(" ".join(str(int(v)) for v in pairs.position[i]))
        cells += [cls(pairs.label[i]), cls(pairs.pred_a[i]), cls(pairs.pred_b[i])]
        if pairs.ignored[i]:
            cells += ["-", "-", "ignored"]
        else:
            d = float(delta[i])
            style = "green" if d < 0 else "red" if d > 0 else ""
            cells += [fmt(float(pairs.nll_a[i]), p), fmt(float(pairs.nll_b[i]), p)]
            cells.append(Text(_signed(d, p), style=style))
        table.add_row(*cells)
    hidden = total - pairs.n
    if hidden > 0:
        table.caption = f"{hidden} more sample{'s' if hidden != 1 else ''} not shown (--head N)"
        table.caption_justify = "left"
    return table


def compare_table(
    summary: CompareSummary,
    pairs: Paired | None,
    view: View,
    names: tuple[str, str],
) -> RenderableType:
    """The largest differences (unless ``pairs`` is None), the panel and the verdict."""
    parts: list[RenderableType] = []
    if pairs is not None:
        parts.append(differences_table(pairs, view, summary.n_classes, summary.n))
    parts.append(compare_panel(summary, names, view.precision))
    parts.append(Text(verdict(summary, view.precision)))
    return Group(*parts)
