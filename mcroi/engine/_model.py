"""Cashflow contract v2 (``shared/design/model.md``; so far v1 and a first part of v2's market) in pure JAX.

No keys, no I/O. Names follow the contract; units are in the names. Months run ``m = 1 .. H``;
capex is paid at ``m = 0``. The equations take one draw (0-d inputs) or a batch of draws ((n,)
inputs); monthly arrays are months-major, (H,) or (H, n), so that sums over months are
elementwise adds across draws, which vectorize, rather than short reductions along each row.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
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
    retire_month: Array
    equity_npv_usd: Array
    equity_irr_annual: Array
    equity_multiple: Array
    min_dscr: Array
    price_path_log_mean: Array
    annual_cashflow_usd: Array
    annual_revenue_usd: Array
    annual_energy_usd: Array
    annual_other_opex_usd: Array
    annual_tax_usd: Array
    annual_output_tokens: Array
    annual_equity_cashflow_usd: Array
    annual_dscr: Array
    price_path_multiplier: Array


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
    """Monthly line items for months 1..H (zero outside the months that earn), and per-draw constants.

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
    pf: Array  # (H, ...) price factor: decline (v2: times pass-through and the path S)
    # contract v2
    gpus: Array  # GPU count
    b: Array  # build months (0 without schedule.build_months)
    Kcap: Array  # (H, ...) tokens the merchant GPUs can sell (K without a demand cap)
    O_m: Array  # (H, ...) other opex per month (0 outside the months that earn)
    end: Array  # the last month: L, or the retirement month
    Kp: Array  # (H, ...) tokens produced, contracted GPUs included (for the cost per token)
    S: Array | None  # (H, ...) the price path, None without one
    monthly_opex: bool  # other opex varies by month (escalation, build, retirement)
    carry: bool  # tax losses are carried forward
    earn: Array  # (H, ...) the months that earn: operating, before a retirement
    X: Array  # (H, ...) taxable profit before interest
    sale: Array  # (H, ...) the resale proceeds (in the last month)


#: (v2) per-month random inputs of a draw, (H, ...) arrays: not rows like the others.
PATH_KEYS = ("price.path.z", "price.path.w")
RETIRE = "finance.retire_when_unprofitable"
CARRY = "finance.tax_loss_carryforward"


def _annual_power(rate: Array, horizon: int) -> Array:
    """``(1 + rate) ** ((m - 1) / 12)`` for months ``m = 1 .. horizon`` (a yearly change on calendar months)."""
    return powers(jnp.log1p(rate) / 12, horizon - 1)


def _gpus(row: Mapping[str, Array]) -> Array:
    """Sizing: a GPU count, a budget, or (v2) a facility's power."""
    if "capex.budget_usd" in row:
        return row["capex.budget_usd"] / row["capex.usd_per_gpu"]
    if "cluster.power_mw" in row:  # v2: fill a facility's power
        return row["cluster.power_mw"] * 1000 / (row["power.kw_per_gpu"] * row["power.pue"])
    return row["cluster.gpus"]


def _clock(row: Mapping[str, Array], horizon: int) -> tuple[Array, Array, Array, Array, Array]:
    """Calendar months ``m`` (H, 1..), life ``L``, build months ``b``, operating months, month of operation ``a``."""
    life = row["finance.useful_life_months"]
    m = _column(jnp.arange(1, horizon + 1, dtype=life.dtype), life.ndim - 1)
    L = jnp.floor(jnp.minimum(life, horizon))
    if "schedule.build_months" in row:  # v2: operating months b < m <= L, a(m) = m - b
        b = jnp.floor(row["schedule.build_months"])
        return m, L, b, (m > b) & (m <= L), m - b
    return m, L, jnp.zeros_like(L), m <= L, m


