"""A slow, independent pure-Python implementation of cashflow contract v2, for tests only.

Written from shared/design/model.md (contract v2) alone, with plain floats, lists and loops
(``math`` only); it shares no code with mcroi and none with ``tests/reference.py`` (the v1
oracle), so that the tests can hold the three against each other.

Input: a flat dict ``{"group.name": value}`` as ``tests.reference.flat`` makes it. Every v2 input
has the contract's default. Inputs that mcroi samples per draw and that the contract cannot
give as a number are explicit inputs here:

- ``contract.default_month`` (``M_def``; default ``+inf``). ``default_month()`` turns a uniform
  ``w_c`` into ``M_def`` by the contract's formula.
- the price path, either ``price.path.S`` (a list of ``S(m)`` for ``m = 1 .. H``, item 0 is
  month 1) or ``price.path.z`` / ``price.path.w`` (lists of ``z(m)``, ``w(m)`` for
  ``m = 1 .. H``, item 0 is month 1 and is not used because ``S(1) = 1``), with
  ``price.volatility_annual``, ``price.jumps_per_year`` and ``price.jump_size``. Without any of
  them ``S(m) = 1``.

Readings of model.md
--------------------
Where model.md is silent or could be read two ways, this module takes the reading below (each
is also marked ``Reading n`` at the line that implements it). They are also in
``tests/REFERENCE_V2_NOTES.md``.

1. Inputs without a default in model.md are required, except the ones ``tests/reference.py``
   (v1) already defaults: ``workload.input_output_ratio`` 1, ``optimization.max_gain`` 1,
   ``optimization.half_life_months`` 6, ``utilization.ramp_months`` 0,
   ``opex.usd_per_gpu_month`` 0, ``opex.maintenance_pct_per_year`` 0.
2. Sizing: giving none, or more than one, of ``cluster.gpus``, ``capex.budget_usd``,
   ``cluster.power_mw`` is an error ("exactly one").
3. ``schedule.build_months``, ``debt.term_months`` and ``finance.horizon_months`` are taken as
   ``int(value)``; ``L = floor(min(L, H))``, and ``L < 1`` is an error (``V(m)`` divides by ``L``).
   ``contract.months``, ``utilization.ramp_months`` and ``finance.tax_depreciation_months`` may
   be fractional and are compared as given (``a <= contract.months``, ``a > ramp``,
   ``a <= N``; ``Dep = C (1 - residual) / N`` with the fractional ``N``).
4. ``end`` is ``L`` even when ``L <= b`` (the cluster never operates): it is still sold for
   ``V(L)`` at ``L``, and debt is paid in months ``1 .. min(n, L)`` with a balloon at ``L`` if
   ``L < n``.
5. The retirement month (``end = m`` after a retirement) "earns nothing": ``R``, ``E``, ``O``,
   ``K``, ``Kcap``, ``Dep``, ``X``, ``T`` and ``Te`` are all 0 in it (the model.md phrase
   "computed as if operating" says the cluster does not operate that month), ``CF(end) =
   V(end - 1)``, and the project's and equity's carried losses are not touched. The sale is
   not taxed (model.md taxes nothing but ``X``), and the basis not yet depreciated is not
   deducted.
6. In a retirement, the "``+ V(end)`` in month end" of ``EqCF`` is the sale price ``V(end - 1)``,
   the same amount as in ``CF``; without one it is ``V(L)``.
7. The month ``m = L`` may be a retirement month (it is an operating month after the ramp);
   retiring there sells for ``V(L - 1)`` instead of earning month ``L`` plus ``V(L)``.
8. Retirement conditions use ``contract.months`` as written, not the default month: a
   contract cut short by a default, or a ``contract.months`` given with ``contract.share = 0``,
   still blocks retirement until ``a(m) > contract.months``.
9. The retirement test compares the pre-tax ``R - E - O`` (as written), with ``V`` on calendar
   months (``V(m - 1) - V(m) = C (1 - residual) / L`` every month, build months included).
10. The equity tax ``Te`` is 0 outside the months in which the cluster earns (build months,
    the retirement month, months after ``end``), as model.md makes every tax 0 outside
    operating months: interest paid in those months is not deducted, gives no negative tax and
    does not add to the equity's carried loss.
11. Interest ``I(m)`` and the balance run only in months ``1 .. min(n, end)``; after the term
    the balance is 0 by definition (the tiny floating-point remainder of ``Bal(n)`` is dropped,
    not charged interest), and after a balloon it is 0.
12. "If the cluster ends before the term" is ``end < n``, whether the end is a retirement or
    ``L < n``, or the horizon: with ``L = H < n`` there is a balloon at ``H``.
13. ``min_dscr``: a year "with debt service" is one whose ``sum(DS + balloon) > 0``; the
    numerator ``sum(R - E - O - Te)`` has no sale proceeds ``V``. Years are months
    ``12y - 11 .. min(12y, H)``.
14. IRR (``irr_annual``, ``equity_irr_annual``): NaN unless the flow has both a positive and a
    negative month; roots are looked for on a grid of ``log(1 + i)`` in ``[-2, 3]`` (monthly
    ``i`` from about -86% to +1900%) then refined by bisection; with several roots the one with
    the smallest ``|i|`` is taken (model.md does not say which); NaN if none is found.
15. ``irr_unique``: sign changes of the cumulative flow ``sum_{k<=m} CF(k)``, ``m = 0 .. H``,
    are counted among its non-zero values (a cumulative flow that touches 0 and goes back is
    no change).
16. ``cost_per_mtok_usd`` is ``+inf`` when the discounted ``Kp`` is 0 (as the v1 reference does);
    model.md does not say.
17. ``breakeven_price_usd_per_mtok``: ``s`` is the exact analytic derivative
    ``sum dR(m)/dp_out * (1 - tax(m)) / (1 + r)^m`` over the months that earn (the retirement
    month held fixed), ``dR/dp_out = K/1e6 * (1 - decline)^((m-1)/12) * g^-pt * S * (1 - share)``
    (demand does not depend on the price), ``tax(m) = tax_rate`` without carryforward, and
    under carryforward ``tax_rate`` where ``T(m) > 0`` and 0 elsewhere. NaN only where ``s == 0``.
18. ``revenue_per_gpu_hour_usd`` divides the revenue of operating months ``a = 1 .. 12`` by
    ``gpus * HOURS * 12`` even when fewer than 12 operating months exist (a short life or early
    retirement); it is NaN only when there is no operating month (``end <= b``). A retirement
    in the first operating month gives 0, not NaN.
19. ``revenue_to_rent_ratio`` is NaN when ``market.gpu_hour_usd`` is absent or 0.
20. ``sold_share`` uses the ``Kcap`` of the months that earn (0 in the retirement month).
21. ``price_path_multiplier[year]`` is ``S`` at month ``min(12 y, H)`` (a short last year uses
    its last month, ``H``); ``S`` runs on calendar months whether or not the cluster operates.
22. Price path given as ``z``/``w``: a missing ``z`` list is all zeros (so the ``-sig^2/2`` drift
    still applies when ``sig > 0``), a missing ``w`` list is all ones (no jump). ``price.path.S``,
    when given, is used as is and the volatility/jump inputs are ignored.
23. The sensitivity input ``price.path`` (mean of ``log S(m)`` over operating months) is returned
    as ``price_path_log_mean`` over ``b < m <= end`` including a retirement month; NaN without
    an operating month, ``-inf`` when ``S`` reaches 0 (a jump of size 1).
24. ``equity_multiple`` is NaN where ``C == B`` (as written), even for ``C = B = 0``;
    ``roi_multiple`` and ``net_roi`` are NaN where ``C == 0`` (as the v1 reference does).
25. Demand ``Dm`` does not respond to the price ("at the going price" is read as a description,
    not an elasticity); it caps merchant tokens only, never contracted GPUs.
26. ``S(1) = 1`` whatever ``z(1)``, ``w(1)`` are: the first items of ``price.path.z`` and
    ``price.path.w`` are read but not used. Contract revenue is paid for every hour of the month
    (``HOURS``), whatever the utilization, and is not subject to ``revenue.share``.
"""

