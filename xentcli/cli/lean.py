"""``xent loss FILE -l LABELS -s -f json``, without Typer: the start-up of a one-liner.

Importing Typer (and its Click) costs about as much as the run of a small input, so
:func:`lean_loss` parses the common options itself and calls the very function the Typer
command calls (:func:`~xentcli.cli.loss_run.run_loss`) under the same error guard. It
takes only what it can read without doubt: known options, each at most once, values
that do not look like options, formats spelled as Typer lists them. Anything else
(``--help``, another option, ``-sq``, ``--``, a repeated flag, a bad value) returns
None, and the Typer application parses the command line instead, with its own messages.
``tests/test_lean.py`` checks both paths call ``run_loss`` with the same values.
"""

from __future__ import annotations

from typing import Any

from xentcli.cli.choices import OutputFormat

#: Options of ``xent loss`` read here: option -> (parameter, takes a value).
OPTIONS: dict[str, tuple[str, bool]] = {
    "-l": ("labels", True),
    "--labels": ("labels", True),
    "-s": ("summary", False),
    "--summary": ("summary", False),
    "-f": ("fmt", True),
    "--format": ("fmt", True),
    "-o": ("output", True),
    "--output": ("output", True),
    "-q": ("quiet", False),
    "--quiet": ("quiet", False),
    "--no-color": ("no_color", False),
}
#: Of the options error messages may hint at, those ``xent loss`` has (all of them).
HINTED_FLAGS = frozenset({"--nonfinite", "--renormalize", "--class-axis"})
_FORMATS = frozenset(f.value for f in OutputFormat)


def parse(args: list[str]) -> dict[str, Any] | None:
    """``run_loss``'s keyword arguments for ``xent loss ARGS``, or None to leave the
    command line to Typer."""
    values: dict[str, Any] = {}
    inputs: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        if arg == "-" or not arg.startswith("-"):
            inputs.append(arg)
            continue
        name, eq, value = arg.partition("=")
        if name not in OPTIONS or (eq and not name.startswith("--")):
            return None
        param, takes_value = OPTIONS[name]
        if param in values:
            return None
        if not takes_value:
            if eq:
                return None
            values[param] = True
            continue
        if not eq:
            if i >= len(args):
                return None
            value = args[i]
            i += 1
        if not value or (value.startswith("-") and value != "-"):
            return None
        values[param] = value
    if "fmt" in values:
        if values["fmt"] not in _FORMATS:
            return None
        values["fmt"] = OutputFormat(values["fmt"])
    values["input"] = inputs or None
    return values


def lean_loss(args: list[str]) -> bool:
    """Run ``xent loss ARGS`` if :func:`parse` reads them (True), else do nothing."""
    values = parse(args)
    if values is None:
        return False
    from xentcli.cli.errors import guarded
    from xentcli.cli.loss_run import run_loss

    guarded(run_loss, HINTED_FLAGS)(**values)
    return True
