"""Options shared by xent's commands, declared once as ``Annotated`` types."""

from typing import Annotated, Optional

import typer

from xentcli.cli.choices import DEFAULT_MAX_ERRORS as DEFAULT_MAX_ERRORS
from xentcli.cli.choices import INPUT_PANEL as INPUT_PANEL
from xentcli.cli.choices import OUTPUT_PANEL as OUTPUT_PANEL
from xentcli.cli.choices import InputFormat as InputFormat
from xentcli.cli.choices import OutputFormat as OutputFormat

InputArg = Annotated[
    Optional[str],
    typer.Argument(
        help="Logits: a .csv/.tsv/.txt/.npy/.npz file, or - for stdin (the default when "
        "data is piped in).",
        show_default=False,
        metavar="[INPUT]",
    ),
]
InputsArg = Annotated[
    Optional[list[str]],
    typer.Argument(
        help="Logits: a .csv/.tsv/.txt/.npy/.npz file, or - for stdin (the default when "
        "data is piped in). Several files: one summary each, side by side.",
        show_default=False,
        metavar="[INPUT]...",
    ),
]
LabelsOpt = Annotated[
    Optional[str],
    typer.Option(
        "--labels",
        "-l",
        help="True classes: a one-column CSV/TXT of class indices or names, a 1-D integer "
        ".npy, or an .npz; - for stdin.",
        metavar="PATH",
        rich_help_panel=INPUT_PANEL,
    ),
]
LabelColOpt = Annotated[
    Optional[str],
    typer.Option(
        "--label-col",
        help="Take labels from this column of INPUT (a header name, or a 0-based index; -1 "
        "is the last); the other columns are the logits.",
        metavar="NAME|INDEX",
        rich_help_panel=INPUT_PANEL,
    ),
]
ClassesOpt = Annotated[
    Optional[str],
    typer.Option(
        "--classes",
        help="Class names in class-index order, comma-separated. With a header, the logit "
        "columns are reordered to match.",
        metavar="A,B,...",
        rich_help_panel=INPUT_PANEL,
    ),
]
KeyOpt = Annotated[
    Optional[str],
    typer.Option(
        "--key",
        help="Array of an .npz INPUT holding the logits (default: 'logits', or the only array).",
        rich_help_panel=INPUT_PANEL,
    ),
]
InputFormatOpt = Annotated[
    Optional[InputFormat],
    typer.Option(
        "--input-format",
        help="Format of INPUT (default: from the extension; for stdin from the content).",
        case_sensitive=False,
        rich_help_panel=INPUT_PANEL,
    ),
]
DelimiterOpt = Annotated[
    Optional[str],
    typer.Option(
        "--delimiter",
        "-d",
        help="Field delimiter of text INPUT: one character, 'tab' or 'whitespace' "
        "(default: from the extension; sniffed for .txt and stdin).",
        rich_help_panel=INPUT_PANEL,
    ),
]
HeaderOpt = Annotated[
    Optional[bool],
    typer.Option(
        "--header/--no-header",
        help="Whether text INPUT's first row is a header (default: detected: a first row "
        "with a non-numeric field is a header).",
        show_default=False,
        rich_help_panel=INPUT_PANEL,
    ),
]
FormatOpt = Annotated[
    Optional[OutputFormat],
    typer.Option(
        "--format",
        "-f",
        help="Output format (default: table on a terminal; otherwise json, or from the "
        "-o file's extension).",
        case_sensitive=False,
        rich_help_panel=OUTPUT_PANEL,
    ),
]
OutputOpt = Annotated[
    Optional[str],
    typer.Option(
        "--output",
        "-o",
        help="Write to this file instead of stdout (atomically: complete or not at all).",
        metavar="PATH",
        rich_help_panel=OUTPUT_PANEL,
    ),
]
HeadOpt = Annotated[
    Optional[int],
    typer.Option(
        "--head",
        help="Show only the first N samples (the summary still covers all). Default: 20 "
        "in a table, all otherwise.",
        min=0,
        metavar="N",
        rich_help_panel=OUTPUT_PANEL,
    ),
]
PrecisionOpt = Annotated[
    Optional[int],
    typer.Option(
        "--precision",
        help="Significant digits of printed numbers (default: 6 in a table; machine "
        "formats print enough digits to round-trip).",
        min=1,
        max=17,
        metavar="N",
        rich_help_panel=OUTPUT_PANEL,
    ),
]
NoColorOpt = Annotated[
    bool,
    typer.Option(
        "--no-color",
        help="No colour (also when NO_COLOR is set).",
        rich_help_panel=OUTPUT_PANEL,
    ),
]
DebugOpt = Annotated[
    bool,
    typer.Option(
        "--debug",
        help="Show the Python traceback of an unexpected (internal) error instead of a "
        "one-line message (also XENT_DEBUG=1).",
    ),
]
MaxErrorsOpt = Annotated[
    int,
    typer.Option(
        "--max-errors",
        help="When several rows are bad, name the places of up to N of them (the error "
        "line always gives the total count).",
        min=1,
        metavar="N",
    ),
]

QuietOpt = Annotated[
    bool,
    typer.Option(
        "--quiet",
        "-q",
        help="No progress bar (it is shown on stderr, when that is a terminal, for runs "
        "longer than a second).",
        rich_help_panel=OUTPUT_PANEL,
    ),
]

JobsOpt = Annotated[
    int,
    typer.Option(
        "--jobs",
        "-j",
        help="With several inputs: how many to evaluate at once, in worker processes "
        "(default 0: one per CPU core when the inputs total 32 MiB or more; 1: one "
        "after another in this process).",
        min=0,
        metavar="N",
        rich_help_panel=OUTPUT_PANEL,
    ),
]

SortOpt = Annotated[
    Optional[str],
    typer.Option(
        "--sort",
        help="Order the samples by nll, loss, p_true or index (ascending; NaN last); with "
        "--head N, only the first N are kept, in bounded memory. With several inputs: "
        "order them by a summary metric (loss, accuracy, ece, ...).",
        metavar="KEY",
        rich_help_panel=OUTPUT_PANEL,
    ),
]

DescOpt = Annotated[
    bool,
    typer.Option("--desc", help="With --sort: descending order.", rich_help_panel=OUTPUT_PANEL),
]

FailIfOpt = Annotated[
    Optional[list[str]],
    typer.Option(
        "--fail-if",
        help="Exit 1 (after writing the output) if this condition on the summary holds, "
        "e.g. 'loss > 0.7' or 'accuracy < 0.9'; may be given several times.",
        metavar="'METRIC OP NUMBER'",
    ),
]
