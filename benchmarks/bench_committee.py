"""The committee path, side by side with the engine's own time for the same draws, in one run.

Issue 16's targets, as ratios to the engine (``engine.run`` of the same draws, compiled, nothing
written):

- ``mcroi simulate`` of N default draws end to end (summary, tornados, report, files): within 2x;
- ``mcroi sensitivity`` with all four flavours and their intervals on that run: within 10x;
- the run folder's size: at most 100 MB for 10^6 draws (``--keep draws``, the default: headline
  outputs stored, the rest recomputed when read; ``--keep all`` shown beside it).

Prints a Markdown table (paste it into docs/performance.md).

    .venv/bin/python benchmarks/bench_committee.py [--draws 1000000]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from mcroi.engine import configure_host_devices

configure_host_devices()  # one XLA host device per core, as the CLI does (before JAX starts)

import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)

from mcroi import engine, priors  # noqa: E402


def _cli(*args: str) -> float:
    """Seconds of one ``mcroi`` command in a fresh process (the user's experience, compile included)."""
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "mcroi", *args], check=True, capture_output=True)
    return time.perf_counter() - t


def _size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--draws", type=int, default=1_000_000)
    args = ap.parse_args()
    n = args.draws
    ps = priors.load(priors.default_path())
    engine.run(ps, min(n, 65_536), seed=7)  # compile in this process
    t = time.perf_counter()
    engine.run(ps, n, seed=7)
    t_engine = time.perf_counter() - t

    root = Path(tempfile.mkdtemp(prefix="mcroi-bench-"))
    try:
        run = root / "run"
        t_sim = _cli("simulate", "--draws", str(n), "--seed", "7", "--out", str(run), "-q")
        size = _size(run)
        t_report = _cli("report", str(run))  # reads the run: recomputes its draws from the seed
        t_sens = _cli("sensitivity", str(run), "--method", "swing,conditional,rank,sobol")
        full = root / "full"
        t_full = _cli("simulate", "--draws", str(n), "--seed", "7", "--out", str(full), "-q", "--keep", "all")
        size_full = _size(full)
    finally:
        shutil.rmtree(root, ignore_errors=True)

    cpu = platform.processor() or platform.machine()
    print(f"{n:,} draws of the default scenario, {os.cpu_count()} CPU cores ({cpu}), float64")
    print()
    print("| | seconds | x engine | target |")
    print("|---|---:|---:|---|")
    print(f"| engine.run (compiled, nothing written) | {t_engine:.1f} | 1.0 | |")
    print(f"| `mcroi simulate` end to end (fresh process) | {t_sim:.1f} | {t_sim / t_engine:.1f} | <= 2 |")
    print(
        f"| `mcroi sensitivity` (4 flavours, intervals; fresh process) | {t_sens:.1f} | {t_sens / t_engine:.1f} | <= 10 |"
    )
    print(
        f"| `mcroi report RUN` (recomputes the draws; fresh process) | {t_report:.1f} | {t_report / t_engine:.1f} | |"
    )
    print(f"| `mcroi simulate --keep all` (every variable stored) | {t_full:.1f} | {t_full / t_engine:.1f} | |")
    print()
    print(
        f"Run folder: {size / 1e6:,.0f} MB (target <= 100 MB for 10^6 draws); with --keep all {size_full / 1e6:,.0f} MB"
    )


if __name__ == "__main__":
    main()
