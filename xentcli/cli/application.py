"""The ``xent`` Typer application.

Each command lives in its own module, imported only when the application is built with
it: ``xent loss ...`` builds an application with ``loss`` alone (see :func:`build_app`),
so a one-line run does not pay for importing ``compare``, ``calibrate`` and the rest.
"""

from __future__ import annotations

import importlib
from typing import Annotated, Any

import typer

#: Command name -> (module, function), in the order ``xent --help`` lists them.
COMMANDS = {
    "loss": ("xentcli.cli.loss", "loss"),
    "explain": ("xentcli.cli.explain", "explain_command"),
    "softmax": ("xentcli.cli.softmax", "softmax_command"),
    "compare": ("xentcli.cli.compare", "compare"),
    "calibrate": ("xentcli.cli.calibrate", "calibrate_command"),
}


def _version(value: bool) -> None:
    if value:
        from xentcli import __version__

        typer.echo(f"xent {__version__}")
        raise typer.Exit()


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


def build_app(only: str | None = None) -> typer.Typer:
    """The application with every command, or with the command ``only`` alone (which
    behaves the same for ``xent ONLY ...``: same options, help and errors)."""
    app = typer.Typer(
        name="xent",
        no_args_is_help=True,
        rich_markup_mode=None,
        pretty_exceptions_enable=False,
        context_settings={"help_option_names": ["-h", "--help"]},
    )
    app.callback()(main)
    for name, (module, attr) in COMMANDS.items():
        if only is None or name == only:
            app.command(name)(getattr(importlib.import_module(module), attr))
    return app


def __getattr__(name: str) -> Any:
    if name == "app":
        return build_app()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
