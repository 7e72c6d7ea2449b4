"""Per-sample output of plain blocks is written from columns, not records: same bytes.

``render.machine`` formats a block whose records are all plain (no rounding, names,
extra columns, probabilities, positions, non-finite values) straight from its columns,
about ten times faster than building a record and passing it to ``json``/``csv``. These
tests hold the two ways to the same output, byte for byte, by forcing the record path.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from xentcli.core import LossOptions, LossResult, cross_entropy
from xentcli.render import View, loss_csv, loss_json, loss_jsonl, machine


def blocks(seed: int, opts: LossOptions) -> list[LossResult]:
    rng = np.random.default_rng(seed)
    out, start = [], 0
    for n in (40, 1, 25):
        x = rng.standard_normal((n, 4)) * rng.choice([1.0, 30.0, 800.0])
        x[0] = [700.0, -700.0, 0.0, 1.0]  # nll 0 or tiny, p_true 1 or 0-ish
        y = rng.integers(0, 4, n)
        if opts.ignore_index is not None and n > 2:
            y[1] = opts.ignore_index
        out.append(cross_entropy(x.astype(np.float32), y, opts, start=start))
        start += n
    return out


Render = Callable[[list[LossResult], View], str]
RENDERS: dict[str, Render] = {
    "json": lambda rs, v: "".join(loss_json(iter(rs), v, rs[0].stats.summary)),
    "jsonl": lambda rs, v: "".join(loss_jsonl(iter(rs), v, rs[0].stats.summary)),
    "csv": lambda rs, v: "".join(loss_csv(iter(rs), v, rs[0].stats.summary)),
    "tsv": lambda rs, v: "".join(loss_csv(iter(rs), v, rs[0].stats.summary, "\t")),
}


@pytest.mark.parametrize("fmt", sorted(RENDERS))
@pytest.mark.parametrize(
    ("options", "view"),
    [
        (LossOptions(), View()),
        (LossOptions(units="bits"), View()),
        (LossOptions(ignore_index=2), View(show_ignored=True)),  # ignored, finite
        (LossOptions(ignore_index=-100), View(show_ignored=True)),  # NaN: record path
        (LossOptions(), View(head=50)),  # the head ends inside the third block
        (LossOptions(), View(head=0)),
        (LossOptions(), View(precision=4)),  # record path
        (LossOptions(extra=True), View(extra=True)),  # record path
    ],
)
@pytest.mark.parametrize("seed", range(3))
def test_plain_blocks_print_the_bytes_the_records_print(
    fmt: str, options: LossOptions, view: View, seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    results = blocks(seed, options)
    fast = RENDERS[fmt](results, view)
    seen: list[Any] = []
    real = machine.plain_columns

    def spy(result: LossResult, v: View) -> Any:
        seen.append(real(result, v))
        return None  # the record path

    monkeypatch.setattr(machine, "plain_columns", spy)
    slow = RENDERS[fmt](results, view)
    assert fast == slow
    # Which blocks were plain: all of them but for rounding and extra columns (and for
    # the blocks with a NaN of an ignored -100 label), none past the head.
    if view.precision is not None or view.extra or view.head == 0:
        assert all(cols is None for cols in seen)
    elif options.ignore_index == -100:
        assert [cols is not None for cols in seen] == [False, True, False]
    else:
        assert all(cols is not None for cols in seen)


def test_a_block_with_an_infinite_loss_takes_the_record_path() -> None:
    x = np.array([[0.0, -np.inf], [1.0, 2.0]])
    r = cross_entropy(x, [1, 0])
    assert machine.plain_columns(r, View()) is None  # nll inf: null and "nonfinite"
    assert machine.plain_columns(cross_entropy(x[1:], [0]), View()) is not None