def price_path(inp: Mapping[str, Array], horizon: int) -> Array | None:
    """(v2) The price path ``S(m)``, months 1..H first; None without volatility or jumps.

    ``S(1) = 1``; each later month multiplies by ``exp(sig z - sig^2 / 2)`` and by
    ``1 - jump_size`` where ``w < 1 - exp(-jumps_per_year / 12)``. ``z`` and ``w`` come in
    ``inp["price.path.z"]`` / ``["price.path.w"]`` (H, ...) from the generator; without them the
    path is the median one (z = 0, no jump).
    """
    if "price.volatility_annual" not in inp and "price.jumps_per_year" not in inp:
        return None
    first = next(v for k, v in inp.items() if k not in PATH_KEYS)
    shape = (horizon, *jnp.shape(first))
    dtype = jnp.asarray(first).dtype
    step = jnp.zeros(shape, dtype)
    if "price.volatility_annual" in inp:
        sig = jnp.asarray(inp["price.volatility_annual"], dtype)[None] / jnp.sqrt(jnp.asarray(12.0, dtype))
        z = jnp.asarray(inp["price.path.z"], dtype) if "price.path.z" in inp else jnp.zeros(shape, dtype)
        step = step + sig * z - sig**2 / 2
    if "price.jumps_per_year" in inp and "price.jump_size" in inp:
        w = jnp.asarray(inp["price.path.w"], dtype) if "price.path.w" in inp else jnp.ones(shape, dtype)
        jumped = w < -jnp.expm1(-jnp.asarray(inp["price.jumps_per_year"])[None] / 12)
        step = step + jnp.where(jumped, jnp.log1p(-jnp.asarray(inp["price.jump_size"])[None]), 0.0)
    step = step.at[0].set(0.0)  # S(1) = 1
    return jnp.exp(jax.lax.associative_scan(jnp.add, step, axis=0))


def _price_factor(
    inp: Mapping[str, Array], row: Mapping[str, Array], g: Array, horizon: int
) -> tuple[Array, Array | None]:
    """The price relative to launch by month: the yearly decline, (v2) times ``g^-pass_through`` and
    the path ``S`` (also returned, None without one)."""
    pf = price_factors(inp["price.annual_decline"], horizon)
    if "price.gain_pass_through" in row:  # v2: competitors pass part of the software gain on
        pf = pf * jnp.exp(-row["price.gain_pass_through"] * jnp.log(g))
    S = price_path(inp, horizon)
    return (pf, None) if S is None else (pf * S, S)


def _contract_share(
    row: Mapping[str, Array], inp: Mapping[str, Array], m: Array, a: Array, live: Array
) -> Array | None:
    """(v2) ``cs(m)``: the contracted share of the GPUs in each month, None without a contract."""
    if "contract.share" not in row:
        return None
    term = row["contract.months"] if "contract.months" in row else jnp.zeros_like(row["contract.share"])
    on = live & (a <= term)
    if "contract.default_month" in inp:
        on = on & (m < jnp.asarray(inp["contract.default_month"])[None])
    return jnp.where(on, row["contract.share"], 0.0)


def _capacity(gpus: Array, tps: Array, g: Array, u: Array, live: Array, cs: Array | None) -> Array:
    """Output tokens the merchant GPUs can sell in each month (``Kcap``)."""
    if cs is None:
        return jnp.where(live, gpus * tps * g * 3600 * HOURS * u, 0.0)
    return jnp.where(live, gpus * (1 - cs) * tps * g * 3600 * HOURS * u, 0.0)


def _sold(row: Mapping[str, Array], Kcap: Array, u: Array, a: Array) -> tuple[Array, Array]:
    """Tokens sold ``K`` under the (v2) demand cap, and the utilization after it ``ue``."""
    if "demand.output_mtok_per_month" not in row:
        return Kcap, u
    Dm = row["demand.output_mtok_per_month"] * 1e6
    if "demand.annual_growth" in row:
        Dm = Dm * jnp.exp(jnp.log1p(row["demand.annual_growth"]) * ((a - 1) / 12))
    K = jnp.minimum(Kcap, Dm)
    return K, jnp.where(Kcap > 0, u * K / jnp.where(Kcap > 0, Kcap, 1.0), 0.0)