from __future__ import annotations

import math

HOURS = 730.0

# inputs that model.md gives a default for, and the ones tests/reference.py already defaulted
# (Reading 1). Missing keys not listed here are required.
_DEFAULTS: dict[str, object] = {
    "finance.horizon_months": 60,
    "price.usd_per_mtok_input": 0.0,
    "power.idle_fraction": 0.3,
    "opex.usd_per_gpu_hour": 0.0,
    "finance.tax_rate": 0.0,
    "finance.residual_value_pct": 0.0,
    # v1 defaults of tests/reference.py, not in model.md (Reading 1)
    "workload.input_output_ratio": 1.0,
    "optimization.max_gain": 1.0,
    "optimization.half_life_months": 6.0,
    "utilization.ramp_months": 0.0,
    "opex.usd_per_gpu_month": 0.0,
    "opex.maintenance_pct_per_year": 0.0,
    # v2 defaults, model.md
    "schedule.build_months": 0,
    "price.gain_pass_through": 0.0,
    "price.volatility_annual": 0.0,
    "price.jumps_per_year": 0.0,
    "price.jump_size": 0.0,
    "demand.output_mtok_per_month": math.inf,
    "demand.annual_growth": 0.0,
    "revenue.share": 0.0,
    "contract.share": 0.0,
    "contract.usd_per_gpu_hour": 0.0,
    "contract.months": 0.0,
    "contract.default_per_year": 0.0,
    "contract.default_month": math.inf,
    "power.annual_price_change": 0.0,
    "opex.annual_escalation": 0.0,
    "finance.tax_loss_carryforward": False,
    "finance.retire_when_unprofitable": False,
    "debt.fraction": 0.0,
    "debt.annual_rate": 0.0,
    "debt.term_months": 60,
}


