"""``xent calibrate`` for people: before/after metrics, the reliability table, and the
reliability diagram drawn with text (Rich only, no plotting library)."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from xentcli.core.calibration import Calibration, ReliabilityBin
from xentcli.render.records import DEFAULT_PRECISION
from xentcli.render.table import fmt

BIN_PRECISION = 3  # significant digits in the bins table unless --precision says otherwise
BAR_WIDTH = 24
FULL, OVER, UNDER = "█", "░", "▒"


def bin_label(b: ReliabilityBin, bins: int) -> str:
    """``0.60-0.67`` (``[lower, upper)``), or ``1 exactly`` for the last bin; two
    decimals, or as many as the bin width needs."""
    if b.lower == b.upper:
        return "1 exactly"
    d = max(2, len(str(bins)) - 1) if bins > 1 else 2
    return f"{b.lower:.{d}f}-{b.upper:.{d}f}"


def _t(t: float, p: int) -> str:
    return f"T = {fmt(t, p)}"


def metrics_table(cal: Calibration, p: int) -> Table:
    """One row per metric, before (T = 1) and after (the fitted T)."""
    counted = cal.n - cal.ignored
    what = "binary, as logits [0, z]" if cal.task == "binary" else f"{cal.n_classes} classes"
    table = Table(
        title=f"Temperature scaling ({counted} samples, {what})",
        title_justify="left",
        header_style="bold",
    )
    table.add_column("", style="bold")
    table.add_column("before", justify="right")
    table.add_column("after", justify="right")
    table.add_column("", style="dim")
    b, a = cal.before, cal.after
    rows = (
        ("T", 1.0, cal.temperature, "the temperature: softmax(logits / T)"),
        ("NLL", b.nll, a.nll, "nats; what T minimises"),
        ("accuracy", b.accuracy, a.accuracy, "top-1; T never changes it"),
        ("ECE", b.ece, a.ece, f"expected calibration error, {cal.n_bins} bins"),
        ("MCE", b.mce, a.mce, "the largest gap of a bin"),
        ("RMSCE", b.rmsce, a.rmsce, "root-mean-square gap"),
        ("Brier", b.brier, a.brier, "mean of sum_c (p_c - onehot_c)^2"),
    )
    for name, before, after, meaning in rows:
        table.add_row(name, fmt(before, p), fmt(after, p), meaning)
    if cal.ignored:
        table.caption = f"{cal.ignored} samples ignored (--ignore-index)"
        table.caption_justify = "left"
    return table


def _shown(cal: Calibration) -> list[int]:
    """The bins that hold a sample before or after."""
    pairs = zip(cal.before.bins, cal.after.bins, strict=True)
    return [i for i, (b, a) in enumerate(pairs) if b.count or a.count]


def _cells(b: ReliabilityBin, p: int) -> list[str]:
    if not b.count:
        return ["0", "-", "-", "-"]
    return [str(b.count), fmt(b.confidence, p), fmt(b.accuracy, p), fmt(b.gap, p)]


def bins_table(cal: Calibration, p: int) -> Table:
    """Per confidence bin, before and after: samples, mean confidence, accuracy, gap."""
    table = Table(title="Reliability", title_justify="left", header_style="bold")
    table.add_column("confidence")
    for side in ("before", "after"):
        table.add_column(f"{side}\nn", justify="right")
        table.add_column("\nconf", justify="right")
        table.add_column("\nacc", justify="right")
        table.add_column("\ngap", justify="right")
    for i in _shown(cal):
        b, a = cal.before.bins[i], cal.after.bins[i]
        table.add_row(bin_label(b, cal.n_bins), *_cells(b, p), *_cells(a, p))
    table.caption = "gap = conf - acc (above 0: over-confident)"
    table.caption_justify = "left"
    return table


def bar(b: ReliabilityBin, width: int = BAR_WIDTH) -> Text:
    """Accuracy as a bar of ``width`` cells for [0, 1]; the cells between accuracy and
    confidence show the gap: ``░`` over-confident, ``▒`` under-confident."""
    if not b.count:
        return Text("")
    acc = round(b.accuracy * width)
    conf = round(b.confidence * width)
    text = Text(FULL * min(acc, conf), style="green")
    if conf > acc:
        text.append(OVER * (conf - acc), style="red")
    elif acc > conf:
        text.append(UNDER * (acc - conf), style="blue")
    text.append(" " * (width - max(acc, conf)))
    return text


def diagram(cal: Calibration, p: int) -> Table:
    """The reliability diagram as text: one bar per bin, before and after."""
    table = Table(title="Reliability diagram", title_justify="left", header_style="bold", box=None)
    table.add_column("confidence")
    table.add_column(f"before ({_t(1.0, p)})")
    table.add_column(f"after ({_t(cal.temperature, p)})")
    for i in _shown(cal):
        b, a = cal.before.bins[i], cal.after.bins[i]
        table.add_row(bin_label(b, cal.n_bins), bar(b), bar(a))
    table.caption = f"{FULL} accuracy  {OVER} over-confidence  {UNDER} under-confidence"
    table.caption_justify = "left"
    return table


def calibration_table(cal: Calibration, precision: int | None = None) -> RenderableType:
    """The metrics, the reliability table and the diagram, with any notes below."""
    p = precision if precision is not None else DEFAULT_PRECISION
    pb = precision if precision is not None else BIN_PRECISION
    parts: list[RenderableType] = [metrics_table(cal, p), bins_table(cal, pb), diagram(cal, pb)]
    parts += [Text(f"Note: {n}", style="yellow") for n in cal.notes]
    return Group(*parts)