def _energy(
    row: Mapping[str, Array],
    inp: Mapping[str, Array],
    gpus: Array,
    ue: Array,
    cs: Array | None,
    live: Array,
    horizon: int,
) -> Array:
    """Energy cost per month; contracted GPUs draw full-load power (v2)."""
    kw, pue, idle = row["power.kw_per_gpu"], row["power.pue"], row["power.idle_fraction"]
    if cs is None:
        E = jnp.where(live, gpus * kw * (idle + (1 - idle) * ue) * pue * HOURS * row["power.usd_per_kwh"], 0.0)
    else:
        load = (1 - cs) * (idle + (1 - idle) * ue) + cs
        E = jnp.where(live, gpus * kw * pue * HOURS * row["power.usd_per_kwh"] * load, 0.0)
    if "power.annual_price_change" in inp:
        E = E * _annual_power(inp["power.annual_price_change"], horizon)
    return E


def _other_opex(
    row: Mapping[str, Array], inp: Mapping[str, Array], gpus: Array, C: Array, live: Array, horizon: int
) -> tuple[Array, Array]:
    """Other opex per live month as in v1 (a per-draw constant) and per month (v2: escalated)."""
    per_gpu = gpus * (row["opex.usd_per_gpu_month"] + row["opex.usd_per_gpu_hour"] * HOURS)
    maint = C * row["opex.maintenance_pct_per_year"] / 12
    O = per_gpu + maint  # noqa: E741 - the contract's name
    if "opex.annual_escalation" in inp:
        return O, jnp.where(live, per_gpu * _annual_power(inp["opex.annual_escalation"], horizon) + maint, 0.0)
    return O, jnp.where(live, O, 0.0)


def _retirement(
    switches: frozenset[str],
    row: Mapping[str, Array],
    m: Array,
    a: Array,
    live: Array,
    margin: Array,
    C: Array,
    L: Array,
) -> Array | None:
    """(v2) The retirement month (+inf where the cluster is never retired), None without the switch.

    The first operating month after the ramp and the contract term in which the month's
    operating margin ``R - E - O`` is below the resale value it costs, ``C (1 - residual) / L``.
    """
    if RETIRE not in switches:
        return None
    after = live & (a > row["utilization.ramp_months"])
    if "contract.months" in row:
        after = after & (a > row["contract.months"])
    wear = C * (1 - row["finance.residual_value_pct"]) / L
    return jnp.min(jnp.where(after & (margin < wear), m, jnp.inf), axis=0)


def _depreciation(row: Mapping[str, Array], C: Array, L: Array, b: Array, a: Array, earn: Array) -> tuple[Array, Array]:
    """Depreciation per live month (v1 constant) and per month over the tax life ``N`` (v2)."""
    base = C * (1 - row["finance.residual_value_pct"])
    if "finance.tax_depreciation_months" in row:
        N = row["finance.tax_depreciation_months"]
        D = base / N
        return D, jnp.where(earn & (a <= N), D, 0.0)
    D = base / (L - b if "schedule.build_months" in row else L)
    return D, jnp.where(earn, D, 0.0)


def _tax(tax_rate: Array, X: Array, earn: Array, carry: bool) -> Array:
    """Tax on the taxable profit ``X``: negative in a loss, or (v2) with losses carried forward.

    With carryforward the carried loss follows ``NOL(m) = max(0, NOL(m-1) - X(m))``, whose
    solution is ``NOL(m) = max(0, max_{k<=m} S(k)) - S(m)`` with ``S`` the running sum of ``X``.
    """
    if not carry:
        return tax_rate * X
    X = jnp.where(earn, X, 0.0)
    cum = jax.lax.associative_scan(jnp.add, X, axis=0)
    peak = jnp.maximum(jax.lax.associative_scan(jnp.maximum, cum, axis=0), 0.0)
    nol = peak - cum
    nol_before = jnp.concatenate([jnp.zeros_like(nol[:1]), nol[:-1]], axis=0)
    return jnp.where(earn, tax_rate * jnp.maximum(X - nol_before, 0.0), 0.0)


