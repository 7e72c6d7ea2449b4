"""The numerical core of xentcli: pure NumPy, no I/O, no printing.

Arrays in, frozen dataclasses out. Importing it loads neither Typer nor Rich.
"""

from typing import TYPE_CHECKING, Any

from xentcli.core.loss import (
    LossResult,
    concat_results,
    cross_entropy,
    loss_stats,
    sorted_samples,
    take_samples,
)
from xentcli.core.options import LossOptions
from xentcli.core.softmax import log_sigmoid, log_softmax, sigmoid, softmax
from xentcli.core.stats import LossStats, Summary
from xentcli.core.validate import check_labels, check_logits

if TYPE_CHECKING:
    from xentcli.core.calibration import Calibration, calibrate, fit_temperature


def __getattr__(name: str) -> Any:
    # Temperature scaling is imported on first use: ``xent loss`` never needs it.
    if name in ("Calibration", "calibrate", "fit_temperature"):
        from xentcli.core import calibration

        return getattr(calibration, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "Calibration",
    "LossOptions",
    "LossResult",
    "LossStats",
    "Summary",
    "calibrate",
    "check_labels",
    "check_logits",
    "concat_results",
    "cross_entropy",
    "fit_temperature",
    "log_sigmoid",
    "log_softmax",
    "loss_stats",
    "sigmoid",
    "softmax",
    "sorted_samples",
    "take_samples",
]
