"""``--sort KEY [--desc] [--head N]``: the samples in order, e.g. the worst ten."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from typer.testing import Result

from xentcli.io import blocks

Run = Callable[..., Result]
SAMPLE = Path(__file__).resolve().parent.parent / "sample_data"
BASE = ["loss", SAMPLE / "logits.csv", "-l", SAMPLE / "labels.csv", "-f", "jsonl"]


def samples(result: Result) -> list[dict]:
    assert result.exit_code == 0, result.stderr
    return [r for r in map(json.loads, result.stdout.splitlines()) if r["type"] == "sample"]


@pytest.mark.parametrize("key", ["nll", "loss", "p_true", "index"])
@pytest.mark.parametrize("desc", [False, True])
def test_sorted_samples_are_the_full_sort(run_xent: Run, key: str, desc: bool) -> None:
    everything = samples(run_xent(*BASE))
    want = sorted(everything, key=lambda r: (-r[key] if desc else r[key], r["index"]))
    flags = ["--sort", key] + (["--desc"] if desc else [])
    assert samples(run_xent(*BASE, *flags)) == want
    assert samples(run_xent(*BASE, *flags, "--head", "5")) == want[:5]


def test_the_worst_samples_do_not_depend_on_the_blocks(
    run_xent: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    args = [*BASE, "--sort", "nll", "--desc", "--head", "4"]
    whole = samples(run_xent(*args))
    monkeypatch.setattr(blocks, "BLOCK_BYTES", 64)
    assert samples(run_xent(*args)) == whole
    assert whole[0]["index"] == 1  # the confidently wrong sample


def test_undefined_values_sort_last(run_xent: Run, in_tmp_path: Path) -> None:
    (in_tmp_path / "x.csv").write_text("1,2\n3,0\n0,0\n")
    (in_tmp_path / "y.csv").write_text("-100\n0\n1\n")
    got = samples(
        run_xent(
            "loss", "x.csv", "-l", "y.csv", "--ignore-index", "-100", "-f", "jsonl", "--sort", "nll"
        )
    )
    assert [r["index"] for r in got] == [1, 2, 0]
    assert np.isclose(got[1]["nll"], np.log(2))


@pytest.mark.parametrize("fmt", ["json", "csv", "tsv", "table"])
def test_every_format_is_sorted(run_xent: Run, fmt: str) -> None:
    result = run_xent(
        "loss",
        SAMPLE / "logits.csv",
        "-l",
        SAMPLE / "labels.csv",
        "-f",
        fmt,
        "--sort",
        "nll",
        "--desc",
        "--head",
        "2",
    )
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert out.index("dog") < out.index("truck")
