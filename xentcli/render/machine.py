"""JSON, JSON Lines and CSV/TSV output, produced as a stream of text chunks."""

from __future__ import annotations

import csv
import io
import itertools
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from typing import Any

import numpy as np

from xentcli.core import LossResult, Summary
from xentcli.render.records import (
    FLOAT_FIELDS,
    SAMPLE_FIELDS,
    SCHEMA_LOSS,
    View,
    sample_records,
    shown_count,
    summary_record,
)

_dumps = json.JSONEncoder(allow_nan=False, ensure_ascii=False).encode


def dumps_strict(obj: Any) -> str:
    """JSON text that never contains NaN or Infinity (a ValueError if it would)."""
    return _dumps(obj)


Results = Iterable[LossResult]
SummaryOf = Callable[[], Summary]


#: Renders the columns of :func:`plain_columns` as one text per sample.
Texts = Callable[[list[list[Any]]], list[str]]


def _shown(
    results: Results, view: View, texts: Texts | None = None
) -> Iterator[dict[str, Any] | str]:
    """The sample records of a stream of result blocks, up to ``view.head`` in all. With
    ``texts``, a block whose records are all plain (:func:`plain_columns`) gives the
    finished text of each sample instead of a record (the same text, ten times faster)."""
    left = view.head
    for result in results:
        if left is not None and left <= 0:
            continue  # keep consuming: the summary needs every block
        block_view = view if left is None else replace(view, head=left)
        cols = None if texts is None else plain_columns(result, block_view)
        items: Iterable[dict[str, Any] | str] = sample_records(result, block_view)
        if cols is not None and texts is not None:
            items = texts(cols)
        for rec in items:
            yield rec
            if left is not None:
                left -= 1


def plain_columns(result: LossResult, view: View) -> list[list[Any]] | None:
    """The shown samples' columns (``SAMPLE_FIELDS``, then ``ignored`` when shown) as
    Python lists, when every record of the block is plain: no rounding, names, extra
    columns, probabilities, positions or multi-label lists, and every float finite (so
    no ``null`` and no ``nonfinite``); None otherwise."""
    if (
        view.precision is not None
        or view.class_names is not None
        or view.with_probs
        or view.extra
        or result.position is not None
        or result.label.ndim != 1
    ):
        return None
    n = shown_count(result, view)
    if not all(np.isfinite(getattr(result, f)[:n]).all() for f in FLOAT_FIELDS):
        return None
    cols = [getattr(result, f)[:n].tolist() for f in SAMPLE_FIELDS]
    if view.show_ignored:
        cols.append(result.ignored[:n].tolist())
    return cols


def _json_objects(cols: list[list[Any]]) -> list[str]:
    """Each sample as ``_dumps`` writes its record: ints by ``str``, floats by ``repr``
    (what the json module does), the separators ``", "`` and ``": "``."""
    if len(cols) == len(SAMPLE_FIELDS):
        return [
            f'{{"index": {i}, "label": {y}, "pred": {p}, "p_true": {pt!r}, '
            f'"log_p_true": {lp!r}, "nll": {nll!r}, "loss": {loss!r}}}'
            for i, y, p, pt, lp, nll, loss in zip(*cols, strict=True)
        ]
    return [
        f'{{"index": {i}, "label": {y}, "pred": {p}, "p_true": {pt!r}, '
        f'"log_p_true": {lp!r}, "nll": {nll!r}, "loss": {loss!r}, '
        f'"ignored": {"true" if ig else "false"}}}'
        for i, y, p, pt, lp, nll, loss, ig in zip(*cols, strict=True)
    ]


def _jsonl_objects(cols: list[list[Any]]) -> list[str]:
    return ['{"type": "sample", ' + obj[1:] for obj in _json_objects(cols)]


def _csv_rows(delimiter: str) -> Texts:
    """Each sample as ``csv.writer`` writes its row: ``str`` of every value (numbers and
    True/False need no quoting), then a newline."""

    def rows(cols: list[list[Any]]) -> list[str]:
        return [delimiter.join(map(str, row)) + "\n" for row in zip(*cols, strict=True)]

    return rows


def json_document(
    schema: str,
    records: Iterable[dict[str, Any] | str] | None,
    summary: Callable[[], dict[str, Any]],
) -> Iterator[str]:
    """``{"schema": ..., "samples": [...], "summary": {...}}`` as text chunks: the
    records as they come, then ``summary()`` (called once they are all in). ``records``
    None: no ``samples`` key (the caller has drained its input)."""
    yield '{"schema": ' + _dumps(schema)
    if records is not None:
        yield ', "samples": ['
        for i, rec in enumerate(records):
            yield ("\n  " if i == 0 else ",\n  ") + (rec if isinstance(rec, str) else _dumps(rec))
        yield "\n]"
    yield ', "summary": ' + _dumps(summary()) + "}\n"


