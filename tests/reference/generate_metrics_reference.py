"""Write tests/fixtures/metrics_reference.json: classification-metric reference values.

Run with the reference environment (torch, torchmetrics, scikit-learn, scipy, numpy)::

    /tmp/venv-ref/bin/python tests/reference/generate_metrics_reference.py

The script is deterministic (seeded numpy generators, single-threaded torch) and rewrites the
fixture on every run; the output path does not depend on the working directory. The test suite
reads only the JSON. xentcli is deliberately not imported.

Every value in a case's ``expected`` comes from a call into the named library:

``top_k_accuracy``
    ``sklearn.metrics.top_k_accuracy_score(y, logits, k=K, labels=range(C))``, K = 1, 2, 3
    (the raw logits are the scores).
``brier``
    ``sklearn.metrics.brier_score_loss(y, probs, labels=range(C))``.
``ece_B`` / ``mce_B`` / ``rmsce_B``
    ``torchmetrics.classification.MulticlassCalibrationError(num_classes=C, n_bins=B,
    norm="l1" / "max" / "l2")`` updated once with the float64 ``probs`` tensor, B = 15 and 5.
``mean_entropy``
    ``scipy.stats.entropy(probs, axis=1).mean()`` (nats), cross-checked against
    ``torch.distributions.Categorical(probs=...).entropy().mean()``.

``probs`` is always ``torch.softmax(logits, dim=1)`` in float64 (cross-checked against
``scipy.special.softmax``). Each case also has a ``details`` block (diagnostics, not library
outputs of the public API except where stated): per-sample float64 top-1 ``confidence``, the
``top1_torch`` / ``top1_sklearn`` predicted classes, the torchmetrics bin index of every sample
and ``calibration_float64``: torchmetrics' own ``_ce_compute`` fed float64 confidences (what the
metric would give without its float32 cast). See the fixture's ``notes`` for the conventions.

The script also re-implements the documented conventions in numpy and asserts they reproduce
the library values, so the ``notes`` are checked, not just transcribed.
"""

import json
import platform
import sys
import warnings
from pathlib import Path

import numpy as np
import scipy
import scipy.special
import scipy.stats
import sklearn
import torch
import torchmetrics
from sklearn.metrics import brier_score_loss, top_k_accuracy_score
from torchmetrics.classification import MulticlassCalibrationError
from torchmetrics.functional.classification.calibration_error import _ce_compute

OUT = Path(__file__).resolve().parents[1] / "fixtures" / "metrics_reference.json"
KS = (1, 2, 3)
BINS = (15, 5)
NORMS = {"ece": "l1", "mce": "max", "rmsce": "l2"}

torch.set_num_threads(1)


# --------------------------------------------------------------------------------------------
# library calls
# --------------------------------------------------------------------------------------------


SOFTMAX_GAP = [0.0]  # largest |torch - scipy| softmax difference seen on the cases


def softmax64(logits, record=False):
    """Float64 softmax by torch, cross-checked against scipy."""
    p = torch.softmax(torch.from_numpy(np.asarray(logits, dtype=np.float64)), dim=1).numpy()
    q = scipy.special.softmax(np.asarray(logits, dtype=np.float64), axis=1)
    gap = float(np.max(np.abs(p - q)))
    assert gap <= 1e-15, f"torch and scipy softmax disagree by {gap}"
    if record:
        SOFTMAX_GAP[0] = max(SOFTMAX_GAP[0], gap)
    return p


def sk_top_k(labels, logits, num_classes):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. UndefinedMetricWarning for k >= C
        return {
            str(k): top_k_accuracy_score(labels, logits, k=k, labels=list(range(num_classes)))
            for k in KS
        }


def sk_brier(labels, probs, num_classes):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. "y_prob values do not sum to one"
        return brier_score_loss(labels, probs, labels=list(range(num_classes)))


def tm_calibration(labels, probs, num_classes):
    """Public torchmetrics metric objects, one per (bins, norm)."""
    out = {}
    preds = torch.from_numpy(probs)  # float64
    target = torch.from_numpy(np.asarray(labels, dtype=np.int64))
    for bins in BINS:
        for key, norm in NORMS.items():
            metric = MulticlassCalibrationError(num_classes=num_classes, n_bins=bins, norm=norm)
            metric.update(preds, target)
            out[f"{key}_{bins}"] = float(metric.compute().item())
    return out


