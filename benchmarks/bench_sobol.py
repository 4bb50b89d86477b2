"""Sobol' indices of NPV at 20 inputs, N = 2^16: SALib's pipeline vs mcroi's, in one run.

SALib: ``sample.sobol.sample`` (Saltelli design, no second order) -> the contract's NPV evaluated
with vectorized NumPy -> ``analyze.sobol.analyze`` with 100 bootstrap resamples.
mcroi: ``mcroi.analysis.sobol`` (8 independently scrambled Sobol' designs, the jitted engine, a
t-interval over them). Both models read the same 20 uniform inputs; the two NPV implementations are checked
against each other first. Prints a Markdown block (paste it into docs/performance.md).

    .venv/bin/pip install SALib   # the `bench` extra
    .venv/bin/python benchmarks/bench_sobol.py [--log2n 16]
"""

from __future__ import annotations

import argparse
import os
import platform
import time

from mcroi.engine import configure_host_devices

configure_host_devices()  # one XLA host device per core, as the CLI does (before JAX starts)

import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

from mcroi import analysis as sa  # noqa: E402
from mcroi import engine as model  # noqa: E402
from mcroi.priors import Dist  # noqa: E402

HOURS = 730.0
H = 60
GPUS = 576.0
#: 20 uncertain inputs, uniform on [low, high] (the same bounds for SALib and mcroi)
BOUNDS = {
    "capex.usd_per_gpu": (55_000, 80_000),
    "throughput.output_tokens_per_s_per_gpu": (800, 3000),
    "workload.input_output_ratio": (0.5, 2.0),
    "optimization.max_gain": (1.0, 3.0),
    "optimization.half_life_months": (3, 12),
    "utilization.steady_state": (0.3, 0.7),
    "utilization.ramp_months": (1, 6),
    "price.usd_per_mtok_output": (2.0, 6.0),
    "price.usd_per_mtok_input": (0.5, 2.0),
    "price.annual_decline": (0.2, 0.9),
    "power.kw_per_gpu": (1.6, 2.1),
    "power.idle_fraction": (0.2, 0.4),
    "power.pue": (1.1, 1.58),
    "power.usd_per_kwh": (0.05, 0.12),
    "opex.usd_per_gpu_month": (350, 700),
    "opex.maintenance_pct_per_year": (0.01, 0.04),
    "finance.discount_rate": (0.08, 0.12),
    "finance.tax_rate": (0.0, 0.25),
    "finance.residual_value_pct": (0.0, 0.15),
    "finance.useful_life_months": (36, 72),
}
NAMES = list(BOUNDS)
CONSTANTS = {"cluster.gpus": GPUS, "opex.usd_per_gpu_hour": 0.0}


def priors():  # type: ignore[no-untyped-def]
    inputs = {k: Dist("constant", (v,)) for k, v in CONSTANTS.items()}
    inputs.update({k: Dist("uniform", (float(lo), float(hi))) for k, (lo, hi) in BOUNDS.items()})
    return sa.make_priors(inputs, name="bench-20")


def npv_numpy(X: np.ndarray, chunk: int = 65536) -> np.ndarray:
    """The contract's NPV for rows of X (n, 20) in NumPy (SALib's model)."""
    out = np.empty(X.shape[0])
    m = np.arange(1, H + 1, dtype=float)[None]
    for s in range(0, X.shape[0], chunk):
        x = {k: X[s : s + chunk, i : i + 1] for i, k in enumerate(NAMES)}
        gpus = GPUS
        L = np.floor(np.minimum(x["finance.useful_life_months"], H))
        C = gpus * x["capex.usd_per_gpu"]
        g = 1 + (x["optimization.max_gain"] - 1) * (1 - 2 ** (-m / x["optimization.half_life_months"]))
        ramp = x["utilization.ramp_months"]
        u = x["utilization.steady_state"] * np.minimum(1.0, m / ramp)
        K = gpus * x["throughput.output_tokens_per_s_per_gpu"] * g * 3600 * HOURS * u
        P = (x["price.usd_per_mtok_output"] + x["workload.input_output_ratio"] * x["price.usd_per_mtok_input"]) * (
            1 - x["price.annual_decline"]
        ) ** ((m - 1) / 12)
        R = K / 1e6 * P
        idle = x["power.idle_fraction"]
        E = gpus * x["power.kw_per_gpu"] * (idle + (1 - idle) * u) * x["power.pue"] * HOURS * x["power.usd_per_kwh"]
        O = gpus * x["opex.usd_per_gpu_month"] + C * x["opex.maintenance_pct_per_year"] / 12  # noqa: E741
        resid = x["finance.residual_value_pct"]
        D = C * (1 - resid) / np.maximum(L, 1.0)
        T = x["finance.tax_rate"] * (R - E - O - D)
        CF = R - E - O - T + np.where(m == L, resid * C, 0.0)
        CF = np.where(m <= L, CF, 0.0)
        disc = (1 + x["finance.discount_rate"]) ** (-m / 12)
        out[s : s + chunk] = (CF * disc).sum(axis=1) - C[:, 0]
    return out


