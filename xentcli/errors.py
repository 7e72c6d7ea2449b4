"""The xentcli exception family and the exit codes the CLI maps them to.

This module imports nothing but the standard library, so every layer (core, io, render,
cli) can raise these errors. The CLI turns them into one ``Error: ...`` line on stderr and
the exit code of the family, in one place (``xentcli.cli.errors``).
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import IntEnum


class ExitCode(IntEnum):
    """Exit codes of the ``xent`` command (sysexits.h numbering where one exists)."""

    OK = 0
    GATE = 1
    USAGE = 2
    DATA = 65
    NO_INPUT = 66
    INTERNAL = 70
    CANT_CREATE = 73
    IO = 74
    INTERRUPTED = 130


class XentError(Exception):
    """Base class of every error xentcli raises on purpose.

    Parameters
    ----------
    message : str
        What was found and how to fix it, without the location.
    where : str, optional
        Where it was found: ``"labels.csv line 7"``, ``"logits.npy"``.
    """

    exit_code: ExitCode = ExitCode.DATA

    def __init__(self, message: str, *, where: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.where = where

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


class UsageError(XentError):
    """Options that contradict each other or do not fit the input."""

    exit_code = ExitCode.USAGE


class DataError(XentError):
    """The input's content is invalid (exit 65).

    ``source`` (``"logits"`` or ``"labels"``) and ``sample`` (0-based row of that source)
    let a caller that knows the files translate the sample into a file and line.
    ``samples`` holds every offending row (the first is ``sample``) when several are bad;
    ``also`` the places of the others, of which the message shows ``max_also``.
    """

    exit_code = ExitCode.DATA

    def __init__(
        self,
        message: str,
        *,
        where: str | None = None,
        source: str | None = None,
        sample: int | None = None,
        samples: Sequence[int] | None = None,
    ) -> None:
        super().__init__(message, where=where)
        self.source = source
        self.sample = sample
        self.samples = samples
        self.also: list[str] = []
        self.max_also = 4

    def __str__(self) -> str:
        if self.where:
            text = f"{self.where}: {self.message}"
        elif self.sample is not None:
            text = f"{self.source or 'sample'} row {self.sample}: {self.message}"
        else:
            text = self.message
        shown = self.also[: self.max_also]
        if shown:
            more = len(self.also) - len(shown)
            text += f" [also at {'; '.join(shown)}{'; ...' if more > 0 else ''}]"
        return text


class InputError(XentError):
    """An input file is missing or cannot be read (exit 66)."""

    exit_code = ExitCode.NO_INPUT


class OutputError(XentError):
    """The output file cannot be created (exit 73)."""

    exit_code = ExitCode.CANT_CREATE


class WriteError(XentError):
    """Writing the output failed part-way, e.g. a full disk (exit 74)."""

    exit_code = ExitCode.IO


class GateError(XentError):
    """A ``--fail-if`` condition held: the output was written, the run failed (exit 1)."""

    exit_code = ExitCode.GATE
