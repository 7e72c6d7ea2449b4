"""The one place where errors become exit codes and one-line ``Error:`` messages."""

from __future__ import annotations

import functools
import os
import re
import sys
import typing
from collections.abc import Callable
from collections.abc import Set as AbstractSet
from typing import Any, TypeVar

from xentcli.errors import DataError, ExitCode, XentError

F = TypeVar("F", bound=Callable[..., Any])


def error_line(message: str) -> str:
    """Format a message as the single stderr line users and tests see."""
    return "Error: " + " ".join(message.split("\n"))


def internal_error_message(exc: BaseException) -> str:
    """The one line shown for an unexpected exception (a bug)."""
    detail = " ".join(str(exc).split())
    if len(detail) > 200:
        detail = detail[:197] + "..."
    what = f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__
    return (
        f"internal error ({what}). This is a bug in xent: please report it with the "
        "output of the same command run with --debug"
    )


def _is_typer_control_flow(exc: BaseException) -> bool:
    # typer.Exit subclasses RuntimeError; it and Typer's usage errors are not bugs.
    return type(exc).__module__.startswith("typer")


def _say(line: str) -> None:
    """One line on stderr (looked up now: test runners swap it)."""
    print(line, file=sys.stderr, flush=True)


def _silence_stdout() -> None:
    """After a closed pipe, point stdout at /dev/null so the exit flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


#: Hints the shared validation adds for options some commands do not have: the flag, the
#: text of the hint, and what to say instead (a command without the option).
_HINTS = (
    ("--nonfinite", re.compile(r" \(--nonfinite skip leaves such rows out\)"), ""),
    ("--renormalize", re.compile(r"; --renormalize rescales each row"), ""),
    (
        "--class-axis",
        re.compile(r": with more than 2 dimensions, say which axis holds the classes: .*"),
        ": this command takes 2-D inputs (samples x classes)",
    ),
)


def _flags_of(func: Callable[..., Any]) -> set[str]:
    """The option names (``--x``, ``-x``) a Typer command function declares."""
    hints = typing.get_type_hints(func, include_extras=True)
    flags: set[str] = set()
    for hint in hints.values():
        for meta in getattr(hint, "__metadata__", ()):
            # In Annotated, typer.Option("--name", "-n") keeps the first name as `default`.
            decls = [getattr(meta, "default", None), *(getattr(meta, "param_decls", ()) or ())]
            flags.update(d for d in decls if isinstance(d, str) and d.startswith("-"))
    return flags


def _fit_hints(exc: XentError, flags: AbstractSet[str]) -> None:
    """Drop (or reword) a hint naming an option this command does not have."""
    for flag, pattern, instead in _HINTS:
        if flag not in flags:
            exc.message = pattern.sub(instead, exc.message)


def guarded(func: F, flags: frozenset[str] | None = None) -> F:
    """Run a command, mapping expected failures to their exit codes.

    - :class:`XentError`: ``Error: <where>: <what and fix>`` on stderr, the family's code.
    - A closed downstream pipe (``xent ... | head``): quiet, exit 0.
    - Ctrl-C: ``Interrupted.`` on stderr, exit 130.
    - Anything else is a bug in xent: one line asking for a report, exit 70; with
      ``--debug`` (or ``XENT_DEBUG=1``) the exception propagates with its traceback.

    ``flags``: the options the command has, when ``func``'s annotations do not say (the
    lean path of ``xent loss`` calls a function without Typer's annotations).
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        nonlocal flags
        debug = bool(kwargs.get("debug")) or os.environ.get("XENT_DEBUG", "") not in ("", "0")
        try:
            return func(*args, **kwargs)
        except XentError as exc:
            if isinstance(exc, DataError) and kwargs.get("max_errors"):
                exc.max_also = int(kwargs["max_errors"]) - 1
            if flags is None:
                flags = frozenset(_flags_of(func))
            _fit_hints(exc, flags)
            _say(error_line(str(exc)))
            raise SystemExit(int(exc.exit_code)) from None
        except BrokenPipeError:
            _silence_stdout()
            raise SystemExit(int(ExitCode.OK)) from None
        except KeyboardInterrupt:
            _say("Interrupted.")
            raise SystemExit(int(ExitCode.INTERRUPTED)) from None
        except Exception as exc:
            if debug or _is_typer_control_flow(exc):
                raise
            _say(error_line(internal_error_message(exc)))
            raise SystemExit(int(ExitCode.INTERNAL)) from None

    return wrapper  # type: ignore[return-value]