def tm_calibration_float64(labels, probs):
    """torchmetrics' _ce_compute on float64 confidences (no float32 cast)."""
    preds = torch.from_numpy(probs)
    target = torch.from_numpy(np.asarray(labels, dtype=np.int64))
    conf, pred = preds.max(dim=1)
    acc = pred.eq(target).to(torch.float64)
    out = {}
    for bins in BINS:
        for key, norm in NORMS.items():
            out[f"{key}_{bins}"] = float(_ce_compute(conf, acc, bins, norm=norm).item())
    return out


def mean_entropy(probs):
    value = float(scipy.stats.entropy(probs, axis=1).mean())
    check = torch.distributions.Categorical(probs=torch.from_numpy(probs)).entropy().mean().item()
    assert abs(value - check) <= 1e-13 * max(1.0, abs(value)), (value, check)
    return value


# --------------------------------------------------------------------------------------------
# independent numpy re-implementations of the conventions written in the notes
# --------------------------------------------------------------------------------------------


def edges(bins, dtype):
    """torch.linspace(0, 1, bins + 1) as torchmetrics builds it, as numpy."""
    tdt = torch.float32 if dtype == np.float32 else torch.float64
    return torch.linspace(0, 1, bins + 1, dtype=tdt).numpy()


def bin_index(conf, bins, dtype):
    """Bin of each confidence: [lo, hi) bins; conf == 1.0 gets the extra index ``bins``."""
    return np.searchsorted(edges(bins, dtype), conf.astype(dtype), side="right") - 1


def calibration_numpy(labels, probs, bins, dtype, closed="left", top="own"):
    """Calibration errors by the notes' rules.

    closed="left": [lo, hi) bins (torchmetrics); "right": (lo, hi] bins, 0 into the first.
    top="own": a confidence of exactly 1.0 gets its own extra bin (torchmetrics); "clip": it
    goes into the last bin [(B-1)/B, 1].
    """
    conf = probs.max(axis=1).astype(dtype)
    correct = (probs.argmax(axis=1) == labels).astype(np.float64)
    side = "right" if closed == "left" else "left"
    idx = np.searchsorted(edges(bins, dtype), conf, side=side) - 1
    idx = np.maximum(idx, 0)
    if top == "clip":
        idx = np.minimum(idx, bins - 1)
    count = np.bincount(idx, minlength=bins + 1).astype(np.float64)
    csum = np.bincount(idx, weights=conf.astype(np.float64), minlength=bins + 1)
    asum = np.bincount(idx, weights=correct, minlength=bins + 1)
    used = count > 0
    gap = np.abs(asum[used] / count[used] - csum[used] / count[used])
    w = count[used] / count.sum()
    return {
        f"ece_{bins}": float(np.sum(gap * w)),
        f"mce_{bins}": float(np.max(gap)),
        f"rmsce_{bins}": float(np.sqrt(np.sum(gap * gap * w))),
    }


def top_k_numpy(labels, scores, k):
    """Hit iff #{c: s_c > s_y} + #{c > y: s_c == s_y} < k (ties favour the higher index)."""
    n, c = scores.shape
    s_true = scores[np.arange(n), labels][:, None]
    cls = np.arange(c)[None, :]
    ahead = (scores > s_true) | ((scores == s_true) & (cls > labels[:, None]))
    return float(np.mean(ahead.sum(axis=1) < k))


def brier_numpy(labels, probs):
    onehot = np.eye(probs.shape[1])[labels]
    return float(np.mean(np.sum((onehot - probs) ** 2, axis=1)))


# --------------------------------------------------------------------------------------------
# cases
# --------------------------------------------------------------------------------------------


def targeted_row(target, num_classes, position):
    """Logits whose float64 torch softmax has its max (at ``position``) exactly ``target``.

    The other logits are 0 except one, set to 0.01 j for j = 0, 1, 2, ...; for each layout the
    top logit starts at the exact solution a = log(t / (1 - t) * sum_others exp(o)) and is
    moved ulp by ulp (up to 64 each way) until the softmax hits the float64 value of
    ``target``. The closest row is kept if nothing hits (the caller reports misses).
    """
    if target == 1.0:
        row = np.zeros(num_classes)
        row[position] = 60.0  # exp(-60) * (C-1) < eps/2: the float64 softmax is exactly 1.0
        return row
    best, best_err = None, np.inf
    other = (position + 1) % num_classes
    for j in range(60):
        row = np.zeros(num_classes)
        row[other] = 0.01 * j
        rest = np.delete(row, position)
        a0 = float(np.log(target / (1.0 - target) * np.sum(np.exp(rest))))
        candidates = [a0]
        up = down = a0
        for _ in range(64):
            up = float(np.nextafter(up, np.inf))
            down = float(np.nextafter(down, -np.inf))
            candidates += [up, down]
        for a in candidates:
            row[position] = a
            err = abs(softmax64(row[None, :])[0, position] - target)
            if err < best_err:
                best, best_err = row.copy(), err
            if err == 0.0:
                return best
    return best


