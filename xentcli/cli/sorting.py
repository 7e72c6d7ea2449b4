"""``--sort KEY [--desc]``: per-sample output in order, or a leaderboard of several inputs."""

from xentcli.cli.gates import METRICS
from xentcli.errors import UsageError

#: Per-sample fields ``--sort`` orders one input's samples by.
SAMPLE_KEYS = ("nll", "loss", "p_true", "index")


def sample_sort_key(value: str | None) -> str | None:
    """``--sort`` for one input: a per-sample field."""
    if value is None:
        return None
    key = value.lower()
    if key not in SAMPLE_KEYS:
        extra = " (a summary metric orders several inputs)" if key in METRICS else ""
        raise UsageError(f"--sort {value!r}: samples are sorted by {', '.join(SAMPLE_KEYS)}{extra}")
    return key


def metric_sort_key(value: str | None) -> str | None:
    """``--sort`` for several inputs: a number of the summary."""
    if value is None:
        return None
    key = value.lower()
    if key not in METRICS:
        raise UsageError(
            f"--sort {value!r}: several inputs are sorted by a summary metric "
            f"({', '.join(METRICS[:10])}, ...)"
        )
    return key
