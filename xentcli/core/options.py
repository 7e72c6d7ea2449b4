"""What to compute: the loss options, validated once, shared by every block of a run."""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any, Literal

from xentcli.errors import UsageError

__all__ = ["LossOptions"]

Reduction = Literal["mean", "sum"]
InputKind = Literal["logits", "probs", "log-probs"]
Units = Literal["nats", "bits"]
Nonfinite = Literal["error", "skip"]
Empty = Literal["nan", "zero", "error"]
Compat = Literal["xent", "torch", "sklearn", "keras", "optax"]
Task = Literal["auto", "multiclass", "binary", "multilabel"]
ComputeDtype = Literal["auto", "float64"]

#: How far a row of probabilities may sum from 1 (and log-probabilities' logsumexp from 0)
#: before it is rejected, by the dtype the values arrived in. Text input is float64.
ROW_SUM_TOLERANCE = {"float64": 1e-6, "float32": 1e-4, "float16": 1e-2}

_CHOICES: dict[str, tuple[str, ...]] = {
    "reduction": ("mean", "sum"),
    "input_kind": ("logits", "probs", "log-probs"),
    "units": ("nats", "bits"),
    "nonfinite": ("error", "skip"),
    "empty": ("nan", "zero", "error"),
    "compat": ("xent", "torch", "sklearn", "keras", "optax"),
    "task": ("auto", "multiclass", "binary", "multilabel"),
    "compute_dtype": ("auto", "float64"),
}


#: Options that add to what is reported without changing the loss.
REPORT_ONLY = frozenset(("top_k", "bins", "extra", "per_class", "ci", "bootstrap", "seed", "hist"))


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