def case_random():
    rng = np.random.default_rng(20240601)
    n, c = 50, 5
    labels = rng.integers(0, c, n)
    logits = rng.normal(0.0, 1.5, (n, c))
    logits[np.arange(n), labels] += 1.0
    return "random_n50_c5", logits, labels


def case_confident():
    rng = np.random.default_rng(20240602)
    n, c = 200, 10
    labels = rng.integers(0, c, n)
    logits = rng.normal(0.0, 1.0, (n, c))
    boosted = labels.copy()
    wrong = rng.random(n) < 0.15  # confident mistakes
    boosted[wrong] = (labels[wrong] + rng.integers(1, c, wrong.sum())) % c
    logits[np.arange(n), boosted] += rng.uniform(3.0, 7.0, n)
    return "confident_n200_c10", logits, labels


def case_ties():
    # Integer logits with exact ties; the labels are picked so that sklearn's
    # higher-index-first tie order and torch's first-index argmax both matter.
    rows = [
        ([1, 1, 0, 0], 0),  # top-1 tie {0,1}: sklearn ranks 1 first (miss), torch argmax 0 (hit)
        ([1, 1, 0, 0], 1),  # sklearn top-1 hit, torch argmax 0 (miss)
        ([2, 2, 2, 0], 0),  # three-way tie: sklearn order 2,1,0 -> k=1,2 miss, k=3 hit
        ([2, 2, 2, 0], 2),  # k=1 hit
        ([0, 0, 0, 0], 3),  # all equal: sklearn order 3,2,1,0 -> k=1 hit
        ([0, 0, 0, 0], 0),  # all equal: k=3 miss
        ([3, 1, 1, 0], 1),  # second-place tie {1,2}: order 0,2,1,3 -> k=2 miss, k=3 hit
        ([3, 1, 1, 0], 2),  # k=2 hit
        ([0, 5, 0, 5], 1),  # tie {1,3}: sklearn 3 first -> k=1 miss, k=2 hit; torch argmax 1
        ([0, 5, 0, 5], 3),  # sklearn k=1 hit; torch argmax 1 (miss)
        ([-1, 4, 2, 2], 3),  # no top tie: k=1 miss; tie {2,3} for 2nd: 3 first -> k=2 hit
        ([7, 0, 0, 0], 0),  # plain hit
    ]
    logits = np.array([r for r, _ in rows], dtype=np.float64)
    labels = np.array([y for _, y in rows], dtype=np.int64)
    return "ties_c4", logits, labels


def case_all_correct():
    rng = np.random.default_rng(20240604)
    n, c = 30, 5
    labels = rng.integers(0, c, n)
    logits = rng.normal(0.0, 1.0, (n, c))
    margin = rng.uniform(8.0, 20.0, n)
    margin[:8] = 60.0  # float64 softmax exactly 1.0 for these rows
    logits[np.arange(n), labels] += margin
    return "all_correct_confident_n30_c5", logits, labels


def case_dominant():
    rng = np.random.default_rng(20240605)
    n, c, major = 60, 6, 2
    logits = rng.normal(0.0, 1.0, (n, c))
    logits[:, major] += 3.5
    labels = np.full(n, major, dtype=np.int64)
    other = rng.random(n) < 0.15
    labels[other] = rng.choice([k for k in range(c) if k != major], other.sum())
    return "single_class_dominant_n60_c6", logits, labels


def case_small():
    rng = np.random.default_rng(20240606)
    n, c = 7, 4
    labels = rng.integers(0, c, n)
    logits = rng.normal(0.0, 2.0, (n, c))
    return "small_n7_c4", logits, labels


