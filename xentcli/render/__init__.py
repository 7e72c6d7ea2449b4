"""Results to text: Rich renderables for people, JSON/JSONL/CSV/TSV chunks for programs.

Nothing here prints; the CLI decides where the output goes. Rich is imported only by the
table modules (``render.table``, ``render.explain``), so machine output never pays for it.
"""

from typing import Any

from xentcli.render.machine import loss_csv, loss_json, loss_jsonl
from xentcli.render.records import SCHEMA_LOSS, View, sample_records, summary_record


def __getattr__(name: str) -> Any:
    if name == "loss_table":
        from xentcli.render.table import loss_table

        return loss_table
    raise AttributeError(f"module 'xentcli.render' has no attribute {name!r}")


__all__ = [
    "SCHEMA_LOSS",
    "View",
    "loss_csv",
    "loss_json",
    "loss_jsonl",
    "loss_table",
    "sample_records",
    "summary_record",
]
