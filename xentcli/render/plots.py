"""Images for ``--plot FILE.png``, drawn with matplotlib (the optional ``xentcli[plot]``).

matplotlib is imported only inside these functions, so nothing else pays for it, and it
draws on its Agg canvas directly (no pyplot: no global state, no GUI backend, no
display needed). Each ``*_png`` function returns the PNG's bytes; the caller writes them
(atomically).
"""

from __future__ import annotations

import io
import itertools
import math
from typing import TYPE_CHECKING, Any

from xentcli.core.histogram import LIMIT
from xentcli.errors import UsageError

if TYPE_CHECKING:
    from xentcli.core import Summary
    from xentcli.core.calibration import Calibration, CalibrationMetrics

INSTALL_HINT = "--plot needs matplotlib: pip install 'xentcli[plot]'"
DPI = 100


def require_matplotlib() -> Any:
    """The ``matplotlib`` module, or a :class:`UsageError` saying how to install it."""
    try:
        import matplotlib
        from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: F401
        from matplotlib.figure import Figure  # noqa: F401
    except ImportError:
        raise UsageError(INSTALL_HINT) from None
    return matplotlib


def new_figure(width: float, height: float, ncols: int = 1) -> tuple[Any, Any]:
    """A figure of ``width`` x ``height`` inches on an Agg canvas, and its ``ncols`` axes
    (one Axes, or an array of them)."""
    require_matplotlib()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, ncols, squeeze=True)
    return fig, axes


def figure_png(fig: Any) -> bytes:
    """The figure as PNG bytes."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight")
    return buf.getvalue()


def _reliability_axes(ax: Any, m: CalibrationMetrics, n_bins: int, label: str) -> None:
    width = 1.0 / n_bins
    lefts, accs, gaps, widths = [], [], [], []
    for b in m.bins:
        if not b.count:
            continue
        # The bin of a confidence of exactly 1 has no width: drawn as a narrow bar at 1.
        w = width if b.upper > b.lower else width / 4
        lefts.append(b.lower if b.upper > b.lower else 1.0 - w)
        widths.append(w)
        accs.append(b.accuracy)
        gaps.append(b.confidence - b.accuracy)
    ax.bar(
        lefts,
        accs,
        width=widths,
        align="edge",
        color="#4c72b0",
        edgecolor="black",
        linewidth=0.5,
        label="accuracy",
    )
    ax.bar(
        lefts,
        gaps,
        bottom=accs,
        width=widths,
        align="edge",
        facecolor="none",
        edgecolor="#c44e52",
        hatch="//",
        linewidth=0.5,
        label="gap (confidence - accuracy)",
    )
    ax.plot([0, 1], [0, 1], linestyle="--", color="gray", linewidth=1, label="perfect calibration")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_aspect("equal")
    ax.set_xlabel("confidence (top-1 probability)")
    ax.set_ylabel("accuracy")
    ax.set_title(f"{label}\nECE {m.ece:.4f}, NLL {m.nll:.4f}", fontsize=10)
    ax.legend(loc="upper left", fontsize=8)


def reliability_png(cal: Calibration) -> bytes:
    """The reliability diagrams before (T = 1) and after temperature scaling, side by
    side, as PNG bytes."""
    fig, (left, right) = new_figure(10.0, 5.2, ncols=2)
    _reliability_axes(left, cal.before, cal.n_bins, "before (T = 1)")
    _reliability_axes(right, cal.after, cal.n_bins, f"after (T = {cal.temperature:.4g})")
    fig.suptitle(f"Reliability diagram, {cal.n - cal.ignored} samples, {cal.n_bins} bins")
    return figure_png(fig)


def histogram_png(summary: Summary, title: str) -> bytes:
    """The summary's ``nll_histogram`` as bars (infinite and >= 50 values noted), PNG."""
    hist = summary.extra["nll_histogram"]
    edges, counts = hist["edges"], hist["counts"]
    fig, ax = new_figure(7.0, 4.2)
    widths = [b - a for a, b in itertools.pairwise(edges)]
    ax.bar(
        edges[:-1],
        counts,
        width=widths,
        align="edge",
        color="#4c72b0",
        edgecolor="black",
        linewidth=0.5,
    )
    counted = summary.n - summary.ignored
    if counted and math.isfinite(summary.sum_nll):
        mean = summary.sum_nll / counted  # the mean of what is drawn, whatever the options
        ax.axvline(mean, color="#c44e52", linestyle="--", linewidth=1, label="mean nll")
        ax.legend(fontsize=8)
    ax.set_xlabel(f"per-sample nll ({summary.units})")
    ax.set_ylabel("samples")
    tail = [
        f"{n} {what}"
        for n, what in ((hist["above"], f">= {LIMIT:g}"), (hist["infinite"], "infinite"))
        if n
    ]
    ax.set_title(f"{title}: {counted} samples" + (f" ({', '.join(tail)})" if tail else ""))
    return figure_png(fig)