@dataclass(frozen=True)
class LossOptions:
    """Options that change the loss. The defaults give the plain, exact cross-entropy.

    Attributes
    ----------
    reduction : {"mean", "sum"}
        How the per-sample ``loss`` terms become ``summary.loss``. ``mean`` divides by the
        ``denominator``: the sum of ``weight[label]`` (times the sample weight) over the
        samples that count, which is their number when there are no weights.
    weight : tuple of float, length C, or None
        Class weights, PyTorch semantics: the per-sample term is ``weight[label] * nll``.
    ignore_index : int or None
        Samples with this label are excluded: their ``loss`` is 0 and they do not count.
    label_smoothing : float in [0, 1]
        PyTorch's formula: ``(1-E) * w[y] * nll + (E/C) * sum_c w[c] * (-log p_c)``.
    temperature : float > 0
        Logits are divided by it before the softmax (log-probabilities likewise, then
        renormalised).
    input_kind : {"logits", "probs", "log-probs"}
        What the input values are.
    renormalize : bool
        Accept probability rows that do not sum to 1 and divide them by their sum
        (log-probabilities: subtract their logsumexp).
    clip : float or None
        Clip probabilities to ``[clip, 1 - clip]`` before the log (scikit-learn's ``eps``).
        Without it a zero probability on the true class is an infinite loss.
    units : {"nats", "bits"}
        Natural or base-2 logarithms for losses and log-likelihoods.
    nonfinite : {"error", "skip"}
        Rows with NaN or ``+inf`` input (or whose every logit is ``-inf``) are an error, or
        are left out of the result and counted as ``skipped``.
    empty : {"nan", "zero", "error"} or None
        The mean when nothing counts (all samples ignored or skipped, or zero total weight):
        NaN (PyTorch), 0 (Keras), or an error. None: the ``compat`` profile's choice (NaN
        for ``xent``).
    compat : {"xent", "torch", "sklearn", "keras", "optax"}
        Reproduce a library's numbers and edge behaviour (see :mod:`xentcli.core.compat`);
        ``xent`` is exact: no clipping, NaN and infinities never hidden.
    task : {"auto", "multiclass", "binary", "multilabel"}
        ``auto``: one column of scores (or a 1-D array) is binary, more are multiclass.
        ``binary`` and ``multilabel`` use the binary cross-entropy of each score.
    pos_weight : float, tuple of float, or None
        Binary and multi-label: weight of the positive term (PyTorch's ``pos_weight``);
        one number, or one per class for multi-label.
    class_axis : int or None
        For inputs with more than 2 dimensions (segmentation, sequences): the class axis
        (1 for PyTorch's (N, C, d1, ...), -1 for channels-last). Every position is a sample.
    top_k : int or None
        Also report the top-K accuracy (scikit-learn's ``top_k_accuracy_score``).
    bins : int or None
        Also report the Brier score, the mean entropy and the calibration errors (ECE, MCE,
        RMSCE over this many equal-width confidence bins, torchmetrics' definitions).
    extra : bool
        Also compute each sample's rank of the true class, margin and entropy.
    per_class : bool
        Also break the summary down by true class (support, mean NLL, accuracy, mean
        confidence, share of the loss).
    ci : float in (0, 1) or None
        Also give a bootstrap interval at this level for the loss and the accuracy.
    bootstrap : int
        Replicates of the (Poisson) bootstrap behind ``ci``.
    seed : int or None
        Seed of the bootstrap; None draws one (recorded in the summary) when ``ci`` is set.
    hist : bool
        Also count the per-sample NLL in a histogram.
    compute_dtype : {"auto", "float64"}
        ``auto``: float32 and float16 logits are computed in float32 by the fast kernel
        (plain logits with class-index labels; each nll within 1e-6 relative of the exact
        value of the float32 inputs for losses above ~1e-25), everything else in float64.
        ``float64``: everything in float64.
    """

    reduction: Reduction = "mean"
    weight: tuple[float, ...] | None = None
    ignore_index: int | None = None
    label_smoothing: float = 0.0
    temperature: float = 1.0
    input_kind: InputKind = "logits"
    renormalize: bool = False
    clip: float | None = None
    units: Units = "nats"
    nonfinite: Nonfinite = "error"
    empty: Empty | None = None
    compat: Compat = "xent"
    task: Task = "auto"
    pos_weight: float | tuple[float, ...] | None = None
    class_axis: int | None = None
    top_k: int | None = None
    bins: int | None = None
    extra: bool = False
    per_class: bool = False
    ci: float | None = None
    bootstrap: int = 1000
    seed: int | None = None
    hist: bool = False
    compute_dtype: ComputeDtype = "auto"

    def __post_init__(self) -> None:
        for name, choices in _CHOICES.items():
            value = getattr(self, name)
            if value is None and name == "empty":
                continue
            if value not in choices:
                raise UsageError(f"{_flag(name)} {value!r}: choose one of {', '.join(choices)}")
        e = self.label_smoothing
        if not (isinstance(e, (int, float)) and 0.0 <= e <= 1.0):
            raise UsageError(f"--label-smoothing {e!r} must be between 0 and 1")
        t = self.temperature
        if not (isinstance(t, (int, float)) and math.isfinite(t) and t > 0):
            raise UsageError(f"--temperature {t!r} must be a positive finite number")
        if self.weight is not None:
            w = tuple(float(v) for v in self.weight)
            bad = [v for v in w if not (math.isfinite(v) and v >= 0)]
            if bad:
                raise UsageError(
                    f"--weight {bad[0]!r}: class weights must be finite and non-negative"
                )
            object.__setattr__(self, "weight", w)
        for name in ("top_k", "bins"):
            value = getattr(self, name)
            if value is not None and not (isinstance(value, int) and value >= 1):
                raise UsageError(f"{_flag(name)} {value!r} must be a whole number of at least 1")
        if self.ci is not None:
            ci = self.ci
            if not (isinstance(ci, (int, float)) and 0.0 < ci < 1.0):
                raise UsageError(f"--ci {ci!r} must be a level between 0 and 1, such as 0.95")
            b = self.bootstrap
            if not (isinstance(b, int) and b >= 10):
                raise UsageError(f"--bootstrap {b!r} must be a whole number of at least 10")
            if self.seed is None:
                from xentcli.core.bootstrap import draw_seed

                object.__setattr__(self, "seed", draw_seed())
            elif not (isinstance(self.seed, int) and self.seed >= 0):
                raise UsageError(f"--seed {self.seed!r} must be a non-negative whole number")
        if self.pos_weight is not None:
            pw = self.pos_weight
            values = (pw,) if isinstance(pw, (int, float)) else tuple(pw)
            bad = [v for v in values if not (math.isfinite(float(v)) and float(v) >= 0)]
            if bad:
                raise UsageError(
                    f"--pos-weight {bad[0]!r}: positive-class weights must be finite and "
                    "non-negative"
                )
            if self.task == "multiclass":
                raise UsageError("--pos-weight applies to binary and multi-label losses")
            object.__setattr__(
                self,
                "pos_weight",
                float(pw) if isinstance(pw, (int, float)) else tuple(float(v) for v in pw),
            )
        if self.clip is not None:
            c = self.clip
            if not (isinstance(c, (int, float)) and 0.0 < c < 0.5):
                raise UsageError(f"--clip {c!r} must be a small positive number below 0.5")
            if self.input_kind == "logits":
                raise UsageError(
                    "--clip applies to probabilities (--input-kind probs or log-probs); "
                    "logits go through an exact softmax and need no clipping"
                )
        if self.renormalize and self.input_kind == "logits":
            raise UsageError(
                "--renormalize applies to --input-kind probs or log-probs; a softmax of "
                "logits is always normalised"
            )

    @property
    def empty_value(self) -> Empty:
        """The ``empty`` policy in force (the profile's when not set)."""
        if self.empty is not None:
            return self.empty
        return {"keras": "zero", "sklearn": "error"}.get(self.compat, "nan")  # type: ignore[return-value]

    def changed(self) -> dict[str, Any]:
        """The options that differ from the defaults and change the loss, as JSON-ready
        values."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in REPORT_ONLY:
                continue  # they add metrics (reported as keys of their own), not change one
            if value != f.default:
                out[f.name] = list(value) if isinstance(value, tuple) else value
        return out

    def check_n_classes(self, n_classes: int) -> None:
        """Raise if the options do not fit ``n_classes`` classes."""
        pw = self.pos_weight
        if isinstance(pw, tuple) and len(pw) not in (1, n_classes):
            raise UsageError(
                f"--pos-weight has {len(pw)} values but the input has {n_classes} "
                "classes: give one number, or one per class"
            )
        if self.weight is not None and len(self.weight) != n_classes:
            raise UsageError(
                f"--weight has {len(self.weight)} values but the input has {n_classes} "
                "classes: give one weight per class"
            )
