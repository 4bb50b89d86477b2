"""The committee path, side by side with the engine's own time for the same draws, in one run.

Issue 16's targets, as ratios to the engine (``engine.run`` of the same draws, compiled, nothing
written):

- ``mcroi simulate`` of N default draws end to end (summary, tornados, report, files): within 2x;
- ``mcroi sensitivity`` with all four flavours and their intervals on that run: within 10x;
- the run folder's size: at most 100 MB for 10^6 draws (``--keep draws``, the default: headline
  outputs stored, the rest recomputed when read; ``--keep all`` shown beside it).

Every command runs twice, with the CLI's caches (compiled code, traced programs) in a folder of
the benchmark's own: empty the first time (a machine's first run), as the first pass left them
the second time (every later run).

Prints a Markdown table (paste it into docs/performance.md), then the CPU-seconds of the engine and
of a later simulate (its chart helper included): on a machine the engine keeps busy, simulate's
wall time cannot fall below its CPU-seconds over the cores, whatever overlaps.

    .venv/bin/python benchmarks/bench_committee.py [--draws 1000000]
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import statistics
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


def _cpu(who: int) -> float:
    r = resource.getrusage(who)
    return r.ru_utime + r.ru_stime


#: CPU-seconds (user + system) of each ``mcroi simulate`` timed, the chart helper's included.
SIMULATE_CPU: list[float] = []


def _cli(*args: str, env: dict[str, str] | None = None) -> float:
    """Seconds of one ``mcroi`` command in a fresh process (the user's experience, compile included)."""
    t, c = time.perf_counter(), _cpu(resource.RUSAGE_CHILDREN)
    subprocess.run([sys.executable, "-m", "mcroi", *args], check=True, capture_output=True, env=env)
    if args[0] == "simulate":  # the command waits for its helper, so the helper's CPU counts here
        SIMULATE_CPU.append(_cpu(resource.RUSAGE_CHILDREN) - c)
    return time.perf_counter() - t


def _size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def _commands(root: Path, n: int, env: dict[str, str], repeats: int = 1) -> dict[str, float]:
    """Each command of the committee path, in fresh processes, with the caches in ``env``;
    ``simulate`` ``repeats`` times (the median)."""
    run, full = root / "run", root / "full"
    times = []
    first = len(SIMULATE_CPU)
    for _ in range(repeats):
        shutil.rmtree(run, ignore_errors=True)
        times.append(_cli("simulate", "--draws", str(n), "--seed", "7", "--out", str(run), "-q", env=env))
    shutil.rmtree(full, ignore_errors=True)
    t = {"simulate": statistics.median(times), "size": _size(run), "cpu": statistics.median(SIMULATE_CPU[first:])}
    t["report"] = _cli("report", str(run), env=env)  # reads the run: recomputes its draws from the seed
    t["sensitivity"] = _cli("sensitivity", str(run), "--method", "swing,conditional,rank,sobol", env=env)
    t["full"] = _cli("simulate", "--draws", str(n), "--seed", "7", "--out", str(full), "-q", "--keep", "all", env=env)
    t["size_full"] = _size(full)
    return t


#: CPU-seconds (user + system, every thread) of each ``engine.run`` timed.
ENGINE_CPU: list[float] = []


def _engine(ps: priors.PriorSet, n: int, repeats: int) -> list[float]:
    """Seconds of ``engine.run`` of ``n`` draws, compiled, nothing written, ``repeats`` times."""
    times = []
    for _ in range(repeats):
        t, c = time.perf_counter(), _cpu(resource.RUSAGE_SELF)
        engine.run(ps, n, seed=7)
        times.append(time.perf_counter() - t)
        ENGINE_CPU.append(_cpu(resource.RUSAGE_SELF) - c)
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--draws", type=int, default=1_000_000)
    args = ap.parse_args()
    n = args.draws
    ps = priors.load(priors.default_path())
    engine.run(ps, min(n, 65_536), seed=7)  # compile in this process
    # This shared machine's speed drifts by a quarter from minute to minute: the engine is timed
    # before and after the commands, and later runs of simulate three times; medians are compared.
    engine_times = _engine(ps, n, 3)

    root = Path(tempfile.mkdtemp(prefix="mcroi-bench-"))
    try:
        # The caches the CLI keeps (compiled code, traced programs) in a folder of the benchmark's
        # own: empty for the first pass (a machine's first run), as the first pass left them for
        # the second (every later run).
        env = {**os.environ, "MCROI_CACHE_DIR": str(root / "cache")}
        cold = _commands(root, n, env)
        warm = _commands(root, n, env, repeats=3)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    engine_times += _engine(ps, n, 3)
    t_engine = statistics.median(engine_times)

    cpu = platform.processor() or platform.machine()
    print(f"{n:,} draws of the default scenario, {os.cpu_count()} CPU cores ({cpu}), float64")
    print(f"engine.run: median of {len(engine_times)}, from {min(engine_times):.1f} to {max(engine_times):.1f} s")
    print()
    print("| | first run (empty caches), s | x engine | later runs, s | x engine | target |")
    print("|---|---:|---:|---:|---:|---|")
    print(f"| engine.run (compiled, nothing written) | | | {t_engine:.1f} | 1.0 | |")
    rows = (
        ("simulate", "`mcroi simulate` end to end (fresh process; later runs: median of 3)", "<= 2"),
        ("sensitivity", "`mcroi sensitivity` (4 flavours, intervals; fresh process)", "<= 10"),
        ("report", "`mcroi report RUN` (recomputes the draws; fresh process)", ""),
        ("full", "`mcroi simulate --keep all` (every variable stored)", ""),
    )
    for key, label, target in rows:
        c, w = cold[key], warm[key]
        print(f"| {label} | {c:.1f} | {c / t_engine:.1f} | {w:.1f} | {w / t_engine:.1f} | {target} |")
    print()
    print(
        f"Run folder: {warm['size'] / 1e6:,.0f} MB (target <= 100 MB for 10^6 draws); "
        f"with --keep all {warm['size_full'] / 1e6:,.0f} MB"
    )
    # simulate is bound by CPU on a small machine: its CPU-seconds beside the engine's say how far
    # overlap alone could take it
    e_cpu, s_cpu = statistics.median(ENGINE_CPU), warm["cpu"]
    print(
        f"CPU-seconds (user + system, every thread, the chart helper's included): engine.run {e_cpu:.1f} "
        f"(median); `mcroi simulate`, later runs, {s_cpu:.1f} (median of 3) = {s_cpu / e_cpu:.1f}x"
    )


if __name__ == "__main__":
    main()
