"""Generate the deterministic sample data shipped with xentcli.

Run from anywhere (numpy only)::

    python sample_data/make_sample_data.py

Files are written next to this script. The 20-sample set mimics a decent but imperfect
CIFAR-10 classifier: N(0, 1.5) noise plus a +3.5 boost on the true class, with one very
confident correct row and one confidently wrong row. Logits are rounded to 4 decimals by
formatting with "%.4f" and parsing back, so logits.csv and logits.npy hold identical values.
"""

from pathlib import Path

import numpy as np

CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
N_SAMPLES = 20
SEED = 20261128
OUT = Path(__file__).resolve().parent

# Hand-written textbook example: rows 0 and 1 predict their true class (1 and 3),
# row 2 (true class 5) predicts class 2 instead.
SEED3_LOGITS = [
    [0.50, 3.20, -1.10, 0.80, -0.40, 1.30, -2.00, 0.10, -0.70, 0.90],
    [-1.50, 0.20, 1.10, 4.10, 0.60, -0.80, 2.30, -3.00, 0.40, -0.20],
    [1.20, -0.60, 2.80, -1.40, 0.30, 1.90, -0.50, 0.70, -2.20, 0.00],
]
SEED3_LABELS = [1, 3, 5]


def fmt_row(values, spec="%.4f"):
    """Format one row of floats as a comma-separated string."""
    return ",".join(spec % v for v in values)


def write_lines(name, lines):
    """Write lines with LF endings, including a final newline."""
    (OUT / name).write_text("\n".join(lines) + "\n", encoding="utf-8", newline="\n")


def make_logits(rng):
    """Return (logits rounded to 4 decimals, labels) for the 20-sample set."""
    logits = rng.normal(0.0, 1.5, size=(N_SAMPLES, len(CLASSES)))
    labels = rng.integers(0, len(CLASSES), size=N_SAMPLES)
    boosted = np.arange(N_SAMPLES) != 1  # every row except the confidently wrong one
    logits[boosted, labels[boosted]] += 3.5
    logits[0, labels[0]] += 6.0  # row 0: very confident and correct
    logits[1, (labels[1] + 1) % len(CLASSES)] += 8.0  # row 1: confidently wrong
    # Round exactly as the CSV stores it, so CSV and NPY parse to identical float64 values.
    rounded = [[float(s) for s in fmt_row(row).split(",")] for row in logits]
    return np.array(rounded, dtype=np.float64), labels.astype(np.int64)


def make_segmentation(rng):
    """Logits (N=2, C=3, H=4, W=4) as PyTorch lays them out, labels (2, 4, 4) with 255 for
    unlabelled pixels (use --class-axis 1 --ignore-index 255)."""
    labels = rng.integers(0, 3, size=(2, 4, 4))
    logits = rng.normal(0.0, 1.0, size=(2, 3, 4, 4))
    onehot = np.moveaxis(np.eye(3)[labels], -1, 1)
    logits = np.round(logits + 2.0 * onehot, 3)
    labels[0, 0, :2] = 255
    labels[1, 3, 3] = 255
    return logits.astype(np.float32), labels.astype(np.int64)


def make_binary(rng):
    """Eight scores of the positive class (logits) and their 0/1 labels."""
    labels = rng.integers(0, 2, size=8)
    scores = np.round(rng.normal(0.0, 1.0, size=8) + 1.5 * (2 * labels - 1), 3)
    return scores, labels


def make_logits_b(rng, labels):
    """A second model's logits for the same 20 samples (``xent compare``): less noise and
    a larger boost on the true class, so it is better than the first on most samples."""
    logits = rng.normal(0.0, 1.2, size=(len(labels), len(CLASSES)))
    logits[np.arange(len(labels)), labels] += 4.0
    return np.array([[float(s) for s in fmt_row(row).split(",")] for row in logits])


def main():
    """Generate every sample file next to this script."""
    rng = np.random.default_rng(SEED)
    logits, labels = make_logits(rng)

    write_lines("logits.csv", [",".join(CLASSES)] + [fmt_row(r) for r in logits])
    write_lines("labels.csv", ["label"] + [str(int(y)) for y in labels])
    write_lines(
        "logits_with_labels.csv",
        ["label," + ",".join(CLASSES)]
        + [f"{CLASSES[y]},{fmt_row(r)}" for y, r in zip(labels, logits, strict=True)],
    )
    np.save(OUT / "logits.npy", logits)
    np.save(OUT / "labels.npy", labels)

    write_lines("seed3.csv", [fmt_row(r, "%.2f") for r in SEED3_LOGITS])
    write_lines("seed3_labels.csv", [str(y) for y in SEED3_LABELS])

    # A second generator, so adding these never changes the files above.
    rng2 = np.random.default_rng(SEED + 1)
    seg_logits, seg_labels = make_segmentation(rng2)
    np.save(OUT / "segmentation_logits.npy", seg_logits)
    np.save(OUT / "segmentation_labels.npy", seg_labels)
    scores, blabels = make_binary(rng2)
    write_lines("binary_scores.csv", ["score"] + [f"{v:.3f}" for v in scores])
    write_lines("binary_labels.csv", ["label"] + [str(int(y)) for y in blabels])

    # A third generator, for the same reason.
    rng3 = np.random.default_rng(SEED + 2)
    logits_b = make_logits_b(rng3, labels)
    write_lines("logits_b.csv", [",".join(CLASSES)] + [fmt_row(r) for r in logits_b])

    acc = float(np.mean(logits.argmax(axis=1) == labels))
    print(f"wrote sample data to {OUT}; accuracy {acc:.2f}")


if __name__ == "__main__":
    main()
