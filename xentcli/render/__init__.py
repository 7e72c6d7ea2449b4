"""Results to text: Rich renderables for people, JSON/JSONL/CSV/TSV chunks for programs.

Nothing here prints; the CLI decides where the output goes.
"""

from xentcli.render.machine import loss_csv, loss_json, loss_jsonl
from xentcli.render.records import SCHEMA_LOSS, View, sample_records, summary_record
from xentcli.render.table import loss_table

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