def jsonl_lines(
    records: Iterable[dict[str, Any] | str] | None, summary: Callable[[], dict[str, Any]]
) -> Iterator[str]:
    """One ``{"type": "sample", ...}`` line per record (a string: the line already
    written, without its newline), then ``{"type": "summary", ...}``."""
    for rec in records or ():
        yield (rec if isinstance(rec, str) else _dumps({"type": "sample", **rec})) + "\n"
    yield _dumps({"type": "summary", **summary()}) + "\n"


def drained(items: Iterable[Any]) -> None:
    """Consume ``items`` (every block must be read for the summary)."""
    for _ in items:
        pass


def loss_json(
    results: Results, view: View, summary: SummaryOf, summary_only: bool = False
) -> Iterator[str]:
    """``{"schema": ..., "samples": [...], "summary": {...}}``, samples streamed first as
    the blocks arrive; ``summary`` is called once they are all in."""
    if summary_only:
        drained(results)
    records = None if summary_only else _shown(results, view, _json_objects)
    return json_document(
        SCHEMA_LOSS,
        records,
        lambda: summary_record(summary(), view.precision, view.class_names),
    )


def loss_jsonl(
    results: Results, view: View, summary: SummaryOf, summary_only: bool = False
) -> Iterator[str]:
    """One ``{"type": "sample", ...}`` object per line, then one ``{"type": "summary"}``."""
    if summary_only:
        drained(results)
    records = None if summary_only else _shown(results, view, _jsonl_objects)
    return jsonl_lines(records, lambda: summary_record(summary(), view.precision, view.class_names))


def csv_value(v: Any) -> Any:
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
    results: Results,
    view: View,
    summary: SummaryOf,
    delimiter: str = ",",
    summary_only: bool = False,
) -> Iterator[str]:
    """A header row then one row per sample; with ``summary_only`` one summary row.

    Non-finite numbers are written as ``inf``, ``-inf`` or ``nan``, which CSV readers
    (and xent itself) parse back.
    """
    sink = _Line()
    writer = csv.writer(sink.buf, delimiter=delimiter, lineterminator="\n")
    if summary_only:
        for _ in results:
            pass
        row = flat_summary_row(summary_record(summary(), view.precision, view.class_names))
        flags = row.pop("nonfinite", {})
        writer.writerow(row.keys())
        writer.writerow([flags.get(k, csv_value(v)) for k, v in row.items()])
        yield sink.take()
        return
    header_done = False
    results = iter(results)
    first = next(results, None)
    if first is None:
        return
    results = itertools.chain([first], results)
    for rec in _shown(results, view, _csv_rows(delimiter)):
        if isinstance(rec, str):
            if not header_done:
                writer.writerow(_csv_header(first, view))
                yield sink.take()
                header_done = True
            yield rec
            continue
        flags = rec.pop("nonfinite", {})
        probs = rec.pop("probs", [])
        if not header_done:
            header = list(rec.keys())
            if view.with_probs:
                names = view.class_names or [str(c) for c in range(len(probs))]
                header += [f"p_{n}" for n in names]
            writer.writerow(header)
            header_done = True
        writer.writerow([flags.get(k, csv_value(v)) for k, v in rec.items()] + probs)
        yield sink.take()
    if not header_done:
        writer.writerow(_csv_header(first, view))
        yield sink.take()


def flat_summary_row(rec: dict[str, Any]) -> dict[str, Any]:
    """The summary as one CSV row: ``ci`` spread over ``ci_level``, ``ci_loss_lo``, ...;
    the other nested values (``options``, ``per_class``, ``nll_histogram``) as compact
    JSON in one cell."""
    out: dict[str, Any] = {}
    for key, value in rec.items():
        if key == "ci":
            flags = value.get("nonfinite", {})
            for k, v in value.items():
                if isinstance(v, list):
                    named = flags.get(k, [None, None])
                    for side, bound, flag in zip(("lo", "hi"), v, named, strict=True):
                        out[f"ci_{k}_{side}"] = flag or csv_value(bound)
                elif k != "nonfinite":
                    out[f"ci_{k}"] = v
        elif key in ("options", "per_class", "nll_histogram"):
            out[key] = _dumps(value)
        else:
            out[key] = value
    return out


def _csv_header(result: LossResult, view: View) -> list[str]:
    """The per-sample columns, for a table with no rows (``--head 0``)."""
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
    return header
