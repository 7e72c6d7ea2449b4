"""Where input bytes come from (a path or stdin) and what format they are in."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import BinaryIO, Literal

from xentcli.errors import InputError, UsageError

Format = Literal["csv", "tsv", "txt", "npy", "npz"]
FORMATS: tuple[Format, ...] = ("csv", "tsv", "txt", "npy", "npz")
STDIN_NAME = "<stdin>"

NPY_MAGIC = b"\x93NUMPY"
ZIP_MAGIC = b"PK\x03\x04"

_EXTENSIONS: dict[str, Format] = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".txt": "txt",
    ".npy": "npy",
    ".npz": "npz",
}


@dataclass(frozen=True)
class Source:
    """One input: its display name, its bytes and its format."""

    name: str
    data: bytes
    format: Format
    is_stdin: bool = False


def detect_format(path: str, head: bytes, forced: Format | None = None) -> Format:
    """``forced`` if given, else the file extension, else sniffed from the first bytes
    (NPY magic, a zip header for NPZ, text otherwise)."""
    if forced is not None:
        return forced
    ext = os.path.splitext(path)[1].lower() if path != "-" else ""
    if ext in _EXTENSIONS:
        return _EXTENSIONS[ext]
    if head.startswith(NPY_MAGIC):
        return "npy"
    if head.startswith(ZIP_MAGIC):
        return "npz"
    return "txt"


def open_input(path: str, stdin: BinaryIO | None) -> tuple[BinaryIO, str]:
    """The binary stream of ``path`` (``-``: stdin) and the name to show for it.

    Raises
    ------
    UsageError
        ``-`` with no standard input.
    InputError
        The file does not exist or cannot be opened.
    """
    if path == "-":
        if stdin is None:
            raise UsageError("no standard input to read from")
        return stdin, STDIN_NAME
    try:
        return open(path, "rb"), path
    except FileNotFoundError:
        raise InputError("no such file", where=path) from None
    except IsADirectoryError:
        raise InputError("is a directory, not a file", where=path) from None
    except PermissionError:
        raise InputError("permission denied", where=path) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", where=path) from exc


def read_source(path: str, stdin: BinaryIO | None, forced: Format | None = None) -> Source:
    """Read a whole input (``-`` is stdin) and decide its format (:func:`detect_format`).

    Raises
    ------
    InputError
        The file does not exist or cannot be read.
    """
    fh, name = open_input(path, stdin)
    try:
        data = fh.read()
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", where=name) from exc
    finally:
        if fh is not stdin:
            fh.close()
    return Source(name, data, detect_format(path, data, forced), is_stdin=fh is stdin)
