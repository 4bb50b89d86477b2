"""The v2 reference (tests/reference_v2.py) against numbers it did not compute.

Oracles: the numbers written in shared/design/model.md, the v1 reference (tests/reference.py) on v1
inputs, numpy-financial (irr, pmt, ipmt, ppmt, mirr, npv), and cashflows worked out by hand from the
contract's equations in each test. Where a check depends on a reading of an ambiguous sentence of
model.md it names the reading (see tests/REFERENCE_V2_NOTES.md).
"""

from __future__ import annotations

import math

import numpy as np
import numpy_financial as npf
import pytest

from tests import reference as ref
from tests import reference_v2 as r2
from tests.helpers import V1_SCALARS, random_constant_scenario

RTOL = 1e-12
ATOL_USD = 1e-6


def money(got, want, rtol=RTOL, atol=ATOL_USD):
    np.testing.assert_allclose(got, want, rtol=rtol, atol=atol)


def base(**kw) -> dict:
    """The contract's reference case, flat, with overrides."""
    x = ref.flat(ref.REFERENCE_CASE)
    x.update(kw)
    return x


def run(**kw) -> dict:
    return r2.outputs(base(**kw))


def months(out, key):
    return np.array(out["monthly"][key])


# --------------------------------------------------------------------------------------------
# numbers written in model.md


def test_v1_reference_case():
    out = run()
    money(out["npv_usd"], 1.033e8)
    assert out["payback_months"] == 20
    np.testing.assert_allclose(out["roi_multiple"], 3.1536, rtol=RTOL)
    money(months(out, "K")[1:], [1.314e12] * 60, atol=1e-3)
    money(months(out, "R")[1:], [2.628e6] * 60)
    money(months(out, "E")[1:], [73000.0] * 60)
    money(months(out, "CF"), [-5e7] + [2.555e6] * 60)
    money(out["capex_usd"], 5e7)
    money(out["annual_cashflow_usd"], [12 * 2.555e6] * 5)
    assert out["retire_month"] == 60
    assert out["sold_share"] == 1
    assert out["min_dscr"] == math.inf
    money(out["facility_mw"], 1.0)
    # 12 months of 2.628e6 over 1000 GPUs * 730 h * 12
    money(out["revenue_per_gpu_hour_usd"], 2.628e6 / 730e3)
    assert math.isnan(out["revenue_to_rent_ratio"])
    money(run(**{"market.gpu_hour_usd": 2.0})["revenue_to_rent_ratio"], 2.628e6 / 730e3 / 2.0)


def test_v2_demand_case():
    out = run(**{"demand.output_mtok_per_month": 657000})
    money(months(out, "K")[1:], [6.57e11] * 60, atol=1e-3)
    money(months(out, "R")[1:], [1.314e6] * 60)
    money(months(out, "E")[1:], [73000.0] * 60)
    money(months(out, "CF")[1:], [1.241e6] * 60)
    money(out["npv_usd"], 2.446e7)
    assert out["payback_months"] == 41
    np.testing.assert_allclose(out["sold_share"], 0.5, rtol=RTOL)


def test_debt_case():
    out = run(**{"debt.fraction": 0.5, "debt.annual_rate": 0.0, "debt.term_months": 50})
    money(months(out, "DS")[1:51], [5e5] * 50)
    money(months(out, "DS")[51:], [0.0] * 10)
    money(months(out, "EqCF"), [-2.5e7] + [2.055e6] * 50 + [2.555e6] * 10)
    money(out["equity_npv_usd"], 1.033e8)
    np.testing.assert_allclose(out["min_dscr"], 5.11, rtol=RTOL)
    money(months(out, "balance")[50:], [0.0] * 11)
    assert out["equity_multiple"] == pytest.approx((50 * 2.055e6 + 10 * 2.555e6) / 2.5e7, rel=RTOL)


# --------------------------------------------------------------------------------------------
# v1 invariance: with every v2 input at its default, v2 is v1


