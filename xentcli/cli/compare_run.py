"""The block loop of ``xent compare``: two loss runs, aligned sample by sample.

Each input is read and computed block by block (:class:`~xentcli.cli.run.LossRun`); the
two inputs' blocks hold different numbers of rows, so the longer side's leftover waits
for the other side's next block, and only aligned runs of the same samples are paired.
Memory holds at most one block of each input.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from xentcli.cli.run import LossRun
from xentcli.core import LossResult, take_samples
from xentcli.core.bootstrap import TILE, ReplicateSums
from xentcli.core.compare import CompareStats, CompareSummary, Paired, compare_summary
from xentcli.core.sums import CompensatedSum
from xentcli.errors import DataError, UsageError, XentError

#: Paired samples held back before output starts (the input's whole-length checks first).
HELD = 1 << 16


def _first(result: LossResult, m: int) -> LossResult:
    return take_samples(result, np.arange(m))


def _rest(result: LossResult, m: int) -> LossResult | None:
    return take_samples(result, np.arange(m, result.n)) if m < result.n else None


@dataclass
class CompareRun:
    """One pass over both inputs: aligned pairs block by block, then the summary."""

    run_a: LossRun
    run_b: LossRun
    seed: int
    replicates: int
    level: float
    sample_weight: NDArray[np.float64] | None = None
    stats: CompareStats | None = None
    _pending: list[Paired] = field(default_factory=list)
    _pending_n: int = 0

    def _side(self, run: LossRun, model: str) -> Iterator[LossResult]:
        """A model's non-empty blocks; its errors say which model they are about."""
        name = run.stream.name
        results = run.results()
        while True:
            try:
                result = next(results, None)
            except XentError as exc:
                if name not in str(exc):
                    exc.message += f" (model {model}: {name})"
                raise
            if result is None:
                return
            if result.n:
                yield result

    def pairs(self) -> Iterator[Paired]:
        """The paired samples in input order, in chunks; their statistics merge on the way.

        About :data:`HELD` samples are held back while more are computed, and the last
        until both inputs are known to end together: a small input that fails writes
        nothing.

        Raises
        ------
        DataError
            The inputs hold different numbers of samples, classes, or labels.
        """
        held: list[Paired] = []
        count = 0
        for pairs in self._aligned():
            held.append(pairs)
            count += pairs.n
            if count > HELD:
                yield from held[:-1]
                held = held[-1:]
                count = held[0].n
        self._flush()
        yield from held

    def _aligned(self) -> Iterator[Paired]:
        it_a, it_b = self._side(self.run_a, "A"), self._side(self.run_b, "B")
        pa: LossResult | None = None
        pb: LossResult | None = None
        count_a = count_b = 0
        checked = False
        while True:
            if pa is None:
                pa = next(it_a, None)
                count_a += pa.n if pa is not None else 0
            if pb is None:
                pb = next(it_b, None)
                count_b += pb.n if pb is not None else 0
            if pa is None or pb is None:
                break
            if not checked:
                self._check_alike(pa, pb)
                checked = True
            m = min(pa.n, pb.n)
            pairs = self._paired(_first(pa, m), _first(pb, m))
            pa, pb = _rest(pa, m), _rest(pb, m)
            yield pairs
        if pa is not None or pb is not None:
            count_a += sum(r.n for r in it_a)
            count_b += sum(r.n for r in it_b)
            raise DataError(
                f"A ({self.run_a.stream.name}) has {count_a} samples but B "
                f"({self.run_b.stream.name}) has {count_b}: compare needs the two models' "
                "outputs on the same samples, in the same order"
            )

    def _check_alike(self, a: LossResult, b: LossResult) -> None:
        if a.n_classes != b.n_classes or a.stats.task != b.stats.task:
            raise DataError(
                f"A ({self.run_a.stream.name}) is a {a.stats.task} problem over "
                f"{a.n_classes} classes but B ({self.run_b.stream.name}) a {b.stats.task} "
                f"problem over {b.n_classes}: compare needs two models of the same task"
            )
        names_a, names_b = self.run_a.stream.class_names, self.run_b.stream.class_names
        if names_a is not None and names_b is not None and names_a != names_b:
            raise UsageError(
                f"A's classes ({','.join(names_a)}) differ from B's ({','.join(names_b)}): "
                "give --classes to read both in one order"
            )

    def _paired(self, a: LossResult, b: LossResult) -> Paired:
        sw = None
        if self.sample_weight is not None:
            rows = a.index if a.position is None else a.position[:, 0]
            sw = self.sample_weight[rows]
        pairs = Paired.of(a, b, sw)
        self._pending.append(pairs)
        self._pending_n += pairs.n
        start = int(self._pending[0].index[0])
        end = (start + self._pending_n) // TILE * TILE
        if end > start:
            # Whole tiles of samples at a time: the replicate sums are then added up in
            # the same grouping whatever the blocks, so the last digit does not move.
            waiting = Paired.concat(self._pending)
            self._merge(waiting.take(slice(0, end - start)))
            rest = waiting.take(slice(end - start, None))
            self._pending, self._pending_n = ([rest], rest.n) if rest.n else ([], 0)
        return pairs

    def _flush(self) -> None:
        if self._pending:
            self._merge(Paired.concat(self._pending))
            self._pending, self._pending_n = [], 0

    def _merge(self, pairs: Paired) -> None:
        block = CompareStats.of(pairs, self.seed, self.replicates)
        self.stats = block if self.stats is None else self.stats + block

    @property
    def class_names(self) -> tuple[str, ...] | None:
        return self.run_a.stream.class_names or self.run_b.stream.class_names

    def summary(self) -> CompareSummary:
        """The comparison's summary (call after :meth:`pairs` is exhausted)."""
        stats = self.stats
        if stats is None:
            zeros = np.zeros((4, self.replicates))
            stats = CompareStats(
                *(0,) * 8,
                CompensatedSum(),
                CompensatedSum(),
                ReplicateSums(self.seed, self.replicates, "poisson", zeros),
                ReplicateSums(self.seed, self.replicates, "sign", zeros[:1]),
            )
        return compare_summary(self.run_a.summary(), self.run_b.summary(), stats, self.level)
