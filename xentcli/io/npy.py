"""Safe loading of ``.npy`` and ``.npz`` data: never unpickle, check before allocating."""

from __future__ import annotations

import io
import os
import warnings
import zlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.lib import format as npformat
from numpy.typing import NDArray

from xentcli.errors import DataError, UsageError

if TYPE_CHECKING:
    from zipfile import ZipFile, ZipInfo


@dataclass(frozen=True)
class NpyHeader:
    """A validated NPY header: the array's shape, order and dtype, and where data starts."""

    shape: tuple[int, ...]
    fortran: bool
    dtype: np.dtype[Any]
    offset: int

    @property
    def nbytes(self) -> int:
        """Bytes of data the header promises."""
        count = 1
        for dim in self.shape:
            count *= dim
        return count * self.dtype.itemsize


def parse_npy_header(data: bytes, name: str) -> NpyHeader:
    """Read and validate the header at the start of ``data`` (the file's first bytes).

    Raises
    ------
    DataError
        Not an NPY file, an object (pickled) or non-numeric dtype, a negative dimension.
    """
    fh = io.BytesIO(data)
    try:
        # The header is a Python literal written by whoever made the file: NumPy's parser
        # can raise almost anything on garbage (TokenError, SyntaxError, ...) and warn
        # about Python 2 files. Every failure is "not a valid .npy file".
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            version = npformat.read_magic(fh)
            if version == (1, 0):
                shape, fortran, dtype = npformat.read_array_header_1_0(fh)
            else:
                shape, fortran, dtype = npformat.read_array_header_2_0(fh)
    except Exception as exc:  # untrusted input, see above
        detail = " ".join(str(exc).split())[:120] or type(exc).__name__
        raise DataError(f"not a valid .npy file ({detail})", where=name) from None
    if any(int(d) < 0 for d in shape):
        raise DataError(f"not a valid .npy file (negative dimension in shape {shape})", where=name)
    if any(int(d) > np.iinfo(np.intp).max for d in shape):
        raise DataError(f"not a valid .npy file (shape {shape} is too large)", where=name)
    if dtype.hasobject:
        raise DataError(
            "the array has dtype object (pickled Python objects); xent never unpickles "
            "data: save the array with a numeric dtype",
            where=name,
        )
    if dtype.kind not in "biuf" or dtype.fields is not None or dtype.subdtype is not None:
        raise DataError(f"the array has dtype {dtype}; expected real numbers", where=name)
    return NpyHeader(tuple(int(d) for d in shape), bool(fortran), dtype, fh.tell())


#: An NPY header is at most this long (version 2 allows 4 GiB, but NumPy writes < 64 KiB).
MAX_HEADER = 1 << 20


def truncated(header: NpyHeader, available: int, name: str) -> DataError:
    """The error for a file holding fewer data bytes than its header promises."""
    return DataError(
        f"the file is truncated: header says shape {header.shape} ({header.nbytes} bytes "
        f"of data), but only {available} bytes follow",
        where=name,
    )


def load_npy(data: bytes, name: str) -> NDArray[np.generic]:
    """Load one NPY array from bytes, validating its header against the payload first.

    A header that claims more data than the file holds (a truncated file, or a tiny file
    claiming a huge shape) is rejected before anything is allocated.

    Raises
    ------
    DataError
        Not an NPY file, truncated, an object (pickled) or non-numeric dtype.
    """
    header = parse_npy_header(data, name)
    available = len(data) - header.offset
    if available < header.nbytes:
        raise truncated(header, available, name)
    try:
        count = header.nbytes // header.dtype.itemsize if header.dtype.itemsize else 0
        flat = np.frombuffer(data, dtype=header.dtype, count=count, offset=header.offset)
        arr: NDArray[np.generic] = flat.reshape(header.shape, order="F" if header.fortran else "C")
    except (ValueError, OverflowError, MemoryError) as exc:
        raise DataError(
            f"not a valid .npy file (shape {header.shape}: {exc})", where=name
        ) from None
    return arr


