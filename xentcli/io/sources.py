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


def _sniff(data: bytes) -> Format:
    if data.startswith(NPY_MAGIC):
        return "npy"
    if data.startswith(ZIP_MAGIC):
        return "npz"
    return "txt"


def read_source(path: str, stdin: BinaryIO | None, forced: Format | None = None) -> Source:
    """Read a whole input (``-`` is stdin) and decide its format.

    The format is ``forced`` if given, else the file extension, else sniffed from the
    content (NPY magic bytes, a zip header for NPZ, text otherwise).

    Raises
    ------
    InputError
        The file does not exist or cannot be read.
    """
    if path == "-":
        if stdin is None:
            raise UsageError("no standard input to read from")
        try:
            data = stdin.read()
        except OSError as exc:
            raise InputError(f"cannot read standard input: {exc.strerror or exc}") from exc
        return Source(STDIN_NAME, data, forced or _sniff(data), is_stdin=True)
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except FileNotFoundError:
        raise InputError("no such file", where=path) from None
    except IsADirectoryError:
        raise InputError("is a directory, not a file", where=path) from None
    except PermissionError:
        raise InputError("permission denied", where=path) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", where=path) from exc
    ext = os.path.splitext(path)[1].lower()
    fmt = forced or _EXTENSIONS.get(ext) or _sniff(data)
    return Source(path, data, fmt)