def case_boundaries():
    # (target top-1 confidence, argmax position, label); C = 5. Confidences 0.2, 0.4, 0.6,
    # 0.8 are bin edges for both B = 5 and B = 15; 1.0 is the last edge.
    c = 5
    spec = [
        (0.6, 0, 0),
        (0.6, 1, 1),
        (0.6, 2, 3),  # wrong
        (0.55, 3, 0),  # wrong, just below the 0.6 edge
        (0.55, 4, 1),  # wrong
        (0.7, 0, 0),
        (0.8, 1, 1),
        (0.8, 2, 0),  # wrong
        (0.4, 3, 3),
        (0.4, 4, 0),  # wrong
        (1.0, 0, 1),  # confidence exactly 1.0, wrong
        (1.0, 2, 2),  # confidence exactly 1.0, right
        (0.95, 3, 3),
        (0.9, 4, 0),  # wrong
    ]
    rows = [targeted_row(t, c, pos) for t, pos, _ in spec]
    rows.append(np.zeros(c))  # uniform: confidence exactly 0.2, all-way tie
    labels = [y for _, _, y in spec] + [0]
    logits = np.array(rows)
    probs = softmax64(logits)
    targets = [t for t, _, _ in spec] + [0.2]
    misses = [(t, float(p)) for t, p in zip(targets, probs.max(axis=1), strict=True) if p != t]
    return "bin_boundaries_c5", logits, np.array(labels, dtype=np.int64), misses


# --------------------------------------------------------------------------------------------


def build_case(name, logits, labels):
    logits = np.asarray(logits, dtype=np.float64)
    labels = np.asarray(labels, dtype=np.int64)
    n, c = logits.shape
    probs = softmax64(logits, record=True)

    expected = {"top_k_accuracy": sk_top_k(labels, logits, c)}
    expected["brier"] = sk_brier(labels, probs, c)
    expected.update(tm_calibration(labels, probs, c))
    expected["mean_entropy"] = mean_entropy(probs)
    calib64 = tm_calibration_float64(labels, probs)

    # --- the notes, checked ---
    for k in KS:
        assert top_k_numpy(labels, logits, k) == expected["top_k_accuracy"][str(k)], (name, k)
    assert abs(brier_numpy(labels, probs) - expected["brier"]) <= 1e-15 * max(1, n), name
    for bins in BINS:
        mine32 = calibration_numpy(labels, probs, bins, np.float32)
        mine64 = calibration_numpy(labels, probs, bins, np.float64)
        for key in mine32:
            assert abs(mine32[key] - expected[key]) <= 2e-6, (name, key, mine32, expected)
            assert abs(mine64[key] - calib64[key]) <= 1e-14, (name, key, mine64, calib64)

    sorted_pred = np.argsort(logits, axis=1, kind="mergesort")[:, ::-1]
    top1_torch = torch.from_numpy(probs).max(dim=1).indices.numpy()
    details = {
        "confidence": probs.max(axis=1).tolist(),
        "top1_torch": top1_torch.tolist(),
        "top1_sklearn": sorted_pred[:, 0].tolist(),
        "calibration_float64": calib64,
    }
    for bins in BINS:
        details[f"bin_index_{bins}"] = bin_index(probs.max(axis=1), bins, np.float32).tolist()
        details[f"bin_index_{bins}_float64"] = bin_index(
            probs.max(axis=1), bins, np.float64
        ).tolist()
    return {
        "name": name,
        "n": n,
        "num_classes": c,
        "logits": logits.tolist(),
        "labels": labels.tolist(),
        "expected": expected,
        "details": details,
    }


ALTERNATIVES = {
    "closed_right_clipped": {"closed": "right", "top": "clip"},
    "closed_left_clipped": {"closed": "left", "top": "clip"},
}


def alternatives(logits, labels):
    """Float64 values under conventions torchmetrics does NOT use (for the boundary case)."""
    probs = softmax64(logits)
    out = {}
    for name, kw in ALTERNATIVES.items():
        out[name] = {}
        for bins in BINS:
            out[name].update(calibration_numpy(labels, probs, bins, np.float64, **kw))
    return out


