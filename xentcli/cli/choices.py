"""The command line's choices and their conversion to core options, without Typer.

The ``Annotated`` option declarations (:mod:`xentcli.cli.options`,
:mod:`xentcli.cli.loss_options`) use these; so does the lean path of a plain
``xent loss`` (:mod:`xentcli.cli.lean`), which must not import Typer.
"""

from __future__ import annotations

from enum import StrEnum

from xentcli.core import LossOptions
from xentcli.errors import UsageError
from xentcli.io import read_vector

#: Errors shown in full by default; the rest are counted (``--max-errors``).
DEFAULT_MAX_ERRORS = 5
INPUT_PANEL = "Input"
OUTPUT_PANEL = "Output"
LOSS_PANEL = "Loss"


class InputFormat(StrEnum):
    csv = "csv"
    tsv = "tsv"
    txt = "txt"
    npy = "npy"
    npz = "npz"


class OutputFormat(StrEnum):
    table = "table"
    json = "json"
    jsonl = "jsonl"
    csv = "csv"
    tsv = "tsv"


class Reduction(StrEnum):
    mean = "mean"
    sum = "sum"


class InputKind(StrEnum):
    logits = "logits"
    probs = "probs"
    log_probs = "log-probs"


class Compat(StrEnum):
    xent = "xent"
    torch = "torch"
    sklearn = "sklearn"
    keras = "keras"
    optax = "optax"


class Units(StrEnum):
    nats = "nats"
    bits = "bits"


class Nonfinite(StrEnum):
    error = "error"
    skip = "skip"


class Empty(StrEnum):
    nan = "nan"
    zero = "zero"
    error = "error"


class ComputeDtype(StrEnum):
    auto = "auto"
    float64 = "float64"


def parse_weight(spec: str | None) -> tuple[float, ...] | None:
    """``--weight``: a comma list of numbers, or the path of a file holding them."""
    if spec is None:
        return None
    return tuple(read_vector(spec, "--weight").tolist())


def loss_options(
    *,
    input_kind: InputKind = InputKind.logits,
    reduction: Reduction = Reduction.mean,
    weight: str | None = None,
    ignore_index: int | None = None,
    label_smoothing: float = 0.0,
    temperature: float = 1.0,
    renormalize: bool = False,
    clip: float | None = None,
    units: Units = Units.nats,
    nonfinite: Nonfinite = Nonfinite.error,
    empty: Empty | None = None,
    compat: Compat = Compat.xent,
    binary: bool = False,
    multi_label: bool = False,
    pos_weight: str | None = None,
    class_axis: int | None = None,
    top_k: int | None = None,
    metrics: bool = False,
    bins: int | None = None,
    extra: bool = False,
    per_class: bool = False,
    ci: float | None = None,
    bootstrap: int | None = None,
    seed: int | None = None,
    hist: bool = False,
    compute_dtype: ComputeDtype = ComputeDtype.auto,
) -> LossOptions:
    """The core options from the command-line values (a UsageError if they are invalid)."""
    if binary and multi_label:
        raise UsageError("--binary and --multi-label exclude each other")
    if ci is None and (bootstrap is not None or seed is not None):
        raise UsageError("--bootstrap and --seed set up the interval of --ci; add --ci 0.95")
    pw: tuple[float, ...] | float | None = None
    if pos_weight is not None:
        values = tuple(read_vector(pos_weight, "--pos-weight").tolist())
        pw = values[0] if len(values) == 1 else values
    return LossOptions(
        reduction=reduction.value,
        weight=parse_weight(weight),
        ignore_index=ignore_index,
        label_smoothing=label_smoothing,
        temperature=temperature,
        input_kind=input_kind.value,
        renormalize=renormalize,
        clip=clip,
        units=units.value,
        nonfinite=nonfinite.value,
        empty=empty.value if empty is not None else None,
        compat=compat.value,
        task="binary" if binary else "multilabel" if multi_label else "auto",
        pos_weight=pw,
        class_axis=class_axis,
        top_k=top_k,
        bins=bins if bins is not None else (15 if metrics else None),
        extra=extra,
        per_class=per_class,
        ci=ci,
        bootstrap=bootstrap if bootstrap is not None else 1000,
        seed=seed,
        hist=hist,
        compute_dtype=compute_dtype.value,
    )
