"""Peer implementations of contract v1 for the benchmark (not part of mcroi).

All take the same pre-sampled inputs (a (draws, n_inputs) array in contract order, from mcroi's
sampler) and the curve knots, and compute NPV, IRR, payback, ROI, net ROI, cost per Mtok,
break-even price, total tokens/revenue, capex and the annual cashflow.

- ``numpy_batch``: what a Python analyst writes: broadcast (draws, months) arrays, IRR by
  vectorized bisection (60 halvings of the monthly log-rate bracket).
- ``numba_parallel``: a per-draw loop compiled with ``numba.njit(parallel=True)`` over draws,
  IRR by safeguarded Newton on the NPV polynomial (Horner): the practical CPU limit.
- ``python_loop``: the same per-draw kernel run as plain Python on a subsample (what a
  spreadsheet-style per-iteration tool does).
"""

from __future__ import annotations

import math

import numpy as np

HOURS = 730.0
N_OUT = 10  # npv, irr, payback, roi, net_roi, cost_per_mtok, breakeven, tokens, revenue, capex

#: Contract order of the inputs the kernels read (index into the inputs array).
NAMES = (
    "cluster.gpus",
    "capex.usd_per_gpu",
    "throughput.curve_scale",
    "workload.interactivity_tok_s_user",
    "workload.input_output_ratio",
    "optimization.max_gain",
    "optimization.half_life_months",
    "utilization.steady_state",
    "utilization.ramp_months",
    "price.usd_per_mtok_output",
    "price.usd_per_mtok_input",
    "price.annual_decline",
    "power.kw_per_gpu",
    "power.idle_fraction",
    "power.pue",
    "power.usd_per_kwh",
    "opex.usd_per_gpu_month",
    "opex.usd_per_gpu_hour",
    "opex.maintenance_pct_per_year",
    "finance.discount_rate",
    "finance.tax_rate",
    "finance.residual_value_pct",
    "finance.useful_life_months",
)


def columns(names: list[str], inputs: np.ndarray) -> np.ndarray:
    """Reorder an mcroi inputs array (draws, n) into :data:`NAMES` order, shape (draws, len(NAMES))."""
    idx = [names.index(n) for n in NAMES]
    return np.ascontiguousarray(inputs[:, idx])


# -- per-draw kernel (numba-compatible Python) ---------------------------------------------------


