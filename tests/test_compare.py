"""``xent compare A B``: paired differences of two models on the same samples.

The point estimates must be exactly ``xent loss``'s; the resampling must be reproducible,
independent of how the inputs are read in blocks, and calibrated (interval coverage near
the nominal level, p-values small for a clearly better model and uniform under the null).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from typer.testing import Result

from xentcli.core import LossOptions, cross_entropy
from xentcli.core.compare import (
    CompareStats,
    Paired,
    compare_summary,
    denominators,
    largest_differences,
)
from xentcli.io import blocks as blocks_module

Run = Callable[..., Result]
ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data"
A, B, LABELS = SAMPLE / "logits.csv", SAMPLE / "logits_b.csv", SAMPLE / "labels.csv"
PAIR = ["compare", A, B, "-l", LABELS, "--seed", "7"]
N = 300
#: More than two tiles of replicate weights (core.bootstrap.TILE).
BIG = 2500


def ok(result: Result) -> str:
    assert result.exit_code == 0, (result.exit_code, result.stderr, result.exception)
    return result.stdout


def error(result: Result, code: int) -> str:
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
    assert result.stderr.startswith("Error: ")
    assert result.stderr.count("\n") == 1, result.stderr
    return result.stderr


def make_files(tmp_path: Path, n: int) -> dict[str, Path]:
    """Two models' scores on ``n`` samples over 4 classes (A as CSV, B as .npy and CSV),
    labels with ignored samples, sample weights, and A and B with labels in a column."""
    rng = np.random.default_rng(11)
    y = rng.integers(0, 4, size=n)
    xa = np.round(rng.normal(0, 1.5, size=(n, 4)) + 1.0 * np.eye(4)[y], 6)
    xb = np.round(rng.normal(0, 1.5, size=(n, 4)) + 1.8 * np.eye(4)[y], 6)
    y_ign = y.copy()
    y_ign[[3, n // 2, n - 1]] = -100
    w = np.round(rng.uniform(0.1, 2, size=n), 3)
    f = {k: tmp_path / n for k, n in [("a", "a.csv"), ("b", "b.npy"), ("b_csv", "b.csv")]}
    f |= {"y": tmp_path / "y.csv", "y_ign": tmp_path / "y_ign.csv", "w": tmp_path / "w.txt"}
    f |= {"a_col": tmp_path / "a_col.csv", "b_col": tmp_path / "b_col.csv"}
    f["a"].write_text("\n".join(",".join(map(repr, r)) for r in xa.tolist()) + "\n")
    np.save(f["b"], xb)
    f["b_csv"].write_text("\n".join(",".join(map(repr, r)) for r in xb.tolist()) + "\n")
    f["y"].write_text("\n".join(map(str, y)) + "\n")
    f["y_ign"].write_text("\n".join(map(str, y_ign)) + "\n")
    f["w"].write_text("\n".join(map(repr, w.tolist())) + "\n")
    for key, x in (("a_col", xa), ("b_col", xb)):
        rows = [f"{yi}," + ",".join(map(repr, r)) for yi, r in zip(y, x.tolist(), strict=True)]
        f[key].write_text("y,c0,c1,c2,c3\n" + "\n".join(rows) + "\n")
    return f


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    return make_files(tmp_path, N)


# --- the numbers are xent loss's -----------------------------------------------------------

OPTION_SETS = [
    [],
    ["--ignore-index", "-100"],
    ["--weight", "1,2,0.5,3", "--ignore-index", "-100"],
    ["--label-smoothing", "0.1", "--units", "bits"],
    ["--sample-weight", "W", "--weight", "1,2,0.5,3"],
    ["--reduction", "sum", "--temperature", "1.7"],
    ["--compat", "keras", "--sample-weight", "W", "--label-smoothing", "0.1"],
]


@pytest.mark.parametrize("extra", OPTION_SETS, ids=lambda e: " ".join(e) or "plain")
def test_losses_and_deltas_are_those_of_xent_loss(
    run_xent: Run, files: dict[str, Path], extra: list[str]
) -> None:
    extra = [str(files["w"]) if e == "W" else e for e in extra]
    labels = files["y_ign"] if "--ignore-index" in extra else files["y"]

    def loss(path: Path) -> dict[str, object]:
        args = ["loss", path, "-l", labels, "-f", "json", *extra]
        return json.loads(ok(run_xent(*args)))  # type: ignore[no-any-return]

    la, lb = loss(files["a"]), loss(files["b"])
    out = json.loads(ok(run_xent("compare", files["a"], files["b"], "-l", labels, *extra)))
    s = out["summary"]
    assert s["loss_a"] == la["summary"]["loss"]
    assert s["loss_b"] == lb["summary"]["loss"]
    assert s["delta_loss"] == lb["summary"]["loss"] - la["summary"]["loss"]
    assert s["accuracy_a"] == la["summary"]["accuracy"]
    assert s["accuracy_b"] == lb["summary"]["accuracy"]
    counted = N - s["ignored"]
    assert s["delta_accuracy"] == pytest.approx(s["accuracy_b"] - s["accuracy_a"], abs=1e-15)
    assert s["a_better"] + s["b_better"] + s["ties"] == counted
    lo, hi = s["delta_loss_ci"]
    assert lo < s["delta_loss"] < hi
    assert 0 < s["p_value"] <= 1
    # Per sample: the same nll as xent loss, delta = B - A, in input order.
    for rec, ra, rb in zip(out["samples"], la["samples"], lb["samples"], strict=True):
        assert rec["index"] == ra["index"]
        if rec.get("ignored"):
            assert rec["delta"] is None
            continue
        assert (rec["nll_a"], rec["nll_b"]) == (ra["nll"], rb["nll"])
        assert rec["delta"] == rb["nll"] - ra["nll"]
        assert (rec["pred_a"], rec["pred_b"]) == (ra["pred"], rb["pred"])


@pytest.mark.parametrize(
    ("labels", "options"),
    [
        ([0, 2, 1, -100], LossOptions(weight=(1.0, 2.0, 3.0), ignore_index=-100)),
        ([0, 2, 1, 1], LossOptions(compat="keras")),
        ([0, 2, 1, 1], LossOptions(label_smoothing=0.2, weight=(0.5, 2.0, 3.0))),
        ([[0, 1, 1], [1, 0, 0], [0, 0, 1], [1, 1, 1]], LossOptions(task="multilabel")),
    ],
)
def test_denominators_add_up_to_the_mean_s_denominator(
    labels: list[object], options: LossOptions
) -> None:
    x = [[1.0, 0.5, -1.0], [0.2, 2.0, 0.1], [0.0, 0.0, 3.0], [1.0, 1.0, 1.0]]
    sw = np.array([0.5, 2.0, 1.0, 3.0])
    r = cross_entropy(x, labels, options, sample_weight=sw)
    assert denominators(r, sw).sum() == pytest.approx(r.summary.denominator, rel=1e-15)


# --- reproducible, and independent of the blocks -------------------------------------------


def test_a_seed_makes_the_run_repeatable_and_is_recorded(run_xent: Run) -> None:
    first, again = (json.loads(ok(run_xent(*PAIR, "-s"))) for _ in range(2))
    assert first == again
    assert first["summary"]["seed"] == 7
    assert first["summary"]["replicates"] == 1000
    assert first["summary"]["ci"] == 0.95
    other = json.loads(ok(run_xent(*PAIR[:-1], "8", "-s")))
    assert other["summary"]["delta_loss_ci"] != first["summary"]["delta_loss_ci"]
    drawn = json.loads(ok(run_xent(*PAIR[:-2], "-s")))["summary"]
    redo = json.loads(ok(run_xent(*PAIR[:-2], "-s", "--seed", str(drawn["seed"]))))
    assert redo["summary"] == drawn


@pytest.mark.parametrize("block", [700, 1 << 22])
def test_results_do_not_depend_on_the_block_size(
    run_xent: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, block: int
) -> None:
    files = make_files(tmp_path, BIG)
    # A is text and B is .npy: their blocks hold different numbers of rows.
    args = ["compare", files["a"], files["b"], "-l", files["y_ign"], "--ignore-index", "-100"]
    args += ["--seed", "3", "--bootstrap", "200", "-f", "json"]
    whole = json.loads(ok(run_xent(*args)))
    monkeypatch.setattr(blocks_module, "BLOCK_BYTES", block)
    blocked = json.loads(ok(run_xent(*args)))
    assert blocked == whole
    assert len(blocked["samples"]) == BIG
    head = json.loads(ok(run_xent(*args, "--head", "5")))
    assert head["summary"] == whole["summary"]
    assert [r["index"] for r in head["samples"]] == [
        r["index"] for r in _by_abs_delta(whole["samples"])[:5]
    ]


def _by_abs_delta(samples: list[dict[str, object]]) -> list[dict[str, object]]:
    def key(r: dict[str, object]) -> tuple[float, object]:
        d = r["delta"]
        return (math.inf if d is None else -abs(float(d)), r["index"])  # type: ignore[arg-type]

    return sorted(samples, key=key)


def test_largest_differences_merge_block_by_block() -> None:
    rng = np.random.default_rng(0)
    x1, x2 = rng.normal(size=(50, 3)), rng.normal(size=(50, 3))
    y = rng.integers(0, 3, size=50)
    whole = Paired.of(cross_entropy(x1, y), cross_entropy(x2, y))
    parts = [
        Paired.of(
            cross_entropy(x1[i : i + 7], y[i : i + 7], start=i),
            cross_entropy(x2[i : i + 7], y[i : i + 7], start=i),
        )
        for i in range(0, 50, 7)
    ]
    expect = np.argsort(-np.abs(whole.delta), kind="stable")[:6]
    assert largest_differences(parts, 6).index.tolist() == expect.tolist()


# --- calibration of the interval and the test ------------------------------------------------


def _binary_scores(
    rng: np.random.Generator, n: int, sep_a: float, sep_b: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # type: ignore[type-arg]
    y = rng.integers(0, 2, size=n)
    sign = 2.0 * y - 1.0
    return y, sep_a * sign + rng.normal(size=n), sep_b * sign + rng.normal(size=n)


def _compare(y: np.ndarray, xa: np.ndarray, xb: np.ndarray, seed: int, reps: int):  # type: ignore[no-untyped-def, type-arg]
    ra, rb = cross_entropy(xa, y), cross_entropy(xb, y)
    stats = CompareStats.of(Paired.of(ra, rb), seed, reps)
    return compare_summary(ra.summary, rb.summary, stats, 0.9)


def test_the_interval_covers_the_true_difference_at_about_the_nominal_rate() -> None:
    rng = np.random.default_rng(2024)
    y, xa, xb = _binary_scores(rng, 400_000, 1.0, 1.3)
    truth = cross_entropy(xb, y).summary.loss - cross_entropy(xa, y).summary.loss
    sims, covered = 200, 0
    for k in range(sims):
        s = _compare(*_binary_scores(rng, 200, 1.0, 1.3), seed=k, reps=300)
        lo, hi = s.delta_loss_ci
        covered += lo <= truth <= hi
    # Nominal 90%: with 200 runs, a binomial standard error of about 2%.
    assert 0.83 <= covered / sims <= 0.96


def test_the_p_value_is_small_for_a_clearly_better_model_and_uniform_under_the_null() -> None:
    rng = np.random.default_rng(5)
    better = _compare(*_binary_scores(rng, 300, 0.5, 2.0), seed=1, reps=500)
    assert better.p_value == 1 / 501
    assert better.delta_loss_ci[1] < 0
    # A and B drawn alike: exchangeable per sample, so p is (about) uniform.
    ps = np.array(
        [_compare(*_binary_scores(rng, 60, 1.0, 1.0), seed=k, reps=200).p_value for k in range(200)]
    )
    assert 0.4 < ps.mean() < 0.6
    assert np.mean(ps <= 0.1) < 0.17


def test_identical_models_tie_everywhere(run_xent: Run) -> None:
    s = json.loads(ok(run_xent("compare", A, A, "-l", LABELS, "-s", "--seed", "1")))["summary"]
    assert (s["delta_loss"], s["delta_loss_ci"], s["p_value"]) == (0.0, [0.0, 0.0], 1.0)
    assert (s["a_better"], s["b_better"], s["ties"]) == (0, 0, 20)


# --- output formats ---------------------------------------------------------------------------


def test_table_has_the_largest_differences_the_summary_and_a_verdict(
    run_xent: Run,
) -> None:
    out = ok(run_xent(*PAIR, "-f", "table", "--head", "3"))
    assert out.startswith("Largest differences")
    rows = [line for line in out.splitlines() if re.match(r"│ +\d+ │", line)]
    assert [int(r.split("│")[1]) for r in rows] == [1, 19, 9]
    assert "17 more samples not shown (--head N)" in out
    assert "loss A          0.968677 nats" in out
    verdict = out.strip().splitlines()[-1]
    assert re.fullmatch(
        r"B is better than A: delta loss -0\.725 \(95% CI -\S+ to -\S+\), p = \S+", verdict
    )
    summary_only = ok(run_xent(*PAIR, "-f", "table", "-s"))
    assert "Largest differences" not in summary_only
    assert "p-value" in summary_only


def test_machine_formats_agree(run_xent: Run, tmp_path: Path) -> None:
    j = json.loads(ok(run_xent(*PAIR, "-f", "json")))
    assert j["schema"] == "xent.compare/1"
    assert list(j["summary"])[:10] == [
        "n", "n_classes", "task", "ignored", "loss_a", "loss_b", "delta_loss",
        "delta_loss_ci", "accuracy_a", "accuracy_b",
    ]  # fmt: skip
    assert [r["index"] for r in j["samples"]] == list(range(20))
    lines = [json.loads(line) for line in ok(run_xent(*PAIR, "-f", "jsonl")).splitlines()]
    assert [r.pop("type") for r in lines] == ["sample"] * 20 + ["summary"]
    assert lines[:-1] == j["samples"]
    assert lines[-1] == j["summary"]
    csv = ok(run_xent(*PAIR, "-f", "csv")).splitlines()
    assert csv[0] == (
        "index,label,pred_a,pred_b,nll_a,nll_b,delta,label_name,pred_a_name,pred_b_name"
    )
    assert csv[2].split(",")[6] == repr(j["samples"][1]["delta"])
    tsv = ok(run_xent(*PAIR, "-f", "tsv", "-s")).splitlines()
    header, row = tsv[0].split("\t"), tsv[1].split("\t")
    flat = dict(zip(header, row, strict=True))
    assert float(flat["delta_loss_ci_lo"]) == j["summary"]["delta_loss_ci"][0]
    assert float(flat["p_value"]) == j["summary"]["p_value"]
    target = tmp_path / "out.jsonl"
    assert ok(run_xent(*PAIR, "-o", target)) == ""
    assert [json.loads(x) for x in target.read_text().splitlines()][-1]["type"] == "summary"
    rounded = json.loads(ok(run_xent(*PAIR, "-s", "--precision", "2")))["summary"]
    assert rounded["loss_a"] == 0.97
    assert rounded["ci"] == 0.95


def test_nonfinite_losses_are_flagged_and_leave_no_interval(
    run_xent: Run, in_tmp_path: Path
) -> None:
    (in_tmp_path / "a.csv").write_text("-inf,1\n0,1\n1,0\n")
    (in_tmp_path / "b.csv").write_text("1,0\n0,1\n1,0\n")
    (in_tmp_path / "y.csv").write_text("0\n1\n0\n")
    out = json.loads(ok(run_xent("compare", "a.csv", "b.csv", "-l", "y.csv", "--seed", "1")))
    first = out["samples"][0]
    assert (first["nll_a"], first["delta"]) == (None, None)
    assert first["nonfinite"] == {"nll_a": "inf", "delta": "-inf"}
    s = out["summary"]
    assert s["delta_loss_ci"] == [None, None]
    assert s["p_value"] is None
    assert s["nonfinite"]["delta_loss"] == "-inf"
    assert s["b_better"] == 1


def test_stdin_for_one_model_or_for_the_labels(run_xent: Run) -> None:
    whole = json.loads(ok(run_xent(*PAIR, "-s")))
    piped = run_xent("compare", A, "-", "-l", LABELS, "--seed", "7", "-s", input=B.read_bytes())
    assert json.loads(ok(piped)) == whole
    labels = run_xent("compare", A, B, "-l", "-", "--seed", "7", "-s", input=LABELS.read_bytes())
    assert json.loads(ok(labels)) == whole


def test_labels_in_a_column_of_each_input(run_xent: Run, files: dict[str, Path]) -> None:
    args = ["--seed", "2", "--bootstrap", "100", "-s"]
    by_col = run_xent("compare", files["a_col"], files["b_col"], "--label-col", "y", *args)
    by_file = run_xent("compare", files["a"], files["b"], "-l", files["y"], *args)
    assert json.loads(ok(by_col))["summary"] == json.loads(ok(by_file))["summary"]


# --- gates and errors --------------------------------------------------------------------


def test_fail_if_on_the_comparison(run_xent: Run) -> None:
    result = run_xent(*PAIR, "-s", "--fail-if", "delta_loss > -0.8", "--fail-if", "p_value > 0.5")
    assert json.loads(result.stdout)["summary"]["seed"] == 7  # written first
    assert (
        error(result, 1) == "Error: --fail-if: delta_loss = -0.72519, and delta_loss > -0.8 holds\n"
    )
    assert ok(run_xent(*PAIR, "-s", "--fail-if", "delta_loss_ci_hi > 0"))
    bad = run_xent(*PAIR, "--fail-if", "loss > 1")
    assert "no metric 'loss' (metrics: n, n_classes, ignored, loss_a" in error(bad, 2)


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["-", "-", "-l", LABELS], 2, "A and B cannot both come from standard input"),
        ([A, B, "-l", LABELS, "--ci", "1.5"], 2, "--ci 1.5 must be a level between 0 and 1"),
        ([A, B, "-l", LABELS, "--ci", "0"], 2, "--ci 0.0 must be a level between 0 and 1"),
        ([A, B, "-l", LABELS, "--bootstrap", "5"], 2, "--bootstrap 5 must be a whole number"),
        ([A, B], 2, "no labels: give -l/--labels FILE"),
        (
            [A, SAMPLE / "seed3.csv", "-l", LABELS],
            65,
            "logits have 3 samples but labels have 20; they must be the same samples in the "
            "same order (model B: ",
        ),
        (
            [A, SAMPLE / "binary_scores.csv", "-l", SAMPLE / "binary_labels.csv"],
            65,
            "logits have 20 samples but labels have 8",
        ),
    ],
)
def test_errors(run_xent: Run, args: list[object], code: int, message: str) -> None:
    assert message in error(run_xent("compare", *args), code)


def test_inputs_of_different_lengths_name_both_counts(
    run_xent: Run, files: dict[str, Path]
) -> None:
    short = files["b_col"].read_text().splitlines()[:-4]
    files["b_col"].write_text("\n".join(short) + "\n")
    result = run_xent("compare", files["a_col"], files["b_col"], "--label-col", "y")
    assert error(result, 65).endswith(
        f"has {N} samples but B ({files['b_col']}) has {N - 4}: compare needs the two "
        "models' outputs on the same samples, in the same order\n"
    )
    assert result.stdout == ""


def test_inputs_that_disagree_on_a_label(run_xent: Run, files: dict[str, Path]) -> None:
    rows = files["b_col"].read_text().splitlines()
    label = rows[5].split(",")[0]
    rows[5] = str((int(label) + 1) % 4) + rows[5][len(label) :]
    files["b_col"].write_text("\n".join(rows) + "\n")
    result = run_xent("compare", files["a_col"], files["b_col"], "--label-col", "y")
    assert "A and B have different labels for sample 4" in error(result, 65)


def test_every_option_is_documented_in_the_compare_section() -> None:
    from typer.main import get_command

    from xentcli.cli import app

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## `xent compare`")[1].split("\n## ")[0]
    cmd = get_command(app).commands["compare"]  # type: ignore[attr-defined]
    for param in cmd.params:
        for opt in param.opts:
            if opt.startswith("-"):
                assert f"`{opt}" in section or f" {opt}" in section, f"{opt} is not in README"
