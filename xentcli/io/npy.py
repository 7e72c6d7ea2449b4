"""Safe loading of ``.npy`` and ``.npz`` data: never unpickle, check before allocating."""

from __future__ import annotations

import io
import zipfile
import zlib

import numpy as np
from numpy.lib import format as npformat
from numpy.typing import NDArray

from xentcli.errors import DataError, UsageError


def load_npy(data: bytes, name: str) -> NDArray[np.generic]:
    """Load one NPY array from bytes, validating its header against the payload first.

    A header that claims more data than the file holds (a truncated file, or a tiny file
    claiming a huge shape) is rejected before anything is allocated.

    Raises
    ------
    DataError
        Not an NPY file, truncated, an object (pickled) or non-numeric dtype.
    """
    fh = io.BytesIO(data)
    try:
        version = npformat.read_magic(fh)
        if version == (1, 0):
            shape, fortran, dtype = npformat.read_array_header_1_0(fh)
        else:
            shape, fortran, dtype = npformat.read_array_header_2_0(fh)
    except (ValueError, OSError, EOFError) as exc:
        raise DataError(f"not a valid .npy file ({exc})", where=name) from None
    if dtype.hasobject:
        raise DataError(
            "the array has dtype object (pickled Python objects); xent never unpickles "
            "data: save the array with a numeric dtype",
            where=name,
        )
    if dtype.kind not in "biuf" or dtype.fields is not None or dtype.subdtype is not None:
        raise DataError(f"the array has dtype {dtype}; expected real numbers", where=name)
    count = 1
    for dim in shape:
        count *= int(dim)
    expected = count * dtype.itemsize
    available = len(data) - fh.tell()
    if available < expected:
        raise DataError(
            f"the file is truncated: header says shape {shape} ({expected} bytes of data), "
            f"but only {available} bytes follow",
            where=name,
        )
    flat = np.frombuffer(data, dtype=dtype, count=count, offset=fh.tell())
    arr: NDArray[np.generic] = flat.reshape(shape, order="F" if fortran else "C")
    return arr


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
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        members = {n.removesuffix(".npy"): n for n in zf.namelist() if n.endswith(".npy")}
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
        out = {"logits": zf.read(members[chosen])}
        if "labels" in members and chosen != "labels":
            out["labels"] = zf.read(members["labels"])
        return out
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, OSError) as exc:
        raise DataError(f"not a valid .npz archive ({exc})", where=name) from None
