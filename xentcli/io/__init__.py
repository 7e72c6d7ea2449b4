"""Readers and writers: bytes in, validated arrays out (and atomic output files)."""

from xentcli.io.blocks import Block, ScoreStream
from xentcli.io.inputs import (
    LossBlock,
    LossInputs,
    LossStream,
    ReadOptions,
    load_inputs,
    open_loss_inputs,
)
from xentcli.io.output import check_creatable, write_atomic
from xentcli.io.stream import open_scores
from xentcli.io.vectors import read_vector

__all__ = [
    "Block",
    "LossBlock",
    "LossInputs",
    "LossStream",
    "ReadOptions",
    "ScoreStream",
    "check_creatable",
    "load_inputs",
    "open_loss_inputs",
    "open_scores",
    "read_vector",
    "write_atomic",
]
