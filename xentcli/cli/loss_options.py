"""The options that change the loss (``--reduction``, ``--weight``, ...), declared once.

``xent loss`` and ``xent explain`` take them; :func:`loss_options` turns their values into
the core's :class:`~xentcli.core.LossOptions`.
"""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from xentcli.cli.choices import LOSS_PANEL
from xentcli.cli.choices import Compat as Compat
from xentcli.cli.choices import ComputeDtype as ComputeDtype
from xentcli.cli.choices import Empty as Empty
from xentcli.cli.choices import InputKind as InputKind
from xentcli.cli.choices import Nonfinite as Nonfinite
from xentcli.cli.choices import Reduction as Reduction
from xentcli.cli.choices import Units as Units
from xentcli.cli.choices import loss_options as loss_options
from xentcli.cli.choices import parse_weight as parse_weight

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

MaybeTemperatureOpt = Annotated[
    Optional[float],
    typer.Option(
        "--temperature",
        "-t",
        help="Divide the logits by T before the softmax (default 1).",
        metavar="T",
        rich_help_panel="Loss",
    ),
]

TemperatureFromOpt = Annotated[
    Optional[str],
    typer.Option(
        "--temperature-from",
        help="Read T from a JSON file written by xent calibrate --save (the same as "
        "--temperature T).",
        metavar="PATH",
        rich_help_panel="Loss",
    ),
]
