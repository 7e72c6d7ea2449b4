"""Several inputs in one ``xent loss``: a leaderboard of summaries (issue 6)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from typer.testing import Result

from xentcli import cross_entropy

Run = Callable[..., Result]


@pytest.fixture
def models(tmp_path: Path) -> dict[str, Path]:
    rng = np.random.default_rng(6)
    y = rng.integers(0, 4, 300)
    labels = tmp_path / "labels.csv"
    labels.write_text("\n".join(map(str, y.tolist())) + "\n")
    out = {"labels": labels}
    for name, sharp in (("weak", 0.5), ("good", 3.0), ("mid", 1.5)):
        x = rng.normal(size=(300, 4))
        x[np.arange(300), y] += sharp
        if name == "mid":
            np.save(tmp_path / "mid.npy", x)
            out[name] = tmp_path / "mid.npy"
        else:
            p = tmp_path / f"{name}.csv"
            p.write_text("\n".join(",".join(map(repr, r)) for r in x.tolist()) + "\n")
            out[name] = p
        out[f"{name}_loss"] = cross_entropy(x, y).summary.loss  # type: ignore[assignment]
    return out


def three(models: dict[str, Path]) -> list[Path]:
    return [models["weak"], models["good"], models["mid"]]


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_one_summary_per_input_equal_to_single_runs(
    run_xent: Run, models: dict[str, Path], jobs: str
) -> None:
    r = run_xent("loss", *three(models), "-l", models["labels"], "-f", "json", "-j", jobs)
    assert r.exit_code == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["schema"] == "xent.leaderboard/1"
    assert [run["input"] for run in out["runs"]] == [str(p) for p in three(models)]
    for run, name in zip(out["runs"], ("weak", "good", "mid"), strict=True):
        single = run_xent("loss", models[name], "-l", models["labels"], "-s", "-f", "json")
        assert run["summary"] == json.loads(single.stdout)["summary"]
        assert run["summary"]["loss"] == pytest.approx(models[f"{name}_loss"], rel=1e-14)


def test_sorted_leaderboard_in_every_format(run_xent: Run, models: dict[str, Path]) -> None:
    args = ("loss", *three(models), "-l", models["labels"], "--sort", "loss")
    order = [str(models[n]) for n in ("good", "mid", "weak")]
    jl = [json.loads(line) for line in run_xent(*args, "-f", "jsonl").stdout.splitlines()]
    assert [rec["input"] for rec in jl] == order
    assert all(rec["type"] == "summary" for rec in jl)
    desc = json.loads(run_xent(*args, "--desc", "-f", "json").stdout)
    assert [run["input"] for run in desc["runs"]] == order[::-1]
    rows = run_xent(*args, "-f", "csv").stdout.splitlines()
    assert rows[0].startswith("input,n,n_classes,task,loss,")
    assert [row.split(",")[0] for row in rows[1:]] == order
    tsv = run_xent(*args, "-f", "tsv").stdout.splitlines()
    assert tsv[0].split("\t")[:2] == ["input", "n"]
    table = run_xent(*args, "-f", "table", "--top-k", "2", "--ci", "0.9", "--seed", "1").stdout
    assert "Inputs, by loss" in table
    assert "top-2 acc" in table
    assert "90% CI" in table
    lines = [line for line in table.splitlines() if ".csv" in line or ".npy" in line]
    assert [Path(order[i]).name in lines[i] for i in range(3)] == [True, True, True]


def test_sort_by_ci_bound_and_accuracy(run_xent: Run, models: dict[str, Path]) -> None:
    r = run_xent(
        "loss",
        *three(models),
        "-l",
        models["labels"],
        "-f",
        "json",
        "--ci",
        "0.9",
        "--seed",
        "2",
        "--sort",
        "ci_loss_hi",
    )
    runs = json.loads(r.stdout)["runs"]
    highs = [run["summary"]["ci"]["loss"][1] for run in runs]
    assert highs == sorted(highs)
    acc = json.loads(
        run_xent(
            "loss",
            *three(models),
            "-l",
            models["labels"],
            "-f",
            "json",
            "--sort",
            "accuracy",
            "--desc",
        ).stdout
    )["runs"]
    values = [run["summary"]["accuracy"] for run in acc]
    assert values == sorted(values, reverse=True)


def test_gates_apply_to_each_input(run_xent: Run, models: dict[str, Path]) -> None:
    limit = (models["mid_loss"] + models["weak_loss"]) / 2  # type: ignore[operator]
    r = run_xent(
        "loss",
        *three(models),
        "-l",
        models["labels"],
        "-f",
        "json",
        "--fail-if",
        f"loss > {limit}",
    )
    assert r.exit_code == 1
    assert len(json.loads(r.stdout)["runs"]) == 3  # the output is written first
    assert r.stderr.startswith(f"Error: --fail-if: {models['weak']}: loss = ")
    assert str(models["good"]) not in r.stderr


def test_warnings_name_their_input(run_xent: Run, models: dict[str, Path], tmp_path: Path) -> None:
    text = models["weak"].read_text().splitlines()
    text[5] = "nan,1,2,3"
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join(text) + "\n")
    r = run_xent(
        "loss", bad, models["good"], "-l", models["labels"], "-f", "json", "--nonfinite", "skip"
    )
    assert r.exit_code == 0, r.stderr
    assert f"Warning: {bad}: skipped 1 row(s)" in r.stderr
    assert json.loads(r.stdout)["runs"][0]["summary"]["skipped"] == 1


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_failing_input_fails_the_batch_before_output(
    run_xent: Run, models: dict[str, Path], tmp_path: Path, jobs: str
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("1,2,3,4\n" * 299 + "1,2,x,4\n")
    r = run_xent("loss", models["good"], bad, "-l", models["labels"], "-f", "json", "-j", jobs)
    assert r.exit_code == 65
    assert r.stdout == ""
    assert r.stderr.startswith(f"Error: {bad} line 300, column 3: 'x' is not a number")
    missing = run_xent("loss", models["good"], tmp_path / "no.csv", "-l", models["labels"])
    assert missing.exit_code == 66
    assert missing.stdout == ""


def test_output_file(run_xent: Run, models: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "board.csv"
    r = run_xent("loss", *three(models), "-l", models["labels"], "-o", out)
    assert r.exit_code == 0
    assert r.stdout == ""
    assert out.read_text().splitlines()[0].startswith("input,n,")
    per_class = json.loads(
        run_xent(
            "loss", *three(models), "-l", models["labels"], "-f", "json", "--per-class", "--hist"
        ).stdout
    )["runs"]
    assert [len(run["summary"]["per_class"]) for run in per_class] == [4, 4, 4]
    assert sum(per_class[0]["summary"]["nll_histogram"]["counts"]) == 300


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--head", "3"), "--head: several inputs give one summary each"),
        (("--probs",), "--probs: several inputs give one summary each"),
        (("--extra",), "--extra: several inputs give one summary each"),
        (("--sort", "nll"), "several inputs are sorted by a summary metric"),
        (("--sort", "bogus"), "several inputs are sorted by a summary metric"),
        (("-f", "table", "--per-class"), "with several inputs the table is a leaderboard"),
    ],
)
def test_usage_errors(run_xent: Run, models: dict[str, Path], args: tuple, message: str) -> None:
    r = run_xent("loss", models["weak"], models["good"], "-l", models["labels"], *args)
    assert r.exit_code == 2
    assert r.stderr.startswith("Error: ")
    assert message in r.stderr
    assert r.stdout == ""


def test_stdin_and_duplicates_are_refused(run_xent: Run, models: dict[str, Path]) -> None:
    r = run_xent("loss", "-", models["good"], "-l", models["labels"], input="1,2\n")
    assert r.exit_code == 2
    assert "stdin (-) can hold only one input" in r.stderr
    r = run_xent("loss", models["weak"], models["good"], "-l", "-", input="0\n")
    assert r.exit_code == 2
    assert "read the labels from a file" in r.stderr
    r = run_xent("loss", models["weak"], models["weak"], "-l", models["labels"])
    assert r.exit_code == 2
    assert "is given more than once" in r.stderr


def test_single_input_sort_still_takes_sample_fields(
    run_xent: Run, models: dict[str, Path]
) -> None:
    r = run_xent("loss", models["weak"], "-l", models["labels"], "--sort", "ece")
    assert r.exit_code == 2
    assert "samples are sorted by nll, loss, p_true, index" in r.stderr
    ok = run_xent(
        "loss", models["weak"], "-l", models["labels"], "--sort", "NLL", "--head", "1", "-f", "json"
    )
    assert ok.exit_code == 0