def _get(x: dict, key: str):
    if key in x:
        return x[key]
    if key in _DEFAULTS:
        return _DEFAULTS[key]
    raise KeyError(f"required input {key!r} missing")


def default_month(build_months: int, w_c: float, default_per_year: float) -> float:
    """``M_def = b + ceil(-12 ln(w_c) / default_per_year)``, ``+inf`` when the rate is 0."""
    if default_per_year == 0:
        return math.inf
    return build_months + math.ceil(-12.0 * math.log(w_c) / default_per_year)


def gpu_count(x: dict) -> float:
    """Sizing: exactly one of cluster.gpus, capex.budget_usd, cluster.power_mw (Reading 2)."""
    given = [k for k in ("cluster.gpus", "capex.budget_usd", "cluster.power_mw") if k in x]
    if len(given) != 1:
        raise ValueError(f"exactly one of cluster.gpus, capex.budget_usd, cluster.power_mw, got {given}")
    if given[0] == "cluster.gpus":
        return float(x["cluster.gpus"])
    if given[0] == "capex.budget_usd":
        return x["capex.budget_usd"] / x["capex.usd_per_gpu"]
    return x["cluster.power_mw"] * 1000.0 / (x["power.kw_per_gpu"] * x["power.pue"])


def price_path(x: dict, H: int) -> list[float]:
    """``S[m]`` for ``m = 0 .. H`` (``S[0]`` is unused and set to 1)."""
    if "price.path.S" in x:
        given = [float(v) for v in x["price.path.S"]]
        if len(given) < H:
            raise ValueError("price.path.S needs one value per month 1 .. H")
        return [1.0] + given[:H]
    sig = _get(x, "price.volatility_annual") / math.sqrt(12.0)
    lam = _get(x, "price.jumps_per_year")
    jump = _get(x, "price.jump_size")
    # Reading 22: missing z -> 0, missing w -> 1 (never a jump)
    z = list(x.get("price.path.z", [0.0] * H))
    w = list(x.get("price.path.w", [1.0] * H))
    threshold = 1.0 - math.exp(-lam / 12.0)
    S = [1.0, 1.0]  # S[0] unused, S(1) = 1 whatever z(1), w(1) (Reading 26)
    for m in range(2, H + 1):
        J = 1 if w[m - 1] < threshold else 0
        S.append(S[m - 1] * math.exp(sig * z[m - 1] - sig**2 / 2.0) * (1.0 - jump) ** J)
    return S