@pytest.mark.parametrize("case", range(8))
def test_v1_invariance(case):
    x = ref.flat(random_constant_scenario(np.random.default_rng(7100 + case)))
    want = ref.outputs(x)
    got = r2.outputs(x)
    scale = 1e-12 * got["capex_usd"]
    for k in V1_SCALARS:
        if math.isinf(want[k]) or math.isnan(want[k]):
            assert got[k] == want[k] or (math.isnan(got[k]) and math.isnan(want[k])), k
        else:
            np.testing.assert_allclose(got[k], want[k], rtol=1e-12, atol=scale, err_msg=k)
    np.testing.assert_allclose(got["annual_cashflow_usd"], want["annual_cashflow_usd"], rtol=1e-12, atol=scale)
    np.testing.assert_allclose(got["cashflow"], want["cashflow"], rtol=1e-12, atol=scale)
    # the v2 outputs that collapse at defaults
    assert got["monthly"]["EqCF"] == got["monthly"]["CF"]
    assert got["equity_npv_usd"] == got["npv_usd"]
    assert got["annual_equity_cashflow_usd"] == got["annual_cashflow_usd"]
    assert got["min_dscr"] == math.inf
    assert got["sold_share"] == 1.0
    assert got["retire_month"] == math.floor(min(x["finance.useful_life_months"], x["finance.horizon_months"]))
    assert got["price_path_multiplier"] == [1.0] * len(got["annual_cashflow_usd"])
    assert got["irr_annual"] == got["equity_irr_annual"] or math.isnan(got["irr_annual"])


# --------------------------------------------------------------------------------------------
# IRR, amortization, MIRR, NPV against numpy-financial


def sign_changes(flows) -> int:
    a = np.asarray(flows)
    s = np.sign(a[a != 0])
    return int(np.sum(s[1:] != s[:-1]))


IRR_CASES = [
    {},
    {
        "finance.tax_rate": 0.3,
        "optimization.max_gain": 2.5,
        "price.annual_decline": 0.4,
        "finance.residual_value_pct": 0.1,
    },
    {"schedule.build_months": 6, "utilization.ramp_months": 9, "price.usd_per_mtok_output": 1.2},
    {"debt.fraction": 0.7, "debt.annual_rate": 0.09, "debt.term_months": 48, "finance.tax_rate": 0.25},
    {"debt.fraction": 0.4, "debt.annual_rate": 0.06, "schedule.build_months": 4, "price.annual_decline": 0.1},
]


@pytest.mark.parametrize("kw", IRR_CASES)
def test_irr_against_numpy_financial(kw):
    out = run(**kw)
    for flows, got in ((out["cashflow"], out["irr_annual"]), (out["monthly"]["EqCF"], out["equity_irr_annual"])):
        assert sign_changes(flows) == 1  # one root: npf and the reference must agree
        i = npf.irr(np.array(flows))
        np.testing.assert_allclose(got, (1 + i) ** 12 - 1, rtol=1e-9, atol=1e-12)
    r = (1 + 0.0) ** (1 / 12) - 1
    money(out["npv_usd"], npf.npv(r, np.array(out["cashflow"])), atol=1e-4)


def test_irr_nan_without_sign_change():
    # the cluster loses money every month: no IRR
    out = run(**{"price.usd_per_mtok_output": 0.01})
    assert all(c <= 0 for c in out["cashflow"])
    assert math.isnan(out["irr_annual"])
    assert math.isnan(out["mirr_annual"])
    assert out["payback_months"] == math.inf
    assert out["discounted_payback_months"] == math.inf


