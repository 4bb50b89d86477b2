"""mcroi vs its peers on the same model and the same inputs, side by side in one run.

    python benchmarks/run.py [--draws 262144] [--python-draws 300] [--repeat 3] [--rounds 2] [--out benchmarks/results]

Every figure comes from its own child process (so peak RSS is that method's alone): mcroi's
engine (sampling + model + IRR + outputs, float64 and float32, all local devices, one XLA host
device per core on CPU), a vectorized numpy implementation, a numba parallel loop on the
pre-sampled inputs, and a pure-Python per-draw loop on a subsample. Compile and JIT warm-up are
excluded from the timed part and reported separately. Each method's time is the best of
``--repeat`` timed runs in each of ``--rounds`` child processes, the rounds interleaved across
methods (as ``timeit`` reports the best run): a shared machine's slow spells then hit every method
alike instead of whichever ran during them. Prints a Markdown table and writes ``latest.json`` and ``latest.md`` to ``--out``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
MONTHS = 60
CHUNK = 65536


def _rss_mb() -> float:
    """Peak RSS of this process in MB (VmHWM; ru_maxrss would include the parent's before exec)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _best(fn, repeat: int) -> tuple[float, object]:
    """Best wall time of ``repeat`` calls of ``fn()``, and the last call's result."""
    times, out = [], None
    for _ in range(max(1, repeat)):
        out = None  # free the last result first: peak RSS is then one run's
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


def child(method: str, draws: int, data: Path, repeat: int = 1) -> dict:
    """Run one method in this (child) process and return its figures (best of ``repeat`` runs)."""
    if method.startswith("engine"):
        from mcroi.engine import configure_host_devices

        configure_host_devices()
        import jax

        jax.config.update("jax_enable_x64", True)
        from mcroi import engine, pipeline

        ps = pipeline.load_priors(None)
        precision = "float32" if "32" in method else "float64"
        keep = "summary" if "summary" in method else "draws"
        t = time.perf_counter()
        engine.run(ps, CHUNK, seed=1, chunk_size=CHUNK, precision=precision, keep=keep)  # compile
        warm = time.perf_counter() - t
        sec, r = _best(lambda: engine.run(ps, draws, seed=1, chunk_size=CHUNK, precision=precision, keep=keep), repeat)
        return {"seconds": sec, "warmup_s": warm, "draws": draws, "rss_mb": _rss_mb(), "devices": r.devices}
    import numpy as np

    sys.path.insert(0, str(HERE))
    import peers

    x = np.load(data / "inputs.npy")[:draws]
    knots = np.load(data / "knots.npy")
    if method == "numpy":
        sec, outs = _best(
            lambda: [peers.numpy_batch(x[i : i + CHUNK], knots, MONTHS)[0] for i in range(0, len(x), CHUNK)], repeat
        )
        out, warm = np.concatenate(outs), 0.0
    elif method == "numba":
        fn = peers.numba_parallel()
        if fn is None:
            return {"skipped": "numba is not installed (pip install -e '.[bench]')"}
        import numba

        t = time.perf_counter()
        fn(x[:64], knots, MONTHS)
        warm = time.perf_counter() - t
        sec, (out, _) = _best(lambda: fn(x, knots, MONTHS), repeat)
        extra = {"threads": numba.get_num_threads()}
    elif method == "python":
        sec, (out, _) = _best(lambda: peers.python_loop(x, knots, MONTHS), repeat)
        warm = 0.0
    else:
        raise SystemExit(f"unknown method {method}")
    ref = np.load(data / "npv.npy")[: len(x)]
    err = float(np.max(np.abs(out[:, 0] - ref) / np.maximum(np.abs(ref), 1.0)))
    res = {"seconds": sec, "warmup_s": warm, "draws": len(x), "rss_mb": _rss_mb(), "max_rel_npv_diff_vs_mcroi": err}
    if method == "numba":
        res.update(extra)
    return res


def _run_child(method: str, draws: int, data: Path, repeat: int) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", method, "--draws", str(draws), "--data", str(data)]
    cmd += ["--repeat", str(repeat)]
    p = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    if p.returncode != 0:
        return {"error": p.stderr.strip().splitlines()[-1] if p.stderr.strip() else f"exit {p.returncode}"}
    return json.loads(p.stdout.strip().splitlines()[-1])


def _startup(draws: int) -> dict:
    """Wall time of ``mcroi simulate --draws N`` with a cold and then a warm compilation cache."""
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "MCROI_CACHE_DIR": str(Path(tmp) / "cache")}
        for label in ("cold_cache_s", "warm_cache_s"):
            run_dir = Path(tmp) / label
            t = time.perf_counter()
            p = subprocess.run(
                [sys.executable, "-m", "mcroi", "simulate", "--draws", str(draws), "-q", "--out", str(run_dir)],
                capture_output=True,
                text=True,
                env=env,
                cwd=tmp,
            )
            out[label] = time.perf_counter() - t if p.returncode == 0 else None
    return out


