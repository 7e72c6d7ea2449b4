"""Kernel benchmark: ``xentcli.core.cross_entropy`` against its peers, in one process.

Times the library call ``cross_entropy(logits, labels).summary.loss`` on in-memory
arrays against

* PyTorch ``torch.nn.functional.cross_entropy(x, y)`` on CPU with 2 threads and with 1
  thread (skipped, with a note, when torch is not importable), and
* a naive NumPy reference: max-shifted ``log_softmax``, ``take_along_axis``, ``mean``,
  computed in the input dtype,

on the same arrays in the same run, and prints the ratios. Every implementation gets the
arrays in the benchmarked dtype (float32 or float64); conversions are part of its time.

Timing: ``time.perf_counter``, best of ``--repeat`` (default 5) after one warm-up call.
The repeats are interleaved (round r times every implementation once) so that a change
in machine load hits all implementations alike.

Memory: the peak-RSS increase of one call, measured with ``resource.getrusage`` in a
fresh subprocess per (implementation, shape, dtype): the child builds the arrays and
imports everything, reads ``ru_maxrss``, makes one call, and reads ``ru_maxrss`` again.
The difference is how far the call raised the process's high-water mark, i.e. the
memory the call needs beyond its inputs (temporaries and outputs, page granularity).
tracemalloc is not used because it does not see PyTorch's allocations.

Run it with any Python that has numpy and xentcli (and, for the comparison, torch)::

    python benchmarks/bench_kernel.py              # full size (needs ~16 GB free RAM)
    python benchmarks/bench_kernel.py --quick      # rows / 10, a smoke test
    python benchmarks/bench_kernel.py --shapes 1e6x10,2e5x100 --dtypes float64 --repeat 3

If xentcli is not installed in that Python, the checkout this file lives in is used.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import platform
import resource
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SHAPES: tuple[tuple[int, int], ...] = (
    (1_000_000, 10),
    (200_000, 100),
    (100_000, 1_000),
    (10_000, 50_000),
)
DTYPES = ("float32", "float64")
TOLERANCE = {"float32": 1e-6, "float64": 1e-12}
TORCH_THREADS = (2, 1)
MIB = 2**20

Loss = Callable[[NDArray[Any], NDArray[np.int64]], float]


# --------------------------------------------------------------------------- imports


def import_xentcli() -> tuple[Loss, str]:
    """The xent loss function and a description of where xentcli was imported from."""
    try:
        import xentcli.core
    except ImportError:
        sys.path.insert(0, str(REPO_ROOT))
        import xentcli.core
    import xentcli

    def xent_loss(x: NDArray[Any], y: NDArray[np.int64]) -> float:
        return float(xentcli.core.cross_entropy(x, y).summary.loss)

    where = f"{getattr(xentcli, '__version__', '?')} from {Path(xentcli.__file__).parent}"
    return xent_loss, where


def import_torch() -> Any | None:
    """The torch module, or None (with a note) when it is not importable."""
    try:
        import torch
    except ImportError as exc:
        print(f"note: torch not importable ({exc}); skipping the PyTorch columns")
        return None
    return torch


def torch_loss(torch: Any) -> Loss:
    functional = torch.nn.functional

    def loss(x: NDArray[Any], y: NDArray[np.int64]) -> float:
        return float(functional.cross_entropy(torch.from_numpy(x), torch.from_numpy(y)).item())

    return loss


def numpy_loss(x: NDArray[Any], y: NDArray[np.int64]) -> float:
    """Naive reference: log_softmax by max-shift, gather the true class, mean."""
    shifted = x - x.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return float(-np.take_along_axis(log_probs, y[:, None], axis=1).mean())


# --------------------------------------------------------------------------- helpers


@dataclass
class Impl:
    """One implementation under test."""

    name: str
    loss: Loss
    torch_threads: int | None = None
    seconds: list[float] = field(default_factory=list)
    sys_seconds: list[float] = field(default_factory=list)  # kernel CPU time of each call
    value: float = float("nan")


def make_data(n: int, c: int, dtype: str, seed: int) -> tuple[NDArray[Any], NDArray[np.int64]]:
    """Standard-normal logits (generated directly in ``dtype``: no temporaries) and labels."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, c), dtype=np.dtype(dtype).type)
    y = rng.integers(0, c, size=n, dtype=np.int64)
    return x, y


