"""--extra (rank, margin, entropy), --per-class and the bootstrap --ci of ``xent loss``.

Per-sample and per-class references come from SciPy and scikit-learn
(tests/reference/generate_evaluation_reference.py); the bootstrap is checked for
reproducibility, independence of the block size, and coverage in a seeded simulation.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from typer.testing import Result

from xentcli import LossOptions, cross_entropy
from xentcli.core import concat_results
from xentcli.core.bootstrap import ReplicateSums, percentile_interval, replicate_weights
from xentcli.io import blocks as stream_module

FIXTURE = Path(__file__).parent / "fixtures" / "evaluation_reference.json"
CASES = {c["name"]: c for c in json.loads(FIXTURE.read_text())["cases"]}
Run = Callable[..., Result]


def arrays(case: dict) -> tuple[np.ndarray, np.ndarray]:
    x = np.array([[float(v) for v in row] for row in case["logits"]])
    return x, np.array(case["labels"], dtype=np.int64)


@pytest.mark.parametrize("name", sorted(CASES))
def test_extra_columns_match_scipy(name: str) -> None:
    x, y = arrays(CASES[name])
    want = CASES[name]["expected"]
    r = cross_entropy(x, y, LossOptions(extra=True))
    assert r.rank is not None
    assert r.margin is not None
    assert r.entropy is not None
    assert r.rank.tolist() == want["rank"]
    np.testing.assert_allclose(r.margin, want["margin"], rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(r.entropy, want["entropy"], rtol=1e-12, atol=1e-13)
    # Rank 1 is exactly a right prediction; a right prediction has margin 0.
    assert ((r.rank == 1) == (r.pred == r.label)).all()
    assert (r.margin[r.rank == 1] == 0).all()


@pytest.mark.parametrize("name", sorted(CASES))
def test_per_class_matches_sklearn(name: str) -> None:
    x, y = arrays(CASES[name])
    got = cross_entropy(x, y, LossOptions(per_class=True)).summary.extra["per_class"]
    for g, w in zip(got, CASES[name]["expected"]["per_class"], strict=True):
        assert g["class"] == w["class"]
        assert g["support"] == w["support"]
        for key in ("mean_nll", "accuracy", "confidence"):
            if w[key] is None:
                assert math.isnan(g[key])
            else:
                assert g[key] == pytest.approx(w[key], rel=1e-12, abs=1e-300), key
        if w["mean_nll_sklearn"] is not None:
            # sklearn clips p at 1 - eps, so its tiniest losses are 2.2e-16, not ~1e-26.
            assert g["mean_nll"] == pytest.approx(w["mean_nll_sklearn"], rel=1e-12, abs=3e-16)
        assert g["loss_share"] == pytest.approx(w["loss_share"], rel=1e-12, abs=1e-15)
    assert sum(g["loss_share"] for g in got) == pytest.approx(1.0, rel=1e-12)


def test_per_class_weights_and_ignored_samples() -> None:
    x = np.array([[2.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 3.0], [1.0, 1.0, 1.0]])
    y = np.array([0, 1, -100, 1])
    opts = LossOptions(per_class=True, ignore_index=-100, weight=(1.0, 3.0, 1.0))
    r = cross_entropy(x, y, opts)
    rows = r.summary.extra["per_class"]
    assert [row["support"] for row in rows] == [1, 2, 0]
    nll = r.nll
    assert rows[1]["mean_nll"] == pytest.approx((nll[1] + nll[3]) / 2, rel=1e-15)
    # The loss share follows the weighted loss terms: 1 * nll0 vs 3 * (nll1 + nll3).
    total = nll[0] + 3 * (nll[1] + nll[3])
    assert rows[0]["loss_share"] == pytest.approx(nll[0] / total, rel=1e-14)
    assert rows[1]["accuracy"] == 0.5  # sample 3: a tie, argmax says class 0
    assert math.isnan(rows[2]["accuracy"])


def test_binary_extra_and_per_class() -> None:
    z = np.array([2.0, -1.0, 0.0, 0.5])
    y = np.array([1, 1, 0, 0])
    r = cross_entropy(z, y, LossOptions(extra=True, per_class=True))
    p1 = 1 / (1 + np.exp(-z))
    p_true = np.where(y == 1, p1, 1 - p1)
    top = np.maximum(p1, 1 - p1)
    assert r.rank is not None
    assert r.margin is not None
    assert r.entropy is not None
    assert r.rank.tolist() == [1, 2, 1, 2]
    np.testing.assert_allclose(r.margin, np.log(top) - np.log(p_true), rtol=1e-14, atol=1e-16)
    ent = -(p1 * np.log(p1) + (1 - p1) * np.log(1 - p1))
    np.testing.assert_allclose(r.entropy, ent, rtol=1e-14)
    rows = r.summary.extra["per_class"]
    assert [row["support"] for row in rows] == [2, 2]
    assert rows[1]["accuracy"] == 0.5
    assert rows[0]["confidence"] == pytest.approx((top[2] + top[3]) / 2, rel=1e-15)


def test_extra_in_bits() -> None:
    x, y = arrays(CASES["random_n200_c5"])
    nats = cross_entropy(x, y, LossOptions(extra=True))
    bits = cross_entropy(x, y, LossOptions(extra=True, units="bits"))
    assert bits.entropy is not None
    assert nats.entropy is not None
    np.testing.assert_allclose(bits.entropy, nats.entropy / math.log(2), rtol=1e-15)
    rows = cross_entropy(x, y, LossOptions(per_class=True, units="bits")).summary.extra
    ref = cross_entropy(x, y, LossOptions(per_class=True)).summary.extra
    assert rows["per_class"][0]["mean_nll"] == pytest.approx(
        ref["per_class"][0]["mean_nll"] / math.log(2), rel=1e-15
    )


@pytest.mark.parametrize(
    ("labels", "kwargs", "message"),
    [
        ([[0.5, 0.5], [1.0, 0.0]], {"per_class": True}, "--per-class need class-index labels"),
        ([[0.5, 0.5], [1.0, 0.0]], {"extra": True}, "--extra need class-index labels"),
    ],
)
def test_soft_targets_refuse_rank_options(labels: list, kwargs: dict, message: str) -> None:
    from xentcli.errors import UsageError

    with pytest.raises(UsageError, match=message):
        cross_entropy([[1.0, 2.0], [0.0, 1.0]], labels, LossOptions(**kwargs))


# -- bootstrap ---------------------------------------------------------------------------


def test_replicate_weights_are_poisson_and_split_invariant() -> None:
    w = replicate_weights(11, 5, 5000, 200)
    assert w.mean() == pytest.approx(1.0, abs=0.01)
    assert w.var() == pytest.approx(1.0, abs=0.02)
    # P(0) = P(1) = 1/e for Poisson(1).
    assert (w == 0).mean() == pytest.approx(math.exp(-1), abs=0.01)
    parts = np.vstack([replicate_weights(11, 5, 1000, 200), replicate_weights(11, 1005, 4000, 200)])
    assert (parts == w).all()
    signs = replicate_weights(11, 0, 3000, 50, kind="sign")
    assert set(np.unique(signs).tolist()) == {-1.0, 1.0}


def test_replicate_sums_merge_exactly_like_the_whole() -> None:
    rng = np.random.default_rng(3)
    v = rng.normal(size=(3000, 3))
    whole = ReplicateSums.of(v, 0, 9, 100)
    parts = ReplicateSums.of(v[:1234], 0, 9, 100) + ReplicateSums.of(v[1234:], 1234, 9, 100)
    np.testing.assert_allclose(parts.sums, whole.sums, rtol=1e-12)
    with pytest.raises(ValueError, match="different settings"):
        _ = whole + ReplicateSums.of(v, 0, 10, 100)


def test_percentile_interval_by_hand() -> None:
    num = np.arange(1.0, 102.0)  # 1 .. 101
    assert percentile_interval(num, None, 0.9) == pytest.approx((6.0, 96.0), rel=1e-15)
    assert all(math.isnan(v) for v in percentile_interval(num, np.zeros(101), 0.9))
    # Replicates with a zero denominator are left out: 1..101 over 1 and 0 alternately.
    den = np.tile([1.0, 0.0], 51)[:101]
    # Kept: 1, 3, ..., 101 (51 values); quartiles at positions 12.5 and 37.5.
    assert percentile_interval(num, den, 0.5) == pytest.approx((26.0, 76.0), rel=1e-15)
    inf = np.append(num, [np.inf] * 20)
    assert percentile_interval(inf, None, 0.9)[1] == math.inf


def test_ci_reproducible_and_independent_of_blocks() -> None:
    rng = np.random.default_rng(5)
    x = rng.normal(size=(3000, 4))
    y = rng.integers(0, 4, 3000)
    opts = LossOptions(ci=0.95, seed=42, bootstrap=300)
    whole = cross_entropy(x, y, opts).summary.extra["ci"]
    again = cross_entropy(x, y, opts).summary.extra["ci"]
    assert whole == again
    parts = concat_results(
        [
            cross_entropy(x[a:b], y[a:b], opts, start=a)
            for a, b in ((0, 700), (700, 2999), (2999, 3000))
        ]
    ).summary.extra["ci"]
    assert parts["loss"] == pytest.approx(whole["loss"], rel=1e-12)
    assert parts["accuracy"] == pytest.approx(whole["accuracy"], rel=1e-12)
    other = cross_entropy(x, y, LossOptions(ci=0.95, seed=43, bootstrap=300)).summary.extra
    assert other["ci"]["loss"] != whole["loss"]
    loss = cross_entropy(x, y).summary.loss
    lo, hi = whole["loss"]
    assert lo < loss < hi
    assert whole["level"] == 0.95
    assert whole["replicates"] == 300
    assert whole["seed"] == 42


def test_ci_without_seed_draws_and_records_one() -> None:
    opts = LossOptions(ci=0.9)
    assert isinstance(opts.seed, int)
    r = cross_entropy([[1.0, 0.0]] * 20, [0] * 10 + [1] * 10, opts)
    assert r.summary.extra["ci"]["seed"] == opts.seed


def test_ci_interval_width_by_the_normal_approximation() -> None:
    # For a large sample the percentile interval is about mean +- 1.96 sd / sqrt(n).
    rng = np.random.default_rng(8)
    x = rng.normal(size=(4000, 3))
    y = rng.integers(0, 3, 4000)
    r = cross_entropy(x, y, LossOptions(ci=0.95, seed=1, bootstrap=2000))
    lo, hi = r.summary.extra["ci"]["loss"]
    half = 1.959964 * r.nll.std(ddof=1) / math.sqrt(4000)
    assert (hi - lo) / 2 == pytest.approx(half, rel=0.08)
    acc = r.summary.accuracy
    a_lo, a_hi = r.summary.extra["ci"]["accuracy"]
    assert (a_hi - a_lo) / 2 == pytest.approx(
        1.959964 * math.sqrt(acc * (1 - acc) / 4000), rel=0.08
    )


def test_ci_covers_the_population_mean_at_about_the_level() -> None:
    """200 samples of 150 from a fixed population: the 90% interval should cover the
    population's mean loss about 90% of the time (binomial sd 2.1%)."""
    rng = np.random.default_rng(2026)
    pop_x = rng.normal(size=(20000, 4)) * 1.5
    pop_y = rng.integers(0, 4, 20000)
    true_loss = cross_entropy(pop_x, pop_y).summary.loss
    covered = 0
    sims = 200
    for s in range(sims):
        idx = rng.integers(0, 20000, 150)
        r = cross_entropy(pop_x[idx], pop_y[idx], LossOptions(ci=0.9, seed=s, bootstrap=400))
        lo, hi = r.summary.extra["ci"]["loss"]
        covered += lo <= true_loss <= hi
    assert 0.84 <= covered / sims <= 0.96


