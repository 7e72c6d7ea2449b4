"""``--sort KEY [--desc]``: per-sample output in order, to list the worst samples."""

from enum import StrEnum
from typing import Annotated, Optional

import typer

from xentcli.cli.options import OUTPUT_PANEL


class SortKey(StrEnum):
    nll = "nll"
    loss = "loss"
    p_true = "p_true"
    sample_index = "index"  # (the name "index" would shadow str.index)


SortOpt = Annotated[
    Optional[SortKey],
    typer.Option(
        "--sort",
        help="Order the samples by this field (ascending; NaN last); with --head N, only "
        "the first N are kept, in bounded memory.",
        case_sensitive=False,
        rich_help_panel=OUTPUT_PANEL,
    ),
]
DescOpt = Annotated[
    bool,
    typer.Option("--desc", help="With --sort: descending order.", rich_help_panel=OUTPUT_PANEL),
]