def parse_shape(text: str) -> tuple[int, int]:
    """``"1e6x10"`` or ``"1000000x10"`` -> ``(1000000, 10)``."""
    try:
        rows, cols = text.lower().split("x")
        shape = (int(float(rows)), int(float(cols)))
    except ValueError:
        raise argparse.ArgumentTypeError(f"bad shape {text!r}; expected ROWSxCOLS") from None
    if shape[0] < 1 or shape[1] < 2:
        raise argparse.ArgumentTypeError(f"bad shape {text!r}; need rows >= 1, cols >= 2")
    return shape


def mem_available() -> int | None:
    """MemAvailable in bytes (Linux), else None."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def estimated_peak(n: int, c: int, dtype: str) -> int:
    """Rough peak of the benchmark process for one shape: the input plus three float64
    (N, C) temporaries (what xent at the baseline needs; the peers need less)."""
    return n * c * np.dtype(dtype).itemsize + 3 * n * c * 8 + n * 8 + 256 * MIB


def fmt_ms(seconds: float | None) -> str:
    return "n/a" if seconds is None else f"{seconds * 1e3:.1f}"


def fmt_ratio(num: float | None, den: float | None) -> str:
    return "n/a" if num is None or den is None or den == 0 else f"{num / den:.2f}"


def fmt_mib(kib: float | None) -> str:
    return "n/a" if kib is None else f"{kib / 1024:.0f}"


def shape_str(n: int, c: int) -> str:
    return f"{n}x{c}"


def print_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    line = " | ".join(h.rjust(w) for h, w in zip(headers, widths, strict=True))
    print(line)
    print("-+-".join("-" * w for w in widths))
    for r in rows:
        print(" | ".join(v.rjust(w) for v, w in zip(r, widths, strict=True)))


# --------------------------------------------------------------------------- timing


def time_shape(
    impls: list[Impl],
    x: NDArray[Any],
    y: NDArray[np.int64],
    repeat: int,
    warmup: int,
    torch: Any | None,
) -> None:
    """Warm up every implementation, then ``repeat`` interleaved rounds."""
    for impl in impls:
        impl.seconds, impl.sys_seconds = [], []

    def call(impl: Impl) -> tuple[float, float]:
        if impl.torch_threads is not None and torch is not None:
            torch.set_num_threads(impl.torch_threads)
        gc.collect()
        s0 = resource.getrusage(resource.RUSAGE_SELF).ru_stime
        t0 = time.perf_counter()
        impl.value = impl.loss(x, y)
        t1 = time.perf_counter()
        return t1 - t0, resource.getrusage(resource.RUSAGE_SELF).ru_stime - s0

    for impl in impls:
        for _ in range(warmup):
            call(impl)
    for _ in range(repeat):
        for impl in impls:
            wall, sys_time = call(impl)
            impl.seconds.append(wall)
            impl.sys_seconds.append(sys_time)


# --------------------------------------------------------------------------- memory


def memory_child(impl: str, n: int, c: int, dtype: str, seed: int) -> None:
    """Run in a subprocess: print the peak-RSS increase (KiB) of one call as JSON."""
    x, y = make_data(n, c, dtype, seed)
    loss: Loss
    if impl == "xent":
        loss = import_xentcli()[0]
    elif impl.startswith("torch"):
        torch = import_torch()
        if torch is None:
            raise SystemExit(3)
        torch.set_num_threads(int(impl.removeprefix("torch-").removesuffix("t")))
        loss = torch_loss(torch)
    else:
        loss = numpy_loss
    loss(x[:8], y[:8])  # lazy initialisation (imports, thread pools) is not the call's
    gc.collect()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    value = loss(x, y)
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"delta_kib": after - before, "baseline_kib": before, "loss": value}))


# Linux carries a process's RSS high-water mark (ru_maxrss) across execve, and Python's
# subprocess starts children with vfork/posix_spawn, so a child of this (large) process
# would start with *our* peak as its own. This launcher fork()s a grandchild, which
# starts from the launcher's few MiB instead, and waits for it.
FORK_LAUNCHER = """\
import os, sys
pid = os.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
_, status, _ = os.wait4(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status))
"""


def measure_memory(impl: str, n: int, c: int, dtype: str, seed: int) -> int | None:
    """Peak-RSS increase (KiB) of one ``impl`` call, from a fresh (grand)child process."""
    cmd = [
        sys.executable,
        "-c",
        FORK_LAUNCHER,
        sys.executable,
        str(Path(__file__).resolve()),
        "--memory-child",
        impl,
        "--shapes",
        shape_str(n, c),
        "--dtypes",
        dtype,
        "--seed",
        str(seed),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        print(
            f"note: memory measurement of {impl} {shape_str(n, c)} {dtype} failed "
            f"(exit {proc.returncode}): {proc.stderr.strip()[-300:]}"
        )
        return None
    return int(json.loads(proc.stdout.strip().splitlines()[-1])["delta_kib"])


# --------------------------------------------------------------------------- main


def environment(xent_where: str, torch: Any | None) -> list[str]:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return [
        f"date      {dt.datetime.now(dt.UTC).isoformat(timespec='seconds')}",
        f"machine   {cpu}, {os.cpu_count()} CPUs, {platform.system()} {platform.release()}",
        f"python    {platform.python_version()} ({sys.executable})",
        f"numpy     {np.__version__}",
        f"torch     {torch.__version__ if torch is not None else 'not importable'}",
        f"xentcli   {xent_where}",
    ]


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--quick", action="store_true", help="divide the rows of every shape by 10")
    p.add_argument(
        "--shapes",
        type=lambda s: [parse_shape(t) for t in s.split(",")],
        default=list(DEFAULT_SHAPES),
        help="comma list of ROWSxCOLS (default: 1e6x10,2e5x100,1e5x1000,1e4x5e4)",
    )
    p.add_argument(
        "--dtypes",
        type=lambda s: s.split(","),
        default=list(DTYPES),
        help="comma list of float32,float64 (default: both)",
    )
    p.add_argument("--repeat", type=int, default=5, help="timed calls per case (best is kept)")
    p.add_argument("--warmup", type=int, default=1, help="untimed calls first (default 1)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-memory", action="store_true", help="skip the peak-RSS subprocesses")
    p.add_argument(
        "--force",
        action="store_true",
        help="run shapes even when they look too big for the available memory",
    )
    p.add_argument("--memory-child", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    for d in args.dtypes:
        if d not in DTYPES:
            p.error(f"unknown dtype {d!r}; choose from {', '.join(DTYPES)}")
    if args.repeat < 1 or args.warmup < 0:
        p.error("--repeat must be >= 1 and --warmup >= 0")
    if args.quick:
        args.shapes = [(max(1, n // 10), c) for n, c in args.shapes]
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.memory_child:
        (n, c), dtype = args.shapes[0], args.dtypes[0]
        memory_child(args.memory_child, n, c, dtype, args.seed)
        return 0

    xent, xent_where = import_xentcli()
    torch = import_torch()
    for line in environment(xent_where, torch):
        print(line)
    print(f"timing    best of {args.repeat} after {args.warmup} warm-up, interleaved")
    print()

    impls = [Impl("xent", xent)]
    if torch is not None:
        impls += [Impl(f"torch-{t}t", torch_loss(torch), torch_threads=t) for t in TORCH_THREADS]
    impls.append(Impl("numpy", numpy_loss))

    time_rows: list[list[str]] = []
    mem_rows: list[list[str]] = []
    sys_rows: list[list[str]] = []
    failures: list[str] = []
    for n, c in args.shapes:
        for dtype in args.dtypes:
            case = f"{shape_str(n, c)} {dtype}"
            need, avail = estimated_peak(n, c, dtype), mem_available()
            if avail is not None and need > 0.9 * avail and not args.force:
                print(
                    f"note: skipping {case}: needs ~{need / 2**30:.1f} GiB, "
                    f"{avail / 2**30:.1f} GiB available (--force to run anyway)"
                )
                continue
            print(f"running {case} ...", flush=True)
            x, y = make_data(n, c, dtype, args.seed)
            time_shape(impls, x, y, args.repeat, args.warmup, torch)
            del x, y
            gc.collect()

            best = {i.name: min(i.seconds) for i in impls}
            best_sys = {i.name: i.sys_seconds[i.seconds.index(min(i.seconds))] for i in impls}
            sys_rows.append(
                [
                    shape_str(n, c),
                    dtype,
                    fmt_ms(best_sys["xent"]),
                    fmt_ms(best_sys.get("torch-2t")),
                    fmt_ms(best_sys.get("torch-1t")),
                    fmt_ms(best_sys["numpy"]),
                    fmt_ms(float(np.median(impls[0].seconds))),
                    fmt_ms(max(impls[0].seconds)),
                ]
            )
            ref = impls[0].value
            diffs = {i.name: abs(i.value - ref) / abs(ref) for i in impls[1:]}
            worst = max(diffs.values(), default=0.0)
            ok = worst <= TOLERANCE[dtype]
            if not ok:
                failures.append(
                    f"{case}: "
                    + ", ".join(
                        f"{k} {impls[[i.name for i in impls].index(k)].value!r}" for k in diffs
                    )
                    + f" vs xent {ref!r}"
                )
            time_rows.append(
                [
                    shape_str(n, c),
                    dtype,
                    f"{n * c * np.dtype(dtype).itemsize / MIB:.0f}",
                    fmt_ms(best["xent"]),
                    fmt_ms(best.get("torch-2t")),
                    fmt_ms(best.get("torch-1t")),
                    fmt_ms(best["numpy"]),
                    fmt_ratio(best["xent"], best.get("torch-2t")),
                    fmt_ratio(best["xent"], best.get("torch-1t")),
                    fmt_ratio(best["xent"], best["numpy"]),
                    f"{worst:.1e} {'ok' if ok else 'FAIL'}",
                ]
            )
            if not args.no_memory:
                kib = {i.name: measure_memory(i.name, n, c, dtype, args.seed) for i in impls}
                mem_rows.append(
                    [
                        shape_str(n, c),
                        dtype,
                        f"{n * c * np.dtype(dtype).itemsize / MIB:.0f}",
                        fmt_mib(kib["xent"]),
                        fmt_mib(kib.get("torch-2t")),
                        fmt_mib(kib.get("torch-1t")),
                        fmt_mib(kib["numpy"]),
                        fmt_ratio(kib["xent"], kib.get("torch-2t")),
                    ]
                )

    print()
    print("Time (ms, best of k; ratio < 1 means xent is faster)")
    print_table(
        [
            "shape",
            "dtype",
            "input MiB",
            "xent ms",
            "torch-2t ms",
            "torch-1t ms",
            "numpy ms",
            "xent/torch-2t",
            "xent/torch-1t",
            "xent/numpy",
            "max rel diff",
        ],
        time_rows,
    )
    print()
    print("System (kernel) CPU time within each best call, ms: mostly page faults on freshly")
    print("allocated memory; and the spread of xent's timed calls")
    print_table(
        [
            "shape",
            "dtype",
            "xent sys",
            "torch-2t sys",
            "torch-1t sys",
            "numpy sys",
            "xent median ms",
            "xent worst ms",
        ],
        sys_rows,
    )
    if mem_rows:
        print()
        print("Peak RSS increase of one call (MiB above the inputs; fresh process each)")
        print_table(
            [
                "shape",
                "dtype",
                "input MiB",
                "xent",
                "torch-2t",
                "torch-1t",
                "numpy",
                "xent/torch-2t",
            ],
            mem_rows,
        )
    print()
    print("targets: xent/torch-2t <= 1.00 on every shape and dtype (issue 5)")
    if failures:
        print("LOSS MISMATCH beyond tolerance (1e-6 rel float32, 1e-12 rel float64):")
        for f in failures:
            print("  " + f)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