def test_amortization_against_numpy_financial():
    rate, n, frac, tax = 0.08, 48, 0.6, 0.2
    out = run(**{"debt.fraction": frac, "debt.annual_rate": rate, "debt.term_months": n, "finance.tax_rate": tax})
    C = 5e7
    B = frac * C
    i = rate / 12
    per = np.arange(1, n + 1)
    DS = months(out, "DS")
    I = months(out, "interest")  # noqa: E741
    Bal = months(out, "balance")
    money(DS[1 : n + 1], -npf.pmt(i, n, B) * np.ones(n))
    money(DS[n + 1 :], np.zeros(60 - n))
    money(I[1 : n + 1], -npf.ipmt(i, per, n, B))
    money(I[n + 1 :], np.zeros(60 - n))
    money(Bal[1 : n + 1], B + np.cumsum(npf.ppmt(i, per, n, B)), atol=1e-5)
    money(Bal[n], 0.0, atol=1e-5)
    # EqCF = R - E - O - Te - DS with Te = tax * (X - I): EqCF = CF + tax * I - DS
    CF = months(out, "CF")
    money(months(out, "EqCF")[1:], CF[1:] + tax * I[1:] - DS[1:])
    money(months(out, "EqCF")[0], -(C - B))
    # equity discounted at its own rate
    out2 = run(
        **{"debt.fraction": frac, "debt.annual_rate": rate, "debt.term_months": n, "finance.cost_of_equity": 0.15}
    )
    re = 1.15 ** (1 / 12) - 1
    money(out2["equity_npv_usd"], npf.npv(re, np.array(out2["monthly"]["EqCF"])), atol=1e-4)
    money(out2["npv_usd"], 1.033e8)


def test_mirr_formula_and_numpy_financial():
    kw = {
        "finance.discount_rate": 0.12,
        "finance.tax_rate": 0.3,
        "price.annual_decline": 0.5,
        "optimization.max_gain": 2.0,
        "finance.residual_value_pct": 0.15,
        "schedule.build_months": 3,
    }
    out = run(**kw)
    cf = np.array(out["cashflow"])
    H = len(cf) - 1
    r = 1.12 ** (1 / 12) - 1
    m = np.arange(H + 1)
    pos = np.sum(np.where(cf > 0, cf * (1 + r) ** (H - m), 0.0))
    neg = np.sum(np.where(cf < 0, -cf * (1 + r) ** (-m), 0.0))
    want = (pos / neg) ** (12 / H) - 1
    np.testing.assert_allclose(out["mirr_annual"], want, rtol=1e-12)
    np.testing.assert_allclose(out["mirr_annual"], (1 + npf.mirr(cf, r, r)) ** 12 - 1, rtol=1e-10)


# --------------------------------------------------------------------------------------------
# hand-checked v2 cases


def test_build_months_first_token_after_build():
    out = run(**{"schedule.build_months": 3})
    K, CF = months(out, "K"), months(out, "CF")
    assert list(K[1:4]) == [0.0] * 3 and list(CF[1:4]) == [0.0] * 3
    money(K[4:], [1.314e12] * 57, atol=1e-3)
    money(CF[4:], [2.555e6] * 57)
    money(out["npv_usd"], 57 * 2.555e6 - 5e7)
    assert out["payback_months"] == 23  # 20 operating months after 3 build months
    money(out["revenue_per_gpu_hour_usd"], 2.628e6 / 730e3)
    assert out["retire_month"] == 60


def test_build_months_ramp_gain_tax_depreciation_and_demand_clock():
    b, ramp, tax = 3, 2, 0.3
    out = run(
        **{
            "schedule.build_months": b,
            "utilization.ramp_months": ramp,
            "optimization.max_gain": 2.0,
            "optimization.half_life_months": 6.0,
            "finance.tax_rate": tax,
            "power.idle_fraction": 0.3,
            "demand.output_mtok_per_month": 700000,
            "demand.annual_growth": 0.2,
        }
    )
    K, R, E, T, Dep = (months(out, k) for k in ("K", "R", "E", "T", "Dep"))
    for m in range(4, 61):
        a = m - b
        g = 1 + (2 - 1) * (1 - 2 ** (-m / 6))  # software gain on the calendar month
        u = 0.5 * min(1, a / ramp)  # ramp on the month of operation
        kcap = 1000 * 1000 * g * 3600 * 730 * u
        dm = 7e11 * 1.2 ** ((a - 1) / 12)  # demand grows from the first operating month
        k = min(kcap, dm)
        ue = u * k / kcap
        money(K[m], k, atol=1e-3)
        money(R[m], k / 1e6 * 2)
        money(E[m], 1000 * 730 * 0.1 * (0.3 + 0.7 * ue))
        money(Dep[m], 5e7 / 57)  # N defaults to L - b = 57
        money(T[m], tax * (k / 1e6 * 2 - E[m] - 5e7 / 57))
    Kcap = months(out, "Kcap")
    assert Kcap[4] == pytest.approx(1e6 * 3600 * 730 * 0.25 * (2 - 2 ** (-4 / 6)), rel=1e-12)
    assert K[4] == pytest.approx(7e11, rel=1e-12)  # demand binds in the first operating month
    assert T[1] == T[2] == T[3] == 0.0
    sold = np.sum(K) / np.sum(Kcap)
    assert 0 < sold < 1
    np.testing.assert_allclose(out["sold_share"], sold, rtol=1e-12)


