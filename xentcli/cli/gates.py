"""``--fail-if 'loss > 0.7'``: conditions on the summary that fail the run, for CI."""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Optional

import typer

from xentcli.errors import GateError, UsageError
from xentcli.io.text import is_number

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
    "top_k_accuracy",
    "brier",
    "mean_entropy",
    "ece",
    "mce",
    "rmsce",
)
_OPS: dict[str, Callable[[float, float], bool]] = {
    "<=": operator.le,
    ">=": operator.ge,
    "<": operator.lt,
    ">": operator.gt,
}
_GATE = re.compile(r"\s*([A-Za-z_]+)\s*(<=|>=|<|>)\s*(\S+)\s*")

FailIfOpt = Annotated[
    Optional[list[str]],
    typer.Option(
        "--fail-if",
        help="Exit 1 (after writing the output) if this condition on the summary holds, "
        "e.g. 'loss > 0.7' or 'accuracy < 0.9'; may be given several times.",
        metavar="'METRIC OP NUMBER'",
    ),
]


@dataclass(frozen=True)
class Gate:
    """One condition: ``metric op threshold``."""

    metric: str
    op: str
    threshold: float

    def __str__(self) -> str:
        return f"{self.metric} {self.op} {self.threshold:g}"


def parse_gates(specs: Sequence[str] | None) -> list[Gate]:
    """Parse ``--fail-if`` values; a malformed one is a usage error (exit 2)."""
    gates = []
    for spec in specs or ():
        m = _GATE.fullmatch(spec)
        if m is None or not is_number(m.group(3)):
            raise UsageError(
                f"--fail-if {spec!r}: expected METRIC OP NUMBER, such as 'loss > 0.7' "
                "(operators: < <= > >=)"
            )
        metric, op, value = m.group(1), m.group(2), float(m.group(3))
        if metric not in METRICS:
            raise UsageError(
                f"--fail-if {spec!r}: no metric {metric!r} (metrics: {', '.join(METRICS)})"
            )
        if math.isnan(value):
            raise UsageError(f"--fail-if {spec!r}: the threshold must be a number, not nan")
        gates.append(Gate(metric, op, value))
    return gates


def check_gates(gates: Sequence[Gate], summary: dict[str, Any]) -> None:
    """Raise :class:`GateError` naming every condition that holds. A metric that is
    undefined (NaN, reported as null) fails its gate: it cannot be shown to pass."""
    failed = []
    for gate in gates:
        if gate.metric not in summary:
            flag = "--top-k K" if gate.metric == "top_k_accuracy" else "--metrics"
            raise UsageError(f"--fail-if {gate}: {gate.metric} is reported only with {flag}")
        value = summary[gate.metric]
        value = math.nan if value is None else float(value)
        if math.isnan(value):
            failed.append(f"{gate.metric} is undefined (null), so {gate} cannot be checked")
        elif _OPS[gate.op](value, gate.threshold):
            failed.append(f"{gate.metric} = {value:.6g}, and {gate} holds")
    if failed:
        raise GateError("--fail-if: " + "; ".join(failed))
