"""``xent compare`` results as records, JSON, JSON Lines and CSV/TSV text chunks.

The conventions are ``xent loss``'s (:mod:`xentcli.render.records`): non-finite floats
become ``null`` with a ``nonfinite`` object naming them, ``precision`` rounds to
significant digits, samples stream before the summary.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from xentcli.core.compare import SCHEMA_COMPARE, CompareSummary, Paired
from xentcli.render.records import View, class_name, nonfinite_name, rounder

__all__ = [
    "COMPARE_FIELDS",
    "compare_csv",
    "compare_json",
    "compare_jsonl",
    "compare_records",
    "compare_summary_record",
]

COMPARE_FIELDS = ("index", "label", "pred_a", "pred_b", "nll_a", "nll_b", "delta")
_FLOATS = ("nll_a", "nll_b", "delta")

_dumps = json.JSONEncoder(allow_nan=False, ensure_ascii=False).encode

Chunks = Iterable[Paired]
SummaryOf = Callable[[], CompareSummary]


def _flag(record: dict[str, Any], keys: Iterable[str]) -> dict[str, Any]:
    flags: dict[str, Any] = {}
    for k in keys:
        v = record[k]
        if isinstance(v, float) and not math.isfinite(v):
            flags[k] = nonfinite_name(v)
            record[k] = None
        elif isinstance(v, list) and not all(math.isfinite(x) for x in v):
            flags[k] = [None if math.isfinite(x) else nonfinite_name(x) for x in v]
            record[k] = [x if math.isfinite(x) else None for x in v]
    if flags:
        record["nonfinite"] = flags
    return record


def compare_records(pairs: Paired, view: View, n_classes: int) -> Iterator[dict[str, Any]]:
    """Per-sample records with the keys of the JSON ``samples`` array."""
    rnd = rounder(view.precision)
    delta = pairs.delta
    cols: dict[str, list[Any]] = {
        "index": pairs.index.tolist(),
        "label": pairs.label.tolist(),
        "pred_a": pairs.pred_a.tolist(),
        "pred_b": pairs.pred_b.tolist(),
        "nll_a": pairs.nll_a.tolist(),
        "nll_b": pairs.nll_b.tolist(),
        "delta": delta.tolist(),
    }
    if pairs.label.ndim == 2:
        # Multi-label: the classes that are on, as a list of indices.
        for f in ("label", "pred_a", "pred_b"):
            cols[f] = [[j for j, v in enumerate(row) if v] for row in cols[f]]
    position = pairs.position.tolist() if pairs.position is not None else None
    ignored = pairs.ignored.tolist()
    names = view.class_names
    for i in range(pairs.n):
        rec: dict[str, Any] = {f: cols[f][i] for f in COMPARE_FIELDS}
        for f in _FLOATS:
            rec[f] = rnd(rec[f])
        if position is not None:
            rec["position"] = position[i]
        if view.show_ignored:
            rec["ignored"] = ignored[i]
        if names is not None:
            for f in ("label", "pred_a", "pred_b"):
                rec[f + "_name"] = class_name(rec[f], names, n_classes)
        if ignored[i]:
            # Nothing was compared: null, and no "nonfinite" flag.
            for f in _FLOATS:
                if rec[f] != rec[f]:
                    rec[f] = None
        yield _flag(rec, _FLOATS)


def compare_summary_record(summary: CompareSummary, precision: int | None = None) -> dict[str, Any]:
    """The JSON ``summary`` object."""
    rnd = rounder(precision)
    rec: dict[str, Any] = {}
    for k, v in summary.as_dict().items():
        if isinstance(v, float) and k != "ci":
            v = rnd(v)
        elif isinstance(v, list):
            v = [rnd(x) for x in v]
        rec[k] = v
    return _flag(rec, [k for k, v in rec.items() if isinstance(v, (float, list))])


def _samples(chunks: Chunks, view: View, n_classes: Callable[[], int]) -> Iterator[dict[str, Any]]:
    for pairs in chunks:
        yield from compare_records(pairs, view, n_classes())


def compare_json(
    chunks: Chunks,
    view: View,
    summary: SummaryOf,
    n_classes: Callable[[], int],
    summary_only: bool = False,
) -> Iterator[str]:
    """``{"schema": "xent.compare/1", "samples": [...], "summary": {...}}``: samples
    streamed first as the chunks arrive; ``summary`` is called once they are all in."""
    yield '{"schema": ' + _dumps(SCHEMA_COMPARE)
    if summary_only:
        for _ in chunks:
            pass
    else:
        yield ', "samples": ['
        for i, rec in enumerate(_samples(chunks, view, n_classes)):
            yield ("\n  " if i == 0 else ",\n  ") + _dumps(rec)
        yield "\n]"
    yield ', "summary": ' + _dumps(compare_summary_record(summary(), view.precision)) + "}\n"


def compare_jsonl(
    chunks: Chunks,
    view: View,
    summary: SummaryOf,
    n_classes: Callable[[], int],
    summary_only: bool = False,
) -> Iterator[str]:
    """One ``{"type": "sample", ...}`` object per line, then one ``{"type": "summary"}``."""
    if summary_only:
        for _ in chunks:
            pass
    else:
        for rec in _samples(chunks, view, n_classes):
            yield _dumps({"type": "sample", **rec}) + "\n"
    rec = compare_summary_record(summary(), view.precision)
    yield _dumps({"type": "summary", **rec}) + "\n"


def _csv_float(v: float, rnd: Callable[[float], float]) -> Any:
    return rnd(v) if math.isfinite(v) else nonfinite_name(v)


def _cell(v: Any) -> Any:
    if v is None:
        return ""
    if isinstance(v, list):
        return " ".join(str(x) for x in v)
    return v


def compare_csv(
    chunks: Chunks,
    view: View,
    summary: SummaryOf,
    n_classes: Callable[[], int],
    delimiter: str = ",",
    summary_only: bool = False,
) -> Iterator[str]:
    """A header and one row per sample; with ``summary_only`` a header and one summary
    row (each interval as ``*_ci_lo`` and ``*_ci_hi``). Non-finite numbers are
    written as ``inf``, ``-inf`` or ``nan``."""
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter, lineterminator="\n")

    def take() -> str:
        s = buf.getvalue()
        buf.seek(0)
        buf.truncate()
        return s

    if summary_only:
        for _ in chunks:
            pass
        rnd = rounder(view.precision)
        flat = summary().flat()
        flat["options"] = _dumps(flat["options"])
        writer.writerow(flat.keys())
        writer.writerow(
            [
                _csv_float(v, rnd) if isinstance(v, float) and k != "ci" else v
                for k, v in flat.items()
            ]
        )
        yield take()
        return
    header = False
    for rec in _samples(chunks, view, n_classes):
        flags = rec.pop("nonfinite", {})
        if not header:
            writer.writerow(rec.keys())
            header = True
        writer.writerow([flags.get(k, _cell(v)) for k, v in rec.items()])
        yield take()
    if not header:
        columns = list(COMPARE_FIELDS)
        if view.show_ignored:
            columns.append("ignored")
        if view.class_names is not None:
            columns += ["label_name", "pred_a_name", "pred_b_name"]
        writer.writerow(columns)
        yield take()