def _draw(x, lx, ly, H, out, annual):  # noqa: ANN001 - numba kernel
    gpus, usd_per_gpu, scale, inter = x[0], x[1], x[2], x[3]
    ratio, max_gain, half_life, ss, ramp = x[4], x[5], x[6], x[7], x[8]
    p_out, p_in, decline, kw, idle, pue, kwh = x[9], x[10], x[11], x[12], x[13], x[14], x[15]
    opex_m, opex_h, maint, rate, tax, res, life = x[16], x[17], x[18], x[19], x[20], x[21], x[22]
    li = math.log(inter)
    if li > lx[-1]:
        tps = 0.0
    else:
        tps = scale * math.exp(np.interp(li, lx, ly))
    L = math.floor(min(life, H))
    C = gpus * usd_per_gpu
    cf = np.zeros(H + 1)
    cf[0] = -C
    npv = -C
    cum = -C
    payback = math.inf
    rev = 0.0
    tokens = 0.0
    tok_pv = 0.0
    cost_pv = C
    slope = 0.0
    for m in range(1, H + 1):
        c = 0.0
        if m <= L:
            g = 1 + (max_gain - 1) * (1 - 2.0 ** (-m / half_life))
            u = ss * min(1.0, m / ramp) if ramp > 0 else ss
            K = gpus * tps * g * 3600 * HOURS * u
            dec = (1 - decline) ** ((m - 1) / 12)
            R = K / 1e6 * (p_out + ratio * p_in) * dec
            E = gpus * kw * (idle + (1 - idle) * u) * pue * HOURS * kwh
            O = gpus * (opex_m + opex_h * HOURS) + C * maint / 12  # noqa: E741
            D = C * (1 - res) / L
            T = tax * (R - E - O - D)
            c = R - E - O - T
            if m == L:
                c += res * C
            disc = (1 + rate) ** (-m / 12)
            rev += R
            tokens += K
            tok_pv += K * disc / 1e6
            cost_pv += (E + O) * disc
            slope += (1 - tax) * K / 1e6 * dec * disc
            npv += c * disc
        cf[m] = c
        cum += c
        if cum >= 0 and payback == math.inf:
            payback = m
        annual[(m - 1) // 12] += c
    # IRR: safeguarded Newton in x = log(1 + i) on [-1, 3], NPV(v) by Horner, v = exp(-x)
    scl = 0.0
    for m in range(H + 1):
        scl = max(scl, abs(cf[m]))
    irr = math.nan
    lo, hi = -1.0, 3.0

    def npv_at(xx):
        v = math.exp(-xx)
        p, dp = 0.0, 0.0
        for k in range(H, -1, -1):
            dp = dp * v + p
            p = p * v + cf[k] / scl
        return p, -v * dp

    f_lo = npv_at(lo)[0]
    f_hi = npv_at(hi)[0]
    if scl > 0 and f_lo * f_hi < 0:
        xx = 0.01
        for _ in range(100):
            f, df = npv_at(xx)
            if (f > 0) == (f_lo > 0):
                lo = xx
            else:
                hi = xx
            step = f / df if df != 0 else math.inf
            xn = xx - step
            if not (lo < xn < hi):
                xn = 0.5 * (lo + hi)
            if abs(xn - xx) < 1e-12:
                xx = xn
                break
            xx = xn
        irr = math.exp(12 * xx) - 1
    out[0] = npv
    out[1] = irr
    out[2] = payback
    out[3] = rev / C if C > 0 else math.nan
    out[4] = (cum + C) / C - 1 if C > 0 else math.nan
    out[5] = cost_pv / tok_pv if tok_pv > 0 else math.inf
    out[6] = p_out - npv / slope if slope > 0 else math.nan
    out[7] = tokens
    out[8] = rev
    out[9] = C


def python_loop(x: np.ndarray, knots: np.ndarray, H: int) -> tuple[np.ndarray, np.ndarray]:
    """The per-draw kernel as plain Python (one draw at a time)."""
    lx, ly = np.log(knots[:, 0]), np.log(knots[:, 1])
    n = x.shape[0]
    out = np.empty((n, N_OUT))
    annual = np.zeros((n, -(-H // 12)))
    for i in range(n):
        _draw(x[i], lx, ly, H, out[i], annual[i])
    return out, annual


def numba_parallel():  # noqa: ANN201
    """The per-draw kernel compiled by numba, ``prange`` over draws (None if numba is missing)."""
    try:
        import numba
    except ImportError:
        return None
    kernel = numba.njit(cache=False, fastmath=False)(_draw)

    @numba.njit(parallel=True, cache=False)
    def run(x, lx, ly, H, out, annual):  # noqa: ANN001
        for i in numba.prange(x.shape[0]):
            kernel(x[i], lx, ly, H, out[i], annual[i])

    def call(x: np.ndarray, knots: np.ndarray, H: int) -> tuple[np.ndarray, np.ndarray]:
        n = x.shape[0]
        out = np.empty((n, N_OUT))
        annual = np.zeros((n, -(-H // 12)))
        run(x, np.log(knots[:, 0]), np.log(knots[:, 1]), H, out, annual)
        return out, annual

    return call


# -- vectorized numpy ----------------------------------------------------------------------------


def numpy_batch(x: np.ndarray, knots: np.ndarray, H: int) -> tuple[np.ndarray, np.ndarray]:
    """Broadcast over (draws, months); IRR by 60 vectorized bisection steps."""
    c = {k: x[:, i : i + 1] for i, k in enumerate(NAMES)}
    lx, ly = np.log(knots[:, 0]), np.log(knots[:, 1])
    li = np.log(c["workload.interactivity_tok_s_user"])
    tps = np.where(li > lx[-1], 0.0, c["throughput.curve_scale"] * np.exp(np.interp(li, lx, ly)))
    m = np.arange(1, H + 1, dtype=float)[None, :]
    gpus, C = c["cluster.gpus"], c["cluster.gpus"] * c["capex.usd_per_gpu"]
    L = np.floor(np.minimum(c["finance.useful_life_months"], H))
    live = m <= L
    g = 1 + (c["optimization.max_gain"] - 1) * (1 - 2 ** (-m / c["optimization.half_life_months"]))
    ramp = c["utilization.ramp_months"]
    u = np.where(
        ramp > 0,
        c["utilization.steady_state"] * np.minimum(1.0, m / np.where(ramp > 0, ramp, 1.0)),
        c["utilization.steady_state"],
    )
    K = gpus * tps * g * 3600 * HOURS * u
    dec = (1 - c["price.annual_decline"]) ** ((m - 1) / 12)
    R = (
        K
        / 1e6
        * (c["price.usd_per_mtok_output"] + c["workload.input_output_ratio"] * c["price.usd_per_mtok_input"])
        * dec
    )
    idle = c["power.idle_fraction"]
    E = gpus * c["power.kw_per_gpu"] * (idle + (1 - idle) * u) * c["power.pue"] * HOURS * c["power.usd_per_kwh"]
    O = (  # noqa: E741
        gpus * (c["opex.usd_per_gpu_month"] + c["opex.usd_per_gpu_hour"] * HOURS)
        + C * c["opex.maintenance_pct_per_year"] / 12
    )
    D = C * (1 - c["finance.residual_value_pct"]) / L
    T = c["finance.tax_rate"] * (R - E - O - D)
    CF = R - E - O - T + np.where(m == L, c["finance.residual_value_pct"] * C, 0.0)
    K, R, E, O, CF = (np.where(live, a, 0.0) for a in (K, R, E, O, CF))  # noqa: E741
    disc = (1 + c["finance.discount_rate"]) ** (-m / 12)
    npv = -C[:, 0] + (CF * disc).sum(1)
    cum = -C + np.cumsum(CF, axis=1)
    paid = cum >= 0
    payback = np.where(paid.any(1), paid.argmax(1) + 1.0, np.inf)
    tok_pv = (K * disc).sum(1) / 1e6
    cost_pv = C[:, 0] + ((E + O) * disc).sum(1)
    slope = ((1 - c["finance.tax_rate"]) * K / 1e6 * dec * disc).sum(1)
    full = np.concatenate([-C, CF], axis=1)  # (draws, H + 1)
    scale = np.abs(full).max(1, keepdims=True)
    full = full / scale
    months = np.arange(H + 1, dtype=float)

    def f(xx: np.ndarray) -> np.ndarray:
        return (full * np.exp(-np.outer(xx, months))).sum(1)

    lo, hi = np.full(len(x), -1.0), np.full(len(x), 3.0)
    f_lo = f(lo)
    ok = f_lo * f(hi) < 0
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        fm = f(mid)
        same = (fm > 0) == (f_lo > 0)
        lo, hi = np.where(same, mid, lo), np.where(same, hi, mid)
    irr = np.where(ok, np.exp(12 * 0.5 * (lo + hi)) - 1, np.nan)
    out = np.stack(
        [
            npv,
            irr,
            payback,
            R.sum(1) / C[:, 0],
            CF.sum(1) / C[:, 0] - 1,
            cost_pv / tok_pv,
            c["price.usd_per_mtok_output"][:, 0] - npv / slope,
            K.sum(1),
            R.sum(1),
            C[:, 0],
        ],
        axis=1,
    )
    years = -(-H // 12)
    annual = np.pad(CF, ((0, 0), (0, years * 12 - H))).reshape(len(x), years, 12).sum(2)
    return out, annual
