"""``xent calibrate`` as data: the JSON document, its one-line JSONL form, the CSV bins
table, and the small JSON file of ``--save``. No Rich here (see ``calibrate_table``)."""

from __future__ import annotations

import csv
import io
import math
from typing import Any

from xentcli.core.calibration import Calibration, CalibrationMetrics, ReliabilityBin
from xentcli.render.machine import dumps_strict
from xentcli.render.records import nonfinite_name, rounder

SCHEMA_CALIBRATE = "xent.calibrate/1"
SCHEMA_TEMPERATURE = "xent.temperature/1"
BIN_STATS = ("count", "confidence", "accuracy", "gap")
BIN_FIELDS = (
    "bin",
    "lower",
    "upper",
    *(f"{k}_{side}" for side in ("before", "after") for k in BIN_STATS),
)


def _metrics_record(m: CalibrationMetrics, precision: int | None) -> dict[str, Any]:
    rnd = rounder(precision)
    rec: dict[str, Any] = {k: rnd(v) for k, v in m.as_dict().items()}
    flags = {k: nonfinite_name(v) for k, v in rec.items() if not math.isfinite(v)}
    if flags:
        rec.update(dict.fromkeys(flags))
        rec["nonfinite"] = flags
    return rec


def _bin_stats(b: ReliabilityBin, side: str, precision: int | None) -> dict[str, Any]:
    rnd = rounder(precision)
    # An empty bin has no confidence or accuracy: null, as nothing was computed.
    values = {"confidence": b.confidence, "accuracy": b.accuracy, "gap": b.gap}
    out: dict[str, Any] = {f"count_{side}": b.count}
    for k, v in values.items():
        out[f"{k}_{side}"] = rnd(v) if b.count else None
    return out


def bin_records(cal: Calibration, precision: int | None = None) -> list[dict[str, Any]]:
    """One record per confidence bin (``bins`` of equal width, then the bin of a
    confidence of exactly 1), with the keys of ``BIN_FIELDS``."""
    rnd = rounder(precision)
    out = []
    for i, (b, a) in enumerate(zip(cal.before.bins, cal.after.bins, strict=True)):
        rec: dict[str, Any] = {"bin": i, "lower": rnd(b.lower), "upper": rnd(b.upper)}
        rec.update(_bin_stats(b, "before", precision))
        rec.update(_bin_stats(a, "after", precision))
        out.append(rec)
    return out


def calibration_record(cal: Calibration, precision: int | None = None) -> dict[str, Any]:
    """The ``xent.calibrate/1`` document as a dict."""
    rnd = rounder(precision)
    return {
        "schema": SCHEMA_CALIBRATE,
        "temperature": rnd(cal.temperature),
        "iterations": cal.iterations,
        "n": cal.n,
        "n_classes": cal.n_classes,
        "task": cal.task,
        "ignored": cal.ignored,
        "n_bins": cal.n_bins,
        "before": _metrics_record(cal.before, precision),
        "after": _metrics_record(cal.after, precision),
        "bins": bin_records(cal, precision),
        "notes": list(cal.notes),
    }


def calibration_json(cal: Calibration, precision: int | None = None) -> str:
    """The document as JSON text, one bin per line."""
    rec = calibration_record(cal, precision)
    bins = rec.pop("bins")
    notes = rec.pop("notes")
    head = dumps_strict(rec)[:-1]  # without its closing brace
    rows = ",\n  ".join(dumps_strict(b) for b in bins)
    return f'{head}, "bins": [\n  {rows}\n], "notes": {dumps_strict(notes)}}}\n'


def calibration_jsonl(cal: Calibration, precision: int | None = None) -> str:
    """The document as one line of JSON."""
    return dumps_strict(calibration_record(cal, precision)) + "\n"


def calibration_csv(cal: Calibration, delimiter: str = ",", precision: int | None = None) -> str:
    """The reliability table: a header of ``BIN_FIELDS``, then one row per bin (an empty
    bin's confidence, accuracy and gap are empty cells)."""
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter, lineterminator="\n")
    writer.writerow(BIN_FIELDS)
    for rec in bin_records(cal, precision):
        writer.writerow(["" if rec[k] is None else rec[k] for k in BIN_FIELDS])
    return buf.getvalue()


def temperature_json(cal: Calibration, input_kind: str) -> str:
    """The ``--save`` file: ``{"schema": "xent.temperature/1", "temperature": T, ...}``,
    at full precision, for ``xent loss --temperature-from``."""
    doc = {
        "schema": SCHEMA_TEMPERATURE,
        "temperature": cal.temperature,
        "input_kind": input_kind,
        "task": cal.task,
        "n": cal.n - cal.ignored,
        "n_classes": cal.n_classes,
        "nll_before": cal.before.nll,
        "nll_after": cal.after.nll,
    }
    return dumps_strict(doc) + "\n"
