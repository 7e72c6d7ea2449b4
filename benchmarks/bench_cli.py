"""End-to-end benchmark of the ``xent`` command against CSV/NPY readers, in one run.

Generates (into a temporary directory, or ``--dir``) a numeric CSV of N rows x C columns
(default 1,000,000 x 10, ~196 MB: the issue's users evaluate millions of samples; at
200,000 x 10, ~39 MB, start-up and imports are ~40% of xent's run, so its end-to-end
rate says more about start-up than parsing) of ``np.random.randn`` values written with
``repr`` (shortest round-trip float64) precision, a one-column labels file, and the same
data as ``.npy``.
Then, in the same run, it times as subprocesses (best of ``--repeat``, wall clock, so
interpreter start-up and imports are included for every contender):

* ``xent loss logits.csv -l labels.csv -s -f json`` and the same on the ``.npy`` files;
* parse-only peers, each ``PEER_PYTHON -c '...'`` (skipped, with a note, when the
  module is not importable by ``--peer-python``): the ``csv`` module (``csv.reader``
  and ``float`` per field, into lists), ``numpy.loadtxt``,
  ``pandas.read_csv`` (C engine), ``polars.read_csv``, ``pyarrow.csv.read_csv`` and,
  for the ``.npy``, ``numpy.load``. Each peer also reports its in-process parse time
  (excluding start-up and import), shown in the "parse" columns;
* start-up: ``xent --version`` and ``xent loss`` on a 10-row CSV (the lean path, and
  through Typer with one more option) against
  ``python -c "import numpy"`` (best of ``--startup-repeat``, default 10), with the
  interpreter that runs ``xent``.

Throughput is in MB/s (10^6 bytes of the logits file per second). Peak RSS of each
command is its ``ru_maxrss`` from ``os.wait4`` in a small fork launcher: one extra run
per command, not a timed one. (Linux carries the RSS high-water mark across execve and
Python starts children with vfork, so ``getrusage(RUSAGE_CHILDREN)`` read here would
report this process's own peak; a fork()ed grandchild starts from the launcher's.)

Usage::

    python benchmarks/bench_cli.py                       # 1M x 10, ~196 MB of CSV
    python benchmarks/bench_cli.py --rows 200000         # ~39 MB: start-up weighs more
    python benchmarks/bench_cli.py --quick               # 20k rows, a smoke test
    python benchmarks/bench_cli.py --peer-python /path/to/venv-with-pandas/bin/python
    python benchmarks/bench_cli.py --rows 10000000 --dir /big/disk  # ~2 GB CSV
    python benchmarks/bench_cli.py --xent "python -m xentcli"
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MB = 1e6
MIB = 2**20

# Runs argv[2:] in a fork()ed grandchild and writes its ru_maxrss (from wait4) to argv[1].
FORK_LAUNCHER = """\
import os, sys
pid = os.fork()
if pid == 0:
    try:
        os.execvp(sys.argv[2], sys.argv[2:])
    finally:
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as f:
    f.write(str(usage.ru_maxrss))
