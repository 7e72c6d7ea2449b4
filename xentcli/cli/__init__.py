"""The ``xent`` command line: a thin layer of io -> core -> render."""

import atexit
import gc
import sys
from typing import Any

_freezes_at_exit = False


def main() -> None:
    """Console-script entry point."""
    global _freezes_at_exit
    if not _freezes_at_exit:
        # At exit, leave what is still alive to the operating system rather than to the
        # interpreter's last full garbage collections over every object of NumPy and
        # the modules (~13 ms of the ~150 of a 10-row run; RESULTS.md, session 8).
        # atexit callbacks run before those collections; an in-process caller's later
        # garbage stays collectable until then.
        atexit.register(gc.freeze)
        _freezes_at_exit = True
    if sys.argv[1:] in (["--version"], ["-V"]):
        # Answer without loading the commands (and NumPy): a start-up of a few tens of ms.
        from xentcli import __version__

        print(f"xent {__version__}")
        return
    if sys.argv[1:2] == ["loss"]:
        from xentcli.cli.lean import lean_loss

        if lean_loss(sys.argv[2:]):
            return
    from xentcli.cli.application import COMMANDS, build_app

    # ``xent loss ...``: build the application with that command alone.
    command = sys.argv[1] if len(sys.argv) > 1 and sys.argv[1] in COMMANDS else None
    build_app(command)(prog_name="xent")


def __getattr__(name: str) -> Any:
    if name == "app":
        from xentcli.cli.application import app

        return app
    raise AttributeError(f"module 'xentcli.cli' has no attribute {name!r}")


__all__ = ["app", "main"]