def test_ci_with_an_infinite_loss_and_weights() -> None:
    x = np.array([[0.0, -np.inf]] + [[0.0, 0.0]] * 99)
    y = np.array([1] + [0] * 99)
    ci = cross_entropy(x, y, LossOptions(ci=0.9, seed=3)).summary.extra["ci"]
    # The sample of infinite loss is in about 63% of the replicates: the upper end is inf,
    # the lower end the loss of the others (log 2), never NaN.
    assert ci["loss"][1] == math.inf
    assert ci["loss"][0] == pytest.approx(math.log(2), rel=1e-12)
    w = cross_entropy(
        [[0.0, 0.0]] * 50, [0] * 50, LossOptions(ci=0.9, seed=3, weight=(2.0, 1.0))
    ).summary.extra["ci"]
    assert w["loss"] == pytest.approx([math.log(2), math.log(2)], rel=1e-12)


def test_ci_sum_reduction_and_bits() -> None:
    x = np.zeros((100, 2))
    y = np.zeros(100, dtype=np.int64)
    ci = cross_entropy(x, y, LossOptions(ci=0.9, seed=1, reduction="sum")).summary.extra["ci"]
    lo, hi = ci["loss"]
    # A sum of 100 equal terms: Poisson total count has sd 10.
    assert lo < 100 * math.log(2) < hi
    assert (hi - lo) / 2 == pytest.approx(1.645 * 10 * math.log(2), rel=0.15)
    bits = cross_entropy(x, y, LossOptions(ci=0.9, seed=1, units="bits")).summary.extra["ci"]
    assert bits["loss"] == pytest.approx([1.0, 1.0], rel=1e-12)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"ci": 1.5}, "--ci 1.5 must be a level between 0 and 1"),
        ({"ci": 0.0}, "--ci 0.0 must be a level between 0 and 1"),
        ({"ci": 0.9, "bootstrap": 5}, "--bootstrap 5 must be a whole number of at least 10"),
        ({"ci": 0.9, "seed": -1}, "--seed -1 must be a non-negative whole number"),
    ],
)
def test_ci_option_errors(kwargs: dict, message: str) -> None:
    from xentcli.errors import UsageError

    with pytest.raises(UsageError, match=message):
        LossOptions(**kwargs)