def _months(
    inp: Mapping[str, Array], horizon: int, knots: np.ndarray | None, switches: frozenset[str] = frozenset()
) -> _Months:
    """The contract's equations for months 1..H (see ``shared/design/model.md``), months-major.

    A contract v2 input changes the program only where it is given (``name in inp`` is decided
    when tracing): without one, this is the v1 program, operation for operation.
    """
    # per-draw values as (1, ...) rows, to broadcast against (H, ...) monthly arrays
    row = {k: jnp.asarray(v)[None] for k, v in inp.items() if k not in PATH_KEYS}
    gpus = _gpus(row)
    if knots is not None:
        tps = curve_throughput(row["workload.interactivity_tok_s_user"], knots, row["throughput.curve_scale"])
    else:
        tps = row["throughput.output_tokens_per_s_per_gpu"]
    m, L, b, live, a = _clock(row, horizon)
    C = gpus * row["capex.usd_per_gpu"]
    # the powers 2 ** (-m / half_life) and (1 - decline) ** ((m - 1) / 12) as geometric sequences
    # (see :func:`powers`): a general power per month costs about 20x a multiply on CPU. They take
    # the inputs as given (not as rows): powers() adds the months axis itself.
    max_gain, ss, ramp = row["optimization.max_gain"], row["utilization.steady_state"], row["utilization.ramp_months"]
    g = 1 + (max_gain - 1) * (1 - powers(-LN2 / inp["optimization.half_life_months"], horizon)[1:])
    u = jnp.where(ramp > 0, ss * jnp.minimum(1.0, a / jnp.where(ramp > 0, ramp, 1.0)), ss)
    pf, S = _price_factor(inp, row, g, horizon)
    cs = _contract_share(row, inp, m, a, live)
    Kcap = _capacity(gpus, tps, g, u, live, cs)
    K, u_e = _sold(row, Kcap, u, a)
    R = (
        K
        / 1e6
        * (
            (row["price.usd_per_mtok_output"] + row["workload.input_output_ratio"] * row["price.usd_per_mtok_input"])
            * pf
        )
    )
    if "revenue.share" in row:
        R = R * (1 - row["revenue.share"])
    if cs is not None and "contract.usd_per_gpu_hour" in row:  # the rate's default is 0: no contract revenue
        R = R + gpus * cs * row["contract.usd_per_gpu_hour"] * HOURS
    E = _energy(row, inp, gpus, u_e, cs, live, horizon)
    O, O_m = _other_opex(row, inp, gpus, C, live, horizon)  # noqa: E741 - the contract's name
    retire = _retirement(switches, row, m, a, live, R - E - O_m, C, L)
    return _close_months(
        row,
        switches,
        C,
        L,
        b,
        m,
        a,
        live,
        retire,
        K,
        Kcap,
        R,
        E,
        O,
        O_m,
        pf,
        gpus,
        S,
        cs,
        gpus * tps * g * 3600 * HOURS * u,
    )


def _close_months(
    row: Mapping[str, Array],
    switches: frozenset[str],
    C: Array,
    L: Array,
    b: Array,
    m: Array,
    a: Array,
    live: Array,
    retire: Array | None,
    K: Array,
    Kcap: Array,
    R: Array,
    E: Array,
    O: Array,  # noqa: E741 - the contract's name
    O_m: Array,
    pf: Array,
    gpus: Array,
    S: Array | None,
    cs: Array | None,
    produced: Array,
) -> _Months:
    """The months that earn (v2: up to a retirement), depreciation, tax, the sale and the cashflow."""
    residual = row["finance.residual_value_pct"]
    if retire is None:
        earn, end = live, L
        sale = jnp.where(m == L, residual * C, 0.0)
    else:  # v2: a retired cluster earns nothing in its last month and is sold for V(end - 1)
        earn = live & (m < retire[None])
        retired = jnp.isfinite(retire)
        end = jnp.where(retired, retire, L)
        V_before = C * (1 - (1 - residual) * (end - 1) / L)
        sale = jnp.where(retired, jnp.where(m == end, V_before, 0.0), jnp.where(m == L, residual * C, 0.0))
        K, Kcap, R, E, O_m = (jnp.where(earn, x, 0.0) for x in (K, Kcap, R, E, O_m))
    D, D_m = _depreciation(row, C, L, b, a, earn)
    carry = CARRY in switches
    X = R - E - O_m - D_m
    T = _tax(row["finance.tax_rate"], X, earn, carry)
    CF = R - E - O_m - T + sale
    Kp = K if cs is None else K + jnp.where(earn, cs * produced, 0.0)
    monthly_opex = any(k in row for k in ("opex.annual_escalation", "schedule.build_months")) or retire is not None
    return _Months(
        C[0],
        L[0],
        O[0],
        D[0],
        live,
        K,
        R,
        E,
        T,
        CF,
        pf,
        gpus[0],
        b[0],
        Kcap,
        O_m,
        end[0],
        Kp,
        S,
        monthly_opex,
        carry,
        earn,
        X,
        sale,
    )


