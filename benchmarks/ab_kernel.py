"""A/B two versions of ``xentcli/core/kernel.py`` in one process, interleaved.

On a noisy machine two runs of the same code differ by more than most changes; loading
both versions into one process and alternating their calls (the order flipped every
round) lets both see the same load. Prints, per function (``nll_totals``,
``logits_nll``), the best and the median time of each version, the median ratio B/A,
and in how many rounds B was the faster. Both versions must give bit-identical results
(checked first). The rest of the package (``sums``, ``validate``, ...) is the checkout's.

Usage, from the root of a checkout (A is typically ``git show REV:xentcli/core/kernel.py``
saved to a file)::

    python benchmarks/ab_kernel.py old_kernel.py xentcli/core/kernel.py --shape 1e6x10
    python benchmarks/ab_kernel.py A.py B.py --shape 2e5x100 --dtype float64 --rounds 20
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import statistics
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def load(path: str, name: str) -> ModuleType:
    """``path`` as a module named ``name`` (its imports resolve to the checkout)."""
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        sys.exit(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("a", help="kernel.py of version A")
    parser.add_argument("b", help="kernel.py of version B")
    parser.add_argument("--shape", default="1e6x10", help="N x C (default 1e6x10)")
    parser.add_argument("--dtype", default="float32")
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--pause", type=float, default=0.02, help="seconds before each call")
    parser.add_argument(
        "--rtol",
        type=float,
        default=0.0,
        help="accept results that differ by up to this relative tolerance (default 0: "
        "bit-identical); the largest difference is printed",
    )
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT))
    import xentcli.core.kernel  # noqa: F401  (the package the versions import from)

    versions = {"A": load(args.a, "kernel_a"), "B": load(args.b, "kernel_b")}
    n, c = (int(float(v)) for v in args.shape.split("x"))
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((n, c)) * 3).astype(args.dtype)
    y = rng.integers(0, c, n)

    def totals(k: Any) -> Any:
        return np.array(k.nll_totals(x, y)[0].pair()[:1])

    def per_sample(k: Any) -> Any:
        return k.logits_nll(x, y)[0]

    for name, call in (("nll_totals", totals), ("logits_nll", per_sample)):
        ra, rb = call(versions["A"]), call(versions["B"])
        if not np.array_equal(ra, rb):
            diff = float(np.max(np.abs(rb - ra) / np.maximum(np.abs(ra), 1e-300)))
            if diff > args.rtol:
                sys.exit(f"{name}: A and B differ by up to {diff:.2e} relative")
            print(f"{name}: A and B differ by up to {diff:.2e} relative")
        times: dict[str, list[float]] = {"A": [], "B": []}
        for r in range(args.rounds):
            for key in ("A", "B") if r % 2 else ("B", "A"):
                gc.collect()
                time.sleep(args.pause)
                start = time.perf_counter()
                call(versions[key])
                times[key].append((time.perf_counter() - start) * 1e3)
        a, b = times["A"], times["B"]
        wins = sum(tb < ta for ta, tb in zip(a, b, strict=True))
        print(
            f"{args.shape} {args.dtype} {name}: A best {min(a):.1f} median "
            f"{statistics.median(a):.1f} ms | B best {min(b):.1f} median "
            f"{statistics.median(b):.1f} ms | B/A median "
            f"{statistics.median(b) / statistics.median(a):.3f}, B faster in {wins}/{args.rounds}"
        )


if __name__ == "__main__":
    main()