# -- through the command line ------------------------------------------------------------


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    x, y = arrays(CASES["random_n200_c5"])
    logits = tmp_path / "logits.csv"
    logits.write_text("\n".join(",".join(repr(v) for v in row) for row in x.tolist()) + "\n")
    labels = tmp_path / "labels.csv"
    labels.write_text("\n".join(str(v) for v in y) + "\n")
    np.save(tmp_path / "logits.npy", x)
    return {"logits": logits, "labels": labels, "npy": tmp_path / "logits.npy"}


def test_cli_extra_columns_in_every_format(run_xent: Run, files: dict[str, Path]) -> None:
    want = CASES["random_n200_c5"]["expected"]
    args = (files["logits"], "-l", files["labels"], "--extra")
    out = json.loads(run_xent("loss", *args, "-f", "json").stdout)
    assert [s["rank"] for s in out["samples"]] == want["rank"]
    assert out["samples"][3]["margin"] == pytest.approx(want["margin"][3], rel=1e-12)
    lines = [
        json.loads(line) for line in run_xent("loss", *args, "-f", "jsonl").stdout.splitlines()
    ]
    assert lines[0]["entropy"] == pytest.approx(want["entropy"][0], rel=1e-12)
    rows = run_xent("loss", *args, "-f", "csv").stdout.splitlines()
    assert rows[0] == "index,label,pred,p_true,log_p_true,nll,loss,rank,margin,entropy"
    assert rows[1].split(",")[7] == str(want["rank"][0])
    tsv = run_xent("loss", *args, "-f", "tsv").stdout.splitlines()
    assert tsv[0].split("\t")[-3:] == ["rank", "margin", "entropy"]
    table = run_xent("loss", *args, "-f", "table", "--head", "3").stdout
    assert "rank" in table
    assert "margin" in table
    assert "entropy" in table
    npy = json.loads(run_xent("loss", files["npy"], *args[1:], "-f", "json").stdout)
    assert npy["samples"] == out["samples"]


