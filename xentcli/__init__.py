"""xentcli: cross-entropy (log loss) from a classifier's outputs, exactly.

The library API is the numerical core::

    >>> from xentcli import cross_entropy
    >>> cross_entropy([[2.0, 0.0]], [0]).summary.loss  # doctest: +ELLIPSIS
    0.1269...

The ``xent`` command (``xentcli.cli``) is a thin layer over it.
"""

from xentcli.core import (
    LossOptions,
    LossResult,
    LossStats,
    Summary,
    cross_entropy,
    log_softmax,
    softmax,
)
from xentcli.errors import (
    DataError,
    ExitCode,
    InputError,
    OutputError,
    UsageError,
    WriteError,
    XentError,
)


def __getattr__(name: str) -> str:
    # The version is looked up on first use: importlib.metadata costs ~50 ms at start-up.
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("xentcli")
        except PackageNotFoundError:  # pragma: no cover - running from a source tree
            return "0+unknown"
    raise AttributeError(f"module 'xentcli' has no attribute {name!r}")


__all__ = [
    "DataError",
    "ExitCode",
    "InputError",
    "LossOptions",
    "LossResult",
    "LossStats",
    "OutputError",
    "Summary",
    "UsageError",
    "WriteError",
    "XentError",
    "__version__",
    "cross_entropy",
    "log_softmax",
    "softmax",
]