def cashflows(x: dict) -> dict:
    """Monthly series, each a list indexed by month ``m = 0 .. H``, and the scalars they need."""
    H = int(_get(x, "finance.horizon_months"))
    L = int(math.floor(min(x.get("finance.useful_life_months", H), H)))
    if L < 1:
        raise ValueError("useful life under one month")  # Reading 3
    b = int(_get(x, "schedule.build_months"))

    gpus = gpu_count(x)
    usd_per_gpu = x["capex.usd_per_gpu"]
    C = gpus * usd_per_gpu
    tps = x["throughput.output_tokens_per_s_per_gpu"]
    ratio = _get(x, "workload.input_output_ratio")
    max_gain = _get(x, "optimization.max_gain")
    half_life = _get(x, "optimization.half_life_months")
    ss = x["utilization.steady_state"]
    ramp = _get(x, "utilization.ramp_months")
    p_out = x["price.usd_per_mtok_output"]
    p_in = _get(x, "price.usd_per_mtok_input")
    decline = x["price.annual_decline"]
    pt = _get(x, "price.gain_pass_through")
    kw = x["power.kw_per_gpu"]
    idle = _get(x, "power.idle_fraction")
    pue = x["power.pue"]
    usd_per_kwh = x["power.usd_per_kwh"]
    power_change = _get(x, "power.annual_price_change")
    opex_month = _get(x, "opex.usd_per_gpu_month")
    opex_hour = _get(x, "opex.usd_per_gpu_hour")
    maintenance = _get(x, "opex.maintenance_pct_per_year")
    escalation = _get(x, "opex.annual_escalation")
    tax = _get(x, "finance.tax_rate")
    residual = _get(x, "finance.residual_value_pct")
    N = x["finance.tax_depreciation_months"] if "finance.tax_depreciation_months" in x else L - b
    carry = bool(_get(x, "finance.tax_loss_carryforward"))
    retire = bool(_get(x, "finance.retire_when_unprofitable"))
    demand = _get(x, "demand.output_mtok_per_month")
    growth = _get(x, "demand.annual_growth")
    rev_share = _get(x, "revenue.share")
    c_share = _get(x, "contract.share")
    c_rate = _get(x, "contract.usd_per_gpu_hour")
    c_months = _get(x, "contract.months")
    M_def = _get(x, "contract.default_month")
    S = price_path(x, H)

    def V(m: int) -> float:
        return C * (1.0 - (1.0 - residual) * m / L)

    def g_of(m: int) -> float:
        return 1.0 + (max_gain - 1.0) * (1.0 - 2.0 ** (-m / half_life))

    zeros = [0.0] * (H + 1)
    R, E, O, K, Kcap, Kp, Dep, dRdp = (list(zeros) for _ in range(8))  # noqa: E741
    cs_s, u_s, ue_s, P_s, g_s = (list(zeros) for _ in range(5))
    sale = list(zeros)
    earns = [False] * (H + 1)  # months in which the cluster earns (Reading 5)

    end = L
    retired = False
    for m in range(1, L + 1):
        if m <= b:
            continue  # building
        a = m - b
        g = g_of(m)
        u = ss if ramp == 0 else ss * min(1.0, a / ramp)
        cs = c_share if (1 <= a <= c_months and m < M_def) else 0.0
        kcap = gpus * (1.0 - cs) * tps * g * 3600.0 * HOURS * u
        Dm = demand * 1e6 * (1.0 + growth) ** ((a - 1) / 12.0)  # no price response (Reading 25)
        k = min(kcap, Dm)
        ue = 0.0 if kcap == 0 else u * k / kcap
        price_factor = (1.0 - decline) ** ((m - 1) / 12.0) * g ** (-pt) * S[m]
        P = (p_out + ratio * p_in) * price_factor
        r_m = k / 1e6 * P * (1.0 - rev_share) + gpus * cs * c_rate * HOURS  # Reading 26
        e = usd_per_kwh * (1.0 + power_change) ** ((m - 1) / 12.0)
        e_m = gpus * kw * pue * HOURS * e * ((1.0 - cs) * (idle + (1.0 - idle) * ue) + cs)
        o_m = gpus * (opex_month + opex_hour * HOURS) * (1.0 + escalation) ** ((m - 1) / 12.0) + C * maintenance / 12.0
        # Retirement, Readings 7-9: a(m) > ramp and a(m) > contract.months, pre-tax, calendar V
        if retire and a > ramp and a > c_months and r_m - e_m - o_m < V(m - 1) - V(m):
            end = m
            retired = True
            sale[m] = V(m - 1)  # earns nothing this month (Reading 5)
            break
        earns[m] = True
        R[m], E[m], O[m], K[m], Kcap[m] = r_m, e_m, o_m, k, kcap
        Kp[m] = k + gpus * cs * tps * g * 3600.0 * HOURS * u
        Dep[m] = C * (1.0 - residual) / N if a <= N else 0.0
        dRdp[m] = k / 1e6 * price_factor * (1.0 - rev_share)
        cs_s[m], u_s[m], ue_s[m], P_s[m], g_s[m] = cs, u, ue, P, g
    if not retired:
        sale[L] = V(L)  # Reading 4: also when L <= b

    # project tax, with or without carryforward; 0 in months that do not earn
    X, T = list(zeros), list(zeros)
    nol = 0.0
    for m in range(1, H + 1):
        if not earns[m]:
            continue
        X[m] = R[m] - E[m] - O[m] - Dep[m]
        if carry:
            Y = X[m] - nol
            T[m] = tax * max(Y, 0.0)
            nol = max(-Y, 0.0)
        else:
            T[m] = tax * X[m]

    # debt: level payment over months 1 .. min(n, end), balloon at end if end < n
    B = _get(x, "debt.fraction") * C
    i = _get(x, "debt.annual_rate") / 12.0
    n = int(_get(x, "debt.term_months"))
    if B == 0:
        DS_level = 0.0
    elif i == 0:
        DS_level = B / n
    else:
        DS_level = B * i / (1.0 - (1.0 + i) ** (-n))
    DS, I, balloon, Bal = list(zeros), list(zeros), list(zeros), list(zeros)  # noqa: E741
    Bal[0] = B
    for m in range(1, H + 1):
        if m <= min(n, end):
            I[m] = i * Bal[m - 1]
            DS[m] = DS_level
            Bal[m] = Bal[m - 1] + I[m] - DS[m]
            if m == end and end < n:  # Reading 12
                balloon[m] = Bal[m]
                Bal[m] = 0.0
        else:
            Bal[m] = 0.0  # Reading 11

    # equity tax on Xe = X - I, own carryforward; 0 where the cluster does not earn (Reading 10)
    Xe, Te = list(zeros), list(zeros)
    nol_e = 0.0
    for m in range(1, H + 1):
        if not earns[m]:
            continue
        Xe[m] = X[m] - I[m]
        if carry:
            Y = Xe[m] - nol_e
            Te[m] = tax * max(Y, 0.0)
            nol_e = max(-Y, 0.0)
        else:
            Te[m] = tax * Xe[m]

    # the sale is V(end - 1) after a retirement, V(L) otherwise, in CF and EqCF alike (Reading 6)
    CF = [-C] + [R[m] - E[m] - O[m] - T[m] + sale[m] for m in range(1, H + 1)]
    EqCF = [-(C - B)] + [R[m] - E[m] - O[m] - Te[m] - DS[m] - balloon[m] + sale[m] for m in range(1, H + 1)]

    return {
        "H": H,
        "L": L,
        "b": b,
        "N": N,
        "end": end,
        "retired": retired,
        "gpus": gpus,
        "C": C,
        "B": B,
        "DS_level": DS_level,
        "earns": earns,
        "S": S,
        "CF": CF,
        "EqCF": EqCF,
        "R": R,
        "E": E,
        "O": O,
        "K": K,
        "Kcap": Kcap,
        "Kp": Kp,
        "Dep": Dep,
        "X": X,
        "T": T,
        "Xe": Xe,
        "Te": Te,
        "DS": DS,
        "balloon": balloon,
        "interest": I,
        "balance": Bal,
        "sale": sale,
        "V": [V(m) for m in range(H + 1)],
        "cs": cs_s,
        "u": u_s,
        "ue": ue_s,
        "P": P_s,
        "g": g_s,
        "dR_dp_out": dRdp,
    }


