"""``xent loss``: per-sample and batch cross-entropy of logits against labels."""

from typing import Annotated

import typer

from xentcli.cli.errors import guarded
from xentcli.cli.loss_options import (
    BinaryOpt,
    BinsOpt,
    BootstrapOpt,
    CiOpt,
    ClassAxisOpt,
    ClipOpt,
    Compat,
    CompatOpt,
    ComputeDtype,
    ComputeDtypeOpt,
    EmptyOpt,
    ExtraOpt,
    HistOpt,
    HistPlotOpt,
    IgnoreIndexOpt,
    InputKind,
    InputKindOpt,
    LabelSmoothingOpt,
    MaybeTemperatureOpt,
    MetricsOpt,
    MultiLabelOpt,
    Nonfinite,
    NonfiniteOpt,
    PerClassOpt,
    PosWeightOpt,
    Reduction,
    ReductionOpt,
    RenormalizeOpt,
    SampleWeightColOpt,
    SampleWeightOpt,
    SeedOpt,
    TemperatureFromOpt,
    TopKOpt,
    Units,
    UnitsOpt,
    WeightOpt,
)
from xentcli.cli.loss_run import run_loss
from xentcli.cli.options import (
    DEFAULT_MAX_ERRORS,
    ClassesOpt,
    DebugOpt,
    DelimiterOpt,
    DescOpt,
    FailIfOpt,
    FormatOpt,
    HeaderOpt,
    HeadOpt,
    InputFormatOpt,
    InputsArg,
    JobsOpt,
    KeyOpt,
    LabelColOpt,
    LabelsOpt,
    MaxErrorsOpt,
    NoColorOpt,
    OutputOpt,
    PrecisionOpt,
    QuietOpt,
    SortOpt,
)


@guarded
def loss(
    input: InputsArg = None,
    labels: LabelsOpt = None,
    label_col: LabelColOpt = None,
    classes: ClassesOpt = None,
    key: KeyOpt = None,
    input_format: InputFormatOpt = None,
    delimiter: DelimiterOpt = None,
    header: HeaderOpt = None,
    fmt: FormatOpt = None,
    output: OutputOpt = None,
    probs: Annotated[
        bool,
        typer.Option(
            "--probs", help="Add each sample's full probability vector.", rich_help_panel="Output"
        ),
    ] = False,
    summary: Annotated[
        bool,
        typer.Option(
            "--summary", "-s", help="Print only the batch summary.", rich_help_panel="Output"
        ),
    ] = False,
    head: HeadOpt = None,
    precision: PrecisionOpt = None,
    input_kind: InputKindOpt = InputKind.logits,
    reduction: ReductionOpt = Reduction.mean,
    weight: WeightOpt = None,
    ignore_index: IgnoreIndexOpt = None,
    label_smoothing: LabelSmoothingOpt = 0.0,
    sample_weight: SampleWeightOpt = None,
    sample_weight_col: SampleWeightColOpt = None,
    temperature: MaybeTemperatureOpt = None,
    temperature_from: TemperatureFromOpt = None,
    renormalize: RenormalizeOpt = False,
    clip: ClipOpt = None,
    units: UnitsOpt = Units.nats,
    nonfinite: NonfiniteOpt = Nonfinite.error,
    empty: EmptyOpt = None,
    compat: CompatOpt = Compat.xent,
    binary: BinaryOpt = False,
    multi_label: MultiLabelOpt = False,
    pos_weight: PosWeightOpt = None,
    class_axis: ClassAxisOpt = None,
    compute_dtype: ComputeDtypeOpt = ComputeDtype.auto,
    top_k: TopKOpt = None,
    metrics: MetricsOpt = False,
    bins: BinsOpt = None,
    extra: ExtraOpt = False,
    per_class: PerClassOpt = False,
    ci: CiOpt = None,
    bootstrap: BootstrapOpt = None,
    seed: SeedOpt = None,
    hist: HistOpt = False,
    plot: HistPlotOpt = None,
    sort: SortOpt = None,
    desc: DescOpt = False,
    fail_if: FailIfOpt = None,
    jobs: JobsOpt = 0,
    quiet: QuietOpt = False,
    max_errors: MaxErrorsOpt = DEFAULT_MAX_ERRORS,
    no_color: NoColorOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Cross-entropy (log loss) of a classifier's logits against the true labels.

    Softmax turns each row of logits into probabilities; each sample's loss is the
    negative log of the probability it gives its true class (nll); the batch loss is
    their mean, in nats.

    Example:

        xent loss sample_data/logits.csv -l sample_data/labels.csv
    """
    run_loss(**locals())
