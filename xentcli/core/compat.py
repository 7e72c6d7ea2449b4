"""``compat`` profiles: each library's exact edge behaviour, as a few explicit switches.

The numbers every library computes for ordinary input are the same cross-entropy; they
differ at the edges, and silently. A profile names each difference:

========  ===========  ===========  ============  ===========  ==========  ============
profile   clip probs   renormalise  row check     mean divides 0 * log 0   empty mean
========  ===========  ===========  ============  ===========  ==========  ============
xent      no           no           error         by weights   0           NaN
torch     no           no           none          by weights   NaN         NaN
sklearn   dtype eps    no           warning       by weights   0           error
keras     1e-7         yes, first   none          by count     NaN         0
optax     no           no           none          by count     NaN         NaN
========  ===========  ===========  ============  ===========  ==========  ============

"by weights": the sum of ``weight[label] * sample_weight`` over the samples that count
(PyTorch's class weights, scikit-learn's sample weights). "by count": the number of samples
that count (Keras' ``sum_over_batch_size``; optax's ``mean(..., where=mask)``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from xentcli.errors import UsageError

__all__ = ["PROFILES", "Profile"]


@dataclass(frozen=True)
class Profile:
    """The switches of one ``compat`` profile (see the module docstring)."""

    name: str
    library: str
    clip: float | Literal["dtype"] | None
    renormalize: bool
    row_check: Literal["error", "warn", "none"]
    denominator: Literal["weights", "count"]
    zero_times_log_zero: Literal["zero", "nan"]
    unsupported: tuple[str, ...] = ()

    def clip_eps(self, dtype: np.dtype[Any]) -> float | None:
        """The clipping epsilon for probabilities that arrived as ``dtype``."""
        if self.clip == "dtype":
            return float(np.finfo(dtype if dtype.kind == "f" else np.float64).eps)
        return self.clip

    def check(self, given: dict[str, bool]) -> None:
        """Reject options the library does not have (rather than invent its semantics);
        ``given`` says which options were used."""
        for name in self.unsupported:
            if given.get(name):
                flag = "--" + name.replace("_", "-")
                raise UsageError(
                    f"--compat {self.name}: {self.library} has no equivalent of {flag}; "
                    f"drop it, or use --compat xent"
                )


PROFILES: dict[str, Profile] = {
    p.name: p
    for p in (
        Profile("xent", "xent", None, False, "error", "weights", "zero"),
        Profile("torch", "PyTorch", None, False, "none", "weights", "nan", ("sample_weight",)),
        Profile(
            "sklearn",
            "scikit-learn's log_loss",
            "dtype",
            False,
            "warn",
            "weights",
            "zero",
            ("weight", "ignore_index", "label_smoothing", "pos_weight", "clip", "renormalize"),
        ),
        Profile(
            "keras",
            "Keras",
            1e-7,
            True,
            "none",
            "count",
            "nan",
            ("weight", "pos_weight", "clip"),
        ),
        Profile(
            "optax",
            "optax",
            None,
            False,
            "none",
            "count",
            "nan",
            ("weight", "pos_weight", "clip", "sample_weight"),
        ),
    )
}