# ----------------------------------------------------------------------------------------------
# cashflow metrics


def npv(rate_monthly: float, flows: list[float]) -> float:
    return sum(c / (1.0 + rate_monthly) ** m for m, c in enumerate(flows))


def _npv_at_log(t: float, flows: list[float]) -> float:
    # NPV at monthly rate exp(t) - 1, by Horner in x = 1 / (1 + i) = exp(-t)
    x = math.exp(-t)
    acc = 0.0
    for c in reversed(flows):
        acc = acc * x + c
    return acc


def irr_monthly(flows: list[float]) -> float:
    """Monthly IRR; NaN without both signs or without a root (Reading 14)."""
    if not (any(c > 0 for c in flows) and any(c < 0 for c in flows)):
        return math.nan
    lo_t, hi_t, steps = -2.0, 3.0, 2500
    grid = [lo_t + (hi_t - lo_t) * k / steps for k in range(steps + 1)]
    vals = [_npv_at_log(t, flows) for t in grid]
    roots = []
    for k in range(steps):
        f0, f1 = vals[k], vals[k + 1]
        if f0 == 0.0:
            roots.append(grid[k])
            continue
        if f0 * f1 < 0:
            a, c, fa = grid[k], grid[k + 1], f0
            for _ in range(200):
                mid = 0.5 * (a + c)
                fm = _npv_at_log(mid, flows)
                if fm == 0.0 or mid in (a, c):
                    break
                if (fm < 0) == (fa < 0):
                    a, fa = mid, fm
                else:
                    c = mid
            roots.append(0.5 * (a + c))
    if vals[steps] == 0.0:
        roots.append(grid[steps])
    if not roots:
        return math.nan
    rates = [math.exp(t) - 1.0 for t in roots]
    return min(rates, key=abs)