def monthly(
    inp: Mapping[str, Array], horizon: int, knots: np.ndarray | None = None, switches: Iterable[str] = ()
) -> tuple[Array, Monthly]:
    """Capex ``C`` and the monthly cashflow of one draw (the contract's equations), month 0 first."""
    mo = _months(inp, horizon, knots, frozenset(switches))
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


def evaluate_without_irr(
    inp: Mapping[str, Array], horizon: int, knots: np.ndarray | None, switches: Iterable[str] = ()
) -> tuple[Outputs, Array]:
    """Every output except the IRR (left NaN), and the monthly cashflow (month 0 first); see
    :func:`_evaluate_parts`."""
    out, cf, _ = _evaluate_parts(inp, horizon, knots, switches)
    return out, cf


def _evaluate_parts(
    inp: Mapping[str, Array], horizon: int, knots: np.ndarray | None, switches: Iterable[str] = ()
) -> tuple[Outputs, Array, Array]:
    """Every output except the IRR (left NaN), the monthly cashflow and the equity's (month 0 first).

    One draw (0-d inputs) or n draws ((n,) inputs); months lead every array: the cashflow is
    (H + 1,) or (H + 1, n) and the ``annual_*`` outputs (years,) or (years, n). This is
    :func:`evaluate_batch` without the IRR solve, for callers that solve it themselves (on the
    returned cashflow, with :func:`irr_batch`) or do not need it. ``switches`` are the
    scenario's (v2) switches that are on (:attr:`mcroi.priors.PriorSet.switches`).

    Sums over months are taken from the fewest monthly arrays (tokens, revenue, energy, tax and
    cashflow); the per-month constants (other opex, depreciation) enter through the count of live
    months, which is the same arithmetic with fewer passes over (draws x months) memory.
    """
    mo = _months(inp, horizon, knots, frozenset(switches))
    C = mo.C
    # materialized once: fused into the log-depth scan below, CF would be recomputed at each level
    CF = jax.lax.optimization_barrier(mo.CF)
    m = _column(jnp.arange(1, horizon + 1, dtype=C.dtype), jnp.ndim(C))
    disc = discount_factors(inp["finance.discount_rate"], horizon)[1:]  # (1 + r)^-m, m = 1..H
    npv = jnp.sum(CF * disc, axis=0) - C
    total_revenue, roi, net_roi = _multiples(mo.R, CF, C)
    if mo.monthly_opex:  # v2: other opex that changes from month to month, or starts after a build
        annual_other_opex = _years(mo.O_m, horizon)
    else:
        annual_other_opex = mo.O[None] * _live_months_per_year(mo.live_months, horizon)
    rev_gpu_hour = _revenue_per_gpu_hour(mo, m)
    eq = _equity(inp, mo, CF, npv, net_roi, horizon)
    out = Outputs(
        npv_usd=npv,
        irr_annual=jnp.full(jnp.shape(C), jnp.nan, C.dtype),
        payback_months=_payback_months(CF, C, m),
        roi_multiple=roi,
        net_roi=net_roi,
        cost_per_mtok_usd=_cost_per_mtok(mo, disc),
        breakeven_price_usd_per_mtok=_breakeven_price(inp, mo, disc, npv),
        total_output_tokens=jnp.sum(mo.K, axis=0),
        total_revenue_usd=total_revenue,
        capex_usd=C,
        mirr_annual=_mirr_annual(CF, C, disc, inp["finance.discount_rate"], horizon),
        irr_unique=_irr_unique(CF, C),
        discounted_payback_months=_payback_months(CF * disc, C, m),
        revenue_per_gpu_hour_usd=rev_gpu_hour,
        revenue_to_rent_ratio=_revenue_to_rent(inp, rev_gpu_hour),
        sold_share=_sold_share(mo),
        facility_mw=mo.gpus * inp["power.kw_per_gpu"] * inp["power.pue"] / 1000,
        retire_month=mo.end,
        price_path_log_mean=_path_log_mean(mo, m),
        equity_npv_usd=eq.npv,
        equity_irr_annual=jnp.full(jnp.shape(C), jnp.nan, C.dtype),
        equity_multiple=eq.multiple,
        min_dscr=eq.min_dscr,
        annual_cashflow_usd=(annual_cf := _years(CF, horizon)),
        annual_revenue_usd=_years(mo.R, horizon),
        annual_energy_usd=_years(mo.E, horizon),
        annual_other_opex_usd=annual_other_opex,
        annual_tax_usd=_years(mo.T, horizon),
        annual_output_tokens=_years(mo.K, horizon),
        price_path_multiplier=_year_ends(mo.S, C, horizon),
        annual_equity_cashflow_usd=_years(eq.cf[1:], horizon) if eq.levered else annual_cf,
        annual_dscr=eq.dscr,
    )
    return out, jnp.concatenate([-C[None], CF], axis=0), eq.cf


