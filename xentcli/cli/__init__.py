"""The ``xent`` command line: a thin layer of io -> core -> render."""

from xentcli.cli.app import app


def main() -> None:
    """Console-script entry point."""
    app(prog_name="xent")


__all__ = ["app", "main"]