NOTES = {
    "top_k_accuracy": (
        "sklearn 1.9.1 top_k_accuracy_score, multiclass branch: sorted_pred = "
        "np.argsort(y_score, axis=1, kind='mergesort')[:, ::-1]; hit = y in sorted_pred[:, :k]; "
        "result = mean(hit). mergesort is stable, so equal scores stay in increasing class "
        "order in the ascending sort; the [:, ::-1] reversal then puts them in DECREASING class "
        "order: among tied scores the HIGHER class index ranks first. Equivalently: hit iff "
        "#{c : s_c > s_y} + #{c > y : s_c == s_y} < k. Scores are the raw logits. "
        "labels=range(C) is passed so the task stays multiclass even when y has <= 2 distinct "
        "values; every case has k < C (sklearn emits UndefinedMetricWarning for k >= C)."
    ),
    "argmax_ties": (
        "torchmetrics takes the top-1 prediction as preds.max(dim=1), which returns the FIRST "
        "(lowest-index) maximal class; sklearn's top-1 ranks the LAST (highest-index) tied "
        "class first. They differ on tied rows (see ties_c4: details.top1_torch vs "
        "details.top1_sklearn). The calibration errors use torch's choice."
    ),
    "brier": (
        "sklearn 1.9.1 brier_score_loss with 2-D y_proba (n, C), C >= 3: "
        "brier = (1/N) * sum_i sum_c (onehot(y_i)_c - p_ic)^2 (np average over samples of the "
        "per-sample sum over classes). scale_by_half='auto' halves the score only when "
        "y_proba is 1-D or has < 3 columns, so for every case here there is NO 1/2 factor and "
        "the range is [0, 2]. Probabilities are not clipped or renormalised: sklearn raises if "
        "any p > 1 or p < 0 and warns (UserWarning) if a row sum is not isclose(1, "
        "rtol=sqrt(eps)); the generator turns warnings into errors, so none was emitted."
    ),
    "probs": (
        "probs = torch.softmax(float64 logits, dim=1) (exp(x - max) / sum). scipy.special."
        "softmax differs from it by a few ulp (largest gap over the cases: {gap!r}); torch's "
        "result can also depend on the column a value sits in (vectorised sums), so another "
        "float64 softmax need not reproduce the last bit. These probs feed brier, the "
        "calibration errors and the entropy."
    ),
    "calibration": (
        "torchmetrics 1.9.0 MulticlassCalibrationError(num_classes=C, n_bins=B, norm). "
        "update(): probs are left alone when all lie in [0, 1] (otherwise softmax over dim 1); "
        "confidence, pred = probs.max(dim=1); acc = (pred == target); then BOTH are cast with "
        ".float(), i.e. to FLOAT32, even for float64 input: all binning and arithmetic is "
        "float32 and results carry float32 rounding (compare within ~1e-6). compute(): edges = "
        "torch.linspace(0, 1, B + 1, dtype=float32); idx = torch.bucketize(conf, edges, "
        "right=True) - 1, i.e. idx = #{edges <= conf} - 1 = np.searchsorted(edges, conf, "
        "side='right') - 1: bins are [lo, hi) -- closed on the LEFT; a confidence equal to an "
        "edge goes to the bin that edge OPENS (the higher bin). Arrays have B + 1 slots: "
        "confidence exactly 1.0 (after the float32 cast; any float64 conf >= 1 - 2**-25 "
        "rounds to 1.0f) goes to an extra bin of its own, index B, not into [(B-1)/B, 1). "
        "Per bin: count, conf_bin = sum(conf)/count, acc_bin = sum(acc)/count, nan_to_num "
        "makes empty bins' conf_bin = acc_bin = 0; prop_bin = count / N. "
        "l1 (ECE) = sum_b prop_b |acc_b - conf_b|. "
        "max (MCE) = max_b |acc_b - conf_b| over all B + 1 slots; empty bins contribute 0, "
        "so it equals the max over non-empty bins (unweighted). "
        "l2 (RMSCE) = sqrt(sum_b prop_b (acc_b - conf_b)^2) -- WITH the square root; if the "
        "sum is exactly 0 it returns torch.tensor(0). debias is off (the wrapper never "
        "enables it). Empty bins thus add nothing to any norm."
    ),
    "bin_edges": {
        "note": (
            "torch.linspace float32 edges are not all the float32 roundings of k/B; the "
            "float32 value of a float64 confidence c is compared with these. E.g. B=15: "
            "float32(0.4) = 0.4000000059604645 < edge[6] = 0.40000003576278687, so a "
            "confidence of 0.4 lands in bin 5 (B=15) but in bin 2 (B=5, edge == float32(0.4)); "
            "0.2 lands in bin 2 for B=15 (edge[3] = 0.20000001788139343 > float32(0.2)); 0.6 "
            "and 0.8 land in the bin they open for both B."
        ),
        "float32_15": edges(15, np.float32).astype(np.float64).tolist(),
        "float32_5": edges(5, np.float32).astype(np.float64).tolist(),
        "float64_15": edges(15, np.float64).tolist(),
        "float64_5": edges(5, np.float64).tolist(),
    },
    "mean_entropy": (
        "mean over samples of -sum_c p_c ln p_c (nats), 0 ln 0 = 0, computed as "
        "scipy.stats.entropy(probs, axis=1).mean() (scipy renormalises each row by its sum; "
        "effect <= 1 ulp here) and checked against torch.distributions.Categorical(probs)."
        "entropy().mean() to 1e-13."
    ),
    "details": (
        "Per case, not library API outputs: confidence = float64 max prob; top1_torch / "
        "top1_sklearn = top-1 class under each library's tie rule; bin_index_B = torchmetrics "
        "bin of each sample (float32, [lo, hi), B = own bin of conf 1.0); bin_index_B_float64 "
        "= the same rule with float64 confidences and float64 linspace edges; "
        "calibration_float64 = torchmetrics' internal _ce_compute(conf64, acc64, B, norm) "
        "on float64 confidences (the metric without its float32 cast). The generator asserts "
        "that a numpy re-implementation of every rule above reproduces the library values "
        "(float32: within 2e-6; float64: within 1e-14)."
    ),
}


