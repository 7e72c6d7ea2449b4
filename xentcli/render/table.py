"""Rich tables for people: the samples and a summary panel that names its units."""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray
from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from xentcli.core import LossResult, Summary
from xentcli.render.records import DEFAULT_PRECISION, View, shown_count


def fmt(x: float, precision: int) -> str:
    """A float with ``precision`` significant digits; ``inf``/``-inf``/``nan`` spelled out."""
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return format(x, f".{precision}g")


def _class(c: int, names: tuple[str, ...] | None) -> str:
    return names[c] if names is not None else str(c)


def _classes(value: NDArray[np.int64], names: tuple[str, ...] | None, n_classes: int) -> str:
    """A class index (or an ignored label such as -100), or the classes that are on."""
    if value.ndim == 1:
        on = [_class(int(j), names) for j in np.flatnonzero(value)]
        return ",".join(on) if on else "-"
    c = int(value)
    return _class(c, names) if 0 <= c < n_classes else str(c)


def samples_table(result: LossResult, view: View, total: int | None = None) -> Table:
    """One row per shown sample; wrong predictions in red, right ones in green. ``total``
    is the number of samples in the whole input (``result`` may hold only the first)."""
    p = view.precision if view.precision is not None else DEFAULT_PRECISION
    shown = shown_count(result, view)
    names = view.class_names
    # The loss column only when it differs from nll (weights, smoothing, ignored, ...).
    show_loss = view.show_ignored or not np.array_equal(
        result.loss[:shown], result.nll[:shown], equal_nan=True
    )
    table = Table(title="Samples", title_justify="left", header_style="bold")
    table.add_column("#", justify="right", style="dim")
    if result.position is not None:
        table.add_column("position", style="dim")
    table.add_column("label")
    table.add_column("pred")
    table.add_column("p(true)", justify="right")
    table.add_column("log p(true)", justify="right")
    table.add_column("nll", justify="right")
    if show_loss:
        table.add_column("loss", justify="right")
    probs = result.probs if view.with_probs else None
    if probs is not None:
        for c in range(probs.shape[1]):
            table.add_column(f"p({_class(c, names)})", justify="right")
    for i in range(shown):
        ignored = bool(result.ignored[i])
        ok = bool(np.array_equal(result.label[i], result.pred[i]))
        cells: list[RenderableType] = [str(int(result.index[i]))]
        if result.position is not None:
            cells.append(" ".join(str(int(v)) for v in result.position[i]))
        cells += [
            _classes(result.label[i], names, result.n_classes),
            Text(
                _classes(result.pred[i], names, result.n_classes),
                style="dim" if ignored else "green" if ok else "red",
            ),
        ]
        # An ignored label that is not a class (-100) has no probability to show.
        blank = ignored and math.isnan(float(result.nll[i]))
        cells += [
            "-" if blank else fmt(float(getattr(result, f)[i]), p)
            for f in ("p_true", "log_p_true", "nll")
        ]
        if show_loss:
            cells.append("ignored" if ignored else fmt(float(result.loss[i]), p))
        if probs is not None:
            cells += [fmt(float(v), p) for v in probs[i]]
        table.add_row(*cells)
    hidden = (total if total is not None else result.n) - shown
    if hidden > 0:
        table.caption = f"{hidden} more sample{'s' if hidden != 1 else ''} not shown (--head N)"
        table.caption_justify = "left"
    return table


_METRIC_ROWS = (
    ("top_k_accuracy", "top-{top_k} accuracy", "true class among the {top_k} highest scores"),
    ("brier", "Brier score", "mean of sum_c (p_c - onehot_c)^2"),
    ("mean_entropy", "mean entropy", "nats; -sum_c p_c log p_c, averaged"),
    ("ece", "ECE", "expected calibration error, {bins} bins"),
    ("mce", "MCE", "largest gap between confidence and accuracy in a bin"),
    ("rmsce", "RMSCE", "root-mean-square calibration error"),
)


def _metric_rows(grid: Table, extra: dict[str, object], p: int) -> None:
    for key, name, meaning in _METRIC_ROWS:
        if key in extra:
            value = extra[key]
            shown = fmt(float(value), p) if isinstance(value, (int, float)) else "nan"
            grid.add_row(name.format(**extra), shown, meaning.format(**extra))


def _opt(v: object) -> str:
    if isinstance(v, list):
        return ",".join(format(x, "g") for x in v)
    return format(v, "g") if isinstance(v, float) else str(v)


def _loss_meaning(summary: Summary, p: int) -> str:
    plain = not (set(summary.options) - {"units", "nonfinite", "empty", "reduction"})
    if summary.reduction == "sum":
        return "sum of the per-sample losses" if not plain else "sum of -log p(true class)"
    if plain:
        return "cross-entropy = mean negative log-likelihood"
    return f"sum of the per-sample losses / {fmt(summary.denominator, p)}"


def summary_panel(summary: Summary, precision: int | None = None) -> Panel:
    """The batch summary, each number with its unit and its meaning."""
    p = precision if precision is not None else DEFAULT_PRECISION
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column(justify="right")
    grid.add_column(style="dim")
    u = summary.units
    counted = summary.n - summary.ignored
    correct = round(summary.accuracy * counted) if counted else 0
    grid.add_row("samples", str(summary.n), f"over {summary.n_classes} classes")
    if summary.ignored:
        grid.add_row("ignored", str(summary.ignored), "excluded by --ignore-index")
    if summary.skipped:
        grid.add_row("skipped", str(summary.skipped), "rows with non-finite input left out")
    grid.add_row("loss", f"{fmt(summary.loss, p)} {u}", _loss_meaning(summary, p))
    grid.add_row("sum nll", f"{fmt(summary.sum_nll, p)} {u}", "sum of -log p(true class)")
    grid.add_row(
        "log-likelihood",
        f"{fmt(summary.log_likelihood, p)} {u}",
        "log of the product of p(true class)",
    )
    plain = not (set(summary.options) - {"nonfinite", "empty"})
    grid.add_row(
        "perplexity", fmt(summary.perplexity, p), "exp(loss)" if plain else "exp(mean nll in nats)"
    )
    grid.add_row(
        "accuracy", fmt(summary.accuracy, p), f"{correct} of {counted} predicted correctly"
    )
    _metric_rows(grid, summary.extra, p)
    changed = {k: v for k, v in summary.options.items() if k not in ("units", "reduction")}
    if changed:
        shown = ", ".join(f"{k.replace('_', '-')}={_opt(v)}" for k, v in changed.items())
        grid.add_row("options", "", shown)
    return Panel(grid, title="Summary", title_align="left", expand=False)


def loss_table(
    result: LossResult, view: View, summary_only: bool = False, summary: Summary | None = None
) -> RenderableType:
    """The samples table (unless ``summary_only``) followed by the summary panel (of
    ``summary``: the whole input's, when ``result`` holds only its first samples)."""
    panel = summary_panel(summary if summary is not None else result.summary, view.precision)
    if summary_only:
        return panel
    total = summary.n if summary is not None else None
    return Group(samples_table(result, view, total), panel)
