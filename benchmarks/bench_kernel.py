"""Kernel benchmark: xentcli's core against its peers, in one process.

Times, on the same in-memory arrays in the same run, and prints the ratios:

* ``xent``: the library call ``cross_entropy(logits, labels).summary.loss`` (validation,
  the kernel, per-sample results, exact sums, statistics);
* ``xent-stats``: the summary-only library call ``loss_stats(logits, labels).summary().loss``
  (the same statistics, each chunk reduced by the thread that computed it: no
  per-sample arrays; PyTorch's ``reduction="mean"`` does the same);
* ``xent-kernel``: the chunked kernel alone, ``xentcli.core.kernel.logits_nll`` plus a
  float64 ``np.sum`` of its per-sample nll (log-softmax + gather + reductions);
* ``torch-2t`` / ``torch-1t``: PyTorch ``F.cross_entropy(x, y)`` on CPU with 2 / 1
  threads;
* ``numpy``: a naive NumPy reference (max-shifted ``log_softmax``, ``take_along_axis``,
  ``mean``) in the input dtype;
* ``scipy``: ``scipy.special.log_softmax``, ``take_along_axis``, ``mean``;
* ``sklearn``: ``sklearn.metrics.log_loss`` takes probabilities, so this times
  ``scipy.special.softmax`` followed by ``log_loss(y, p, labels=range(C))``.

Every peer that is not importable is skipped with a printed note. Every implementation
gets the arrays in the benchmarked dtype (float32 or float64); conversions are part of
its time.

Timing: ``time.perf_counter``, best of ``--repeat`` (default 5) after one warm-up call,
each call after a pause of ``PAUSE`` seconds (OpenMP threads of the previous call stop
spinning). The repeats are interleaved (round r times every implementation once) so that a change
in machine load hits all implementations alike.

Memory: the peak-RSS increase of one call, measured with ``resource.getrusage`` in a
fresh subprocess per (implementation, shape, dtype): the child builds the arrays and
imports everything, reads ``ru_maxrss``, makes one call, and reads ``ru_maxrss`` again.
The difference is how far the call raised the process's high-water mark, i.e. the
memory the call needs beyond its inputs (temporaries and outputs, page granularity).
tracemalloc is not used because it does not see PyTorch's allocations.

Run it with any Python that has numpy and xentcli (and, for the comparison, torch,
scipy, scikit-learn)::

    python benchmarks/bench_kernel.py              # full size (needs ~16 GB free RAM)
    python benchmarks/bench_kernel.py --quick      # rows / 10, a smoke test
    python benchmarks/bench_kernel.py --shapes 1e6x10,2e5x100 --dtypes float64 --repeat 3
    python benchmarks/bench_kernel.py --peers xent,xent-kernel,torch-2t

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
MIB = 2**20
#: Seconds of quiet before every timed call.
PAUSE = 0.2
#: Every implementation, in table order.
IMPLS = ("xent", "xent-stats", "xent-kernel", "torch-2t", "torch-1t", "numpy", "scipy", "sklearn")
#: (N, C) float64 temporaries each needs at its peak, beyond the input (rough, for the
#: available-memory check): the naive ones hold two or three; scikit-learn holds the
#: probabilities, a one-hot label matrix, its xlogy product and copies (at 1e4 x 5e4 in
#: float64 it was killed by the OOM killer with 22 GB available).
TEMPORARIES = {"numpy": 3, "scipy": 3, "sklearn": 5, "torch-2t": 1, "torch-1t": 1}

Loss = Callable[[NDArray[Any], NDArray[np.int64]], float]


# --------------------------------------------------------------------------- imports


def import_xentcli() -> Any:
    """The xentcli module (from this checkout when it is not installed)."""
    try:
        import xentcli.core
    except ImportError:
        sys.path.insert(0, str(REPO_ROOT))
        import xentcli.core
    import xentcli

    return xentcli


def xentcli_where() -> str:
    xentcli = import_xentcli()
    return f"{getattr(xentcli, '__version__', '?')} from {Path(xentcli.__file__).parent}"


def xent_loss() -> Loss:
    cross_entropy = import_xentcli().core.cross_entropy

    def loss(x: NDArray[Any], y: NDArray[np.int64]) -> float:
        return float(cross_entropy(x, y).summary.loss)

    return loss


def xent_stats_loss() -> Loss:
    loss_stats = import_xentcli().core.loss_stats

    def loss(x: NDArray[Any], y: NDArray[np.int64]) -> float:
        return float(loss_stats(x, y).summary().loss)

    return loss


def xent_kernel_loss() -> Loss:
    import_xentcli()
    from xentcli.core.kernel import logits_nll

    def loss(x: NDArray[Any], y: NDArray[np.int64]) -> float:
        return float(np.sum(logits_nll(x, y)[0]) / x.shape[0])

    return loss


def torch_loss(threads: int) -> Loss:
    import torch

    functional = torch.nn.functional

    def loss(x: NDArray[Any], y: NDArray[np.int64]) -> float:
        torch.set_num_threads(threads)
        return float(functional.cross_entropy(torch.from_numpy(x), torch.from_numpy(y)).item())

    return loss


def numpy_loss() -> Loss:
    def loss(x: NDArray[Any], y: NDArray[np.int64]) -> float:
        """Naive reference: log_softmax by max-shift, gather the true class, mean."""
        shifted = x - x.max(axis=1, keepdims=True)
        log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        return float(-np.take_along_axis(log_probs, y[:, None], axis=1).mean())

    return loss


def scipy_loss() -> Loss:
    from scipy.special import log_softmax

    def loss(x: NDArray[Any], y: NDArray[np.int64]) -> float:
        return float(-np.take_along_axis(log_softmax(x, axis=1), y[:, None], axis=1).mean())

    return loss


def sklearn_loss() -> Loss:
    from scipy.special import softmax
    from sklearn.metrics import log_loss

    def loss(x: NDArray[Any], y: NDArray[np.int64]) -> float:
        return float(log_loss(y, softmax(x, axis=1), labels=np.arange(x.shape[1])))

    return loss


FACTORIES: dict[str, Callable[[], Loss]] = {
    "xent": xent_loss,
    "xent-stats": xent_stats_loss,
    "xent-kernel": xent_kernel_loss,
    "torch-2t": lambda: torch_loss(2),
    "torch-1t": lambda: torch_loss(1),
    "numpy": numpy_loss,
    "scipy": scipy_loss,
    "sklearn": sklearn_loss,
}


def make_loss(name: str) -> Loss | str:
    """The loss function of implementation ``name``, or why it cannot be imported."""
    try:
        return FACTORIES[name]()
    except ImportError as exc:
        return f"not importable ({exc})"


def version_line() -> str:
    parts = []
    for module in ("numpy", "torch", "scipy", "sklearn"):
        try:
            parts.append(f"{module} {__import__(module).__version__}")
        except ImportError:
            parts.append(f"{module} not importable")
    return ", ".join(parts)


# --------------------------------------------------------------------------- helpers


@dataclass
class Impl:
    """One implementation under test."""

    name: str
    loss: Loss
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


def estimated_peak(n: int, c: int, dtype: str, impl: str) -> int:
    """Rough peak of the benchmark process while ``impl`` runs on one shape: the input
    plus the implementation's (N, C) float64 temporaries (xent's are chunk-sized)."""
    return n * c * (np.dtype(dtype).itemsize + 8 * TEMPORARIES.get(impl, 0)) + n * 32 + 256 * MIB


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
    impls: list[Impl], x: NDArray[Any], y: NDArray[np.int64], repeat: int, warmup: int
) -> None:
    """Warm up every implementation, then ``repeat`` interleaved rounds."""
    for impl in impls:
        impl.seconds, impl.sys_seconds = [], []

    def call(impl: Impl) -> tuple[float, float]:
        gc.collect()
        # PyTorch's OpenMP workers spin for a while after a call: without a pause they
        # would take a core from whichever implementation is timed next (measured: +15%
        # for xent's two threads right after torch-2t, none with OMP_WAIT_POLICY=passive).
        time.sleep(PAUSE)
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
    loss = make_loss(impl)
    if isinstance(loss, str):
        raise SystemExit(3)
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


def environment() -> list[str]:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name"))
    except (OSError, StopIteration):
        pass
    try:
        load = "load average " + " ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:
        load = "load average n/a"
    return [
        f"date      {dt.datetime.now(dt.UTC).isoformat(timespec='seconds')} ({load})",
        f"machine   {cpu}, {os.cpu_count()} CPUs, {platform.system()} {platform.release()}",
        f"python    {platform.python_version()} ({sys.executable})",
        f"versions  {version_line()}",
        f"xentcli   {xentcli_where()}",
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
    p.add_argument(
        "--peers",
        type=lambda s: s.split(","),
        default=list(IMPLS),
        help=f"comma list of implementations (default: all of {','.join(IMPLS)})",
    )
    p.add_argument("--repeat", type=int, default=5, help="timed calls per case (best is kept)")
    p.add_argument("--warmup", type=int, default=1, help="untimed calls first (default 1)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-memory", action="store_true", help="skip the peak-RSS subprocesses")
    p.add_argument(
        "--force",
        action="store_true",
        help="run implementations even when they look too big for the available memory",
    )
    p.add_argument("--memory-child", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    for d in args.dtypes:
        if d not in DTYPES:
            p.error(f"unknown dtype {d!r}; choose from {', '.join(DTYPES)}")
    for name in args.peers:
        if name not in IMPLS:
            p.error(f"unknown implementation {name!r}; choose from {', '.join(IMPLS)}")
    if "xent" not in args.peers:
        args.peers.insert(0, "xent")  # the reference of every ratio and loss check
    args.peers = [name for name in IMPLS if name in args.peers]
    if args.repeat < 1 or args.warmup < 0:
        p.error("--repeat must be >= 1 and --warmup >= 0")
    if args.quick:
        args.shapes = [(max(1, n // 10), c) for n, c in args.shapes]
    return args


@dataclass
class Tables:
    """The rows of the printed tables, one per (shape, dtype)."""

    names: list[str]
    time: list[list[str]] = field(default_factory=list)
    ratio: list[list[str]] = field(default_factory=list)
    sys: list[list[str]] = field(default_factory=list)
    memory: list[list[str]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


def run_case(
    impls: list[Impl], n: int, c: int, dtype: str, args: argparse.Namespace, tables: Tables
) -> None:
    """Time (and measure the memory of) every implementation on one shape and dtype."""
    case = f"{shape_str(n, c)} {dtype}"
    avail = mem_available()
    runnable = []
    for impl in impls:
        need = estimated_peak(n, c, dtype, impl.name)
        if avail is not None and need > 0.9 * avail and not args.force:
            print(
                f"note: skipping {impl.name} on {case}: needs ~{need / 2**30:.1f} GiB, "
                f"{avail / 2**30:.1f} GiB available (--force to run anyway)"
            )
            continue
        runnable.append(impl)
    if not runnable or runnable[0].name != "xent":
        print(f"note: skipping {case}: too big for xent here")
        return
    print(f"running {case} ...", flush=True)
    x, y = make_data(n, c, dtype, args.seed)
    time_shape(runnable, x, y, args.repeat, args.warmup)
    del x, y
    gc.collect()

    done = {i.name: i for i in runnable}
    best = {k: min(i.seconds) for k, i in done.items()}
    head = [shape_str(n, c), dtype]
    mib = f"{n * c * np.dtype(dtype).itemsize / MIB:.0f}"
    tables.time.append([*head, mib, *(fmt_ms(best.get(k)) for k in tables.names)])
    base = best.get("torch-2t")
    tables.ratio.append([*head, *(fmt_ratio(best.get(k), base) for k in tables.names)])
    sys_best = {k: i.sys_seconds[i.seconds.index(best[k])] for k, i in done.items()}
    xent = done["xent"]
    tables.sys.append(
        [
            *head,
            *(fmt_ms(sys_best.get(k)) for k in tables.names),
            fmt_ms(float(np.median(xent.seconds))),
            fmt_ms(max(xent.seconds)),
        ]
    )
    ref = xent.value
    diffs = {k: abs(i.value - ref) / abs(ref) for k, i in done.items() if k != "xent"}
    worst = max(diffs.values(), default=0.0)
    ok = worst <= TOLERANCE[dtype]
    tables.time[-1].append(f"{worst:.1e} {'ok' if ok else 'FAIL'}")
    if not ok:
        tables.failures.append(
            f"{case}: " + ", ".join(f"{k} {done[k].value!r}" for k in diffs) + f" vs xent {ref!r}"
        )
    # Printed at once too, so that a run killed later (out of memory) is not lost.
    print("  ms:      " + ", ".join(f"{k} {fmt_ms(v)}" for k, v in best.items()))
    print("  /torch2t: " + ", ".join(f"{k} {fmt_ratio(v, base)}" for k, v in best.items()))
    print(f"  max rel diff {worst:.1e}", flush=True)
    if not args.no_memory:
        kib = {k: measure_memory(k, n, c, dtype, args.seed) for k in done}
        print("  MiB:     " + ", ".join(f"{k} {fmt_mib(v)}" for k, v in kib.items()), flush=True)
        tables.memory.append([*head, mib, *(fmt_mib(kib.get(k)) for k in tables.names)])


def print_tables(tables: Tables) -> None:
    names = tables.names
    print()
    print("Time (ms, best of k)")
    print_table(
        ["shape", "dtype", "input MiB", *(f"{k} ms" for k in names), "max rel diff"],
        tables.time,
    )
    print()
    print("Time / torch-2t time (below 1.00 is faster than 2-thread PyTorch)")
    print_table(["shape", "dtype", *names], tables.ratio)
    print()
    print("System (kernel) CPU time within each best call, ms: mostly page faults on freshly")
    print("allocated memory; and the spread of xent's timed calls")
    print_table(
        ["shape", "dtype", *(f"{k} sys" for k in names), "xent median ms", "xent worst ms"],
        tables.sys,
    )
    if tables.memory:
        print()
        print("Peak RSS increase of one call (MiB above the inputs; fresh process each)")
        print_table(["shape", "dtype", "input MiB", *names], tables.memory)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.memory_child:
        (n, c), dtype = args.shapes[0], args.dtypes[0]
        memory_child(args.memory_child, n, c, dtype, args.seed)
        return 0

    for line in environment():
        print(line)
    print(f"timing    best of {args.repeat} after {args.warmup} warm-up, interleaved")
    print()
    impls = []
    for name in args.peers:
        loss = make_loss(name)
        if isinstance(loss, str):
            print(f"note: {name} {loss}; skipping it")
        else:
            impls.append(Impl(name, loss))
    tables = Tables([i.name for i in impls])
    for n, c in args.shapes:
        for dtype in args.dtypes:
            run_case(impls, n, c, dtype, args, tables)
    print_tables(tables)
    print()
    print("targets: xent/torch-2t <= 1.00 on every shape and dtype (issue 5)")
    print("sklearn: scipy.special.softmax + sklearn.metrics.log_loss (it takes probabilities)")
    if tables.failures:
        print("LOSS MISMATCH beyond tolerance (1e-6 rel float32, 1e-12 rel float64):")
        for f in tables.failures:
            print("  " + f)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
