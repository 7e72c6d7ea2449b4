"""Results as plain records (dicts) with the JSON schema's keys and value conventions.

Non-finite floats never reach JSON as ``NaN``/``Infinity``: they become ``null`` and the
record gets a ``nonfinite`` object naming each such field and its value (``"inf"``,
``"-inf"`` or ``"nan"``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from xentcli.core import LossResult, Summary

SCHEMA_LOSS = "xent.loss/1"
DEFAULT_HEAD = 20  # samples in a table unless --head says otherwise
DEFAULT_PRECISION = 6  # significant digits in tables
SAMPLE_FIELDS = ("index", "label", "pred", "p_true", "log_p_true", "nll", "loss")
FLOAT_FIELDS = ("p_true", "log_p_true", "nll", "loss")
#: ``--extra``: rank of the true class, margin, entropy.
EXTRA_FIELDS = ("rank", "margin", "entropy")


@dataclass(frozen=True)
class View:
    """What to show of a result: names, extra columns, how many rows, how precisely."""

    class_names: tuple[str, ...] | None = None
    with_probs: bool = False
    head: int | None = None
    precision: int | None = None
    show_ignored: bool = False
    extra: bool = False


def rounder(precision: int | None) -> Any:
    """A function rounding floats to ``precision`` significant digits (identity if None)."""
    if precision is None:
        return lambda x: x
    fmt = f".{precision}g"

    def rnd(x: float) -> float:
        return float(format(x, fmt)) if math.isfinite(x) else x

    return rnd


def nonfinite_name(x: float) -> str:
    """``"inf"``, ``"-inf"`` or ``"nan"``."""
    if math.isnan(x):
        return "nan"
    return "inf" if x > 0 else "-inf"


def finite_or_flag(record: dict[str, Any], keys: Iterable[str]) -> dict[str, Any]:
    """Non-finite floats of ``record[k]`` as null, named in ``record["nonfinite"]``: a
    float's name (``"inf"``), or for a list of floats (an interval) a list aligned with
    it, null where the value is finite (``[null, "inf"]``)."""
    flags: dict[str, Any] = {}
    for k in keys:
        v = record[k]
        if isinstance(v, float) and not math.isfinite(v):
            flags[k] = nonfinite_name(v)
            record[k] = None
        elif isinstance(v, list) and any(isinstance(x, float) and not math.isfinite(x) for x in v):
            flags[k] = [None if math.isfinite(x) else nonfinite_name(x) for x in v]
            record[k] = [x if math.isfinite(x) else None for x in v]
    if flags:
        record["nonfinite"] = flags
    return record


def class_name(label: Any, names: Sequence[str], n_classes: int) -> Any:
    """The name of a class index (None if it is not a class), or a list of names."""
    if isinstance(label, list):
        return [names[j] for j in label]
    return names[label] if 0 <= label < n_classes else None


def shown_count(result: LossResult, view: View) -> int:
    """How many samples a view shows (``head`` caps it)."""
    return result.n if view.head is None else min(view.head, result.n)


def sample_records(result: LossResult, view: View) -> Iterator[dict[str, Any]]:
    """Per-sample records with the keys of the JSON ``samples`` array."""
    n = shown_count(result, view)
    rnd = rounder(view.precision)
    cols = {f: getattr(result, f)[:n].tolist() for f in SAMPLE_FIELDS}
    if result.label.ndim == 2:
        # Multi-label: the classes that are on, as a list of indices.
        for f in ("label", "pred"):
            cols[f] = [[j for j, v in enumerate(row) if v] for row in cols[f]]
    position = result.position[:n].tolist() if result.position is not None else None
    ignored = result.ignored[:n].tolist()
    names = view.class_names
    n_classes = result.n_classes
    probs = result.probs[:n].tolist() if view.with_probs and result.probs is not None else None
    extra = {
        f: getattr(result, f)[:n].tolist()
        for f in EXTRA_FIELDS
        if view.extra and getattr(result, f) is not None
    }
    checked = FLOAT_FIELDS + (("margin", "entropy") if extra else ())
    for i in range(n):
        rec: dict[str, Any] = {}
        for f in SAMPLE_FIELDS:
            v = cols[f][i]
            rec[f] = rnd(v) if f in FLOAT_FIELDS else v
        if position is not None:
            rec["position"] = position[i]
        if view.show_ignored:
            rec["ignored"] = ignored[i]
        if names is not None:
            rec["label_name"] = class_name(rec["label"], names, n_classes)
            rec["pred_name"] = class_name(rec["pred"], names, n_classes)
        if extra:
            rank = extra["rank"][i]
            rec["rank"] = None if rank != rank else int(rank)
            rec["margin"] = rnd(extra["margin"][i])
            rec["entropy"] = rnd(extra["entropy"][i])
        if probs is not None:
            rec["probs"] = [rnd(p) for p in probs[i]]
        if ignored[i]:
            # An ignored label that is not a class (-100) has no probability: null, and
            # no "nonfinite" flag, since nothing was computed.
            for k in checked:
                if rec[k] != rec[k]:
                    rec[k] = None
        yield finite_or_flag(rec, checked)


def _floats(record: dict[str, Any], rnd: Any) -> dict[str, Any]:
    """Rounded floats, non-finite ones as null plus a ``nonfinite`` object."""
    rec = {k: rnd(v) if isinstance(v, float) else v for k, v in record.items()}
    return finite_or_flag(rec, [k for k, v in rec.items() if isinstance(v, float)])


def summary_record(
    summary: Summary, precision: int | None = None, class_names: Sequence[str] | None = None
) -> dict[str, Any]:
    """The JSON ``summary`` object.

    Its nested values follow the same conventions: each ``per_class`` record has its own
    ``nonfinite`` object (a class without samples just has null means); an interval
    bound that is not finite (no replicate defined it, or an infinite loss) is null, and
    ``ci.nonfinite`` has a list aligned with the interval (``{"loss": [null, "inf"]}``).
    """
    rnd = rounder(precision)
    rec = _floats(summary.as_dict(), rnd)
    if "per_class" in rec:
        rows = [_floats(r, rnd) for r in rec["per_class"]]
        for row in rows:
            if row["support"] == 0:
                row.pop("nonfinite", None)  # no samples: null means, nothing computed
        if class_names is not None and len(class_names) == len(rows):
            rows = [
                {"class": r.pop("class"), "name": n, **r}
                for r, n in zip(rows, class_names, strict=True)
            ]
        rec["per_class"] = rows
    if "ci" in rec:
        ci = {k: [rnd(x) for x in v] if isinstance(v, list) else v for k, v in rec["ci"].items()}
        rec["ci"] = finite_or_flag(ci, [k for k, v in ci.items() if isinstance(v, list)])
    return rec