def test_tax_depreciation_months():
    # expensed at once
    out = run(**{"finance.tax_depreciation_months": 1, "finance.tax_rate": 0.2})
    T = months(out, "T")
    money(T[1], 0.2 * (2.555e6 - 5e7))
    money(T[2:], [0.2 * 2.555e6] * 59)
    # 24 months
    out = run(**{"finance.tax_depreciation_months": 24, "finance.tax_rate": 0.2, "finance.residual_value_pct": 0.1})
    T = months(out, "T")
    money(T[1:25], [0.2 * (2.555e6 - 0.9 * 5e7 / 24)] * 24)
    money(T[25:], [0.2 * 2.555e6] * 36)
    money(months(out, "CF")[60], 2.555e6 - 0.2 * 2.555e6 + 0.1 * 5e7)


def test_power_sizing_and_budget():
    x = base(**{"power.kw_per_gpu": 1.25, "power.pue": 1.6})
    del x["cluster.gpus"]
    x["cluster.power_mw"] = 10.0
    out = r2.outputs(x)
    assert out["monthly"]["gpus"] == pytest.approx(10 * 1000 / (1.25 * 1.6), rel=1e-15)  # 5000
    money(out["capex_usd"], 5000 * 50000)
    np.testing.assert_allclose(out["facility_mw"], 10.0, rtol=1e-15)
    # energy of 5000 GPUs at 2 kW facility power each, idle = 1
    money(months(out, "E")[1], 5000 * 1.25 * 1.6 * 730 * 0.1)
    y = base()
    del y["cluster.gpus"]
    y["capex.budget_usd"] = 5e6
    out = r2.outputs(y)
    money(out["capex_usd"], 5e6)
    assert out["monthly"]["gpus"] == 100
    with pytest.raises(ValueError):
        r2.outputs(base(**{"cluster.power_mw": 10.0}))  # two sizings
    z = base()
    del z["cluster.gpus"]
    with pytest.raises(ValueError):
        r2.outputs(z)


CONTRACT = {
    "power.idle_fraction": 0.3,
    "contract.share": 0.25,
    "contract.usd_per_gpu_hour": 2.0,
    "contract.months": 24,
}


def test_contract_revenue_and_full_load_power():
    out = run(**CONTRACT)
    R, E, K, Kcap = (months(out, k) for k in ("R", "E", "K", "Kcap"))
    # 750 merchant GPUs sell 750 * 1000 * 3600 * 730 * 0.5 tokens at $2; 250 GPUs rent at $2/h
    money(K[1:25], [9.855e11] * 24, atol=1e-3)
    money(R[1:25], [9.855e5 * 2 + 250 * 2 * 730] * 24)
    money(E[1:25], [73000 * (0.75 * (0.3 + 0.7 * 0.5) + 0.25)] * 24)  # contracted GPUs at full load
    money(K[25:], [1.314e12] * 36, atol=1e-3)
    money(R[25:], [2.628e6] * 36)
    money(E[25:], [73000 * 0.65] * 36)
    money(out["total_revenue_usd"], 24 * 2.336e6 + 36 * 2.628e6)
    # contracted GPUs count at u in the cost per token: Kp = 1.314e12 every month
    cost = (5e7 + 24 * 53837.5 + 36 * 47450) / (60 * 1.314e6)
    np.testing.assert_allclose(out["cost_per_mtok_usd"], cost, rtol=1e-12)
    np.testing.assert_allclose(out["sold_share"], 1.0, rtol=1e-15)
    # revenue per GPU-hour over the first 12 operating months
    money(out["revenue_per_gpu_hour_usd"], 2.336e6 / 730e3)
    # the demand cap applies to merchant tokens only
    out = run(**CONTRACT, **{"demand.output_mtok_per_month": 500000})
    K, R, E = (months(out, k) for k in ("K", "R", "E"))
    ue = 0.5 * 5e11 / 9.855e11
    money(K[1], 5e11, atol=1e-3)
    money(R[1], 5e5 * 2 + 250 * 2 * 730)
    money(E[1], 73000 * (0.75 * (0.3 + 0.7 * ue) + 0.25))
    money(R[25], 5e5 * 2)