def annualize(i: float) -> float:
    return (1.0 + i) ** 12 - 1.0 if not math.isnan(i) else math.nan


def payback(flows: list[float], rate_monthly: float = 0.0) -> float:
    """First ``m >= 1`` with ``sum_{k<=m} CF(k) / (1+r)^k >= 0``; +inf if none."""
    cum = 0.0
    for m, c in enumerate(flows):
        cum += c / (1.0 + rate_monthly) ** m
        if m >= 1 and cum >= 0:
            return float(m)
    return math.inf


def mirr_annual(flows: list[float], rate_monthly: float) -> float:
    H = len(flows) - 1
    pos = sum(c * (1.0 + rate_monthly) ** (H - m) for m, c in enumerate(flows) if c > 0)
    neg = sum(-c * (1.0 + rate_monthly) ** (-m) for m, c in enumerate(flows) if c < 0)
    if pos == 0 or neg == 0:
        return math.nan
    return (pos / neg) ** (12.0 / H) - 1.0


def irr_unique(flows: list[float]) -> float:
    """1.0 when the cumulative flow changes sign exactly once (Reading 15)."""
    cum, signs = 0.0, []
    for c in flows:
        cum += c
        if cum != 0:
            signs.append(cum > 0)
    changes = sum(1 for p, q in zip(signs, signs[1:], strict=False) if p != q)
    return 1.0 if changes == 1 else 0.0


