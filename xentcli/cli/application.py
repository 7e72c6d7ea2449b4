"""The ``xent`` Typer application."""

from typing import Annotated

import typer

from xentcli.cli.calibrate import calibrate_command
from xentcli.cli.compare import compare
from xentcli.cli.explain import explain_command
from xentcli.cli.loss import loss
from xentcli.cli.softmax import softmax_command

app = typer.Typer(
    name="xent",
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        from xentcli import __version__

        typer.echo(f"xent {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            "-V",
            help="Show the version and exit.",
            callback=_version,
            is_eager=True,
        ),
    ] = False,
) -> None:
    """Cross-entropy (log loss) from a classifier's outputs, exactly.

    Example:

        xent loss sample_data/logits.csv -l sample_data/labels.csv
    """


app.command("loss")(loss)
app.command("explain")(explain_command)
app.command("softmax")(softmax_command)
app.command("compare")(compare)
app.command("calibrate")(calibrate_command)
