"""``xent explain``: the walk from logits to loss, as Rich text or as JSON steps.

Both forms come from :func:`explain_steps`, so the words and numbers a person reads are
exactly the data a script gets.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from xentcli.core.explain import Explanation
from xentcli.render.records import nonfinite_name, rounder
from xentcli.render.table import fmt

SCHEMA_EXPLAIN = "xent.explain/1"
MATRIX_PRECISION = 3  # significant digits in the logits/probs/gradient matrices
STEP_NAMES = (
    "logits",
    "softmax",
    "true_class_probability",
    "likelihood",
    "log_likelihood",
    "negative_log_likelihood",
    "loss",
    "gradient",
)


@dataclass(frozen=True)
class Step:
    """One step: its number, name, title, explanation and numbers."""

    number: int
    name: str
    title: str
    text: str
    data: dict[str, Any]


def _cls(c: int, names: Sequence[str] | None) -> str:
    return names[c] if names is not None else str(c)


def explain_steps(
    e: Explanation, names: Sequence[str] | None, head: int, precision: int = 6
) -> list[Step]:
    """The eight steps, with per-sample numbers for the first ``head`` samples and totals
    over all of them. ``precision`` only affects the numbers quoted in the sentences."""
    k = min(head, e.n)

    def f(x: Any) -> str:
        return fmt(float(x), precision)

    rows = range(k)
    picks = " × ".join(f"p[{i},{_cls(int(e.labels[i]), names)}]" for i in rows)
    if k < e.n:
        picks += f" × … ({e.n} factors)"
    logs = " + ".join(f"({f(-e.nll[i])})" for i in rows) + (" + …" if k < e.n else "")
    u = e.underflow
    if u.batch_size is None:
        underflow = (
            "Here every true class has probability 1, so the product never shrinks."
            if u.repeats is None and np.all(e.p_true == 1.0)
            else f"Even {u.limit:,} samples of this data do not multiply to 0."
        )
    elif u.batch_size <= e.n:
        underflow = (
            "This batch is already too long: in float64 the running product "
            f"{'is frozen near 5e-324' if u.frozen else 'hits exactly 0'} "
            f"after {u.batch_size:,} samples, so the likelihood printed above is 0, and the "
            "product can no longer tell a good model from a bad one."
        )
    else:
        dies = (
            "freezes at a few times 5e-324, the smallest positive float64, and means nothing"
            if u.frozen
            else "reaches exactly 0"
        )
        underflow = (
            f"That works for {e.n} samples, but every factor is below 1: repeat this data and "
            f"in float64 the product {dies} after {u.batch_size:,} samples "
            f"({u.repeats:.4g} copies), while the sum of their logs is still an ordinary "
            f"{f(u.log_at_underflow)}."
        )
    check = "✓ the same" if e.matches_reported else "✗ DIFFERENT (please report this)"
    return [
        Step(
            1,
            STEP_NAMES[0],
            "Raw outputs (logits)",
            "A classifier ends with one score per class. These logits are raw: any real "
            "number, with no reason to add up to anything, so they are not probabilities yet.",
            {"logits": e.logits[:k].tolist(), "labels": e.labels[:k].tolist()},
        ),
        Step(
            2,
            STEP_NAMES[1],
            "Softmax: scores become probabilities",
            "Softmax raises e to each score and divides by the row's total. Every class gets "
            "a probability between 0 and 1, each row sums to exactly 1, and the order is kept, "
            "so the highest logit is the predicted class.",
            {
                "probs": e.probs[:k].tolist(),
                "row_sums": e.probs[:k].sum(axis=1).tolist(),
                "pred": e.pred[:k].tolist(),
            },
        ),
        Step(
            3,
            STEP_NAMES[2],
            "The probability of the true class",
            "Only one number per sample matters for the loss: the probability the model gave "
            "to the class that is actually correct.",
            {"labels": e.labels[:k].tolist(), "p_true": e.p_true[:k].tolist()},
        ),
        Step(
            4,
            STEP_NAMES[3],
            "Likelihood: multiply them",
            "Maximum likelihood asks how probable the model makes the labels we observed. For "
            f"independent samples that is the product {picks} = {f(e.likelihood)}, and "
            f"training means making it as large as possible. {underflow}",
            {
                "likelihood": e.likelihood,
                "underflow_batch_size": u.batch_size,
                "underflow_repeats": u.repeats,
                "underflow_frozen": u.frozen,
                "log_likelihood_at_underflow": u.log_at_underflow,
            },
        ),
        Step(
            5,
            STEP_NAMES[4],
            "Log-likelihood: a sum instead of a product",
            "Take the log. It only ever increases, so whatever maximises the product also "
            "maximises its log; and the log of a product is the sum of the logs: "
            f"log({f(e.likelihood)}) = {f(e.log_of_product)}, and {logs} = "
            f"{f(e.sum_of_logs)}. A sum is easy to differentiate term by term and does not "
            "underflow.",
            {
                "log_of_product": e.log_of_product,
                "sum_of_logs": e.sum_of_logs,
                "log_p_true": (-e.nll[:k]).tolist(),
            },
        ),
        Step(
            6,
            STEP_NAMES[5],
            "The minus sign: a loss to minimise",
            "Optimisers minimise, so flip the sign: maximising the log-likelihood is the same "
            "as minimising the negative log-likelihood. Each sample costs -log p(true class): "
            "0 when the model is certain and right, growing without bound as that "
            "probability goes to 0.",
            {"nll": e.nll[:k].tolist(), "sum_nll": -e.sum_of_logs},
        ),
        Step(
            7,
            STEP_NAMES[6],
            "The mean: cross-entropy, also called log loss",
            "Divide by the number of samples so the value does not depend on the batch size: "
            f"{f(-e.sum_of_logs)} / {e.n} = {f(e.loss)} nats. This mean negative "
            "log-likelihood is the cross-entropy loss. `xent loss` on the same input reports "
            f"{f(e.reported_loss)}: {check}.",
            {
                "loss": e.loss,
                "n": e.n,
                "xent_loss": e.reported_loss,
                "matches_xent_loss": e.matches_reported,
            },
        ),
        Step(
            8,
            STEP_NAMES[7],
            "The gradient: why it trains so well",
            "Differentiate one sample's loss with respect to its logits and almost everything "
            "cancels: the gradient is softmax minus the one-hot true class. The true class is "
            "pulled up by 1 - p, every other class is pushed down by its own probability, and "
            "the pushes are largest exactly where the model is most wrong.",
            {"grad": e.grad[:k].tolist()},
        ),
    ]


def explain_json_doc(
    e: Explanation,
    steps: Sequence[Step],
    names: Sequence[str] | None,
    head: int,
    precision: int | None,
) -> dict[str, Any]:
    """The ``xent.explain/1`` document.

    As in ``xent.loss/1``, a non-finite float becomes ``null`` and the step gets a
    ``nonfinite`` object naming it: ``{"log_of_product": "-inf"}`` for a number, the
    distinct values (``["-inf"]``) for an array that holds any.
    """
    rnd = rounder(precision)

    def clean(v: Any, seen: set[str]) -> Any:
        if isinstance(v, float):
            v = rnd(v)
            if math.isfinite(v):
                return v
            seen.add(nonfinite_name(v))
            return None
        if isinstance(v, list):
            return [clean(x, seen) for x in v]
        return v

    def step_doc(s: Step) -> dict[str, Any]:
        data: dict[str, Any] = {}
        flags: dict[str, Any] = {}
        for key, value in s.data.items():
            seen: set[str] = set()
            data[key] = clean(value, seen)
            if seen:
                flags[key] = sorted(seen) if isinstance(value, list) else seen.pop()
        doc = {"step": s.number, "name": s.name, "title": s.title, "text": s.text, "data": data}
        if flags:
            doc["nonfinite"] = flags
        return doc

    return {
        "schema": SCHEMA_EXPLAIN,
        "n": e.n,
        "n_classes": int(e.logits.shape[1]),
        "classes": list(names) if names is not None else None,
        "shown": min(head, e.n),
        "steps": [step_doc(s) for s in steps],
    }


MAX_CLASS_COLUMNS = 12


def shown_classes(e: Explanation, k: int) -> list[int]:
    """Class columns to draw: all of them when few; else the shown samples' true and
    predicted classes, topped up with the most probable ones, in class order."""
    c = int(e.logits.shape[1])
    if c <= MAX_CLASS_COLUMNS:
        return list(range(c))
    keep = {int(v) for v in e.labels[:k]} | {int(v) for v in e.pred[:k]}
    by_mass = np.argsort(-e.probs[:k].sum(axis=0), kind="stable")
    for cls in by_mass:
        if len(keep) >= MAX_CLASS_COLUMNS:
            break
        keep.add(int(cls))
    return sorted(keep)


def _matrix(
    e: Explanation,
    values: np.ndarray,
    names: Sequence[str] | None,
    k: int,
    p: int,
    extra: Sequence[tuple[str, list[str]]] = (),
) -> Table:
    cols = shown_classes(e, k)
    t = Table(show_edge=False, header_style="bold", pad_edge=False)
    if len(cols) < values.shape[1]:
        t.caption = f"{len(cols)} of {values.shape[1]} classes shown"
    t.add_column("#", justify="right", style="dim")
    for c in cols:
        t.add_column(_cls(c, names), justify="right")
    for title, _ in extra:
        t.add_column(title, justify="right", style="dim")
    for i in range(k):
        y = int(e.labels[i])
        cells: list[RenderableType] = [str(i)]
        for c in cols:
            style = "bold green" if c == y else ""
            cells.append(Text(fmt(float(values[i, c]), p), style=style))
        cells += [vals[i] for _, vals in extra]
        t.add_row(*cells)
    return t


def _per_sample(rows: list[tuple[str, list[str]]], k: int) -> Table:
    t = Table(show_edge=False, header_style="bold", pad_edge=False)
    t.add_column("#", justify="right", style="dim")
    for name, _ in rows:
        t.add_column(name, justify="right")
    for i in range(k):
        t.add_row(str(i), *[vals[i] for _, vals in rows])
    return t


PROSE_WIDTH = 100


def _prose(text: str) -> Table:
    """A paragraph that wraps at PROSE_WIDTH however wide the tables below it are."""
    grid = Table.grid()
    grid.add_column(max_width=PROSE_WIDTH)
    grid.add_row(Text(text))
    return grid


def explain_renderable(
    e: Explanation,
    steps: Sequence[Step],
    names: Sequence[str] | None,
    head: int,
    precision: int,
    matrix_precision: int = MATRIX_PRECISION,
) -> RenderableType:
    """Each requested step as a panel: its sentence, then its numbers (matrices of logits,
    probabilities and gradients with ``matrix_precision`` significant digits)."""
    k = min(head, e.n)
    p = precision
    mp = matrix_precision

    def f(x: Any) -> str:
        return fmt(float(x), p)

    cls = [_cls(int(e.labels[i]), names) for i in range(k)]
    visuals: dict[str, RenderableType] = {
        "logits": _matrix(e, e.logits, names, k, mp, [("true class", cls)]),
        "softmax": _matrix(
            e,
            e.probs,
            names,
            k,
            mp,
            [
                ("row sum", [fmt(float(e.probs[i].sum()), mp) for i in range(k)]),
                ("pred", [_cls(int(e.pred[i]), names) for i in range(k)]),
            ],
        ),
        "true_class_probability": _per_sample(
            [("true class", cls), ("p(true)", [f(e.p_true[i]) for i in range(k)])], k
        ),
        "likelihood": Text(f"product = {f(e.likelihood)}", style="bold"),
        "log_likelihood": Text(
            f"log(product) = {f(e.log_of_product)}    sum of logs = {f(e.sum_of_logs)}",
            style="bold",
        ),
        "negative_log_likelihood": _per_sample(
            [("-log p(true)", [f(e.nll[i]) for i in range(k)])], k
        ),
        "loss": Text(f"cross-entropy = {f(e.loss)} nats", style="bold"),
        "gradient": _matrix(e, e.grad, names, k, mp),
    }
    parts: list[RenderableType] = []
    if e.n > k and len(steps) > 1:
        parts.append(
            Text(
                f"{e.n} samples: the tables show the first {k} (--head N); "
                "every total uses all of them.",
                style="dim",
            )
        )
    for s in steps:
        body = Group(_prose(s.text), Text(""), visuals[s.name])
        parts.append(
            Panel(body, title=f"Step {s.number}. {s.title}", title_align="left", expand=False)
        )
    return Group(*parts)
