"""Top-k accuracy, Brier score, mean entropy and calibration errors against the libraries.

References come from scikit-learn 1.9.1 (``top_k_accuracy_score``, ``brier_score_loss``),
torchmetrics 1.9.0 (``MulticlassCalibrationError``) and scipy (entropy), stored by
``tests/reference/generate_metrics_reference.py``. torchmetrics computes calibration in
float32 with float32 bin edges; xent in float64 with exact edges k/B, so it is compared
with torchmetrics' own computation on float64 confidences (``details.calibration_float64``),
and with the float32 values where no confidence sits next to an edge.
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
from xentcli.core.metrics import bin_index

FIXTURE = Path(__file__).parent / "fixtures" / "metrics_reference.json"
CASES = {c["name"]: c for c in json.loads(FIXTURE.read_text())["cases"]}
NEAR_EDGES = {"bin_boundaries_c5", "all_correct_confident_n30_c5"}
# Confidences of exactly k/B: torch's and xent's float64 softmax can differ in the last bit
# (0.6 vs 0.5999999999999999), which decides the bin; the convention is tested directly.
ON_EDGES = {"bin_boundaries_c5"}
Run = Callable[..., Result]


def extra(case: dict, k: int | None, bins: int | None) -> dict:
    x = np.array(case["logits"], dtype=np.float64)
    y = np.array(case["labels"], dtype=np.int64)
    return cross_entropy(x, y, LossOptions(top_k=k, bins=bins)).summary.extra


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("k", [1, 2, 3])
def test_top_k_accuracy_matches_sklearn(name: str, k: int) -> None:
    want = CASES[name]["expected"]["top_k_accuracy"][str(k)]
    assert extra(CASES[name], k, None)["top_k_accuracy"] == want


@pytest.mark.parametrize("name", sorted(CASES))
def test_brier_and_entropy(name: str) -> None:
    got = extra(CASES[name], None, 15)
    want = CASES[name]["expected"]
    assert got["brier"] == pytest.approx(want["brier"], rel=1e-13, abs=1e-15)
    assert got["mean_entropy"] == pytest.approx(want["mean_entropy"], rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("name", sorted(set(CASES) - ON_EDGES))
@pytest.mark.parametrize("bins", [15, 5])
def test_calibration_errors_match_torchmetrics(name: str, bins: int) -> None:
    got = extra(CASES[name], None, bins)
    exact = CASES[name]["details"]["calibration_float64"]
    f32 = CASES[name]["expected"]
    for key in ("ece", "mce", "rmsce"):
        assert got[key] == pytest.approx(exact[f"{key}_{bins}"], rel=1e-12, abs=1e-15), key
        if name not in NEAR_EDGES:
            assert got[key] == pytest.approx(f32[f"{key}_{bins}"], rel=2e-6, abs=1e-7), key


def test_bins_are_half_open_with_a_bin_for_certainty() -> None:
    # torchmetrics: bucketize(right=True) - 1, so an edge opens its bin; 1.0 has its own.
    conf = np.array([0.0, 0.1999, 0.2, 0.6, 0.9999999, 1.0])
    assert bin_index(conf, 5).tolist() == [0, 0, 1, 3, 4, 5]


def test_metrics_merge_across_blocks() -> None:
    case = CASES["confident_n200_c10"]
    x = np.array(case["logits"])
    y = np.array(case["labels"])
    opts = LossOptions(top_k=3, bins=15)
    whole = cross_entropy(x, y, opts).summary.extra
    parts = [cross_entropy(x[a : a + 37], y[a : a + 37], opts, start=a) for a in range(0, 200, 37)]
    merged = concat_results(parts).summary.extra
    for key, value in whole.items():
        assert merged[key] == pytest.approx(value, rel=1e-14), key


def test_ignored_samples_do_not_count() -> None:
    x = np.array([[2.0, 0.0], [0.0, 3.0], [5.0, 0.0]])
    got = cross_entropy(x, [0, -100, 1], LossOptions(top_k=1, bins=2, ignore_index=-100))
    extra_ = got.summary.extra
    assert extra_["top_k_accuracy"] == 0.5
    p = 1 / (1 + math.exp(-2.0)), 1 / (1 + math.exp(-5.0))
    brier = (2 * (1 - p[0]) ** 2 + 2 * p[1] ** 2) / 2
    assert extra_["brier"] == pytest.approx(brier, rel=1e-14)


def test_from_the_command_line(run_xent: Run) -> None:
    sample = Path(__file__).resolve().parent.parent / "sample_data"
    base = ["loss", sample / "logits.csv", "-l", sample / "labels.csv", "-s", "-f", "json"]
    s = json.loads(run_xent(*base, "--top-k", "3", "--metrics").stdout)["summary"]
    assert (s["top_k"], s["bins"]) == (3, 15)
    assert s["top_k_accuracy"] == 0.95
    assert set(s) >= {"brier", "mean_entropy", "ece", "mce", "rmsce"}
    assert s["options"] == {}
    r = run_xent(*base, "--metrics", "--fail-if", "ece > 0.1")
    assert r.exit_code == 1
    assert "ece = " in r.stderr
    r = run_xent(*base, "--fail-if", "ece > 0.1")
    assert r.exit_code == 2
    assert "ece is reported only with --metrics" in r.stderr
    r = run_xent(
        "loss", sample / "binary_scores.csv", "-l", sample / "binary_labels.csv", "--top-k", "1"
    )
    assert r.exit_code == 2
