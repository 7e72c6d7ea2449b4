"""Readers and writers: bytes in, validated arrays out (and atomic output files)."""

from xentcli.io.inputs import LossInputs, ReadOptions, Scores, load_inputs, read_scores
from xentcli.io.output import write_atomic
from xentcli.io.vectors import read_vector

__all__ = [
    "LossInputs",
    "ReadOptions",
    "Scores",
    "load_inputs",
    "read_scores",
    "read_vector",
    "write_atomic",
]