class _Equity(NamedTuple):
    cf: Array  # (H + 1, ...) the equity cash flow, month 0 first
    npv: Array
    multiple: Array
    min_dscr: Array
    dscr: Array  # (years, ...) each year's DSCR, +inf in a year without debt service
    levered: bool  # whether the equity's flow differs from the project's (an IRR to solve)


#: (v2) The inputs of the capital structure: without any of them the equity is the project.
FINANCE_KEYS = ("debt.fraction", "finance.cost_of_equity")


def _equity(inp: Mapping[str, Array], mo: _Months, CF: Array, npv: Array, net_roi: Array, horizon: int) -> _Equity:
    """(v2) The equity's cash flow, NPV at the cost of equity, multiple and the minimum yearly DSCR."""
    C = mo.C
    cf = jnp.concatenate([-C[None], CF], axis=0)
    if not any(k in inp for k in FINANCE_KEYS):  # all equity, at the project's rate
        never = jnp.full(jnp.shape(C), jnp.inf, C.dtype)
        return _Equity(cf, npv, net_roi + 1, never, jnp.broadcast_to(never, (-(-horizon // 12), *jnp.shape(C))), False)
    B = inp["debt.fraction"] * C if "debt.fraction" in inp else jnp.zeros_like(C)
    DS, interest, balloon = _debt_service(inp, mo, B, horizon)
    if "debt.fraction" in inp:
        Te = _tax(inp["finance.tax_rate"][None], mo.X - interest, mo.earn, mo.carry)
        Te = jnp.where(mo.earn, Te, 0.0)  # interest outside the earning months is not deducted
    else:
        Te = mo.T
    margin = mo.R - mo.E - mo.O_m - Te
    eq = margin - DS - balloon + mo.sale
    eq_cf = jnp.concatenate([-(C - B)[None], eq], axis=0)
    rate = inp["finance.cost_of_equity"] if "finance.cost_of_equity" in inp else inp["finance.discount_rate"]
    eq_npv = jnp.sum(eq_cf * discount_factors(rate, horizon), axis=0)
    own = C - B
    multiple = jnp.where(own != 0, jnp.sum(eq, axis=0) / jnp.where(own != 0, own, 1.0), jnp.nan)
    service = _years(DS + balloon, horizon)
    earned = _years(margin, horizon)
    ratio = jnp.where(service > 0, earned / jnp.where(service > 0, service, 1.0), jnp.inf)
    return _Equity(eq_cf, eq_npv, multiple, jnp.min(ratio, axis=0), ratio, True)


def _debt_service(inp: Mapping[str, Array], mo: _Months, B: Array, horizon: int) -> tuple[Array, Array, Array]:
    """(v2) Level payments ``DS`` in months ``1 .. min(n, end)``, their interest, and the balloon at
    ``end`` when the cluster ends before the term, (H, ...) each.

    The balance after ``k`` payments is ``B (1+i)^k - DS ((1+i)^k - 1) / i`` (``B - DS k`` at
    ``i = 0``); interest is ``i`` times the balance before the payment.
    """
    m = _column(jnp.arange(1, horizon + 1, dtype=mo.C.dtype), jnp.ndim(mo.C))
    if "debt.fraction" not in inp:
        zero = jnp.zeros((horizon, *jnp.shape(mo.C)), mo.C.dtype)
        return zero, zero, zero
    i = inp["debt.annual_rate"] / 12 if "debt.annual_rate" in inp else jnp.zeros_like(B)
    n = jnp.floor(inp["debt.term_months"]) if "debt.term_months" in inp else jnp.full_like(B, 60.0)
    has_i = i > 0
    safe_i = jnp.where(has_i, i, 1.0)
    level = jnp.where(has_i, B * safe_i / -jnp.expm1(-n * jnp.log1p(safe_i)), B / n)
    paying = m <= jnp.minimum(n, mo.end)[None]
    growth = jnp.exp((m - 1) * jnp.log1p(jnp.where(has_i, i, 0.0))[None])  # (1+i)^(m-1)
    before = jnp.where(
        has_i[None], B[None] * growth - level[None] * (growth - 1) / safe_i[None], B[None] - level[None] * (m - 1)
    )
    interest = jnp.where(paying, i[None] * before, 0.0)
    DS = jnp.where(paying, level[None], 0.0)
    early = (m == mo.end[None]) & (mo.end < n)[None]
    balloon = jnp.where(early, before + interest - level[None], 0.0)
    return DS, interest, balloon


def _path_log_mean(mo: _Months, m: Array) -> Array:
    """(v2) The mean of ``log S(m)`` over the operating months ``b < m <= end`` (0 without a path;
    NaN without an operating month): the price path as one sensitivity input, ``price.path``."""
    n_op = mo.end - mo.b
    if mo.S is None:
        return jnp.where(n_op > 0, 0.0, jnp.nan) * jnp.ones_like(mo.C)
    op = (m > mo.b[None]) & (m <= mo.end[None])
    total = jnp.sum(jnp.where(op, jnp.log(mo.S), 0.0), axis=0)
    return jnp.where(n_op > 0, total / jnp.where(n_op > 0, n_op, 1.0), jnp.nan)


def _year_ends(S: Array | None, C: Array, horizon: int) -> Array:
    """(v2) ``S`` at each year's last month ``min(12 y, H)``, years first (1 without a path)."""
    n_years = -(-horizon // 12)
    if S is None:
        return jnp.ones((n_years, *jnp.shape(C)), C.dtype)
    last = np.minimum(12 * np.arange(1, n_years + 1), horizon) - 1
    return S[last]


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
    operates (``end <= b``)."""
    first_year = (m > mo.b[None]) & (m <= mo.b[None] + 12)
    revenue = jnp.sum(jnp.where(first_year, mo.R, 0.0), axis=0)
    return jnp.where(mo.end > mo.b, revenue / (mo.gpus * HOURS * 12), jnp.nan)


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


def _cost_per_mtok(mo: _Months, disc: Array) -> Array:
    """Present cost (capex, energy, other opex) per present million tokens produced (v2: contracted
    GPUs' tokens included); inf without tokens."""
    tokens_pv = jnp.sum(mo.Kp * disc, axis=0) / 1e6
    if mo.monthly_opex:  # v2: opex that escalates, starts after a build or stops at a retirement
        opex_pv = jnp.sum(mo.O_m * disc, axis=0)
    else:
        opex_pv = mo.O * jnp.sum(jnp.where(mo.live, disc, 0.0), axis=0)
    cost_pv = mo.C + jnp.sum(mo.E * disc, axis=0) + opex_pv
    return jnp.where(tokens_pv > 0, cost_pv / jnp.where(tokens_pv > 0, tokens_pv, 1.0), jnp.inf)


def _breakeven_price(inp: Mapping[str, Array], mo: _Months, disc: Array, npv: Array) -> Array:
    """The output price at which the NPV is 0; NaN where the NPV does not depend on it."""
    # NPV is affine in p_out: dNPV/dp_out = (1 - tax) * sum K/1e6 * price factor * disc
    # (* (1 - revenue share) in v2). Under a loss carryforward (v2), tax is counted in the months
    # that pay it and not in the others (the retirement month and the carried losses held fixed).
    if mo.carry:
        kept = 1 - jnp.where(mo.T > 0, inp["finance.tax_rate"], 0.0)
        slope = jnp.sum(mo.K / 1e6 * mo.pf * disc * kept, axis=0)
    else:
        slope = (1 - inp["finance.tax_rate"]) * jnp.sum(mo.K / 1e6 * mo.pf * disc, axis=0)
    if "revenue.share" in inp:
        slope = slope * (1 - inp["revenue.share"])
    return jnp.where(slope > 0, inp["price.usd_per_mtok_output"] - npv / jnp.where(slope > 0, slope, 1.0), jnp.nan)


def _live_months_per_year(L: Array, horizon: int) -> Array:
    """Live months in each year y = 1..ceil(H/12): ``min(12, max(0, L - 12 (y - 1)))``, years first."""
    n_years = -(-horizon // 12)
    return jnp.clip(L[None] - 12 * _column(jnp.arange(n_years, dtype=L.dtype), jnp.ndim(L)), 0.0, 12.0)


def evaluate_batch(
    inp: Mapping[str, Array],
    horizon: int,
    knots: np.ndarray | None = None,
    *,
    irr: bool = True,
    switches: Iterable[str] = (),
) -> Outputs:
    """All contract outputs for a batch of draws; ``inp`` maps input names to (n,) arrays.

    The equations run on the whole batch, months-major; the IRR is solved on the whole batch at
    once (:func:`irr_batch`), which lets its slow lanes be iterated apart from the rest. Every
    lane's arithmetic is its own, so the batch size never changes a draw's outputs. With
    ``irr=False`` the IRR is left NaN (and, the solve skipped, ``inp`` may also be one draw of
    0-d arrays).
    """
    out, cf, eq_cf = _evaluate_parts(inp, horizon, knots, switches)
    annual = {k: jnp.swapaxes(getattr(out, k), 0, -1) for k in ANNUAL_OUTPUTS}  # (years, n) -> (n, years)
    if not irr:
        return out._replace(**annual)
    i = irr_months_major(cf)
    out = out._replace(irr_annual=jnp.expm1(12 * jnp.log1p(i)), **annual)
    if "debt.fraction" not in inp:  # (v2) an unlevered equity's flow is the project's
        return out._replace(equity_irr_annual=out.irr_annual)
    # the equity's flow of this same evaluation (never a second one XLA might fuse differently)
    ie = irr_months_major(eq_cf)
    return out._replace(equity_irr_annual=jnp.expm1(12 * jnp.log1p(ie)))


def equity_cashflow(
    inp: Mapping[str, Array], horizon: int, knots: np.ndarray | None = None, switches: Iterable[str] = ()
) -> Array:
    """(v2) The equity's monthly cash flow, month 0 first, (H + 1, ...)."""
    mo = _months(inp, horizon, knots, frozenset(switches))
    C = mo.C
    disc = discount_factors(inp["finance.discount_rate"], horizon)[1:]
    npv = jnp.sum(mo.CF * disc, axis=0) - C
    return _equity(inp, mo, mo.CF, npv, jnp.zeros_like(C), horizon).cf


def evaluate(
    inp: Mapping[str, Array], horizon: int, knots: np.ndarray | None = None, switches: Iterable[str] = ()
) -> Outputs:
    """All contract outputs for ONE draw; ``inp`` maps contract input names to 0-d arrays (and the
    price path's ``z``/``w`` to (H,) arrays)."""
    batch = {k: jnp.asarray(v)[:, None] if k in PATH_KEYS else jnp.asarray(v)[None] for k, v in inp.items()}
    return jax.tree.map(lambda a: a[0], evaluate_batch(batch, horizon, knots, switches=switches))
