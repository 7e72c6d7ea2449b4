"""The block loop of ``xent loss``: read a block, compute it, pass it on, merge its stats.

Output starts with the first block; the summary, and the warnings about the whole input,
come when the last block is in.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from xentcli.cli.progress import RowProgress
from xentcli.cli.streams import Streams
from xentcli.core import LossOptions, LossResult, LossStats, Summary, cross_entropy
from xentcli.errors import DataError, UsageError
from xentcli.io import LossStream

#: Places named in a warning about several samples.
SHOWN = 3


@dataclass
class _Places:
    """How many samples share a condition, and where the first few of them are."""

    count: int = 0
    first: list[str] = field(default_factory=list)

    def add(self, places: list[str], count: int) -> None:
        self.count += count
        self.first.extend(places[: SHOWN - len(self.first)])

    def text(self) -> str:
        more = self.count - len(self.first)
        return ", ".join(self.first) + (f" and {more} more" if more > 0 else "")


@dataclass
class LossRun:
    """One pass over a :class:`LossStream`: results block by block, then the summary."""

    stream: LossStream
    options: LossOptions
    sample_weight: NDArray[np.float64] | None = None
    with_probs: bool = False
    stats: LossStats | None = None
    skipped: _Places = field(default_factory=_Places)
    nan: _Places = field(default_factory=_Places)
    infinite: _Places = field(default_factory=_Places)
    notes: dict[str, None] = field(default_factory=dict)
    #: Told the number of input rows done after each block; closed when all are in.
    progress: RowProgress | None = None

    def results(self) -> Iterator[LossResult]:
        """Compute every block, in order; errors name their file and line.

        Each block is yielded only once the next one is computed, and the last only once
        the whole input is checked (label and weight counts, an undefined mean under
        ``--empty error``): an input of one block fails before anything is written.
        """
        pending: LossResult | None = None
        for result in self._computed():
            if pending is not None:
                yield pending
            pending = result
        if self.progress is not None:
            self.progress.close()  # before a table is printed
        if self.sample_weight is not None and len(self.sample_weight) != self.stream.rows:
            raise self._weights_mismatch(self.stream.rows)
        self.summary()
        if pending is not None:
            yield pending

    def _computed(self) -> Iterator[LossResult]:
        sw_all = self.sample_weight
        for block in self.stream:
            sw = block.sample_weight
            if sw_all is not None:
                if len(sw_all) < block.start + block.rows:
                    raise self._weights_mismatch(block.start + block.rows)
                sw = sw_all[block.start : block.start + block.rows]
            with block.inputs.located():
                result = cross_entropy(
                    block.logits,
                    block.labels,
                    self.options,
                    sample_weight=sw,
                    with_probs=self.with_probs,
                    start=block.start,
                )
            names = self.stream.class_names
            if names is not None and len(names) != result.n_classes:
                raise UsageError(
                    f"{len(names)} class names for {result.n_classes} classes: give one "
                    "name per class (--classes)"
                )
            self._tally(result, block.inputs.locate, block.start)
            self.stats = result.stats if self.stats is None else self.stats + result.stats
            if self.progress is not None:
                self.progress(block.start + block.rows)
            yield result

    def summary(self) -> Summary:
        """The whole input's summary (call after :meth:`results` is exhausted)."""
        assert self.stats is not None
        with_place = self.stream.name
        try:
            return self.stats.summary(final=True)
        except DataError as exc:
            exc.where = exc.where or with_place
            raise

    def _weights_mismatch(self, rows: int) -> DataError:
        assert self.sample_weight is not None
        return DataError(
            f"--sample-weight has {len(self.sample_weight)} weights but the input has "
            f"{'at least ' if rows != self.stream.rows else ''}{rows} samples: give one per "
            "sample",
        )

    def _tally(
        self, result: LossResult, locate: Callable[[str | None, int | None], str], start: int
    ) -> None:
        def places(rows: NDArray[np.intp]) -> tuple[list[str], int]:
            return [locate("logits", int(r)) for r in rows[:SHOWN]], int(rows.size)

        # Skipped rows are numbered in the whole input; the block's locator counts from 0.
        self.skipped.add(*places(result.skipped - start))
        # The block's locator counts rows (axis 0), not K-dimensional positions.
        kept = result.index - start if result.position is None else result.position[:, 0] - start
        self.nan.add(*places(kept[np.isnan(result.loss)]))
        self.infinite.add(*places(kept[result.nll == math.inf]))
        self.notes.update(dict.fromkeys(result.notes))

    @property
    def task(self) -> str:
        return self.stats.task if self.stats is not None else "multiclass"

    def warn(self, streams: Streams) -> None:
        """Warnings about the whole input, on stderr, after the output."""
        summary = self.stats.summary() if self.stats is not None else None
        if self.skipped.count:
            streams.warn(
                f"skipped {self.skipped.count} row(s) with non-finite input ({self.skipped.text()})"
            )
        for note in self.notes:
            streams.warn(note)
        if summary is not None and summary.empty and math.isnan(summary.loss):
            streams.warn(
                "no sample counts towards the mean (all ignored, skipped or of zero weight): "
                "the loss is undefined and reported as null (--empty zero|error to change)"
            )
        if self.nan.count and not (summary is not None and summary.empty):
            why = (
                ": this profile takes 0 * log 0 as NaN, as the library does"
                if self.options.compat in ("torch", "keras", "optax")
                else ""
            )
            streams.warn(
                f"{self.nan.count} sample(s) have a NaN loss ({self.nan.text()}), so the loss "
                f"is NaN, reported as null{why}"
            )
        if self.infinite.count:
            streams.warn(
                f"{self.infinite.count} sample(s) give the true class probability 0, so their "
                f"loss is infinite ({self.infinite.text()}); --clip EPS bounds it"
                if self.options.input_kind != "logits"
                else f"{self.infinite.count} sample(s) have a -inf logit for the true class, "
                f"so their loss is infinite ({self.infinite.text()})"
                if self.task == "multiclass"
                else f"{self.infinite.count} sample(s) have an infinite score on the wrong "
                f"side of 0, so their loss is infinite ({self.infinite.text()})"
            )
