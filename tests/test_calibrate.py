"""``xent calibrate`` (temperature scaling) and ``xent loss --temperature-from``.

The fitted temperature is checked against a brute-force grid of the NLL computed here with
plain NumPy, against mpmath's root of the derivative at 40 digits, and against the
temperature that generated the labels; the metrics against ``xent loss --temperature T
--metrics``.
"""

from __future__ import annotations

import csv
import io
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import mpmath
import numpy as np
import pytest
from typer.testing import Result

from xentcli.core import LossOptions, calibrate, cross_entropy, fit_temperature
from xentcli.errors import DataError

Run = Callable[..., Result]
ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data"
LOGITS, LABELS = SAMPLE / "logits.csv", SAMPLE / "labels.csv"
BINARY, BINARY_LABELS = SAMPLE / "binary_scores.csv", SAMPLE / "binary_labels.csv"


def nll(x: np.ndarray, y: np.ndarray, t: float) -> float:
    """Mean NLL of softmax(x / t), written out independently of xentcli."""
    z = x / t
    m = z.max(axis=1, keepdims=True)
    lse = np.log(np.exp(z - m).sum(axis=1)) + m[:, 0]
    return float(np.mean(lse - z[np.arange(len(y)), y]))


def grid_argmin(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """The best T of a log-spaced grid over [1e-3, 1e3], refined three times around its
    minimum (each level's spacing is 1/100 of the last: 3e-8 relative at the end); and
    the NLL there."""
    lo, hi = 1e-3, 1e3
    for _ in range(4):
        ts = np.geomspace(lo, hi, 401)
        values = np.array([nll(x, y, t) for t in ts])
        i = int(np.argmin(values))
        lo, hi = ts[max(i - 2, 0)], ts[min(i + 2, len(ts) - 1)]
    return float(ts[i]), float(values[i])


def dataset(kind: str, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Seeded logits and labels: over-confident, under-confident, binary, and others."""
    rng = np.random.default_rng(seed)
    n, c = 400, 5
    y = rng.integers(0, c, n)
    x = rng.normal(0, 1, (n, c))
    x[np.arange(n), y] += 1.5
    if kind == "overconfident":
        x *= 6.0
    elif kind == "underconfident":
        x *= 0.2
    elif kind == "binary":
        z = rng.normal(0, 3, n)
        yb = (rng.random(n) < 1 / (1 + np.exp(-z / 2.5))).astype(int)
        return np.stack([np.zeros(n), z], axis=1), yb
    elif kind == "huge":
        x = x * 300.0 + 1e4  # large logits and a large offset
    elif kind == "masked":
        masked = rng.random((n, c)) < 0.2
        masked[np.arange(n), y] = False  # the true class stays possible
        x[masked] = -np.inf
    elif kind == "many_classes":
        c = 100
        y = rng.integers(0, c, n)
        x = rng.normal(0, 2, (n, c))
        x[np.arange(n), y] += 4.0
    return x, y


KINDS = ["overconfident", "underconfident", "binary", "huge", "masked", "many_classes"]


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("kind", KINDS)
def test_the_fit_matches_a_brute_force_grid(kind: str, seed: int) -> None:
    x, y = dataset(kind, seed)
    fit = fit_temperature(x, y)
    t_grid, nll_grid = grid_argmin(x, y)
    # No grid point does better, and the grid's best point is next to the fit (the grid's
    # last spacing is about 1e-7 relative; the NLL is flat to rounding within ~1e-8).
    assert nll(x, y, fit.temperature) <= nll_grid + 1e-13
    assert fit.temperature == pytest.approx(t_grid, rel=2e-6)
    assert fit.nll == pytest.approx(nll(x, y, fit.temperature), rel=1e-12, abs=1e-14)


def test_over_and_under_confident_data_get_the_expected_direction() -> None:
    x, y = dataset("overconfident", 0)
    assert fit_temperature(x, y).temperature > 1.5
    x, y = dataset("underconfident", 0)
    assert fit_temperature(x, y).temperature < 0.5


def _mp_root(x: np.ndarray, y: np.ndarray) -> float:
    """The zero of d NLL / d beta at 40 digits (mpmath), as a temperature."""
    mpmath.mp.dps = 40
    rows = [[mpmath.mpf(float(v)) for v in row] for row in x]

    def dnll(beta: Any) -> Any:
        total = mpmath.mpf(0)
        for row, k in zip(rows, y, strict=True):
            w = [mpmath.exp(beta * v) for v in row]
            total += mpmath.fsum(wi * v for wi, v in zip(w, row, strict=True)) / mpmath.fsum(w)
            total -= row[k]
        return total / len(rows)

    return float(1 / mpmath.findroot(dnll, mpmath.mpf(1)))


@pytest.mark.parametrize("seed", [3, 4])
def test_the_fit_is_exact_to_1e_8_against_mpmath(seed: int) -> None:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 4, 40)
    x = rng.normal(0, 2, (40, 4))
    x[np.arange(40), y] += 1.0
    fit = fit_temperature(x, y)
    assert fit.temperature == pytest.approx(_mp_root(x, y), rel=1e-10)


def test_labels_drawn_at_temperature_t0_give_back_t0() -> None:
    rng = np.random.default_rng(20261128)
    n, c, t0 = 40_000, 6, 2.5
    x = rng.normal(0, 3, (n, c))
    p = np.exp(x / t0)
    p /= p.sum(axis=1, keepdims=True)
    y = (p.cumsum(axis=1) > rng.random((n, 1))).argmax(axis=1)
    fit = fit_temperature(x, y)
    assert fit.temperature == pytest.approx(t0, rel=0.03)


def test_the_fit_is_shift_invariant_and_scales_with_the_logits() -> None:
    x, y = dataset("overconfident", 5)
    t = fit_temperature(x, y).temperature
    shifted = x + np.random.default_rng(1).normal(0, 100, (len(y), 1))
    assert fit_temperature(shifted, y).temperature == pytest.approx(t, rel=1e-9)
    assert fit_temperature(3.0 * x, y).temperature == pytest.approx(3.0 * t, rel=1e-9)


def test_probabilities_and_log_probabilities_give_the_logits_temperature() -> None:
    x, y = dataset("overconfident", 6)
    x /= 6.0  # moderate logits, so softmax probabilities keep their digits
    t = calibrate(x, y).temperature
    lp = x - np.log(np.exp(x).sum(axis=1, keepdims=True))
    assert calibrate(lp, y, input_kind="log-probs").temperature == pytest.approx(t, rel=1e-9)
    assert calibrate(np.exp(lp), y, input_kind="probs").temperature == pytest.approx(t, rel=1e-9)


def test_one_column_is_fitted_as_the_two_class_logits() -> None:
    x, y = dataset("binary", 7)
    z = x[:, 1]
    cal = calibrate(z, y)
    assert cal.task == "binary"
    assert cal.n_classes == 2
    assert cal.temperature == pytest.approx(fit_temperature(x, y).temperature, rel=1e-12)
    binary_loss = cross_entropy(z, y, LossOptions(temperature=cal.temperature))
    assert cal.after.nll == pytest.approx(binary_loss.summary.loss, rel=1e-12)
    p = 1 / (1 + np.exp(-z))
    assert calibrate(p, y, input_kind="probs").temperature == pytest.approx(
        cal.temperature, rel=1e-8
    )


def test_ignored_samples_are_left_out_of_the_fit() -> None:
    x, y = dataset("overconfident", 8)
    labels = y.copy()
    labels[::3] = -100
    cal = calibrate(x, labels, ignore_index=-100)
    kept = labels != -100
    assert cal.temperature == pytest.approx(fit_temperature(x[kept], y[kept]).temperature)
    assert cal.ignored == int((~kept).sum())
    assert cal.n == len(y)
    assert sum(b.count for b in cal.after.bins) == int(kept.sum())


def test_the_fit_lowers_the_nll_and_keeps_the_accuracy() -> None:
    x, y = dataset("overconfident", 9)
    cal = calibrate(x, y, bins=10)
    assert cal.after.nll < cal.before.nll
    assert cal.after.accuracy == cal.before.accuracy
    assert cal.after.ece < cal.before.ece
    assert len(cal.before.bins) == 11  # 10 bins and the bin of a confidence of exactly 1
    assert (cal.before.bins[3].lower, cal.before.bins[3].upper) == (0.3, 0.4)


def test_separable_data_have_no_finite_temperature() -> None:
    x = np.array([[3.0, 0.0, 1.0], [0.0, 2.0, 1.0], [0.0, 0.5, 0.4]])
    with pytest.raises(DataError, match=r"already has the highest score.*T -> 0"):
        fit_temperature(x, [0, 1, 1])


def test_uninformative_scores_have_no_finite_temperature() -> None:
    x = np.array([[3.0, 0.0], [0.0, 2.0]])
    with pytest.raises(DataError, match=r"no better than chance.*T -> inf"):
        fit_temperature(x, [1, 0])


def test_equal_scores_in_every_row_give_t_1_with_a_note() -> None:
    fit = fit_temperature(np.array([[1.0, 1.0, 1.0], [2.0, 2.0, -np.inf]]), [0, 1])
    assert fit.temperature == 1.0
    assert fit.iterations == 0
    assert fit.note is not None
    assert "every temperature gives the same NLL" in fit.note
    assert fit.nll == pytest.approx((np.log(3) + np.log(2)) / 2)


def test_a_true_class_of_probability_zero_is_named() -> None:
    x = np.array([[1.0, 0.0], [0.0, 1.0], [-np.inf, 1.0], [2.0, 0.0]])
    with pytest.raises(DataError) as info:
        calibrate(x, [0, 0, 0, 1])
    assert info.value.sample == 2
    assert "infinite at every temperature" in info.value.message


def test_no_counted_sample_is_an_error() -> None:
    with pytest.raises(DataError, match="no samples to fit"):
        calibrate(np.array([[1.0, 0.0]]), [-100], ignore_index=-100)


# --- the command line ------------------------------------------------------------------


def _json(result: Result) -> dict[str, Any]:
    assert result.exit_code == 0, result.stderr
    doc: dict[str, Any] = json.loads(result.stdout)
    return doc


def _loss_summary(run_xent: Run, *args: object) -> dict[str, Any]:
    summary: dict[str, Any] = _json(run_xent("loss", *args, "-s", "-f", "json"))["summary"]
    return summary


def _write_dataset(path: Path, kind: str, seed: int) -> tuple[Path, Path]:
    x, y = dataset(kind, seed)
    scores, labels = path / f"{kind}.csv", path / f"{kind}_labels.csv"
    np.savetxt(scores, x, delimiter=",", fmt="%.17g")
    np.savetxt(labels, y, fmt="%d")
    return scores, labels


@pytest.mark.parametrize("case", ["sample", "overconfident", "underconfident", "binary"])
def test_metrics_match_xent_loss_at_the_same_temperature(
    run_xent: Run, tmp_path: Path, case: str
) -> None:
    if case == "sample":
        scores, labels = LOGITS, LABELS
    else:
        scores, labels = _write_dataset(tmp_path, case, 11)
    doc = _json(run_xent("calibrate", scores, "-l", labels, "--bins", "10", "-f", "json"))
    for side in ("before", "after"):
        t = doc[side]["temperature"]
        loss = _loss_summary(run_xent, scores, "-l", labels, "-t", t, "--bins", "10")
        assert doc[side]["nll"] == loss["loss"]
        assert doc[side]["accuracy"] == loss["accuracy"]
        # xent loss sums the bins block by block: the last bits may differ.
        for key in ("brier", "ece", "mce", "rmsce"):
            assert doc[side][key] == pytest.approx(loss[key], rel=1e-13), key
    assert doc["after"]["nll"] <= doc["before"]["nll"]


def test_the_sample_data_json_document(run_xent: Run) -> None:
    doc = _json(run_xent("calibrate", LOGITS, "-l", LABELS))  # a pipe: JSON by default
    assert doc["schema"] == "xent.calibrate/1"
    assert list(doc) == [
        "schema",
        "temperature",
        "iterations",
        "n",
        "n_classes",
        "task",
        "ignored",
        "n_bins",
        "before",
        "after",
        "bins",
        "notes",
    ]
    x = np.loadtxt(LOGITS, delimiter=",", skiprows=1)
    y = np.loadtxt(LABELS, skiprows=1).astype(int)
    assert doc["temperature"] == pytest.approx(grid_argmin(x, y)[0], rel=2e-6)
    assert (doc["n"], doc["n_classes"], doc["task"], doc["n_bins"]) == (20, 10, "multiclass", 15)
    assert doc["before"]["nll"] == 0.9686772424767962  # xent loss's number (README)
    assert doc["before"]["temperature"] == 1.0
    assert len(doc["bins"]) == 16
    counts = [b["count_after"] for b in doc["bins"]]
    assert sum(counts) == 20
    empty = doc["bins"][0]
    assert empty["count_before"] == 0
    assert empty["confidence_before"] is None
    assert empty["gap_after"] is None
    full = next(b for b in doc["bins"] if b["count_before"])
    assert full["gap_before"] == pytest.approx(full["confidence_before"] - full["accuracy_before"])
    assert doc["bins"][-1]["lower"] == doc["bins"][-1]["upper"] == 1.0


def test_jsonl_is_the_same_object_on_one_line(run_xent: Run) -> None:
    as_json = _json(run_xent("calibrate", LOGITS, "-l", LABELS, "-f", "json"))
    result = run_xent("calibrate", LOGITS, "-l", LABELS, "-f", "jsonl")
    assert result.stdout.count("\n") == 1
    assert json.loads(result.stdout) == as_json


@pytest.mark.parametrize(("fmt", "delim"), [("csv", ","), ("tsv", "\t")])
def test_csv_is_the_reliability_table(run_xent: Run, fmt: str, delim: str) -> None:
    doc = _json(run_xent("calibrate", LOGITS, "-l", LABELS, "--bins", "5", "-f", "json"))
    result = run_xent("calibrate", LOGITS, "-l", LABELS, "--bins", "5", "-f", fmt)
    assert result.exit_code == 0, result.stderr
    rows = list(csv.reader(io.StringIO(result.stdout), delimiter=delim))
    assert rows[0] == [
        "bin",
        "lower",
        "upper",
        "count_before",
        "confidence_before",
        "accuracy_before",
        "gap_before",
        "count_after",
        "confidence_after",
        "accuracy_after",
        "gap_after",
    ]
    assert len(rows) == 1 + 6
    for row, rec in zip(rows[1:], doc["bins"], strict=True):
        assert row == ["" if rec[k] is None else str(rec[k]) for k in rows[0]]


def test_the_table_shows_metrics_bins_and_the_diagram(run_xent: Run, fake_tty: Any) -> None:
    fake_tty(stdout=True)
    result = run_xent("calibrate", BINARY, "-l", BINARY_LABELS, "--no-color")
    assert result.exit_code == 0, result.stderr
    out = re.sub(r"\x1b\[[0-9;]*m", "", result.stdout)  # --no-color keeps bold and dim
    assert "Temperature scaling (8 samples, binary, as logits [0, z])" in out
    assert re.search(r"│ T +│ +1 │ 0\.562832 │", out)
    assert re.search(r"│ NLL +│ 0\.419343 │ 0\.379045 │", out)
    assert re.search(r"│ accuracy +│ +0\.875 │ +0\.875 │", out)
    assert "Reliability diagram" in out
    # Bin 0.67-0.73 before: 1 sample of confidence 0.704, wrong: all over-confidence.
    assert re.search(r"│ 0\.67-0\.73 +│ +1 │ 0\.704 │ +0 │ +0\.704 │", out)
    assert " 0.67-0.73   ░░░░░░░░░░░░░░░░░ " in out
    # The whole table fits an 80-column terminal.
    assert max(len(line) for line in out.splitlines()) <= 80
    assert "█ accuracy  ░ over-confidence  ▒ under-confidence" in out
    assert result.stderr == ""


def test_precision_rounds_the_numbers(run_xent: Run) -> None:
    doc = _json(run_xent("calibrate", BINARY, "-l", BINARY_LABELS, "--precision", "3"))
    assert doc["temperature"] == 0.563
    assert doc["before"]["nll"] == 0.419
    assert doc["after"]["ece"] == 0.172


def test_output_file_format_follows_the_extension(run_xent: Run, tmp_path: Path) -> None:
    out = tmp_path / "cal.csv"
    result = run_xent("calibrate", LOGITS, "-l", LABELS, "-o", out)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert out.read_text().startswith("bin,lower,upper,count_before,")
    txt = tmp_path / "cal.txt"
    assert run_xent("calibrate", LOGITS, "-l", LABELS, "-o", txt).exit_code == 0
    assert "Reliability diagram" in txt.read_text()


def test_input_options_as_xent_loss(run_xent: Run, tmp_path: Path) -> None:
    reference = _json(run_xent("calibrate", LOGITS, "-l", LABELS))
    with_col = _json(
        run_xent("calibrate", SAMPLE / "logits_with_labels.csv", "--label-col", "label")
    )
    assert with_col["temperature"] == reference["temperature"]
    npy = _json(run_xent("calibrate", SAMPLE / "logits.npy", "-l", SAMPLE / "labels.npy"))
    assert npy["temperature"] == reference["temperature"]
    piped = run_xent("calibrate", "-l", LABELS, input=LOGITS.read_text())
    assert _json(piped)["temperature"] == reference["temperature"]


def test_ignore_index_from_the_command_line(run_xent: Run, tmp_path: Path) -> None:
    labels = tmp_path / "labels.csv"
    values = LABELS.read_text().splitlines()
    values[1] = "-100"  # the first sample
    labels.write_text("\n".join(values) + "\n")
    doc = _json(run_xent("calibrate", LOGITS, "-l", labels, "--ignore-index", "-100"))
    assert doc["ignored"] == 1
    x = np.loadtxt(LOGITS, delimiter=",", skiprows=1)[1:]
    y = np.loadtxt(LABELS, skiprows=1).astype(int)[1:]
    assert doc["temperature"] == pytest.approx(fit_temperature(x, y).temperature, rel=1e-12)


def test_save_and_temperature_from_round_trip(run_xent: Run, tmp_path: Path) -> None:
    saved = tmp_path / "T.json"
    doc = _json(run_xent("calibrate", BINARY, "-l", BINARY_LABELS, "--save", saved))
    t_doc = json.loads(saved.read_text())
    assert t_doc["schema"] == "xent.temperature/1"
    assert t_doc["temperature"] == doc["temperature"]
    assert (t_doc["input_kind"], t_doc["task"], t_doc["n"]) == ("logits", "binary", 8)
    assert t_doc["nll_after"] == doc["after"]["nll"]
    applied = _loss_summary(run_xent, BINARY, "-l", BINARY_LABELS, "--temperature-from", saved)
    explicit = _loss_summary(run_xent, BINARY, "-l", BINARY_LABELS, "-t", doc["temperature"])
    assert applied == explicit
    assert applied["loss"] == doc["after"]["nll"]
    # The JSON output of xent calibrate carries the temperature too.
    out = tmp_path / "cal.json"
    assert run_xent("calibrate", BINARY, "-l", BINARY_LABELS, "-o", out).exit_code == 0
    assert _loss_summary(run_xent, BINARY, "-l", BINARY_LABELS, "--temperature-from", out) == (
        explicit
    )


def _error(result: Result, code: int) -> str:
    assert result.exit_code == code, (result.stdout, result.stderr)
    assert result.stdout == ""
    assert result.stderr.startswith("Error: ")
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr
    return result.stderr.strip()


@pytest.mark.parametrize(
    ("content", "code", "message"),
    [
        (None, 66, "T.json: cannot read: No such file or directory"),
        ("{not json", 65, "T.json: not valid JSON (Expecting property name enclosed in"),
        ("[1.5]", 65, "T.json: a JSON list, not an object; expected a file written by"),
        ('{"temp": 1.5}', 65, 'T.json: no "temperature" key; expected a file written by'),
        ('{"temperature": -2}', 65, 'T.json: "temperature" is -2; it must be positive'),
        ('{"temperature": 0}', 65, 'T.json: "temperature" is 0; it must be positive'),
        ('{"temperature": NaN}', 65, "T.json: not valid JSON (NaN is not a JSON number)"),
        ('{"temperature": 1e400}', 65, 'T.json: "temperature" is inf; it must be positive'),
        ('{"temperature": "1.5"}', 65, 'T.json: "temperature" is "1.5", not a number'),
        ('{"temperature": true}', 65, 'T.json: "temperature" is true, not a number'),
        (
            '{"schema": "xent.loss/1", "temperature": 2}',
            65,
            "T.json: schema 'xent.loss/1' holds no temperature",
        ),
    ],
)
def test_bad_temperature_files(
    run_xent: Run, in_tmp_path: Path, content: str | None, code: int, message: str
) -> None:
    if content is not None:
        (in_tmp_path / "T.json").write_text(content)
    result = run_xent("loss", LOGITS, "-l", LABELS, "--temperature-from", "T.json")
    assert _error(result, code).startswith("Error: " + message)


@pytest.mark.parametrize("t", ["1", "2.5"])
def test_temperature_and_temperature_from_exclude_each_other(
    run_xent: Run, tmp_path: Path, t: str
) -> None:
    saved = tmp_path / "T.json"
    saved.write_text('{"temperature": 2}')
    result = run_xent("loss", LOGITS, "-l", LABELS, "-t", t, "--temperature-from", saved)
    assert _error(result, 2) == (
        "Error: give the temperature with -t/--temperature or --temperature-from, not both"
    )


def test_separable_input_is_a_data_error(run_xent: Run) -> None:
    result = run_xent("calibrate", SAMPLE / "seed3.csv", "-l", SAMPLE / "seed3_labels.csv")
    # Two of three samples are right, so the fit exists; only the first two are separable.
    assert result.exit_code == 0
    result = run_xent(
        "calibrate", SAMPLE / "seed3.csv", "-l", SAMPLE / "seed3_labels.csv", "--ignore-index", "5"
    )
    assert _error(result, 65).startswith(
        f"Error: {SAMPLE / 'seed3.csv'}: every sample's true class already has the highest "
        "score, so the NLL keeps falling as T -> 0 and no finite temperature minimises it"
    )


def test_an_impossible_true_class_names_its_line(run_xent: Run, in_tmp_path: Path) -> None:
    Path("x.csv").write_text("a,b\n1,0\n0,1\n-inf,1\n2,0\n")
    Path("y.csv").write_text("0\n0\n0\n1\n")
    result = run_xent("calibrate", "x.csv", "-l", "y.csv")
    assert _error(result, 65) == (
        "Error: x.csv line 4: the true class has probability 0 (score -inf), so the NLL is "
        "infinite at every temperature (1 such sample)"
    )


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--bins", "0"], 2, None),
        (["-l", SAMPLE / "seed3_labels.csv"], 65, "logits have 20 samples but labels have 3"),
        (["--fail-if", "perplexity > 2"], 2, "no metric 'perplexity' (metrics: n, n_classes"),
        (["-l", SAMPLE / "missing.csv"], 66, "missing.csv: no such file"),
    ],
)
def test_command_errors(run_xent: Run, args: list[object], code: int, message: str | None) -> None:
    base: list[object] = ["calibrate", LOGITS]
    if "-l" not in args:
        base += ["-l", LABELS]
    result = run_xent(*base, *args)
    assert result.exit_code == code, result.stderr
    assert result.stdout == ""
    if message is not None:
        assert _error(result, code)
        assert message in result.stderr


def test_no_labels_is_a_usage_error(run_xent: Run) -> None:
    assert "no labels" in _error(run_xent("calibrate", LOGITS), 2)


@pytest.mark.parametrize(("gate", "code"), [("ece > 0.2", 1), ("ece > 0.5", 0)])
def test_fail_if_tests_the_calibrated_metrics(run_xent: Run, gate: str, code: int) -> None:
    result = run_xent("calibrate", LOGITS, "-l", LABELS, "--fail-if", gate)
    assert result.exit_code == code
    assert json.loads(result.stdout)["after"]["ece"] == pytest.approx(0.2983, abs=1e-4)
    if code:
        assert result.stderr == "Error: --fail-if: ece = 0.298281, and ece > 0.2 holds\n"


def test_plot_writes_a_png(run_xent: Run, tmp_path: Path) -> None:
    image = tmp_path / "reliability.png"
    result = run_xent("calibrate", LOGITS, "-l", LABELS, "--plot", image, "-f", "csv")
    assert result.exit_code == 0, result.stderr
    assert image.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(image.read_bytes()) > 10_000
    assert result.stdout.startswith("bin,lower,upper")
    assert [p.name for p in tmp_path.iterdir()] == ["reliability.png"]  # no temporary left


def test_plot_without_matplotlib_says_how_to_install_it(
    run_xent: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib: ImportError
    image = tmp_path / "reliability.png"
    result = run_xent("calibrate", LOGITS, "-l", LABELS, "--plot", image)
    assert _error(result, 2) == "Error: --plot needs matplotlib: pip install 'xentcli[plot]'"
    assert not image.exists()


def test_calibrate_without_plot_never_imports_matplotlib(tmp_path: Path) -> None:
    import subprocess

    code = (
        "import sys; from xentcli.cli import main; "
        f"sys.argv = ['xent', 'calibrate', {str(LOGITS)!r}, '-l', {str(LABELS)!r}, "
        f"'-o', {str(tmp_path / 'c.json')!r}]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print('matplotlib' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def _readme_section() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index("## `xent calibrate`: temperature scaling")
    return readme[start : readme.index("\n## ", start + 1)]


def test_every_option_of_calibrate_is_documented_in_its_section() -> None:
    from typer.main import get_command

    from xentcli.cli import app

    section = _readme_section()
    cmd = get_command(app).commands["calibrate"]  # type: ignore[attr-defined]
    for param in cmd.params:
        for opt in param.opts:
            if opt.startswith("-"):
                assert f"`{opt}" in section or f" {opt}" in section, opt
    assert "--temperature-from" in section


def test_temperature_from_is_in_the_options_of_xent_loss() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index("## Options of `xent loss`")
    assert "`--temperature-from PATH`" in readme[start : readme.index("\n## ", start + 1)]
