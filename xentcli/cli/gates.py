"""``--fail-if 'loss > 0.7'``: conditions on the summary that fail the run, for CI."""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from xentcli.errors import GateError, UsageError
from xentcli.io.text import is_number

#: The metrics --top-k and --metrics add (each has an interval with --ci).
_EXTRA = ("top_k_accuracy", "brier", "mean_entropy", "ece", "mce", "rmsce")
#: Summary keys a gate may test (the numbers of the JSON summary).
METRICS = (
    "n",
    "n_classes",
    "loss",
    "denominator",
    "sum_nll",
    "log_likelihood",
    "perplexity",
    "accuracy",
    "ignored",
    "skipped",
    *_EXTRA,
    *(f"ci_{m}_{side}" for m in ("loss", "accuracy", *_EXTRA) for side in ("lo", "hi")),
)
_OPS: dict[str, Callable[[float, float], bool]] = {
    "<=": operator.le,
    ">=": operator.ge,
    "<": operator.lt,
    ">": operator.gt,
}
_GATE = re.compile(r"\s*([A-Za-z_]+)\s*(<=|>=|<|>)\s*(\S+)\s*")


@dataclass(frozen=True)
class Gate:
    """One condition: ``metric op threshold``."""

    metric: str
    op: str
    threshold: float

    def __str__(self) -> str:
        return f"{self.metric} {self.op} {self.threshold:g}"


def parse_gates(specs: Sequence[str] | None, metrics: Sequence[str] = METRICS) -> list[Gate]:
    """Parse ``--fail-if`` values (``metrics``: the names a command's summary offers); a
    malformed one is a usage error (exit 2)."""
    gates = []
    for spec in specs or ():
        m = _GATE.fullmatch(spec)
        if m is None or not is_number(m.group(3)):
            raise UsageError(
                f"--fail-if {spec!r}: expected METRIC OP NUMBER, such as 'loss > 0.7' "
                "(operators: < <= > >=)"
            )
        metric, op, value = m.group(1), m.group(2), float(m.group(3))
        if metric not in metrics:
            raise UsageError(
                f"--fail-if {spec!r}: no metric {metric!r} (metrics: {', '.join(metrics)})"
            )
        if math.isnan(value):
            raise UsageError(f"--fail-if {spec!r}: the threshold must be a number, not nan")
        gates.append(Gate(metric, op, value))
    return gates


def _needs(metric: str) -> str:
    """The option that puts ``metric`` in the summary."""
    return "--top-k K" if metric == "top_k_accuracy" else "--metrics"


def check_reported(gates: Sequence[Gate], top_k: bool, metrics: bool, ci: bool) -> None:
    """Before any input is read: every gated metric is one the options will report."""
    for gate in gates:
        base = gate.metric
        missing = []
        if base.startswith("ci_"):
            base = base[3:].rsplit("_", 1)[0]
            if not ci:
                missing.append("--ci LEVEL")
        if (base == "top_k_accuracy" and not top_k) or (base in _EXTRA[1:] and not metrics):
            missing.append(_needs(base))
        if missing:
            raise UsageError(
                f"--fail-if {gate}: {gate.metric} is reported only with {' and '.join(missing)}"
            )


def flat_summary(summary: dict[str, Any]) -> dict[str, Any]:
    """The summary's numbers, with each interval bound of ``ci`` as ``ci_<metric>_lo`` /
    ``ci_<metric>_hi`` (the names gates, leaderboards and CSV columns use)."""
    out = dict(summary)
    ci = out.get("ci")
    if isinstance(ci, dict):
        for key, bounds in ci.items():
            if isinstance(bounds, list):
                out[f"ci_{key}_lo"], out[f"ci_{key}_hi"] = bounds
    return out


def check_gates(gates: Sequence[Gate], summary: dict[str, Any]) -> None:
    """Raise :class:`GateError` naming every condition that holds. A metric that is
    undefined (NaN, reported as null) fails its gate: it cannot be shown to pass."""
    failed = []
    summary = flat_summary(summary)
    for gate in gates:
        if gate.metric not in summary:
            raise UsageError(f"--fail-if {gate}: {gate.metric} is not in this summary")
        value = summary[gate.metric]
        value = math.nan if value is None else float(value)
        if math.isnan(value):
            failed.append(f"{gate.metric} is undefined (null), so {gate} cannot be checked")
        elif _OPS[gate.op](value, gate.threshold):
            failed.append(f"{gate.metric} = {value:.6g}, and {gate} holds")
    if failed:
        raise GateError("--fail-if: " + "; ".join(failed))