def test_default_month_cuts_the_contract():
    out = run(**CONTRACT, **{"contract.default_month": 11})
    R = months(out, "R")
    money(R[1:11], [2.336e6] * 10)  # cs > 0 while m < M_def
    money(R[11:], [2.628e6] * 50)  # after the default those GPUs sell tokens
    # M_def from a uniform: b + ceil(-12 ln w / rate)
    assert r2.default_month(2, 0.6, 1.0) == 2 + math.ceil(-12 * math.log(0.6))  # = 9
    assert r2.default_month(2, 0.6, 1.0) == 9
    assert r2.default_month(2, 0.6, 0.0) == math.inf
    out = run(**CONTRACT, **{"schedule.build_months": 2, "contract.default_month": 9})
    cs = months(out, "cs")
    assert list(cs[1:3]) == [0.0, 0.0]
    assert list(cs[3:9]) == [0.25] * 6  # a = 1 .. 6, calendar months 3 .. 8
    assert list(cs[9:]) == [0.0] * 52


def test_revenue_share():
    out = run(**{"revenue.share": 0.3})
    money(months(out, "R")[1:], [2.628e6 * 0.7] * 60)
    money(months(out, "CF")[1:], [2.628e6 * 0.7 - 73000] * 60)
    # contract revenue is not shared
    out = run(**CONTRACT, **{"revenue.share": 0.3})
    money(months(out, "R")[1], 9.855e5 * 2 * 0.7 + 250 * 2 * 730)


@pytest.mark.parametrize("pt", [0.0, 0.5, 1.0])
def test_gain_pass_through(pt):
    out = run(**{"optimization.max_gain": 3.0, "optimization.half_life_months": 6.0, "price.gain_pass_through": pt})
    R = months(out, "R")
    for m in range(1, 61):
        g = 1 + 2 * (1 - 2 ** (-m / 6))
        money(R[m], 2.628e6 * g * g**-pt)  # tokens grow with g, the price falls as g**-pt
    if pt == 1.0:
        money(R[1:], [2.628e6] * 60)


def test_price_path_known_jump():
    w = [1.0] * 60
    w[12] = 0.1  # month 13: 0.1 < 1 - exp(-12/12) = 0.632
    w[30] = 0.7  # month 31: no jump, 0.7 > 0.632
    out = run(**{"price.jumps_per_year": 12.0, "price.jump_size": 0.5, "price.path.w": w})
    R = months(out, "R")
    money(R[1:13], [2.628e6] * 12)
    money(R[13:], [1.314e6] * 48)
    assert out["price_path_multiplier"] == [1.0, 0.5, 0.5, 0.5, 0.5]
    np.testing.assert_allclose(out["price_path_log_mean"], 48 * math.log(0.5) / 60, rtol=1e-12)
    # breakeven: s = sum of tokens/1e6 * S
    s = 12 * 1.314e6 + 48 * 1.314e6 * 0.5
    np.testing.assert_allclose(out["breakeven_price_usd_per_mtok"], 2 - out["npv_usd"] / s, rtol=1e-12)