def npv_mcroi(d):  # type: ignore[no-untyped-def]
    """NPV of one draw through the contract's own monthly equations (mcroi.engine.monthly)."""
    _, mo = model.monthly(d, H)
    return jnp.sum(mo.cashflow_usd * model.discount_factors(d["finance.discount_rate"], H))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--log2n", type=int, default=16)
    ap.add_argument("--resamples", type=int, default=100)
    args = ap.parse_args()
    n = 2**args.log2n
    ps = priors()

    from SALib.analyze import sobol as salib_analyze
    from SALib.sample import sobol as salib_sample

    problem = {"num_vars": len(NAMES), "names": NAMES, "bounds": [list(map(float, BOUNDS[k])) for k in NAMES]}

    # the two NPV implementations agree (same contract)
    rng = np.random.default_rng(0)
    u = rng.random((len(NAMES), 256))
    y_jax = sa.evaluate_design(npv_mcroi, ps, u, NAMES)
    X = np.stack([lo + (hi - lo) * u[i] for i, (lo, hi) in enumerate(BOUNDS.values())], axis=1)
    np.testing.assert_allclose(npv_numpy(X), y_jax, rtol=1e-9, atol=1e-3)

    t0 = time.perf_counter()
    Xs = salib_sample.sample(problem, n, calc_second_order=False, seed=1)
    t1 = time.perf_counter()
    Y = npv_numpy(Xs)
    t2 = time.perf_counter()
    Si = salib_analyze.analyze(problem, Y, calc_second_order=False, num_resamples=args.resamples, seed=1)
    t3 = time.perf_counter()
    salib_s = {"sample": t1 - t0, "evaluate": t2 - t1, "analyze": t3 - t2, "total": t3 - t0}

    t0 = time.perf_counter()
    r = sa.sobol(npv_mcroi, ps, n, key=1, n_boot=args.resamples)
    cold = time.perf_counter() - t0
    t0 = time.perf_counter()
    r = sa.sobol(npv_mcroi, ps, n, key=2, n_boot=args.resamples)
    warm = time.perf_counter() - t0

    # agreement: each index difference against the two 95 % half-widths combined
    rows = []
    worst = 0.0
    for m, key, conf in (("S1", "s1", "S1_conf"), ("ST", "st", "ST_conf")):
        ours = r.measures[key]
        half = (r.intervals[key][:, 1] - r.intervals[key][:, 0]) / 2
        z = np.abs(ours - Si[m]) / np.hypot(half, Si[conf])
        worst = max(worst, float(z.max()))
        rows.append((m, float(np.abs(ours - Si[m]).max()), float(z.max()), int((z <= 1).sum())))
    top = np.argsort(-r.measures["st"])[:5]

    print("## Sobol vs SALib\n")
    print(
        f"`benchmarks/bench_sobol.py`, {platform.machine()} CPU ({os.cpu_count()} logical cores, shared), "
        f"jax {jax.__version__} (CPU), SALib {__import__('importlib.metadata').metadata.version('SALib')}, NumPy {np.__version__}.\n"
    )
    print(
        f"Sobol' indices (S1 and ST, {args.resamples} bootstrap resamples) of the contract's NPV at 20 uniform inputs, "
        f"N = 2^{args.log2n} = {n:,} ({n * 22:,} model runs):\n"
    )
    print("| pipeline | sample (s) | evaluate (s) | analyze + bootstrap (s) | total (s) |")
    print("|---|---:|---:|---:|---:|")
    print(
        f"| SALib (NumPy model) | {salib_s['sample']:.2f} | {salib_s['evaluate']:.2f} | {salib_s['analyze']:.2f} | {salib_s['total']:.2f} |"
    )
    print(f"| mcroi, first call (incl. JIT compile) | | | | {cold:.2f} |")
    print(f"| mcroi, second call | | | | {warm:.2f} |")
    print(
        f"\nSpeed-up: **{salib_s['total'] / warm:.1f}x** warm, {salib_s['total'] / cold:.1f}x including compilation.\n"
    )
    print("Agreement (|mcroi - SALib| against the two 95 % half-widths combined, z = diff / hypot(half-widths)):\n")
    print("| index | max abs diff | max z | inputs with z <= 1 (of 20) |")
    print("|---|---:|---:|---:|")
    for m, d, z, k in rows:
        print(f"| {m} | {d:.4f} | {z:.2f} | {k} |")
    print(
        "\nLargest ST (mcroi vs SALib): "
        + "; ".join(f"{NAMES[i]} {r.measures['st'][i]:.3f} vs {Si['ST'][i]:.3f}" for i in top)
        + "."
    )


if __name__ == "__main__":
    main()
