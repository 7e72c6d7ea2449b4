"""`xent explain`: its numbers against hand computation and against `xent loss`."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from xentcli import cross_entropy
from xentcli.cli import app
from xentcli.core.explain import SEED3_LABELS, SEED3_LOGITS, explain, product_underflow

ROOT = Path(__file__).parent.parent
runner = CliRunner()


def hand_softmax(row: list[float]) -> list[float]:
    """Softmax the schoolbook way, in plain Python floats (fine for these small logits)."""
    exps = [math.exp(v) for v in row]
    total = math.fsum(exps)
    return [v / total for v in exps]


def test_builtin_example_is_sample_data_seed3() -> None:
    data = np.loadtxt(ROOT / "sample_data" / "seed3.csv", delimiter=",")
    labels = np.loadtxt(ROOT / "sample_data" / "seed3_labels.csv", dtype=int)
    np.testing.assert_array_equal(SEED3_LOGITS, data)
    np.testing.assert_array_equal(SEED3_LABELS, labels)
    assert SEED3_LABELS.tolist() == [1, 3, 5]


def test_steps_match_hand_computation() -> None:
    e = explain(SEED3_LOGITS, SEED3_LABELS)
    probs = [hand_softmax(list(r)) for r in SEED3_LOGITS]
    np.testing.assert_allclose(e.probs, probs, rtol=1e-13)
    p_true = [probs[0][1], probs[1][3], probs[2][5]]
    np.testing.assert_allclose(e.p_true, p_true, rtol=1e-13)
    product = p_true[0] * p_true[1] * p_true[2]
    assert e.likelihood == pytest.approx(product, rel=1e-13)
    assert e.log_of_product == pytest.approx(math.log(product), rel=1e-13)
    # log of the product equals the sum of the logs (step 5's whole point).
    assert e.sum_of_logs == pytest.approx(sum(math.log(p) for p in p_true), rel=1e-13)
    assert e.log_of_product == pytest.approx(e.sum_of_logs, rel=1e-13)
    np.testing.assert_allclose(e.nll, [-math.log(p) for p in p_true], rtol=1e-13)
    assert e.loss == pytest.approx(-sum(math.log(p) for p in p_true) / 3, rel=1e-13)
    onehot = np.eye(10)[[1, 3, 5]]
    np.testing.assert_allclose(e.grad, np.array(probs) - onehot, rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(e.pred, [1, 3, 2])
    assert e.matches_reported


def test_gradient_matches_finite_differences() -> None:
    x = SEED3_LOGITS[2].copy()
    h = 1e-6
    for c in range(10):
        up, down = x.copy(), x.copy()
        up[c] += h
        down[c] -= h
        numeric = (cross_entropy([up], [5]).nll[0] - cross_entropy([down], [5]).nll[0]) / (2 * h)
        analytic = explain([x], [5]).grad[0, c]
        assert numeric == pytest.approx(analytic, abs=1e-8)


SMALLEST = 5e-324


def direct_underflow(p: np.ndarray) -> tuple[int, bool]:
    """Multiply factor by factor in float64, cycling over p, until the product is 0 or
    frozen (a whole pass over p leaves it unchanged). Returns (samples, frozen)."""
    prod, k, boundary = 1.0, 0, None
    while True:
        prod *= float(p[k % len(p)])
        k += 1
        if prod == 0.0:
            return k, False
        if k % len(p) == 0:
            if prod == boundary:
                return k, True
            boundary = prod


@pytest.mark.parametrize(
    "p", [[0.658, 0.76, 0.2068], [0.5], [0.999, 0.001], [0.9] * 7, [0.999], [0.7, 0.6, 1.0]]
)
def test_underflow_batch_size_against_direct_loop(p: list[float]) -> None:
    u = product_underflow(np.array(p))
    assert (u.batch_size, u.frozen) == direct_underflow(np.array(p))
    assert u.log_at_underflow is not None
    assert math.isfinite(u.log_at_underflow)
    # The exact product is below 5e-324 where float64 reaches 0, and in any case below
    # the smallest normal number, 2.2e-308 = exp(-708.4), where it freezes.
    assert u.log_at_underflow < (-708.39 if u.frozen else -744.44)


def test_a_product_of_factors_near_one_freezes_above_zero() -> None:
    # 0.9 * 2 * 5e-324 = 1.8 * 5e-324 rounds back to 2 * 5e-324: it never reaches 0.
    assert 1e-323 * 0.9 == 1e-323
    assert SMALLEST * 0.5 == 0.0
    u = product_underflow(np.array([0.9] * 7))
    assert u.frozen
    assert 0 < u.batch_size < 10_000


def test_underflow_of_the_builtin_example() -> None:
    e = explain(SEED3_LOGITS, SEED3_LABELS)
    assert (e.underflow.batch_size, e.underflow.frozen) == direct_underflow(e.p_true)
    assert e.underflow.batch_size == 987


def test_no_underflow_when_every_probability_is_one() -> None:
    assert product_underflow(np.ones(4)).batch_size is None


def test_zero_probability_underflows_at_once() -> None:
    u = product_underflow(np.array([0.5, 0.0, 0.5]))
    assert u.batch_size == 2
    assert u.log_at_underflow == -math.inf


def run_json(args: list[str]) -> dict:
    result = runner.invoke(app, ["explain", *args])
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_json_steps_and_schema() -> None:
    doc = run_json(["-f", "json"])
    assert doc["schema"] == "xent.explain/1"
    assert [s["step"] for s in doc["steps"]] == list(range(1, 9))
    names = [s["name"] for s in doc["steps"]]
    assert names == [
        "logits",
        "softmax",
        "true_class_probability",
        "likelihood",
        "log_likelihood",
        "negative_log_likelihood",
        "loss",
        "gradient",
    ]
    steps = {s["name"]: s["data"] for s in doc["steps"]}
    np.testing.assert_allclose(steps["softmax"]["row_sums"], 1.0, rtol=1e-15)
    assert steps["likelihood"]["underflow_batch_size"] == 987
    assert steps["loss"]["matches_xent_loss"] is True
    assert steps["log_likelihood"]["log_of_product"] == pytest.approx(
        steps["log_likelihood"]["sum_of_logs"], rel=1e-13
    )


def test_explain_loss_equals_loss_command_on_sample_data() -> None:
    args = ["sample_data/logits.csv", "-l", "sample_data/labels.csv"]
    doc = run_json([*args, "-f", "json", "--step", "7"])
    assert len(doc["steps"]) == 1
    loss = runner.invoke(app, ["loss", *args, "-s", "-f", "json"])
    expected = json.loads(loss.stdout)["summary"]["loss"]
    assert doc["steps"][0]["data"]["loss"] == pytest.approx(expected, rel=1e-13)
    assert doc["steps"][0]["data"]["xent_loss"] == expected
    assert doc["n"] == 20
    assert doc["shown"] == 3


def test_long_input_shows_first_samples_and_totals_over_all() -> None:
    doc = run_json(["sample_data/logits.npy", "-l", "sample_data/labels.npy", "--head", "2"])
    steps = {s["name"]: s["data"] for s in doc["steps"]}
    assert len(steps["logits"]["logits"]) == 2
    assert len(steps["negative_log_likelihood"]["nll"]) == 2
    x = np.load(ROOT / "sample_data" / "logits.npy")
    y = np.load(ROOT / "sample_data" / "labels.npy")
    s = cross_entropy(x, y).summary
    assert steps["negative_log_likelihood"]["sum_nll"] == pytest.approx(s.sum_nll, rel=1e-13)


def test_table_walkthrough_golden() -> None:
    result = runner.invoke(app, ["explain", "-f", "table"])
    assert result.exit_code == 0, result.stderr
    expected = (ROOT / "tests" / "golden" / "explain_seed3.txt").read_text(encoding="utf-8")
    assert result.stdout == expected
    assert "\x1b[" not in result.stdout


@pytest.mark.parametrize(
    ("args", "code", "fragment"),
    [
        (["-l", "sample_data/labels.csv"], 2, "input options need an INPUT"),
        (["--step", "9"], 2, "--step"),
        (["-f", "csv"], 2, "csv"),
        (["sample_data/logits.csv", "-l", "sample_data/seed3_labels.csv"], 65, "labels have 3"),
    ],
)
def test_explain_errors(args: list[str], code: int, fragment: str) -> None:
    result = runner.invoke(app, ["explain", *args])
    assert result.exit_code == code
    assert fragment in result.stderr
    assert result.stdout == ""


def test_confident_model_keeps_tiny_losses_and_matches_loss() -> None:
    # exp(-4e-18) rounds to 1.0, so log(p_true) would give 0: explain must carry the
    # core's log-probabilities, not recompute them from probabilities.
    x = np.array([[40.0, 0.0], [41.0, 0.0], [39.0, 0.5]])
    y = np.array([0, 0, 0])
    e = explain(x, y)
    r = cross_entropy(x, y)
    np.testing.assert_array_equal(e.nll, r.nll)
    assert e.nll[0] == pytest.approx(4.248354255291589e-18, rel=1e-14)
    assert e.matches_reported
    assert e.loss == pytest.approx(float(np.mean(r.nll)), rel=1e-15)


def _no_constants(name: str) -> None:
    raise AssertionError(f"non-strict JSON constant {name}")


def test_json_flags_nonfinite_values(tmp_path: Path) -> None:
    # The true class of sample 0 has a -inf logit: p = 0, nll = inf, product 0, log -inf.
    (tmp_path / "x.csv").write_text("0,-inf,1\n2,0,1\n")
    (tmp_path / "y.csv").write_text("1\n0\n")
    result = runner.invoke(app, ["explain", str(tmp_path / "x.csv"), "-l", str(tmp_path / "y.csv")])
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout, parse_constant=_no_constants)
    steps = {s["name"]: s for s in doc["steps"]}
    assert steps["logits"]["data"]["logits"][0] == [0.0, None, 1.0]
    assert steps["logits"]["nonfinite"] == {"logits": ["-inf"]}
    assert steps["log_likelihood"]["data"]["log_of_product"] is None
    assert steps["log_likelihood"]["nonfinite"]["log_of_product"] == "-inf"
    assert steps["loss"]["nonfinite"] == {"loss": "inf", "xent_loss": "inf"}
    assert steps["loss"]["data"]["matches_xent_loss"] is True
    assert "nonfinite" not in steps["softmax"]