def test_price_path_volatility_and_explicit_path():
    z = [0.0] * 60
    z[0] = 5.0  # month 1 is not used: S(1) = 1
    z[1], z[2] = 1.0, -2.0
    sig = 0.1
    out = run(**{"price.volatility_annual": sig * math.sqrt(12), "price.path.z": z, "price.annual_decline": 0.2})
    S2 = math.exp(sig - sig**2 / 2)
    S3 = S2 * math.exp(-2 * sig - sig**2 / 2)
    S4 = S3 * math.exp(-(sig**2) / 2)
    R = months(out, "R")
    money(R[1], 2.628e6)
    money(R[2], 2.628e6 * 0.8 ** (1 / 12) * S2)
    money(R[3], 2.628e6 * 0.8 ** (2 / 12) * S3)
    money(R[4], 2.628e6 * 0.8 ** (3 / 12) * S4)
    np.testing.assert_allclose(out["price_path_multiplier"][0], S3 * math.exp(-(sig**2) / 2) ** 9, rtol=1e-12)
    # an explicit path is used as given
    S = [1.0] * 30 + [0.25] * 30
    out = run(**{"price.path.S": S})
    money(months(out, "R")[1:], [2.628e6 * s for s in S])
    assert out["price_path_multiplier"] == [1.0, 1.0, 0.25, 0.25, 0.25]


def test_escalations():
    out = run(
        **{
            "power.annual_price_change": 0.1,
            "opex.usd_per_gpu_month": 100.0,
            "opex.annual_escalation": 0.05,
            "opex.maintenance_pct_per_year": 0.02,
        }
    )
    E, O = months(out, "E"), months(out, "O")  # noqa: E741
    for m in (1, 2, 13, 60):
        money(E[m], 73000 * 1.1 ** ((m - 1) / 12))
        money(O[m], 1e5 * 1.05 ** ((m - 1) / 12) + 5e7 * 0.02 / 12)  # maintenance does not escalate
    money(E[13], 73000 * 1.1)


def test_tax_loss_carryforward():
    S = [0.01] * 12 + [1.0] * 48  # a loss year, then profit
    tax = 0.25
    out = run(**{"price.path.S": S, "finance.tax_rate": tax, "finance.tax_loss_carryforward": True})
    T = months(out, "T")
    dep = 5e7 / 60
    x_loss = 26280 - 73000 - dep
    x_prof = 2.628e6 - 73000 - dep
    nol12 = -12 * x_loss
    assert 6 * x_prof < nol12 < 7 * x_prof  # the loss is used up in month 19
    money(T[1:19], [0.0] * 18)
    money(T[19], tax * (7 * x_prof - nol12))
    money(T[20:], [tax * x_prof] * 41)
    money(np.sum(T), tax * (12 * x_loss + 48 * x_prof))
    # without carryforward the loss year pays negative tax
    plain = run(**{"price.path.S": S, "finance.tax_rate": tax})
    money(months(plain, "T")[1:13], [tax * x_loss] * 12)
    money(plain["npv_usd"], out["npv_usd"])  # discount rate 0 and every loss used: the same total
    # breakeven: tax counted at tax_rate only in months that pay tax (19 .. 60)
    s = 12 * 1.314e6 * 0.01 + 6 * 1.314e6 + 42 * 1.314e6 * (1 - tax)
    np.testing.assert_allclose(out["breakeven_price_usd_per_mtok"], 2 - out["npv_usd"] / s, rtol=1e-12)
    # equity tax carries its own loss: with interest, X - I
    eq = run(
        **{
            "price.path.S": S,
            "finance.tax_rate": tax,
            "finance.tax_loss_carryforward": True,
            "debt.fraction": 0.5,
            "debt.annual_rate": 0.06,
        }
    )
    Xe, Te, I = months(eq, "Xe"), months(eq, "Te"), months(eq, "interest")  # noqa: E741
    money(Xe[1:], months(eq, "X")[1:] - I[1:])
    nol, want = 0.0, []
    for m in range(1, 61):
        y = Xe[m] - nol
        want.append(tax * max(y, 0.0))
        nol = max(-y, 0.0)
    money(Te[1:], want)
    money(months(eq, "T")[1:], T[1:])  # project tax does not see interest


RETIRE = {
    "price.annual_decline": 0.9,
    "finance.residual_value_pct": 0.2,
    "finance.retire_when_unprofitable": True,
}


