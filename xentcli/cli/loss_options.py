"""The options that change the loss (``--reduction``, ``--weight``, ...), declared once.

``xent loss`` and ``xent explain`` take them; :func:`loss_options` turns their values into
the core's :class:`~xentcli.core.LossOptions`.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Optional

import typer

from xentcli.core import LossOptions
from xentcli.errors import UsageError
from xentcli.io import read_vector

LOSS_PANEL = "Loss"


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


InputKindOpt = Annotated[
    InputKind,
    typer.Option(
        "--input-kind",
        "-k",
        help="What INPUT holds: raw scores (logits), probabilities (rows sum to 1) or "
        "log-probabilities.",
        case_sensitive=False,
        rich_help_panel=LOSS_PANEL,
    ),
]
ReductionOpt = Annotated[
    Reduction,
    typer.Option(
        "--reduction",
        help="How the per-sample losses become the batch loss: their weighted mean, or sum.",
        case_sensitive=False,
        rich_help_panel=LOSS_PANEL,
    ),
]
WeightOpt = Annotated[
    Optional[str],
    typer.Option(
        "--weight",
        help="Class weights (PyTorch's weight=): a comma list with one number per class, "
        "or a file of them (.csv/.txt/.npy).",
        metavar="W1,W2,...|PATH",
        rich_help_panel=LOSS_PANEL,
    ),
]
IgnoreIndexOpt = Annotated[
    Optional[int],
    typer.Option(
        "--ignore-index",
        help="Samples with this label (e.g. -100) get loss 0 and do not count in the mean.",
        metavar="K",
        rich_help_panel=LOSS_PANEL,
    ),
]
LabelSmoothingOpt = Annotated[
    float,
    typer.Option(
        "--label-smoothing",
        help="Mix the one-hot target with the uniform distribution by this amount, in "
        "[0, 1] (PyTorch's formula).",
        metavar="E",
        rich_help_panel=LOSS_PANEL,
    ),
]
SampleWeightOpt = Annotated[
    Optional[str],
    typer.Option(
        "--sample-weight",
        help="Per-sample weights, one per sample (scikit-learn's sample_weight=): a "
        "one-column file or .npy.",
        metavar="PATH",
        rich_help_panel=LOSS_PANEL,
    ),
]
SampleWeightColOpt = Annotated[
    Optional[str],
    typer.Option(
        "--sample-weight-col",
        help="Take per-sample weights from this column of INPUT (a header name or a "
        "0-based index); the other columns are the scores.",
        metavar="NAME|INDEX",
        rich_help_panel=LOSS_PANEL,
    ),
]
TemperatureOpt = Annotated[
    float,
    typer.Option(
        "--temperature",
        "-t",
        help="Divide the logits by T before the softmax.",
        metavar="T",
        rich_help_panel=LOSS_PANEL,
    ),
]
RenormalizeOpt = Annotated[
    bool,
    typer.Option(
        "--renormalize",
        help="With --input-kind probs/log-probs: rescale rows that do not sum to 1 "
        "instead of rejecting them.",
        rich_help_panel=LOSS_PANEL,
    ),
]
ClipOpt = Annotated[
    Optional[float],
    typer.Option(
        "--clip",
        help="With --input-kind probs/log-probs: clip probabilities to [EPS, 1-EPS] "
        "before the log, so a 0 on the true class gives a finite loss.",
        metavar="EPS",
        rich_help_panel=LOSS_PANEL,
    ),
]
UnitsOpt = Annotated[
    Units,
    typer.Option(
        "--units",
        help="Natural logs (nats) or base-2 logs (bits) for losses and log-likelihoods.",
        case_sensitive=False,
        rich_help_panel=LOSS_PANEL,
    ),
]
NonfiniteOpt = Annotated[
    Nonfinite,
    typer.Option(
        "--nonfinite",
        help="Rows with NaN or +inf input (or every logit -inf): an error, or skip them "
        "(counted as 'skipped', with a warning).",
        case_sensitive=False,
        rich_help_panel=LOSS_PANEL,
    ),
]
EmptyOpt = Annotated[
    Optional[Empty],
    typer.Option(
        "--empty",
        help="The mean when no sample counts (all ignored or skipped): nan (reported as "
        "null, with a warning), zero, or error. Default: nan (--compat keras: zero; "
        "sklearn: error).",
        show_default=False,
        case_sensitive=False,
        rich_help_panel=LOSS_PANEL,
    ),
]


CompatOpt = Annotated[
    Compat,
    typer.Option(
        "--compat",
        help="Reproduce a library's numbers and edge behaviour (clipping, renormalising, "
        "what the mean divides by, 0*log 0); xent is exact. See README.",
        case_sensitive=False,
        rich_help_panel=LOSS_PANEL,
    ),
]
BinaryOpt = Annotated[
    bool,
    typer.Option(
        "--binary",
        help="Binary cross-entropy of one score per sample (the positive class) against "
        "0/1 labels; the default for a single column.",
        rich_help_panel=LOSS_PANEL,
    ),
]
MultiLabelOpt = Annotated[
    bool,
    typer.Option(
        "--multi-label",
        help="Binary cross-entropy of every score against an N x C 0/1 target (mean over "
        "all entries, as PyTorch's binary_cross_entropy_with_logits).",
        rich_help_panel=LOSS_PANEL,
    ),
]
PosWeightOpt = Annotated[
    Optional[str],
    typer.Option(
        "--pos-weight",
        help="Binary and multi-label: weight of the positive term (PyTorch's pos_weight): "
        "one number, or one per class.",
        metavar="P|P1,P2,...",
        rich_help_panel=LOSS_PANEL,
    ),
]
ClassAxisOpt = Annotated[
    Optional[int],
    typer.Option(
        "--class-axis",
        help="For .npy scores with more than 2 dimensions: the axis of the classes (1 for "
        "PyTorch's (N, C, d1, ...), -1 for channels-last). Each position is a sample.",
        metavar="AXIS",
        rich_help_panel=LOSS_PANEL,
    ),
]


METRICS_PANEL = "Metrics"
TopKOpt = Annotated[
    Optional[int],
    typer.Option(
        "--top-k",
        help="Also report the top-K accuracy (scikit-learn's top_k_accuracy_score).",
        min=1,
        metavar="K",
        rich_help_panel=METRICS_PANEL,
    ),
]
MetricsOpt = Annotated[
    bool,
    typer.Option(
        "--metrics",
        help="Also report the Brier score, the mean entropy and the calibration errors "
        "(ECE, MCE, RMSCE; torchmetrics' definitions).",
        rich_help_panel=METRICS_PANEL,
    ),
]
BinsOpt = Annotated[
    Optional[int],
    typer.Option(
        "--bins",
        help="Equal-width confidence bins of the calibration errors (default 15; implies "
        "--metrics).",
        min=1,
        metavar="N",
        rich_help_panel=METRICS_PANEL,
    ),
]
ExtraOpt = Annotated[
    bool,
    typer.Option(
        "--extra",
        help="Add per-sample columns: rank of the true class, margin (top-1 minus true-class "
        "log-probability) and entropy of the predicted distribution.",
        rich_help_panel=METRICS_PANEL,
    ),
]
PerClassOpt = Annotated[
    bool,
    typer.Option(
        "--per-class",
        help="Break the summary down by true class: support, mean NLL, accuracy, mean "
        "confidence, share of the loss.",
        rich_help_panel=METRICS_PANEL,
    ),
]
CiOpt = Annotated[
    Optional[float],
    typer.Option(
        "--ci",
        help="Add a bootstrap interval at this level (e.g. 0.95) for the loss and the accuracy.",
        metavar="LEVEL",
        rich_help_panel=METRICS_PANEL,
    ),
]
BootstrapOpt = Annotated[
    Optional[int],
    typer.Option(
        "--bootstrap",
        help="Bootstrap replicates behind --ci (default 1000).",
        metavar="B",
        rich_help_panel=METRICS_PANEL,
    ),
]
SeedOpt = Annotated[
    Optional[int],
    typer.Option(
        "--seed",
        help="Seed of the bootstrap (default: a fresh one, recorded in the summary).",
        rich_help_panel=METRICS_PANEL,
    ),
]


class ComputeDtype(StrEnum):
    auto = "auto"
    float64 = "float64"


ComputeDtypeOpt = Annotated[
    ComputeDtype,
    typer.Option(
        "--compute-dtype",
        help="auto: float32 (and float16) logits are computed in float32, within a few "
        "float32 ulps; float64: everything in float64.",
        case_sensitive=False,
        rich_help_panel=LOSS_PANEL,
    ),
]
HistOpt = Annotated[
    bool,
    typer.Option(
        "--hist",
        help="Add a histogram of the per-sample NLL (drawn under the table; "
        "nll_histogram in JSON).",
        rich_help_panel=METRICS_PANEL,
    ),
]
HistPlotOpt = Annotated[
    Optional[str],
    typer.Option(
        "--plot",
        help="Also draw the histogram of the per-sample NLL to this PNG image (implies "
        "--hist; needs matplotlib: pip install 'xentcli[plot]').",
        metavar="FILE.png",
        rich_help_panel=METRICS_PANEL,
    ),
]


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
