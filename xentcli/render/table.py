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
from xentcli.core.histogram import LIMIT
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
    extra = view.extra and result.rank is not None
    if extra:
        table.add_column("rank", justify="right")
        table.add_column("margin", justify="right")
        table.add_column("entropy", justify="right")
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
        if extra:
            assert result.rank is not None
            assert result.margin is not None
            assert result.entropy is not None
            rank = float(result.rank[i])
            cells.append("-" if math.isnan(rank) else str(int(rank)))
            cells.append("-" if blank else fmt(float(result.margin[i]), p))
            cells.append(fmt(float(result.entropy[i]), p))
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
    ("mean_entropy", "mean entropy", "{units}; -sum_c p_c log p_c, averaged"),
    ("ece", "ECE", "expected calibration error, {bins} bins"),
    ("mce", "MCE", "largest gap between confidence and accuracy in a bin"),
    ("rmsce", "RMSCE", "root-mean-square calibration error"),
)


def _metric_rows(grid: Table, summary: Summary, p: int) -> None:
    extra = summary.extra
    for key, name, meaning in _METRIC_ROWS:
        if key in extra:
            value = extra[key]
            shown = fmt(float(value), p) if isinstance(value, (int, float)) else "nan"
            grid.add_row(name.format(**extra), shown, meaning.format(units=summary.units, **extra))


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
    _metric_rows(grid, summary, p)
    ci = summary.extra.get("ci")
    if ci is not None:
        level = f"{100 * ci['level']:g}%"
        names = {"top_k_accuracy": f"top-{summary.extra.get('top_k')} accuracy"}
        names.update({k: n for k, n, _ in _METRIC_ROWS if k != "top_k_accuracy"})
        for key in [k for k, v in ci.items() if isinstance(v, list)]:
            lo, hi = ci[key]
            unit = f" {u}" if key == "loss" else ""
            grid.add_row(
                f"{names.get(key, key)} {level} CI",
                f"{fmt(lo, p)} to {fmt(hi, p)}{unit}",
                f"{ci['replicates']} Poisson bootstrap replicates, seed {ci['seed']}"
                if key == "loss"
                else "",
            )
    changed = {k: v for k, v in summary.options.items() if k not in ("units", "reduction")}
    if changed:
        shown = ", ".join(f"{k.replace('_', '-')}={_opt(v)}" for k, v in changed.items())
        grid.add_row("options", "", shown)
    return Panel(grid, title="Summary", title_align="left", expand=False)


def per_class_table(summary: Summary, view: View) -> Table:
    """One row per class: support, mean NLL, accuracy, mean confidence, share of the loss."""
    p = view.precision if view.precision is not None else DEFAULT_PRECISION
    names = view.class_names
    table = Table(title="Per class", title_justify="left", header_style="bold")
    table.add_column("class")
    for col in ("support", f"mean nll ({summary.units})", "accuracy", "confidence", "loss share"):
        table.add_column(col, justify="right")
    for rec in summary.extra["per_class"]:
        c = rec["class"]
        name = names[c] if names is not None and c < len(names) else str(c)
        table.add_row(
            name,
            str(rec["support"]),
            *(
                "-" if rec["support"] == 0 and k != "loss_share" else fmt(rec[k], p)
                for k in ("mean_nll", "accuracy", "confidence", "loss_share")
            ),
        )
    table.caption = "confidence: mean top-1 probability; loss share: part of the summed loss"
    table.caption_justify = "left"
    return table


#: Width of the longest bar of a histogram, in characters.
BAR_WIDTH = 40


def histogram_chart(summary: Summary, view: View) -> Table:
    """The ``nll_histogram`` as horizontal bars, one row per bin (Rich only)."""
    hist = summary.extra["nll_histogram"]
    u = summary.units
    edges, counts = hist["edges"], hist["counts"]
    rows = [(f"{a:g} to {b:g}", c) for a, b, c in zip(edges, edges[1:], counts, strict=False)]
    if hist["above"]:
        rows.append((f"{LIMIT:g} and more", hist["above"]))
    if hist["infinite"]:
        rows.append(("inf", hist["infinite"]))
    top = max((c for _, c in rows), default=0)
    table = Table(title=f"Per-sample nll ({u})", title_justify="left", box=None, show_header=False)
    table.add_column(justify="right", style="dim")
    table.add_column()
    table.add_column(justify="right")
    for label, c in rows:
        width = round(BAR_WIDTH * c / top) if top else 0
        bar = "\u2588" * width if width or not c else "\u258f"
        table.add_row(label, Text(bar, style="cyan"), str(c))
    return table


def loss_table(
    result: LossResult, view: View, summary_only: bool = False, summary: Summary | None = None
) -> RenderableType:
    """The samples table (unless ``summary_only``) followed by the summary panel (of
    ``summary``: the whole input's, when ``result`` holds only its first samples) and,
    when asked for, the per-class table and the histogram of the per-sample nll."""
    whole = summary if summary is not None else result.summary
    parts: list[RenderableType] = []
    if not summary_only:
        total = summary.n if summary is not None else None
        parts.append(samples_table(result, view, total))
    parts.append(summary_panel(whole, view.precision))
    if "per_class" in whole.extra:
        parts.append(per_class_table(whole, view))
    if "nll_histogram" in whole.extra:
        parts.append(histogram_chart(whole, view))
    return parts[0] if len(parts) == 1 else Group(*parts)
