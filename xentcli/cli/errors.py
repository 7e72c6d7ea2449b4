"""The one place where errors become exit codes and one-line ``Error:`` messages."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import typer

from xentcli.errors import ExitCode, XentError

F = TypeVar("F", bound=Callable[..., Any])


def error_line(message: str) -> str:
    """Format a message as the single stderr line users and tests see."""
    return "Error: " + " ".join(message.split("\n"))


def _silence_stdout() -> None:
    """After a closed pipe, point stdout at /dev/null so the exit flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


def guarded(func: F) -> F:
    """Run a command, mapping expected failures to their exit codes.

    - :class:`XentError`: ``Error: <where>: <what and fix>`` on stderr, the family's code.
    - A closed downstream pipe (``xent ... | head``): quiet, exit 0.
    - Ctrl-C: ``Interrupted.`` on stderr, exit 130.
    Anything else is a bug and keeps its traceback.
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except XentError as exc:
            typer.echo(error_line(str(exc)), err=True)
            raise typer.Exit(int(exc.exit_code)) from None
        except BrokenPipeError:
            _silence_stdout()
            raise typer.Exit(int(ExitCode.OK)) from None
        except KeyboardInterrupt:
            typer.echo("Interrupted.", err=True)
            raise typer.Exit(int(ExitCode.INTERRUPTED)) from None

    return wrapper  # type: ignore[return-value]