def test_cli_per_class_in_every_format(run_xent: Run, files: dict[str, Path]) -> None:
    want = CASES["random_n200_c5"]["expected"]["per_class"]
    args = (files["logits"], "-l", files["labels"], "--per-class", "-s")
    out = json.loads(run_xent("loss", *args, "-f", "json").stdout)["summary"]["per_class"]
    assert [r["support"] for r in out] == [w["support"] for w in want]
    assert out[2]["mean_nll"] == pytest.approx(want[2]["mean_nll"], rel=1e-12)
    named = json.loads(run_xent("loss", *args, "-f", "json", "--classes", "a,b,c,d,e").stdout)[
        "summary"
    ]["per_class"]
    assert [r["name"] for r in named] == ["a", "b", "c", "d", "e"]
    jl = json.loads(run_xent("loss", *args, "-f", "jsonl").stdout)
    assert jl["per_class"][0]["support"] == want[0]["support"]
    csv_rows = run_xent("loss", *args, "-f", "csv").stdout.splitlines()
    assert csv_rows[0].endswith(",per_class")
    table = run_xent("loss", *args, "-f", "table", "--classes", "a,b,c,d,e").stdout
    assert "Per class" in table
    assert "loss share" in table
    assert f"{want[0]['support']}" in table


def test_cli_ci_every_format_and_blocks(
    run_xent: Run, files: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    args = (files["logits"], "-l", files["labels"], "--ci", "0.9", "--seed", "7", "-s")
    whole = json.loads(run_xent("loss", *args, "-f", "json").stdout)["summary"]["ci"]
    assert whole["level"] == 0.9
    assert whole["seed"] == 7
    assert whole["replicates"] == 1000
    monkeypatch.setattr(stream_module, "BLOCK_BYTES", 500)
    small = json.loads(run_xent("loss", *args, "-f", "json").stdout)["summary"]["ci"]
    assert small["loss"] == pytest.approx(whole["loss"], rel=1e-12)
    assert small["accuracy"] == pytest.approx(whole["accuracy"], rel=1e-12)
    piped = run_xent("loss", "-", *args[1:], "-f", "json", input=files["logits"].read_text())
    assert json.loads(piped.stdout)["summary"]["ci"]["loss"] == pytest.approx(whole["loss"])
    csv_rows = run_xent("loss", *args, "-f", "csv").stdout.splitlines()
    header = csv_rows[0].split(",")
    for col in ("ci_level", "ci_loss_lo", "ci_loss_hi", "ci_accuracy_lo", "ci_accuracy_hi"):
        assert col in header
    table = run_xent("loss", *args, "-f", "table").stdout
    assert "loss 90% CI" in table
    assert "seed 7" in table
    gate = run_xent(
        "loss", *args, "-f", "json", "--fail-if", f"ci_loss_lo > {whole['loss'][0] - 1e-9}"
    )
    assert gate.exit_code == 1
    assert "ci_loss_lo" in gate.stderr


@pytest.mark.parametrize(
    ("extra_args", "message"),
    [
        (("--seed", "3"), "--bootstrap and --seed set up the interval of --ci"),
        (("--ci", "95"), "--ci 95.0 must be a level between 0 and 1"),
        (("--ci", "0.9", "--bootstrap", "3"), "--bootstrap 3 must be a whole number"),
        (("--multi-label", "--extra"), "--extra need class-index labels, not multi-label"),
        (("--fail-if", "ci_loss_hi > 1"), "ci_loss_hi is reported only with --ci LEVEL"),
    ],
)
def test_cli_errors(run_xent: Run, files: dict[str, Path], extra_args: tuple, message: str) -> None:
    r = run_xent("loss", files["logits"], "-l", files["labels"], "-f", "json", *extra_args)
    assert r.exit_code == 2
    assert message in r.stderr
    assert r.stderr.startswith("Error: ")


def test_metric_intervals_equal_the_metrics_of_weighted_replicates() -> None:
    """Each replicate is the data with sample i counted w[i, b] times: recompute the
    metrics of each such weighted copy directly and take their percentiles."""
    x, y = arrays(CASES["random_n200_c5"])
    seed, reps, level = 4, 60, 0.8
    ci = cross_entropy(
        x, y, LossOptions(ci=level, seed=seed, bootstrap=reps, top_k=2, bins=5)
    ).summary.extra["ci"]
    w = replicate_weights(seed, 0, len(y), reps)
    logp = x - x.max(axis=1, keepdims=True)
    logp -= np.log(np.exp(logp).sum(axis=1, keepdims=True))
    p = np.exp(logp)
    conf, pred = p.max(axis=1), p.argmax(axis=1)
    assert all(len(set(row)) == 5 for row in x.tolist())  # no ties: the order is clear
    top2 = np.array([y[i] in np.argsort(-x[i])[:2] for i in range(200)])
    brier = ((p - np.eye(5)[y]) ** 2).sum(axis=1)
    which = np.minimum((conf * 5).astype(int), 5)
    per_rep: dict[str, list[float]] = {k: [] for k in ("loss", "top_k_accuracy", "brier", "ece")}
    for b in range(reps):
        wb = w[:, b]
        tot = wb.sum()
        per_rep["loss"].append(float((wb * -logp[np.arange(200), y]).sum() / tot))
        per_rep["top_k_accuracy"].append(float((wb * top2).sum() / tot))
        per_rep["brier"].append(float((wb * brier).sum() / tot))
        ece = 0.0
        for k in range(6):
            m = (which == k) & (wb > 0)
            if m.any():
                wk = wb[m]
                gap = abs((wk * (pred[m] == y[m])).sum() - (wk * conf[m]).sum()) / wk.sum()
                ece += wk.sum() / tot * gap
        per_rep["ece"].append(ece)
    tail = (1 - level) / 2
    for key, values in per_rep.items():
        want = np.quantile(values, [tail, 1 - tail])
        assert ci[key] == pytest.approx(want.tolist(), rel=1e-10), key


# -- --hist ----------------------------------------------------------------------------


def test_histogram_counts_match_numpy() -> None:
    x, y = arrays(CASES["random_n200_c5"])
    r = cross_entropy(x, y, LossOptions(hist=True))
    h = r.summary.extra["nll_histogram"]
    assert len(h["edges"]) == len(h["counts"]) + 1 <= 21
    width = h["edges"][1]
    assert width in (0.01, 0.02, 0.05, 0.1, 0.2, 0.25, 0.5, 1.0, 2.0, 2.5, 5.0)
    # np.histogram's last bin is closed; none of these values sits on an edge.
    want, _ = np.histogram(r.nll, bins=np.array(h["edges"]))
    assert h["counts"] == want.tolist()
    assert h["edges"][-1] > r.nll.max() >= h["edges"][-2]
    assert (h["above"], h["infinite"]) == (0, 0)


def test_histogram_tail_infinite_bits_and_blocks() -> None:
    x = np.array([[0.0, 0.0], [0.0, -np.inf], [0.0, -60.0], [3.0, 0.0]])
    y = np.array([0, 1, 1, 1])
    h = cross_entropy(x, y, LossOptions(hist=True)).summary.extra["nll_histogram"]
    assert (h["above"], h["infinite"]) == (1, 1)  # 60 nats is past the 50 limit
    assert sum(h["counts"]) == 2
    bits = cross_entropy(x[:1], y[:1], LossOptions(hist=True, units="bits"))
    hb = bits.summary.extra["nll_histogram"]  # one sample of exactly 1 bit
    assert sum(hb["counts"]) == 1
    assert hb["edges"][-1] > 1.0
    rng = np.random.default_rng(1)
    xs = rng.normal(size=(1000, 3)) * 3
    ys = rng.integers(0, 3, 1000)
    whole = cross_entropy(xs, ys, LossOptions(hist=True)).summary.extra["nll_histogram"]
    parts = concat_results(
        [
            cross_entropy(xs[a:b], ys[a:b], LossOptions(hist=True), start=a)
            for a, b in ((0, 1), (1, 450), (450, 1000))
        ]
    ).summary.extra["nll_histogram"]
    assert parts == whole


def test_cli_hist_in_every_format(run_xent: Run, files: dict[str, Path]) -> None:
    args = ("loss", files["logits"], "-l", files["labels"], "--hist", "-s")
    h = json.loads(run_xent(*args, "-f", "json").stdout)["summary"]["nll_histogram"]
    assert sum(h["counts"]) == 200
    table = run_xent(*args, "-f", "table").stdout
    assert "Per-sample nll (nats)" in table
    first = f"{h['edges'][0]:g} to {h['edges'][1]:g}"
    assert any(
        line.strip().startswith(first) and line.rstrip().endswith(str(h["counts"][0]))
        for line in table.splitlines()
    )
    row = run_xent(*args, "-f", "csv").stdout.splitlines()
    assert row[0].endswith(",nll_histogram")
    jl = json.loads(run_xent(*args, "-f", "jsonl").stdout)
    assert jl["nll_histogram"] == h


def test_cli_plot_writes_a_png(run_xent: Run, files: dict[str, Path], tmp_path: Path) -> None:
    png = tmp_path / "nll.png"
    r = run_xent("loss", files["logits"], "-l", files["labels"], "-s", "-f", "json", "--plot", png)
    assert r.exit_code == 0, r.stderr
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # --plot implies the histogram's counts in the summary too.
    assert sum(json.loads(r.stdout)["summary"]["nll_histogram"]["counts"]) == 200


def test_cli_plot_without_matplotlib(
    run_xent: Run, files: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib: ImportError
    png = tmp_path / "nll.png"
    r = run_xent("loss", files["logits"], "-l", files["labels"], "--plot", png)
    assert r.exit_code == 2
    assert r.stderr == "Error: --plot needs matplotlib: pip install 'xentcli[plot]'\n"
    assert r.stdout == ""
    assert not png.exists()