sys.exit(os.waitstatus_to_exitcode(status))
"""

# Parse-only peers: module to probe, then the statements (PATH is the file to read).
CSV_PEERS: dict[str, tuple[str, str]] = {
    "csv module": (
        "csv",
        "import csv\n"
        "with open(PATH, newline='') as f:\n"
        "    rows = [[float(v) for v in r] for r in csv.reader(f)]",
    ),
    "numpy.loadtxt": ("numpy", "import numpy\nnumpy.loadtxt(PATH, delimiter=',')"),
    "pandas.read_csv (c)": (
        "pandas",
        "import pandas\npandas.read_csv(PATH, header=None, engine='c')",
    ),
    "polars.read_csv": ("polars", "import polars\npolars.read_csv(PATH, has_header=False)"),
    "pyarrow.csv.read_csv": (
        "pyarrow.csv",
        "import pyarrow.csv as pc\n"
        "pc.read_csv(PATH, read_options=pc.ReadOptions(autogenerate_column_names=True))",
    ),
}
NPY_PEERS: dict[str, tuple[str, str]] = {
    "numpy.load": ("numpy", "import numpy\nnumpy.load(PATH)"),
}
# The snippet imports the module outside the timed region, then times only the parse.
PEER_TEMPLATE = """\
import time
{imports}
PATH = {path!r}
t0 = time.perf_counter()
{parse}
print(time.perf_counter() - t0)
"""


@dataclass
class Result:
    """One contender: best wall time, best in-process parse time, peak RSS."""

    name: str
    kind: str  # "csv" or "npy": the input file it reads
    nbytes: int
    wall: float | None = None
    parse: float | None = None
    rss_kib: int | None = None
    note: str = ""


# --------------------------------------------------------------------------- running


def run(cmd: Sequence[str]) -> tuple[float, str]:
    """Run ``cmd``; return (wall seconds, stdout). Raise on a non-zero exit."""
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"{shlex.join(cmd)} exited {proc.returncode}: {proc.stderr[-500:]}")
    return seconds, proc.stdout


def best_of(cmd: Sequence[str], repeat: int) -> tuple[float, list[str]]:
    """Best wall time of ``repeat`` runs (after one untimed warm-up: page cache, .pyc)."""
    run(cmd)
    times, outs = [], []
    for _ in range(repeat):
        t, out = run(cmd)
        times.append(t)
        outs.append(out)
    return min(times), outs


def peak_rss_kib(cmd: Sequence[str], workdir: Path) -> int | None:
    """ru_maxrss (KiB) of one run of ``cmd``, through the fork launcher."""
    out = workdir / "maxrss.txt"
    proc = subprocess.run(
        [sys.executable, "-c", FORK_LAUNCHER, str(out), *cmd],
        capture_output=True,
        check=False,
    )
    if proc.returncode != 0 or not out.exists():
        return None
    value = int(out.read_text())
    return value // 1024 if sys.platform == "darwin" else value  # bytes on macOS


def importable(python: str, module: str) -> bool:
    proc = subprocess.run([python, "-c", f"import {module}"], capture_output=True, check=False)
    return proc.returncode == 0


# --------------------------------------------------------------------------- data


def write_data(workdir: Path, rows: int, cols: int, seed: int) -> tuple[dict[str, Path], float]:
    """Write the CSV/NPY inputs; return their paths and the reference loss (float64)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((rows, cols))
    y = rng.integers(0, cols, size=rows, dtype=np.int64)
    paths = {
        "csv": workdir / "logits.csv",
        "labels_csv": workdir / "labels.csv",
        "npy": workdir / "logits.npy",
        "labels_npy": workdir / "labels.npy",
        "small_csv": workdir / "small.csv",
        "small_labels": workdir / "small_labels.csv",
    }
    chunk = 100_000
    with open(paths["csv"], "w") as f:
        for start in range(0, rows, chunk):
            block = x[start : start + chunk].tolist()
            f.write("".join(",".join(map(repr, r)) + "\n" for r in block))
    paths["labels_csv"].write_text("".join(f"{v}\n" for v in y.tolist()))
    np.save(paths["npy"], x)
    np.save(paths["labels_npy"], y)
    paths["small_csv"].write_text("".join(",".join(map(repr, r)) + "\n" for r in x[:10].tolist()))
    paths["small_labels"].write_text("".join(f"{v}\n" for v in y[:10].tolist()))
    shifted = x - x.max(axis=1, keepdims=True)
    logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return paths, float(-np.take_along_axis(logp, y[:, None], axis=1).mean())


# --------------------------------------------------------------------------- helpers


def default_xent() -> list[str]:
    """``xent`` next to this interpreter, else on PATH, else ``python -m xentcli``."""
    beside = Path(sys.executable).parent / "xent"
    if beside.exists():
        return [str(beside)]
    found = shutil.which("xent")
    return [found] if found else [sys.executable, "-m", "xentcli"]


def interpreter_of(cmd: Sequence[str]) -> str:
    """The Python that runs ``cmd``: its script's #! line, or cmd[0] if it is a Python."""
    first = Path(cmd[0])
    if "python" in first.name:
        return str(first)
    try:
        with open(first, "rb") as f:
            line = f.readline().decode(errors="replace")
    except OSError:
        return sys.executable
    if line.startswith("#!"):
        parts = line[2:].split()
        if parts and Path(parts[0]).exists() and "python" in Path(parts[0]).name:
            return parts[0]
    return sys.executable


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{cpu}, {os.cpu_count()} CPUs, {platform.system()} {platform.release()}"


