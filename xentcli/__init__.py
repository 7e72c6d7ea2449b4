"""xentcli: cross-entropy (log loss) from a classifier's outputs, exactly.

The library API is the numerical core::

    >>> from xentcli import cross_entropy
    >>> cross_entropy([[2.0, 0.0]], [0]).summary.loss  # doctest: +ELLIPSIS
    0.1269...

The ``xent`` command (``xentcli.cli``) is a thin layer over it.
"""

from typing import TYPE_CHECKING, Any

from xentcli.errors import (
    DataError,
    ExitCode,
    InputError,
    OutputError,
    UsageError,
    WriteError,
    XentError,
)

if TYPE_CHECKING:
    from xentcli.core import (
        LossOptions,
        LossResult,
        LossStats,
        Summary,
        cross_entropy,
        log_softmax,
        softmax,
    )

_CORE = {
    "LossOptions",
    "LossResult",
    "LossStats",
    "Summary",
    "cross_entropy",
    "log_softmax",
    "softmax",
}


def __getattr__(name: str) -> Any:
    # The core (and NumPy) load on first use, so `xent --version` need not wait for them;
    # the version is looked up on first use too (importlib.metadata costs ~50 ms).
    if name in _CORE:
        from xentcli import core

        return getattr(core, name)
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