def _years(H: int) -> list[range]:
    return [range(12 * y + 1, min(12 * (y + 1), H) + 1) for y in range(-(-H // 12))]


# ----------------------------------------------------------------------------------------------


def outputs(x: dict) -> dict:
    f = cashflows(x)
    H, b, end, C, B, gpus = f["H"], f["b"], f["end"], f["C"], f["B"], f["gpus"]
    CF, EqCF, R, E, O, K, Kcap, T = (f[k] for k in ("CF", "EqCF", "R", "E", "O", "K", "Kcap", "T"))  # noqa: E741
    r = (1.0 + x["finance.discount_rate"]) ** (1.0 / 12.0) - 1.0
    coe = x["finance.cost_of_equity"] if "finance.cost_of_equity" in x else x["finance.discount_rate"]
    re = (1.0 + coe) ** (1.0 / 12.0) - 1.0
    tax = _get(x, "finance.tax_rate")
    carry = bool(_get(x, "finance.tax_loss_carryforward"))

    npv_usd = npv(r, CF)

    disc_tokens = sum(f["Kp"][m] / (1.0 + r) ** m for m in range(H + 1)) / 1e6
    disc_cost = C + sum((E[m] + O[m]) / (1.0 + r) ** m for m in range(H + 1))

    # Reading 17: analytic derivative of npv in p_out, retirement month and paying months fixed
    s = 0.0
    for m in range(1, H + 1):
        if not f["earns"][m]:
            continue
        tax_m = (tax if T[m] > 0 else 0.0) if carry else tax
        s += f["dR_dp_out"][m] * (1.0 - tax_m) / (1.0 + r) ** m
    breakeven = x["price.usd_per_mtok_output"] - npv_usd / s if s != 0 else math.nan

    years = _years(H)
    annual = [sum(CF[m] for m in yr) for yr in years]
    annual_eq = [sum(EqCF[m] for m in yr) for yr in years]

    # revenue per GPU-hour over operating months a = 1 .. 12 (Reading 18)
    if end > b:
        first_year = [m for m in range(b + 1, min(b + 12, end) + 1)]
        rev_gpu_hour = sum(R[m] for m in first_year) / (gpus * HOURS * 12.0)
    else:
        rev_gpu_hour = math.nan
    rent = x.get("market.gpu_hour_usd")
    rent_ratio = rev_gpu_hour / rent if rent else math.nan  # Reading 19

    sum_kcap = sum(Kcap)  # Kcap is 0 in a retirement month (Reading 20)
    sold = sum(K) / sum_kcap if sum_kcap != 0 else math.nan

    # min DSCR over years with debt service (Reading 13)
    dscr = math.inf
    for yr in years:
        service = sum(f["DS"][m] + f["balloon"][m] for m in yr)
        if service > 0:
            earned = sum(R[m] - E[m] - O[m] - f["Te"][m] for m in yr)
            dscr = min(dscr, earned / service)

    op_months = range(b + 1, end + 1)
    logs = [math.log(f["S"][m]) if f["S"][m] > 0 else -math.inf for m in op_months]  # S = 0 after a full jump
    path_log_mean = sum(logs) / len(logs) if logs else math.nan

    return {
        "npv_usd": npv_usd,
        "irr_annual": annualize(irr_monthly(CF)),
        "payback_months": payback(CF),
        "roi_multiple": sum(R) / C if C != 0 else math.nan,
        "net_roi": sum(CF[1:]) / C - 1.0 if C != 0 else math.nan,
        "cost_per_mtok_usd": disc_cost / disc_tokens if disc_tokens > 0 else math.inf,  # Reading 16
        "breakeven_price_usd_per_mtok": breakeven,
        "total_output_tokens": sum(K),
        "total_revenue_usd": sum(R),
        "capex_usd": C,
        "annual_cashflow_usd": annual,
        "mirr_annual": mirr_annual(CF, r),
        "irr_unique": irr_unique(CF),
        "discounted_payback_months": payback(CF, r),
        "revenue_per_gpu_hour_usd": rev_gpu_hour,
        "revenue_to_rent_ratio": rent_ratio,
        "sold_share": sold,
        "retire_month": float(end),
        "facility_mw": gpus * x["power.kw_per_gpu"] * x["power.pue"] / 1000.0,
        "equity_npv_usd": npv(re, EqCF),
        "equity_irr_annual": annualize(irr_monthly(EqCF)),
        "equity_multiple": sum(EqCF[1:]) / (C - B) if C != B else math.nan,  # Reading 24
        "min_dscr": dscr,
        "annual_equity_cashflow_usd": annual_eq,
        "price_path_multiplier": [f["S"][min(12 * (y + 1), H)] for y in range(len(years))],  # Reading 21
        # extras, not outputs of the contract
        "price_path_log_mean": path_log_mean,  # Reading 23
        "breakeven_slope": s,
        "monthly": f,
        "cashflow": CF,
    }