#: Caps on what an .npz may make us read, so a zip bomb ends in an error, not an
#: out-of-memory kill. Real float arrays compress by far less than 100:1; only members
#: larger than RATIO_CHECK_BYTES are held to MAX_RATIO (a small all-zero array is fine).
MAX_MEMBERS = 10_000
MAX_RATIO = 100
RATIO_CHECK_BYTES = 64 << 20


def max_member_bytes() -> int:
    """Largest uncompressed member we read: half the machine's memory (4 GiB if unknown)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2
    except (ValueError, OSError, AttributeError):
        return 4 << 30


def _read_member(zf: ZipFile, info: ZipInfo, name: str) -> bytes:
    limit = max_member_bytes()
    what = f"member {info.filename!r}"
    if info.file_size > limit:
        raise DataError(
            f"{what} would be {info.file_size} bytes uncompressed, more than the "
            f"{limit}-byte limit (half this machine's memory)",
            where=name,
        )
    ratio = info.file_size / max(info.compress_size, 1)
    if info.file_size > RATIO_CHECK_BYTES and ratio > MAX_RATIO:
        raise DataError(
            f"{what} expands {ratio:.0f}-fold ({info.compress_size} to {info.file_size} "
            f"bytes): this looks like a zip bomb, refused (limit {MAX_RATIO}:1)",
            where=name,
        )
    with zf.open(info) as fh:
        # The sizes in the header can lie: never read past what it declared.
        data = fh.read(info.file_size + 1)
    if len(data) != info.file_size:
        raise DataError(
            f"{what} holds {'more' if len(data) > info.file_size else 'less'} data than "
            "its header says: the archive is corrupt",
            where=name,
        )
    return data


def load_npz(data: bytes, name: str, key: str | None, default_key: str) -> dict[str, bytes]:
    """Return the raw NPY bytes of the wanted members of an NPZ archive.

    The members returned are ``key`` (or ``default_key``, or the only member) as
    ``"logits"``, and ``"labels"`` when the archive has such a member.

    Raises
    ------
    DataError
        A corrupt archive, or no member that fits.
    UsageError
        ``key`` is not in the archive.
    """
    import zipfile  # only for .npz (10 ms of start-up otherwise)

    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
        if len(infos) > MAX_MEMBERS:
            raise DataError(
                f"the archive has {len(infos)} members, more than the {MAX_MEMBERS} xent "
                "reads; save the logits (and labels) in a smaller .npz",
                where=name,
            )
        by_name = {i.filename: i for i in infos}
        members = {n.removesuffix(".npy"): n for n in by_name if n.endswith(".npy")}
        if key is not None:
            if key not in members:
                raise UsageError(
                    f"--key {key!r}: {name} has no such array "
                    f"(arrays: {', '.join(sorted(members)) or 'none'})"
                )
            chosen = key
        elif default_key in members:
            chosen = default_key
        else:
            others = [m for m in members if m != "labels"]
            if len(others) != 1:
                raise DataError(
                    f"no array named {default_key!r} and {len(others)} other arrays "
                    f"({', '.join(sorted(others)) or 'none'}): choose one with --key",
                    where=name,
                )
            chosen = others[0]
        out = {"logits": _read_member(zf, by_name[members[chosen]], name)}
        if "labels" in members and chosen != "labels":
            out["labels"] = _read_member(zf, by_name[members["labels"]], name)
        return out
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        zlib.error,
        EOFError,
        OSError,
        NotImplementedError,  # an unsupported compression method
        RuntimeError,  # an encrypted member
        UnicodeDecodeError,  # a member name flagged UTF-8 that is not
        ValueError,  # offsets that point outside the file
    ) as exc:
        raise DataError(f"not a valid .npz archive ({exc})", where=name) from None
