"""Reference values for --extra and --per-class, from scikit-learn and SciPy.

Run once with a Python that has scikit-learn and SciPy (not needed by the test suite):

    python tests/reference/generate_evaluation_reference.py

It writes tests/fixtures/evaluation_reference.json. Per sample: the rank of the true
class (``scipy.stats.rankdata(-scores, method="ordinal")``: equal scores ranked in
order of class index, as argmax breaks ties), the margin and the entropy
(``scipy.special.log_softmax``, ``scipy.stats.entropy``). Per class: support, mean NLL
(mpmath at 50 digits, and ``sklearn.metrics.log_loss`` on the class's samples, which
clips probabilities at 1 - eps), accuracy (``recall_score`` with ``average=None``), mean
top-1 probability and share of the summed NLL (mpmath: SciPy's log_softmax rounds the
loss of a near-certain class to 0).
"""

from __future__ import annotations

import json
from pathlib import Path

import mpmath
import numpy as np
import scipy
import sklearn
from scipy.special import log_softmax, softmax
from scipy.stats import entropy, rankdata
from sklearn.metrics import log_loss, recall_score

OUT = Path(__file__).parent.parent / "fixtures" / "evaluation_reference.json"


def cases() -> list[tuple[str, np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(20261128)
    out = []
    out.append(("random_n200_c5", rng.normal(size=(200, 5)) * 2, rng.integers(0, 5, 200)))
    # Small integers: many exact ties between classes.
    out.append(
        ("ties_n120_c4", rng.integers(-2, 3, size=(120, 4)).astype(float), rng.integers(0, 4, 120))
    )
    # Class 3 has no samples; class 0 dominates.
    y = rng.choice([0, 0, 0, 1, 2], size=90)
    out.append(("missing_class_n90_c4", rng.normal(size=(90, 4)) * 3, y))
    # Impossible classes (-inf logits), never the true class.
    x = rng.normal(size=(60, 6))
    y = rng.integers(0, 6, 60)
    for i in range(60):
        wrong = (y[i] + 1 + rng.integers(0, 5)) % 6
        x[i, wrong] = -np.inf
    out.append(("neg_inf_n60_c6", x, y))
    # Confident model: large logits.
    y = rng.integers(0, 3, 150)
    x = rng.normal(size=(150, 3))
    x[np.arange(150), y] += 12.0
    out.append(("confident_n150_c3", x * 5, y))
    return out


def main() -> None:
    records = []
    for name, x, y in cases():
        c = x.shape[1]
        logp = log_softmax(x, axis=1)
        p = softmax(x, axis=1)
        rank = [int(rankdata(-x[i], method="ordinal")[y[i]]) for i in range(len(y))]
        margin = (logp.max(axis=1) - logp[np.arange(len(y)), y]).tolist()
        ent = [float(entropy(p[i])) for i in range(len(y))]
        pred = np.argmax(x, axis=1)
        recall = recall_score(y, pred, labels=list(range(c)), average=None, zero_division=np.nan)
        mpmath.mp.dps = 50
        nll = np.array(
            [
                float(
                    mpmath.log(sum(mpmath.exp(mpmath.mpf(v)) for v in row if np.isfinite(v)))
                    - mpmath.mpf(row[t])
                )
                for row, t in zip(x.tolist(), y.tolist(), strict=True)
            ]
        )
        per_class = []
        for k in range(c):
            idx = y == k
            n = int(idx.sum())
            per_class.append(
                {
                    "class": k,
                    "support": n,
                    "mean_nll": float(nll[idx].mean()) if n else None,
                    "mean_nll_sklearn": (
                        float(log_loss(y[idx], p[idx], labels=list(range(c)))) if n else None
                    ),
                    "accuracy": float(recall[k]) if n else None,
                    "confidence": float(p[idx].max(axis=1).mean()) if n else None,
                    "loss_share": float(nll[idx].sum() / nll.sum()),
                }
            )
        records.append(
            {
                "name": name,
                "logits": [[v if np.isfinite(v) else "-inf" for v in row] for row in x.tolist()],
                "labels": y.tolist(),
                "expected": {
                    "rank": rank,
                    "margin": margin,
                    "entropy": ent,
                    "per_class": per_class,
                },
            }
        )
    OUT.write_text(
        json.dumps(
            {
                "generator": "tests/reference/generate_evaluation_reference.py",
                "versions": {
                    "numpy": np.__version__,
                    "scipy": scipy.__version__,
                    "mpmath": mpmath.__version__,
                    "sklearn": sklearn.__version__,
                },
                "cases": records,
            },
            indent=1,
        )
        + "\n"
    )


if __name__ == "__main__":
    main()
