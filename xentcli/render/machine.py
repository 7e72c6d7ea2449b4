"""JSON, JSON Lines and CSV/TSV output, produced as a stream of text chunks."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any

from xentcli.core import LossResult
from xentcli.render.records import (
    SAMPLE_FIELDS,
    SCHEMA_LOSS,
    View,
    sample_records,
    summary_record,
)

_dumps = json.JSONEncoder(allow_nan=False, ensure_ascii=False).encode


def dumps_strict(obj: Any) -> str:
    """JSON text that never contains NaN or Infinity (a ValueError if it would)."""
    return _dumps(obj)


def loss_json(result: LossResult, view: View, summary_only: bool = False) -> Iterator[str]:
    """``{"schema": ..., "samples": [...], "summary": {...}}``, samples streamed first."""
    yield '{"schema": ' + _dumps(SCHEMA_LOSS)
    if not summary_only:
        yield ', "samples": ['
        for i, rec in enumerate(sample_records(result, view)):
            yield ("\n  " if i == 0 else ",\n  ") + _dumps(rec)
        yield "\n]"
    yield ', "summary": ' + _dumps(summary_record(result.summary, view.precision)) + "}\n"


def loss_jsonl(result: LossResult, view: View, summary_only: bool = False) -> Iterator[str]:
    """One ``{"type": "sample", ...}`` object per line, then one ``{"type": "summary"}``."""
    if not summary_only:
        for rec in sample_records(result, view):
            yield _dumps({"type": "sample", **rec}) + "\n"
    yield _dumps({"type": "summary", **summary_record(result.summary, view.precision)}) + "\n"


def _csv_value(v: Any) -> Any:
    if v is None:
        return ""
    if isinstance(v, list):
        # Multi-label classes, or a position: one cell, space-separated.
        return " ".join(str(x) for x in v)
    return v


class _Line:
    """A file-like sink that hands back what ``csv.writer`` wrote for one row."""

    def __init__(self) -> None:
        self.buf = io.StringIO()

    def take(self) -> str:
        s = self.buf.getvalue()
        self.buf.seek(0)
        self.buf.truncate()
        return s


def loss_csv(
    result: LossResult, view: View, delimiter: str = ",", summary_only: bool = False
) -> Iterator[str]:
    """A header row then one row per sample; with ``summary_only`` one summary row.

    Non-finite numbers are written as ``inf``, ``-inf`` or ``nan``, which CSV readers
    (and xent itself) parse back.
    """
    sink = _Line()
    writer = csv.writer(sink.buf, delimiter=delimiter, lineterminator="\n")
    if summary_only:
        rec = summary_record(result.summary, view.precision)
        flags = rec.pop("nonfinite", {})
        # The one nested value: a compact JSON object in its cell ("{}" for none).
        rec["options"] = _dumps(rec["options"])
        writer.writerow(rec.keys())
        writer.writerow([flags.get(k, _csv_value(v)) for k, v in rec.items()])
        yield sink.take()
        return
    header = list(SAMPLE_FIELDS)
    if result.position is not None:
        header.append("position")
    if view.show_ignored:
        header.append("ignored")
    if view.class_names is not None:
        header += ["label_name", "pred_name"]
    if view.with_probs:
        names = view.class_names or [str(c) for c in range(result.n_classes)]
        header += [f"p_{n}" for n in names]
    writer.writerow(header)
    yield sink.take()
    for rec in sample_records(result, view):
        flags = rec.pop("nonfinite", {})
        probs = rec.pop("probs", [])
        writer.writerow([flags.get(k, _csv_value(v)) for k, v in rec.items()] + probs)
        yield sink.take()