def _prepare(data: Path, draws: int) -> None:
    """Sample the shared inputs (and mcroi's NPV, to check the peers) once."""
    import jax
    import numpy as np

    jax.config.update("jax_enable_x64", True)
    sys.path.insert(0, str(HERE))
    import peers

    from mcroi import engine, pipeline

    ps = pipeline.load_priors(None)
    r = engine.run(ps, draws, seed=1, chunk_size=CHUNK, keep="draws")
    np.save(data / "inputs.npy", peers.columns(r.names, r.inputs))
    np.save(data / "knots.npy", np.asarray(ps.curve, dtype=float))
    np.save(data / "npv.npy", r.outputs["npv_usd"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--draws", type=int, default=4 * CHUNK)
    ap.add_argument("--python-draws", type=int, default=300)
    ap.add_argument("--repeat", type=int, default=3, help="timed runs per method and round; the best is reported")
    ap.add_argument(
        "--rounds", type=int, default=2, help="interleaved rounds over all methods, each in a fresh process"
    )
    ap.add_argument("--out", type=Path, default=HERE / "results")
    ap.add_argument("--child", default=None)
    ap.add_argument("--data", type=Path, default=None)
    ap.add_argument("--skip-startup", action="store_true")
    a = ap.parse_args()
    if a.child == "prepare":
        _prepare(a.data, a.draws)
        return
    if a.child:
        print(json.dumps(child(a.child, a.draws, a.data, a.repeat)))
        return

    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        subprocess.run(  # in a child, so this process stays small
            [
                sys.executable,
                str(Path(__file__).resolve()),
                "--child",
                "prepare",
                "--draws",
                str(a.draws),
                "--data",
                str(data),
            ],
            check=True,
            cwd=ROOT,
        )
        plan = [
            ("engine f64", "engine64", a.draws),
            ("engine f32", "engine32", a.draws),
            ("engine f64 --keep summary", "engine64summary", a.draws),
            ("numba parallel loop", "numba", a.draws),
            ("numpy vectorized", "numpy", a.draws),
            ("pure Python loop", "python", a.python_draws),
        ]
        for rnd in range(max(1, a.rounds)):
            for label, method, n in plan:
                print(f"round {rnd + 1}: running {label} ({n:,} draws) ...", file=sys.stderr, flush=True)
                r = _run_child(method, n, data, a.repeat)
                old = rows.get(label)
                if old is None or "seconds" not in old:
                    rows[label] = r
                elif "seconds" in r:  # best time of the rounds; the largest peak RSS
                    r["rss_mb"] = max(r["rss_mb"], old["rss_mb"])
                    r["warmup_s"] = min(r["warmup_s"], old["warmup_s"])
                    if r["seconds"] > old["seconds"]:
                        r["seconds"] = old["seconds"]
                    rows[label] = r
    base = rows["engine f64"].get("seconds")
    for r in rows.values():
        if "seconds" in r:
            r["scenario_months_per_s"] = r["draws"] * MONTHS / r["seconds"]
    ref = rows["engine f64"].get("scenario_months_per_s")
    lines = [
        "| method | draws | seconds | scenario-months/s | engine f64 is x faster | peak RSS (MB) | warm-up (s) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for label, r in rows.items():
        if "seconds" not in r:
            lines.append(f"| {label} | | | {r.get('skipped') or r.get('error')} | | | |")
            continue
        ratio = ref / r["scenario_months_per_s"] if ref else float("nan")
        lines.append(
            f"| {label} | {r['draws']:,} | {r['seconds']:.2f} | {r['scenario_months_per_s']:,.0f} | {ratio:,.2f} | {r['rss_mb']:,.0f} | {r['warmup_s']:.1f} |"
        )
    startup = {} if a.skip_startup else _startup(10_000)
    import jax

    meta = {
        "utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": platform.platform(),
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg(),
        "python": platform.python_version(),
        "jax": jax.__version__,
        "months": MONTHS,
        "chunk": CHUNK,
        "repeat": a.repeat,
        "rounds": a.rounds,
        "engine_f64_seconds": base,
    }
    text = "\n".join(lines)
    if startup:
        text += "\n\n`mcroi simulate --draws 10000` wall time: " + ", ".join(
            f"{k.replace('_s', '')} {v:.1f} s" if v is not None else f"{k}: failed" for k, v in startup.items()
        )
    text += f"\n\n{meta['utc']}, {meta['machine']}, {meta['cpus']} CPUs, load average {meta['load_average'][0]:.1f}, jax {meta['jax']}, best of {a.repeat} timed runs x {a.rounds} rounds\n"
    print(text)
    a.out.mkdir(parents=True, exist_ok=True)
    (a.out / "latest.json").write_text(json.dumps({"meta": meta, "rows": rows, "startup": startup}, indent=2) + "\n")
    (a.out / "latest.md").write_text(text)


if __name__ == "__main__":
    main()