def version_of(python: str, module: str) -> str:
    proc = subprocess.run(
        [python, "-c", f"import {module} as m; print(m.__version__)"],
        capture_output=True,
        text=True,
        check=False,
    )
    return proc.stdout.strip() if proc.returncode == 0 else "not importable"


def fmt(value: float | None, spec: str) -> str:
    return "n/a" if value is None or math.isnan(value) else format(value, spec)


def mib(kib: int | None) -> float | None:
    return None if kib is None else kib / 1024


def ratio(num: float | None, den: float | None) -> str:
    return "n/a" if num is None or not den else f"{num / den:.2f}"


def print_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    print(" | ".join(h.rjust(w) for h, w in zip(headers, widths, strict=True)))
    print("-+-".join("-" * w for w in widths))
    for r in rows:
        print(" | ".join(v.rjust(w) for v, w in zip(r, widths, strict=True)))


# --------------------------------------------------------------------------- main


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--rows", type=int, default=1_000_000, help="N samples (default 1000000)")
    p.add_argument("--cols", type=int, default=10, help="C classes (default 10)")
    p.add_argument("--repeat", type=int, default=5, help="timed runs per command (best kept)")
    p.add_argument("--startup-repeat", type=int, default=10, help="timed start-up runs")
    p.add_argument("--quick", action="store_true", help="20000 rows, 3 repeats: a smoke test")
    p.add_argument("--dir", type=Path, help="write the inputs here and keep them")
    p.add_argument("--xent", help="the xent command (default: xent beside this Python)")
    p.add_argument("--peer-python", default=sys.executable, help="Python for the peers")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    if args.quick:
        args.rows, args.repeat, args.startup_repeat = 20_000, 3, 5
    if args.rows < 10 or args.cols < 2 or args.repeat < 1 or args.startup_repeat < 1:
        p.error("need --rows >= 10, --cols >= 2, --repeat >= 1, --startup-repeat >= 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    xent = shlex.split(args.xent) if args.xent else default_xent()
    python = interpreter_of(xent)
    peer_python = args.peer_python

    print(f"date      {dt.datetime.now(dt.UTC).isoformat(timespec='seconds')}")
    print(f"machine   {machine()}")
    print(f"xent      {shlex.join(xent)}  (Python {python})")
    try:
        print(f"          {run([*xent, '--version'])[1].strip()}")
    except RuntimeError as exc:
        print(f"error: cannot run xent: {exc}\n(pass the command with --xent /path/to/xent)")
        return 2
    print(
        f"peers     {peer_python}: numpy {version_of(peer_python, 'numpy')}, "
        f"pandas {version_of(peer_python, 'pandas')}, polars {version_of(peer_python, 'polars')}, "
        f"pyarrow {version_of(peer_python, 'pyarrow')}"
    )
    if os.environ.get("PYTHONDONTWRITEBYTECODE"):
        print(
            "note: PYTHONDONTWRITEBYTECODE is set, so modules without a .pyc (e.g. an editable"
            " install) are compiled at every start; `python -m compileall` them first"
        )
    print(f"timing    best of {args.repeat} (start-up: {args.startup_repeat}) after 1 warm-up")

    with tempfile.TemporaryDirectory(prefix="xent-bench-") as tmp:
        workdir = args.dir if args.dir is not None else Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        paths, ref_loss = write_data(workdir, args.rows, args.cols, args.seed)
        csv_bytes, npy_bytes = paths["csv"].stat().st_size, paths["npy"].stat().st_size
        print(
            f"data      {args.rows} x {args.cols}: CSV {csv_bytes / MB:.1f} MB, "
            f"NPY {npy_bytes / MB:.1f} MB in {workdir} "
            f"(written in {time.perf_counter() - t0:.1f} s)"
        )
        print()
        failures: list[str] = []

        # ---- xent end to end
        results: list[Result] = []
        for kind, labels in (("csv", "labels_csv"), ("npy", "labels_npy")):
            cmd = [*xent, "loss", str(paths[kind]), "-l", str(paths[labels]), "-s", "-f", "json"]
            print(f"running {shlex.join(cmd)} ...", flush=True)
            res = Result(f"xent loss ({kind})", kind, paths[kind].stat().st_size)
            res.wall, outs = best_of(cmd, args.repeat)
            res.rss_kib = peak_rss_kib(cmd, workdir)
            loss = json.loads(outs[-1])["summary"]["loss"]
            rel = abs(loss - ref_loss) / abs(ref_loss)
            res.note = f"loss rel. diff {rel:.1e}"
            if rel > 1e-12:
                failures.append(f"{res.name}: loss {loss!r} vs reference {ref_loss!r}")
            results.append(res)

        # ---- parse-only peers
        for kind, peers in (("csv", CSV_PEERS), ("npy", NPY_PEERS)):
            path = paths[kind]
            for name, (module, code) in peers.items():
                if not importable(peer_python, module):
                    print(f"note: {module} not importable by {peer_python}; skipping {name}")
                    continue
                imports, parse = code.split("\n", 1)
                snippet = PEER_TEMPLATE.format(imports=imports, path=str(path), parse=parse)
                cmd = [peer_python, "-c", snippet]
                print(f"running {name} ...", flush=True)
                res = Result(name, kind, path.stat().st_size)
                res.wall, outs = best_of(cmd, args.repeat)
                res.parse = min(float(o.strip().splitlines()[-1]) for o in outs)
                res.rss_kib = peak_rss_kib(cmd, workdir)
                results.append(res)

        # ---- start-up
        print("running start-up ...", flush=True)
        small_run = [
            *xent,
            "loss",
            str(paths["small_csv"]),
            "-l",
            str(paths["small_labels"]),
            "-s",
            "-f",
            "json",
        ]
        startup_cmds = {
            'python -c "pass"': [python, "-c", "pass"],
            'python -c "import numpy"': [python, "-c", "import numpy"],
            "xent --version": [*xent, "--version"],
            "xent loss (10 rows)": small_run,
            # Any option the lean path does not read (here a default) goes through Typer.
            "xent loss (10 rows, Typer)": [*small_run, "--units", "nats"],
        }
        startup = {k: best_of(c, args.startup_repeat)[0] for k, c in startup_cmds.items()}
        startup_rss = {k: peak_rss_kib(c, workdir) for k, c in startup_cmds.items()}

    xent_wall = {r.kind: r.wall for r in results if r.name.startswith("xent")}
    xent_csv = xent_wall["csv"]
    print()
    print("Throughput (MB = 10^6 bytes of the logits file; wall = whole subprocess, best of k;")
    print("parse = the peer's in-process parse time, without start-up and import)")
    rows = []
    for r in results:
        rows.append(
            [
                r.name,
                f"{r.nbytes / MB:.1f}",
                fmt(r.wall, ".3f"),
                fmt(r.nbytes / MB / r.wall if r.wall else None, ".1f"),
                fmt(r.parse, ".3f"),
                fmt(r.nbytes / MB / r.parse if r.parse else None, ".1f"),
                fmt(mib(r.rss_kib), ".0f"),
                ratio(xent_wall[r.kind], r.wall),
                r.note,
            ]
        )
    print_table(
        [
            "command",
            "MB",
            "wall s",
            "wall MB/s",
            "parse s",
            "parse MB/s",
            "peak RSS MiB",
            "xent/this (wall)",
            "check",
        ],
        rows,
    )
    print()
    print("Start-up (best of k, wall; ratio to python -c 'import numpy')")
    base = startup['python -c "import numpy"']
    print_table(
        ["command", "ms", "ratio", "peak RSS MiB"],
        [
            [
                k,
                f"{v * 1e3:.1f}",
                f"{v / base:.2f}",
                fmt(mib(startup_rss[k]), ".0f"),
            ]
            for k, v in startup.items()
        ],
    )
    print()
    csv_rate = results[0].nbytes / MB / xent_csv if xent_csv else float("nan")
    print("targets (issue 5):")
    print(f"  CSV end to end >= 100 MB/s (aim 400): {csv_rate:.1f} MB/s")
    print(
        f"  start-up <= 1.5x import numpy: --version {startup['xent --version'] / base:.2f}x, "
        f"10-row loss {startup['xent loss (10 rows)'] / base:.2f}x"
    )
    rss = results[0].rss_kib
    print(
        f"  peak RSS < 300 MB on a 2 GB CSV / 10 GB npy (streaming): "
        f"{fmt(mib(rss), '.0f')} MiB on this {csv_bytes / MB:.0f} MB CSV"
        + ("" if csv_bytes >= 2e9 else " (use --rows to scale up)")
    )
    if failures:
        print("LOSS MISMATCH:")
        for f in failures:
            print("  " + f)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
