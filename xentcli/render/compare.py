"""``xent compare`` results as records, JSON, JSON Lines and CSV/TSV text chunks.

The conventions are ``xent loss``'s (:mod:`xentcli.render.records`): non-finite floats
become ``null`` with a ``nonfinite`` object naming them, ``precision`` rounds to
significant digits, samples stream before the summary.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from xentcli.core.compare import SCHEMA_COMPARE, CompareSummary, Paired
from xentcli.render.machine import csv_value, drained, dumps_strict, json_document, jsonl_lines
from xentcli.render.records import View, class_name, finite_or_flag, nonfinite_name, rounder

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


Chunks = Iterable[Paired]
SummaryOf = Callable[[], CompareSummary]


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
        yield finite_or_flag(rec, _FLOATS)


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
    return finite_or_flag(rec, [k for k, v in rec.items() if isinstance(v, (float, list))])


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
    if summary_only:
        drained(chunks)
    records = None if summary_only else _samples(chunks, view, n_classes)
    return json_document(
        SCHEMA_COMPARE, records, lambda: compare_summary_record(summary(), view.precision)
    )


def compare_jsonl(
    chunks: Chunks,
    view: View,
    summary: SummaryOf,
    n_classes: Callable[[], int],
    summary_only: bool = False,
) -> Iterator[str]:
    """One ``{"type": "sample", ...}`` object per line, then one ``{"type": "summary"}``."""
    if summary_only:
        drained(chunks)
    records = None if summary_only else _samples(chunks, view, n_classes)
    return jsonl_lines(records, lambda: compare_summary_record(summary(), view.precision))


def _csv_float(v: float, rnd: Callable[[float], float]) -> Any:
    return rnd(v) if math.isfinite(v) else nonfinite_name(v)


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
        drained(chunks)
        rnd = rounder(view.precision)
        flat = summary().flat()
        flat["options"] = dumps_strict(flat["options"])
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
        writer.writerow([flags.get(k, csv_value(v)) for k, v in rec.items()])
        yield take()
    if not header:
        columns = list(COMPARE_FIELDS)
        if view.show_ignored:
            columns.append("ignored")
        if view.class_names is not None:
            columns += ["label_name", "pred_a_name", "pred_b_name"]
        writer.writerow(columns)
        yield take()
