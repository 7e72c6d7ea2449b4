"""Every benchmark of issue 5 in one run: the kernel, then parsing and the CLI end to end.

1. ``bench_kernel.py``: xentcli's core (the library call and the kernel alone) against
   naive NumPy, ``scipy.special.log_softmax``, PyTorch ``F.cross_entropy`` with 2 and 1
   threads, and ``sklearn.metrics.log_loss`` (which takes probabilities: it is timed as
   ``scipy.special.softmax`` + ``log_loss``), on in-memory arrays;
2. ``bench_cli.py``: ``xent loss`` end to end on a CSV and an NPY file against parse-only
   readers (the ``csv`` module, ``numpy.loadtxt``, pandas' C engine, pyarrow, polars,
   ``numpy.load``), and start-up.

Both print ratios, not only seconds, and peak memory; peers that are not importable are
skipped with a note. Run it with a Python that has the peers (torch, scipy,
scikit-learn, pandas, polars, pyarrow); xentcli is imported from this checkout when it
is not installed there::

    python benchmarks/run.py                 # full size: ~30 min on 2 cores, ~16 GB free RAM
    python benchmarks/run.py --quick         # a smoke test, a few minutes
    python benchmarks/run.py --only kernel --kernel-args "--shapes 1e6x10 --repeat 3"
    python benchmarks/run.py --only cli --cli-args "--xent /path/to/xent"

The exit status is non-zero when a benchmark found a loss that disagrees with xent's.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_cli
import bench_kernel


def banner(text: str) -> None:
    print()
    print(f"{'=' * 8} {text} {'=' * max(8, 78 - len(text))}", flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--quick", action="store_true", help="small sizes: a smoke test")
    p.add_argument("--only", choices=("kernel", "cli"), help="run one of the two benchmarks")
    p.add_argument("--kernel-args", default="", help="more arguments for bench_kernel.py")
    p.add_argument("--cli-args", default="", help="more arguments for bench_cli.py")
    args = p.parse_args(argv)
    quick = ["--quick"] if args.quick else []
    status = 0
    if args.only in (None, "kernel"):
        banner("kernel: bench_kernel.py")
        status |= bench_kernel.main([*quick, *shlex.split(args.kernel_args)])
    if args.only in (None, "cli"):
        banner("parsing and CLI end to end: bench_cli.py")
        status |= bench_cli.main([*quick, *shlex.split(args.cli_args)])
    return status


if __name__ == "__main__":
    sys.exit(main())
