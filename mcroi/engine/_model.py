"""Cashflow contract v2 (``shared/design/model.md``; so far v1 and a first part of v2's market) in pure JAX.

No keys, no I/O. Names follow the contract; units are in the names. Months run ``m = 1 .. H``;
capex is paid at ``m = 0``. The equations take one draw (0-d inputs) or a batch of draws ((n,)
inputs); monthly arrays are months-major, (H,) or (H, n), so that sums over months are
elementwise adds across draws, which vectorize, rather than short reductions along each row.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from mcroi.engine._irr import irr_months_major
from mcroi.engine._outputs import ANNUAL_OUTPUTS
from mcroi.priors import HOURS_PER_MONTH as HOURS

Array = jax.Array


class Outputs(NamedTuple):
    """Outputs of one draw (scalars 0-d, ``annual_*`` (years,)) or, from :func:`evaluate_batch`, of n
    draws (scalars (n,), ``annual_*`` (n, years))."""

    npv_usd: Array
    irr_annual: Array
    payback_months: Array
    roi_multiple: Array
    net_roi: Array
    cost_per_mtok_usd: Array
    breakeven_price_usd_per_mtok: Array
    total_output_tokens: Array
    total_revenue_usd: Array
    capex_usd: Array
    mirr_annual: Array
    irr_unique: Array
    discounted_payback_months: Array
    revenue_per_gpu_hour_usd: Array
    revenue_to_rent_ratio: Array
    sold_share: Array
    facility_mw: Array
    annual_cashflow_usd: Array
    annual_revenue_usd: Array
    annual_energy_usd: Array
    annual_other_opex_usd: Array
    annual_tax_usd: Array
    annual_output_tokens: Array


class Monthly(NamedTuple):
    """Monthly line items, shape (H + 1,) with index 0 = month 0 (capex only)."""

    tokens: Array
    revenue_usd: Array
    energy_usd: Array
    other_opex_usd: Array
    tax_usd: Array
    cashflow_usd: Array


def curve_throughput(interactivity: Array, knots: np.ndarray, scale: Array) -> Array:
    """Output tok/s/GPU read off a measured Pareto curve at a service level.

    Log-log linear between knots (sorted by interactivity); below the slowest knot, clamped to it;
    above the fastest knot, zero: the platform cannot serve that service level.
    """
    lx = jnp.log(jnp.asarray(knots[:, 0], interactivity.dtype))
    ly = jnp.log(jnp.asarray(knots[:, 1], interactivity.dtype))
    li = jnp.log(interactivity)
    tps = jnp.exp(jnp.interp(li, lx, ly))
    return jnp.where(li > lx[-1], 0.0, scale * tps)


LN2 = float(np.log(2.0))


def _column(values: Array, ndim: int) -> Array:
    """A 1-d ``values`` shaped (len, 1, ..., 1) to broadcast along axis 0 against ``ndim``-d draws."""
    return values.reshape(values.shape + (1,) * ndim)


def powers(log_base: Array, horizon: int) -> Array:
    """``exp(log_base * k)`` for ``k = 0 .. horizon``, shape (horizon + 1, *log_base.shape); 1 at ``k = 0``.

    The geometric sequences of the contract (software gain, price decline, discounting) as
    ``(base ** 12) ** y * base ** j`` with ``k = 12 y + j``: about a quarter of the exponentials
    of one per month, each term within a few ulp of the direct power. ``log_base = -inf`` (a
    price that falls 100 % a year) gives 1 then zeros.
    """
    log_base = jnp.asarray(log_base)
    j = _column(jnp.arange(12, dtype=log_base.dtype), log_base.ndim)
    y = _column(jnp.arange(horizon // 12 + 1, dtype=log_base.dtype), log_base.ndim)
    within = jnp.where(j == 0, 1.0, jnp.exp(log_base[None] * j))
    years = jnp.where(y == 0, 1.0, jnp.exp(log_base[None] * (12 * y)))
    return (years[:, None] * within[None, :]).reshape(-1, *log_base.shape)[: horizon + 1]


def price_factors(decline: Array, horizon: int) -> Array:
    """``(1 - decline) ** ((m - 1) / 12)`` for months ``m = 1 .. horizon``."""
    return powers(jnp.log1p(-decline) / 12, horizon - 1)


def discount_factors(rate_annual: Array, horizon: int) -> Array:
    """``(1 + rate) ** (-m / 12)`` = ``(1 + r) ** -m`` for months ``m = 0 .. horizon``."""
    return powers(-jnp.log1p(rate_annual) / 12, horizon)


class _Months(NamedTuple):
    """Monthly line items for months 1..H (zero outside the operating months), and per-draw constants.

    The monthly arrays are (H,) for one draw, (H, n) for a batch of n draws.
    """

    C: Array  # capex
    live_months: Array  # L, months that earn and spend
    O: Array  # other opex per live month (v1: the same every month)  # noqa: E741 - the contract's name
    D: Array  # depreciation per live month
    live: Array  # (H, ...) operating months, b < m <= L
    K: Array  # (H, ...) tokens sold
    R: Array  # (H, ...) revenue
    E: Array  # (H, ...) energy
    T: Array  # (H, ...) tax
    CF: Array  # (H, ...) cashflow (capex not included)
    pf: Array  # (H, ...) price decline factor
    # contract v2
    gpus: Array  # GPU count
    b: Array  # build months (0 without schedule.build_months)
    Kcap: Array  # (H, ...) tokens the GPUs can sell (K without a demand cap)
    O_m: Array  # (H, ...) other opex per month (0 outside operating months)


def _annual_power(rate: Array, horizon: int) -> Array:
    """``(1 + rate) ** ((m - 1) / 12)`` for months ``m = 1 .. horizon`` (a yearly change on calendar months)."""
    return powers(jnp.log1p(rate) / 12, horizon - 1)


def _months(inp: Mapping[str, Array], horizon: int, knots: np.ndarray | None) -> _Months:
    """The contract's equations for months 1..H (see ``shared/design/model.md``), months-major.

    A contract v2 input changes the program only where it is given (``name in inp`` is decided
    when tracing): without one, this is the v1 program, operation for operation.
    """
    # per-draw values as (1, ...) rows, to broadcast against (H, ...) monthly arrays
    row = {k: jnp.asarray(v)[None] for k, v in inp.items()}
    usd_per_gpu = row["capex.usd_per_gpu"]
    kw = row["power.kw_per_gpu"]
    pue = row["power.pue"]
    if "capex.budget_usd" in row:
        gpus = row["capex.budget_usd"] / usd_per_gpu
    elif "cluster.power_mw" in row:  # v2: fill a facility's power
        gpus = row["cluster.power_mw"] * 1000 / (kw * pue)
    else:
        gpus = row["cluster.gpus"]
    if knots is not None:
        tps = curve_throughput(row["workload.interactivity_tok_s_user"], knots, row["throughput.curve_scale"])
    else:
        tps = row["throughput.output_tokens_per_s_per_gpu"]
    ratio = row["workload.input_output_ratio"]
    max_gain = row["optimization.max_gain"]
    steady_state = row["utilization.steady_state"]
    ramp = row["utilization.ramp_months"]
    p_out = row["price.usd_per_mtok_output"]
    p_in = row["price.usd_per_mtok_input"]
    idle = row["power.idle_fraction"]
    usd_per_kwh = row["power.usd_per_kwh"]
    opex_month = row["opex.usd_per_gpu_month"]
    opex_hour = row["opex.usd_per_gpu_hour"]
    maintenance = row["opex.maintenance_pct_per_year"]
    tax_rate = row["finance.tax_rate"]
    residual = row["finance.residual_value_pct"]
    life = row["finance.useful_life_months"]

    dtype = usd_per_gpu.dtype
    m = _column(jnp.arange(1, horizon + 1, dtype=dtype), usd_per_gpu.ndim - 1)
    L = jnp.floor(jnp.minimum(life, horizon))
    if "schedule.build_months" in row:  # v2: operating months b < m <= L, a(m) = m - b
        b = jnp.floor(row["schedule.build_months"])
        live = (m > b) & (m <= L)
        a = m - b
    else:
        b = jnp.zeros_like(L)
        live = m <= L
        a = m

    C = gpus * usd_per_gpu
    # the powers 2 ** (-m / half_life) and (1 - decline) ** ((m - 1) / 12) as geometric sequences
    # (see :func:`powers`): a general power per month costs about 20x a multiply on CPU. They take
    # the inputs as given (not as rows): powers() adds the months axis itself.
    g = 1 + (max_gain - 1) * (1 - powers(-LN2 / inp["optimization.half_life_months"], horizon)[1:])
    u = jnp.where(ramp > 0, steady_state * jnp.minimum(1.0, a / jnp.where(ramp > 0, ramp, 1.0)), steady_state)
    pf = price_factors(inp["price.annual_decline"], horizon)
    Kcap = jnp.where(live, gpus * tps * g * 3600 * HOURS * u, 0.0)
    if "demand.output_mtok_per_month" in row:  # v2: buyers take at most Dm(m) tokens
        Dm = row["demand.output_mtok_per_month"] * 1e6
        if "demand.annual_growth" in row:
            Dm = Dm * jnp.exp(jnp.log1p(row["demand.annual_growth"]) * ((a - 1) / 12))
        K = jnp.minimum(Kcap, Dm)
        u_e = jnp.where(Kcap > 0, u * K / jnp.where(Kcap > 0, Kcap, 1.0), 0.0)
    else:
        K, u_e = Kcap, u
    R = K / 1e6 * ((p_out + ratio * p_in) * pf)
    if "revenue.share" in row:
        R = R * (1 - row["revenue.share"])
    E = jnp.where(live, gpus * kw * (idle + (1 - idle) * u_e) * pue * HOURS * usd_per_kwh, 0.0)
    if "power.annual_price_change" in inp:
        E = E * _annual_power(inp["power.annual_price_change"], horizon)
    O = gpus * (opex_month + opex_hour * HOURS) + C * maintenance / 12  # noqa: E741 - the contract's name
    D = C * (1 - residual) / (L - b if "schedule.build_months" in row else L)
    if "opex.annual_escalation" in inp:
        esc = _annual_power(inp["opex.annual_escalation"], horizon)
        O_m = jnp.where(live, gpus * (opex_month + opex_hour * HOURS) * esc + C * maintenance / 12, 0.0)
    else:
        O_m = jnp.where(live, O, 0.0)
    D_m = jnp.where(live, D, 0.0)
    T = tax_rate * (R - E - O_m - D_m)
    CF = R - E - O_m - T + jnp.where(m == L, residual * C, 0.0)
    return _Months(C[0], L[0], O[0], D[0], live, K, R, E, T, CF, pf, gpus[0], b[0], Kcap, O_m)


def monthly(inp: Mapping[str, Array], horizon: int, knots: np.ndarray | None = None) -> tuple[Array, Monthly]:
    """Capex ``C`` and the monthly cashflow of one draw (the contract's equations), month 0 first."""
    mo = _months(inp, horizon, knots)
    zero = jnp.zeros((1,), mo.C.dtype)

    def with_m0(x: Array, first: Array = zero) -> Array:
        return jnp.concatenate([first, x])

    return mo.C, Monthly(
        tokens=with_m0(mo.K),
        revenue_usd=with_m0(mo.R),
        energy_usd=with_m0(mo.E),
        other_opex_usd=with_m0(mo.O_m),
        tax_usd=with_m0(mo.T),
        cashflow_usd=with_m0(mo.CF, -mo.C[None]),
    )


def _years(x: Array, horizon: int) -> Array:
    """Sum months 1..H (axis 0 of ``x``) into years 1..ceil(H/12)."""
    n_years = -(-horizon // 12)
    pad = n_years * 12 - horizon
    x = jnp.pad(x, [(0, pad)] + [(0, 0)] * (x.ndim - 1))
    return x.reshape(n_years, 12, *x.shape[1:]).sum(axis=1)


def evaluate_without_irr(inp: Mapping[str, Array], horizon: int, knots: np.ndarray | None) -> tuple[Outputs, Array]:
    """Every output except the IRR (left NaN), and the monthly cashflow (month 0 first).

    One draw (0-d inputs) or n draws ((n,) inputs); months lead every array: the cashflow is
    (H + 1,) or (H + 1, n) and the ``annual_*`` outputs (years,) or (years, n). This is
    :func:`evaluate_batch` without the IRR solve, for callers that solve it themselves (on the
    returned cashflow, with :func:`irr_batch`) or do not need it.

    Sums over months are taken from the fewest monthly arrays (tokens, revenue, energy, tax and
    cashflow); the per-month constants (other opex, depreciation) enter through the count of live
    months, which is the same arithmetic with fewer passes over (draws x months) memory.
    """
    mo = _months(inp, horizon, knots)
    C = mo.C
    # materialized once: fused into the log-depth scan below, CF would be recomputed at each level
    CF = jax.lax.optimization_barrier(mo.CF)
    m = _column(jnp.arange(1, horizon + 1, dtype=C.dtype), jnp.ndim(C))
    disc = discount_factors(inp["finance.discount_rate"], horizon)[1:]  # (1 + r)^-m, m = 1..H
    npv = jnp.sum(CF * disc, axis=0) - C
    payback = _payback_months(CF, C, m)
    total_revenue, roi, net_roi = _multiples(mo.R, CF, C)
    # v2: other opex that changes from month to month (escalation) or starts after a build
    monthly_opex = "opex.annual_escalation" in inp
    cost_per_mtok = _cost_per_mtok(mo, disc, monthly_opex)
    breakeven = _breakeven_price(inp, mo, disc, npv)
    if monthly_opex or "schedule.build_months" in inp:
        annual_other_opex = _years(mo.O_m, horizon)
    else:
        annual_other_opex = mo.O[None] * _live_months_per_year(mo.live_months, horizon)
    cf = jnp.concatenate([-C[None], CF], axis=0)
    return Outputs(
        npv_usd=npv,
        irr_annual=jnp.full(jnp.shape(C), jnp.nan, C.dtype),
        payback_months=payback,
        roi_multiple=roi,
        net_roi=net_roi,
        cost_per_mtok_usd=cost_per_mtok,
        breakeven_price_usd_per_mtok=breakeven,
        total_output_tokens=jnp.sum(mo.K, axis=0),
        total_revenue_usd=total_revenue,
        capex_usd=C,
        mirr_annual=_mirr_annual(CF, C, disc, inp["finance.discount_rate"], horizon),
        irr_unique=_irr_unique(CF, C),
        discounted_payback_months=_payback_months(CF * disc, C, m),
        revenue_per_gpu_hour_usd=(rev_gpu_hour := _revenue_per_gpu_hour(mo, m)),
        revenue_to_rent_ratio=_revenue_to_rent(inp, rev_gpu_hour),
        sold_share=_sold_share(mo),
        facility_mw=mo.gpus * inp["power.kw_per_gpu"] * inp["power.pue"] / 1000,
        annual_cashflow_usd=_years(CF, horizon),
        annual_revenue_usd=_years(mo.R, horizon),
        annual_energy_usd=_years(mo.E, horizon),
        annual_other_opex_usd=annual_other_opex,
        annual_tax_usd=_years(mo.T, horizon),
        annual_output_tokens=_years(mo.K, horizon),
    ), cf


def _mirr_annual(CF: Array, C: Array, disc: Array, rate_annual: Array, horizon: int) -> Array:
    """Modified IRR at the project rate for financing and reinvestment, annualized; NaN without both signs.

    ``((sum_{CF>0} CF (1+r)^(H-m)) / (sum_{CF<0} -CF (1+r)^-m)) ** (12/H) - 1`` with
    ``(1+r)^(H-m) = (1+r)^H (1+r)^-m`` and ``(1+r)^12 = 1 + rate``: the annual MIRR is
    ``(1 + rate) (PV+ / PV-) ** (12/H) - 1``. Month 0 holds ``-C``.
    """
    pos = jnp.sum(jnp.where(CF > 0, CF, 0.0) * disc, axis=0) + jnp.maximum(-C, 0.0)
    neg = jnp.sum(jnp.where(CF < 0, -CF, 0.0) * disc, axis=0) + jnp.maximum(C, 0.0)
    ok = (pos > 0) & (neg > 0)
    log_ratio = jnp.log(jnp.where(ok, pos, 1.0)) - jnp.log(jnp.where(ok, neg, 1.0))
    return jnp.where(ok, jnp.expm1(jnp.log1p(rate_annual) + (12 / horizon) * log_ratio), jnp.nan)


def _irr_unique(CF: Array, C: Array) -> Array:
    """1 where the cumulative cash ``sum_{k<=m} CF(k)``, ``m = 0 .. H``, changes sign exactly once, else 0.

    Signs are compared among the non-zero cumulative values (touching 0 and going back is no
    change): each month's sign against the last non-zero sign before it.
    """
    cum = jnp.concatenate([-C[None], jax.lax.associative_scan(jnp.add, CF, axis=0) - C[None]], axis=0)
    sign = jnp.sign(cum)
    # last non-zero sign up to each month: an associative "later non-zero wins"
    last = jax.lax.associative_scan(lambda x, y: jnp.where(y != 0, y, x), sign, axis=0)
    changes = jnp.sum((sign[1:] != 0) & (last[:-1] != 0) & (sign[1:] != last[:-1]), axis=0)
    return jnp.where(changes == 1, 1.0, 0.0).astype(C.dtype)


def _revenue_per_gpu_hour(mo: _Months, m: Array) -> Array:
    """Revenue of operating months ``a = 1 .. 12`` per GPU-hour of a year; NaN where the cluster never
    operates (``L <= b``)."""
    first_year = (m > mo.b[None]) & (m <= mo.b[None] + 12)
    revenue = jnp.sum(jnp.where(first_year, mo.R, 0.0), axis=0)
    return jnp.where(mo.live_months > mo.b, revenue / (mo.gpus * HOURS * 12), jnp.nan)


def _revenue_to_rent(inp: Mapping[str, Array], rev_gpu_hour: Array) -> Array:
    """Revenue per GPU-hour over the market rent of the GPU; NaN where the rent is not given (or 0)."""
    if "market.gpu_hour_usd" not in inp:
        return jnp.full(jnp.shape(rev_gpu_hour), jnp.nan, rev_gpu_hour.dtype)
    rent = inp["market.gpu_hour_usd"]
    return jnp.where(rent != 0, rev_gpu_hour / jnp.where(rent != 0, rent, 1.0), jnp.nan)


def _sold_share(mo: _Months) -> Array:
    """Tokens sold over the tokens the GPUs could sell; NaN where they could sell none."""
    cap = jnp.sum(mo.Kcap, axis=0)
    return jnp.where(cap != 0, jnp.sum(mo.K, axis=0) / jnp.where(cap != 0, cap, 1.0), jnp.nan)


def _payback_months(CF: Array, C: Array, m: Array) -> Array:
    """The first month ``m`` whose cumulative cash (capex included) is >= 0; inf if none."""
    # XLA lowers cumsum to a quadratic reduce_window and argmax to a variadic reduce, both slow on
    # CPU: a log-depth scan and a plain min do the same work in a fraction of the time.
    cum = jax.lax.associative_scan(jnp.add, CF, axis=0) - C[None]
    return jnp.min(jnp.where(cum >= 0, m, jnp.inf), axis=0)


def _multiples(R: Array, CF: Array, C: Array) -> tuple[Array, Array, Array]:
    """Total revenue, revenue over capex (ROI multiple) and net cash over capex minus 1 (net ROI);
    both NaN without capex."""
    total_revenue = jnp.sum(R, axis=0)
    has_capex = C > 0
    safe_C = jnp.where(has_capex, C, 1.0)
    roi = jnp.where(has_capex, total_revenue / safe_C, jnp.nan)
    net_roi = jnp.where(has_capex, jnp.sum(CF, axis=0) / safe_C - 1, jnp.nan)
    return total_revenue, roi, net_roi


def _cost_per_mtok(mo: _Months, disc: Array, monthly_opex: bool = False) -> Array:
    """Present cost (capex, energy, other opex) per present million tokens; inf without tokens."""
    tokens_pv = jnp.sum(mo.K * disc, axis=0) / 1e6
    if monthly_opex:  # v2: opex that escalates
        opex_pv = jnp.sum(mo.O_m * disc, axis=0)
    else:
        opex_pv = mo.O * jnp.sum(jnp.where(mo.live, disc, 0.0), axis=0)
    cost_pv = mo.C + jnp.sum(mo.E * disc, axis=0) + opex_pv
    return jnp.where(tokens_pv > 0, cost_pv / jnp.where(tokens_pv > 0, tokens_pv, 1.0), jnp.inf)


def _breakeven_price(inp: Mapping[str, Array], mo: _Months, disc: Array, npv: Array) -> Array:
    """The output price at which the NPV is 0; NaN where the NPV does not depend on it."""
    # NPV is affine in p_out: dNPV/dp_out = (1 - tax) * sum K/1e6 * decline factor * disc
    # (* (1 - revenue share) in v2).
    slope = (1 - inp["finance.tax_rate"]) * jnp.sum(mo.K / 1e6 * mo.pf * disc, axis=0)
    if "revenue.share" in inp:
        slope = slope * (1 - inp["revenue.share"])
    return jnp.where(slope > 0, inp["price.usd_per_mtok_output"] - npv / jnp.where(slope > 0, slope, 1.0), jnp.nan)


def _live_months_per_year(L: Array, horizon: int) -> Array:
    """Live months in each year y = 1..ceil(H/12): ``min(12, max(0, L - 12 (y - 1)))``, years first."""
    n_years = -(-horizon // 12)
    return jnp.clip(L[None] - 12 * _column(jnp.arange(n_years, dtype=L.dtype), jnp.ndim(L)), 0.0, 12.0)


def evaluate_batch(
    inp: Mapping[str, Array], horizon: int, knots: np.ndarray | None = None, *, irr: bool = True
) -> Outputs:
    """All contract outputs for a batch of draws; ``inp`` maps input names to (n,) arrays.

    The equations run on the whole batch, months-major; the IRR is solved on the whole batch at
    once (:func:`irr_batch`), which lets its slow lanes be iterated apart from the rest. Every
    lane's arithmetic is its own, so the batch size never changes a draw's outputs. With
    ``irr=False`` the IRR is left NaN (and, the solve skipped, ``inp`` may also be one draw of
    0-d arrays).
    """
    out, cf = evaluate_without_irr(inp, horizon, knots)
    annual = {k: jnp.swapaxes(getattr(out, k), 0, -1) for k in ANNUAL_OUTPUTS}  # (years, n) -> (n, years)
    if not irr:
        return out._replace(**annual)
    i = irr_months_major(cf)
    return out._replace(irr_annual=jnp.expm1(12 * jnp.log1p(i)), **annual)


def evaluate(inp: Mapping[str, Array], horizon: int, knots: np.ndarray | None = None) -> Outputs:
    """All contract outputs for ONE draw; ``inp`` maps contract input names to 0-d arrays."""
    batch = {k: jnp.asarray(v)[None] for k, v in inp.items()}
    return jax.tree.map(lambda a: a[0], evaluate_batch(batch, horizon, knots))
