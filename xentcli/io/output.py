"""Writing output: atomically to a file, so a failed run never leaves half a file."""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterable

from xentcli.errors import OutputError, WriteError


def _is_special(path: str) -> bool:
    """True for an existing non-regular file (``/dev/stdout``, a FIFO, ``/dev/full``)."""
    try:
        return not stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False


def _bytes(chunk: str | bytes) -> bytes:
    return chunk.encode("utf-8") if isinstance(chunk, str) else chunk


def _write_direct(path: str, chunks: Iterable[str | bytes]) -> None:
    try:
        fh = open(path, "wb")  # noqa: SIM115
    except OSError as exc:
        raise OutputError(f"cannot open for writing: {exc.strerror or exc}", where=path) from None
    try:
        with fh:
            for chunk in chunks:
                fh.write(_bytes(chunk))
    except OSError as exc:
        raise WriteError(f"write failed: {exc.strerror or exc}", where=path) from None


def check_creatable(path: str) -> None:
    """Raise :class:`OutputError` now if ``path`` cannot be written later (its directory
    is missing or not writable), so a long run does not end in that error."""
    if _is_special(path):
        return
    directory = os.path.dirname(os.path.realpath(path)) or "."
    try:
        mode = os.stat(directory).st_mode
    except OSError as exc:
        raise OutputError(f"cannot create: {exc.strerror or exc}", where=path) from None
    if not stat.S_ISDIR(mode):
        raise OutputError("cannot create: Not a directory", where=path)
    if not os.access(directory, os.W_OK):
        raise OutputError("cannot create: Permission denied", where=path)


def write_atomic(path: str, chunks: Iterable[str | bytes]) -> None:
    """Write ``chunks`` (text as UTF-8, or bytes) to ``path`` through a temporary file
    and a rename.

    An existing file at ``path`` is replaced only once everything was written; on any
    error (including Ctrl-C) the temporary file is removed and ``path`` is untouched.
    Devices and FIFOs (``/dev/stdout``) are written directly.

    Raises
    ------
    OutputError
        The output cannot be created (missing directory, no permission): exit 73.
    WriteError
        Writing failed part-way (disk full): exit 74.
    """
    if _is_special(path):
        _write_direct(path, chunks)
        return
    # Write through a symlink, as a shell redirection does, instead of replacing the link.
    target = os.path.realpath(path)
    directory = os.path.dirname(target)
    try:
        import tempfile  # only when writing a file (3 ms of start-up otherwise)

        fd, tmp = tempfile.mkstemp(
            prefix=f".{os.path.basename(target)}.", suffix=".part", dir=directory
        )
    except OSError as exc:
        raise OutputError(f"cannot create: {exc.strerror or exc}", where=path) from None
    try:
        try:
            mode = stat.S_IMODE(os.stat(path).st_mode)
        except OSError:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        with os.fdopen(fd, "wb") as fh:
            for chunk in chunks:
                fh.write(_bytes(chunk))
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise WriteError(f"write failed: {exc.strerror or exc}", where=path) from None
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