def main():
    cases = [
        case_random(),
        case_confident(),
        case_ties(),
        case_all_correct(),
        case_dominant(),
        case_small(),
    ]
    name, logits, labels, misses = case_boundaries()
    cases.append((name, logits, labels))
    built = [build_case(*args) for args in cases]

    boundary = built[-1]
    boundary["details"]["targets_not_hit_exactly"] = misses
    alt = alternatives(np.asarray(boundary["logits"]), np.asarray(labels))
    boundary["details"]["other_conventions_float64"] = alt
    got = boundary["details"]["calibration_float64"]
    for name, values in alt.items():
        for bins in BINS:
            keys = [f"{m}_{bins}" for m in NORMS]
            diff = max(abs(values[k] - got[k]) for k in keys)
            assert diff > 1e-3, f"boundary case does not rule out {name} for B={bins}"

    # The float32 cast torchmetrics makes is insensitive to a few float64 ulps on these rows,
    # so the float32 bin of each boundary row does not hinge on the softmax implementation.
    conf = np.asarray(boundary["details"]["confidence"])
    for shift in range(-8, 9):
        moved = conf.copy()
        for _ in range(abs(shift)):
            moved = np.nextafter(moved, np.sign(shift) * np.inf)
        moved = np.minimum(moved, 1.0)
        assert np.array_equal(moved.astype(np.float32), conf.astype(np.float32)), shift

    notes = dict(NOTES)
    notes["probs"] = NOTES["probs"].format(gap=SOFTMAX_GAP[0])
    notes["boundary_case"] = (
        "bin_boundaries_c5 rows are [0, .., a, .., 0] (one other logit possibly 0.01 j) with "
        "the top logit a tuned ulp by ulp so that the "
        "float64 torch softmax max is exactly 0.6, 0.55, 0.7, 0.8, 0.4, 1.0, 0.95, 0.9 or 0.2 "
        "(the uniform last row, also a 5-way tie); targets_not_hit_exactly lists any miss. "
        "details.other_conventions_float64 gives the float64 values under conventions "
        "torchmetrics does not use: closed_right_clipped = (lo, hi] bins with 0 in the first "
        "and 1.0 in the last bin; closed_left_clipped = [lo, hi) bins but 1.0 folded into the "
        "last bin instead of its own. For each B, at least one norm differs from "
        "calibration_float64 by > 1e-3 (asserted), so the case tells them apart."
    )

    fixture = {
        "generated_by": "tests/reference/generate_metrics_reference.py",
        "versions": {
            "python": platform.python_version(),
            "numpy": np.__version__,
            "scipy": scipy.__version__,
            "scikit-learn": sklearn.__version__,
            "torch": torch.__version__,
            "torchmetrics": torchmetrics.__version__,
        },
        "notes": notes,
        "cases": built,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(fixture, indent=1, allow_nan=False) + "\n", encoding="utf-8")
    print(f"wrote {OUT} ({len(built)} cases)", file=sys.stderr)


if __name__ == "__main__":
    main()