def test_retirement_when_unprofitable():
    # retire when R - E < V(m-1) - V(m) = 0.8 * 5e7 / 60 = 666,666.67, R = 2.628e6 * 0.1**((m-1)/12):
    # month 7: R = 831,054 (keeps), month 8: R = 686,028 (retires)
    out = run(**RETIRE)
    assert out["retire_month"] == 8
    CF = months(out, "CF")
    for m in range(1, 8):
        money(CF[m], 2.628e6 * 0.1 ** ((m - 1) / 12) - 73000)
    V7 = 5e7 * (1 - 0.8 * 7 / 60)
    money(CF[8], V7)  # earns nothing, sold for V(m - 1)
    money(CF[9:], [0.0] * 52)
    money(out["npv_usd"], -5e7 + sum(2.628e6 * 0.1 ** ((m - 1) / 12) - 73000 for m in range(1, 8)) + V7)
    # breakeven with the retirement month held fixed: s over months 1 .. 7
    s = sum(1.314e6 * 0.1 ** ((m - 1) / 12) for m in range(1, 8))
    np.testing.assert_allclose(out["breakeven_price_usd_per_mtok"], 2 - out["npv_usd"] / s, rtol=1e-12)
    # not before the ramp is over, nor within the contract term
    assert run(**RETIRE, **{"utilization.ramp_months": 10})["retire_month"] == 11
    assert run(**RETIRE, **{"contract.months": 12})["retire_month"] == 13
    # with build months the V clock is calendar: V(m-1) - V(m) is the same, the decline is calendar too
    assert run(**RETIRE, **{"schedule.build_months": 2})["retire_month"] == 8
    # without the flag the cluster runs to L and sells for V(L) = residual * C
    keep = run(**{k: v for k, v in RETIRE.items() if k != "finance.retire_when_unprofitable"})
    assert keep["retire_month"] == 60
    money(months(keep, "CF")[60], 2.628e6 * 0.1 ** (59 / 12) - 73000 + 0.2 * 5e7)


def test_balloon_at_early_end():
    B, i, n = 0.5 * 5e7, 0.06 / 12, 60
    out = run(**RETIRE, **{"debt.fraction": 0.5, "debt.annual_rate": 0.06})
    assert out["retire_month"] == 8
    DS, bal, balloon, EqCF = (months(out, k) for k in ("DS", "balance", "balloon", "EqCF"))
    pmt = -npf.pmt(i, n, B)
    money(DS[1:9], [pmt] * 8)
    money(DS[9:], [0.0] * 52)
    owed = B + np.sum(npf.ppmt(i, np.arange(1, 9), n, B))  # Bal(8)
    money(balloon[8], owed, atol=1e-5)
    money(balloon[np.arange(61) != 8], np.zeros(60))
    money(bal[8:], np.zeros(53))
    # Reading 5/10: no tax in the retirement month; EqCF(8) = V(7) - DS - balloon
    V7 = 5e7 * (1 - 0.8 * 7 / 60)
    money(EqCF[8], V7 - pmt - owed, atol=1e-5)
    money(EqCF[9:], np.zeros(52))
    # min DSCR over year 1: (sum of R - E over months 1..7) / (8 DS + balloon)
    earned = sum(2.628e6 * 0.1 ** ((m - 1) / 12) - 73000 for m in range(1, 8))
    np.testing.assert_allclose(out["min_dscr"], earned / (8 * pmt + owed), rtol=1e-10)
    # life shorter than the term: balloon at L, with the sale V(L)
    out = run(**{"finance.useful_life_months": 36, "debt.fraction": 0.5, "debt.annual_rate": 0.06})
    owed36 = B + np.sum(npf.ppmt(i, np.arange(1, 37), n, B))
    money(months(out, "balloon")[36], owed36, atol=1e-5)
    money(months(out, "EqCF")[36], 2.555e6 - pmt - owed36, atol=1e-5)  # residual 0: V(36) = 0
    money(months(out, "EqCF")[37:], np.zeros(24))
    # no balloon when the term ends first
    out = run(**{"debt.fraction": 0.5, "debt.annual_rate": 0.06, "debt.term_months": 36})
    money(months(out, "balloon"), np.zeros(61))


def test_debt_payments_during_build():
    B, i, n = 0.5 * 5e7, 0.06 / 12, 60
    out = run(**{"schedule.build_months": 6, "debt.fraction": 0.5, "debt.annual_rate": 0.06, "finance.tax_rate": 0.3})
    pmt = -npf.pmt(i, n, B)
    EqCF, I = months(out, "EqCF"), months(out, "interest")  # noqa: E741
    money(EqCF[1:7], [-pmt] * 6)  # Reading 10: no equity tax in build months
    money(I[1:7], -npf.ipmt(i, np.arange(1, 7), n, B))
    money(months(out, "CF")[1:7], np.zeros(6))
    # Dep over N = L - b = 54 months from month 7; equity tax deducts interest
    X = 2.555e6 - 5e7 / 54
    money(months(out, "Te")[7:], 0.3 * (X - I[7:]))
    money(EqCF[7:], 2.555e6 - 0.3 * (X - I[7:]) - pmt)
    # year 1 has 6 earning months and 12 payments
    np.testing.assert_allclose(
        out["min_dscr"], 6 * (2.555e6 - 0.3 * X) / (12 * pmt) + 0.3 * np.sum(I[7:13]) / (12 * pmt), rtol=1e-10
    )


def test_irr_unique():
    assert run()["irr_unique"] == 1.0
    # tokens at twice the price for two years, then nothing to sell while opex runs:
    # the cumulative flow turns positive in month 13 and negative again in month 60
    S = [2.0] * 24 + [0.0] * 36
    out = run(**{"price.path.S": S, "opex.usd_per_gpu_month": 1200.0})
    cf = np.array(out["cashflow"])
    money(cf[1:25], [2 * 2.628e6 - 73000 - 1.2e6] * 24)
    money(cf[25:], [-73000 - 1.2e6] * 36)
    cum = np.cumsum(cf)
    assert cum[12] < 0 <= cum[13] and cum[59] > 0 > cum[60]
    assert out["irr_unique"] == 0.0
    assert out["payback_months"] == 13
    # two monthly roots (about 0.03% and 2.2%): the reference takes the smaller, as numpy-financial does
    g = (1 + out["irr_annual"]) ** (1 / 12) - 1
    assert abs(npf.npv(g, cf)) <= 1e-9 * npf.npv(g, np.abs(cf))
    assert npf.npv(0.01, cf) > 0 > npf.npv(0.0, cf) and npf.npv(0.05, cf) < 0
    np.testing.assert_allclose(g, npf.irr(cf), rtol=1e-8)
    assert g < 0.01
    # deeper losses: the cumulative flow still changes sign twice, and there is no root at all
    out = run(**{"price.path.S": S, "opex.usd_per_gpu_month": 2000.0})
    assert out["irr_unique"] == 0.0
    assert math.isnan(out["irr_annual"]) and math.isnan(npf.irr(np.array(out["cashflow"])))
    assert out["price_path_log_mean"] == -math.inf


def test_discounted_payback():
    out = run(**{"finance.discount_rate": 0.1})
    r = 1.1 ** (1 / 12) - 1
    annuity = lambda m: (1 - (1 + r) ** -m) / r  # noqa: E731
    want = next(m for m in range(1, 61) if 2.555e6 * annuity(m) >= 5e7)
    assert out["discounted_payback_months"] == want
    assert out["payback_months"] == 20 < want
    money(out["npv_usd"], 2.555e6 * annuity(60) - 5e7, atol=1e-4)
    assert run(**{"finance.discount_rate": 0.9})["discounted_payback_months"] == math.inf


def test_never_operates():
    # build longer than life: no operating month, sold for V(L) at L (Reading 4)
    out = run(**{"schedule.build_months": 30, "finance.useful_life_months": 24, "finance.residual_value_pct": 0.5})
    assert math.isnan(out["revenue_per_gpu_hour_usd"])
    assert math.isnan(out["sold_share"])
    assert out["retire_month"] == 24
    money(months(out, "CF")[24], 0.5 * 5e7)
    assert out["total_revenue_usd"] == 0
    assert math.isnan(out["breakeven_price_usd_per_mtok"])
