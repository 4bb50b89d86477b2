"""The cashflow contract: the reference case, an independent implementation, numpy-financial."""

from __future__ import annotations

import math

import jax.numpy as jnp
import numpy as np
import numpy_financial as npf
import pytest

from mcroi import engine, priors
from tests import reference as ref
from tests.helpers import V1_SCALARS as SCALARS
from tests.helpers import random_constant_scenario, reference_doc


def run_constants(doc: dict, draws: int = 1) -> dict[str, np.ndarray]:
    ps = priors.from_dict(doc)
    return engine.run(ps, draws, seed=0).outputs


def test_reference_case_matches_the_contract():
    out = run_constants(ref.REFERENCE_CASE)
    # numbers written in shared/design/model.md, "Reference case"
    np.testing.assert_allclose(out["npv_usd"][0], 1.033e8, rtol=1e-9, atol=1e-3)
    assert out["payback_months"][0] == 20
    np.testing.assert_allclose(out["roi_multiple"][0], 3.1536, rtol=1e-9)
    np.testing.assert_allclose(out["capex_usd"][0], 5e7, rtol=1e-12)
    np.testing.assert_allclose(out["total_output_tokens"][0], 60 * 1.314e12, rtol=1e-12)
    np.testing.assert_allclose(out["total_revenue_usd"][0], 60 * 2.628e6, rtol=1e-12)
    np.testing.assert_allclose(out["annual_cashflow_usd"][0], [12 * 2.555e6] * 5, rtol=1e-12)
    np.testing.assert_allclose(out["annual_energy_usd"][0], [12 * 73000.0] * 5, rtol=1e-12)
    np.testing.assert_allclose(out["net_roi"][0], 60 * 2.555e6 / 5e7 - 1, rtol=1e-12)
    # cost per token: (C + 60 E) / (60 K / 1e6)
    np.testing.assert_allclose(out["cost_per_mtok_usd"][0], (5e7 + 60 * 73000) / (60 * 1.314e6), rtol=1e-12)
    # break-even: NPV = 60 (K p / 1e6 - E) - C = 0
    np.testing.assert_allclose(out["breakeven_price_usd_per_mtok"][0], (5e7 / 60 + 73000) / 1.314e6, rtol=1e-12)
    # IRR: level annuity of 60 payments of 2.555e6 against 5e7
    i = npf.irr([-5e7] + [2.555e6] * 60)
    np.testing.assert_allclose(out["irr_annual"][0], (1 + i) ** 12 - 1, rtol=1e-9)


@pytest.mark.parametrize("case", range(12))
def test_random_constant_scenarios_match_independent_implementation(case):
    rng = np.random.default_rng(1000 + case)
    doc = random_constant_scenario(rng)
    out = run_constants(doc)
    expect = ref.outputs(ref.flat(doc))
    for k in SCALARS:
        got, want = out[k][0], expect[k]
        if math.isinf(want):
            assert got == want, k
        else:
            np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-6, err_msg=k)
    np.testing.assert_allclose(out["annual_cashflow_usd"][0], expect["annual_cashflow_usd"], rtol=1e-9, atol=1e-6)
    # NPV and IRR against numpy-financial on the same monthly cashflow
    cf = np.array(expect["cashflow"])
    r = (1 + doc["finance"]["discount_rate"]) ** (1 / 12) - 1
    np.testing.assert_allclose(out["npv_usd"][0], npf.npv(r, cf), rtol=1e-9, atol=1e-3)
    i = npf.irr(cf)
    got = out["irr_annual"][0]
    sign_changes = int(np.sum(np.diff(np.sign(cf[cf != 0])) != 0))
    if sign_changes > 1 and np.isfinite(got):
        # several roots may exist (numpy-financial's choice among them changed between
        # versions): the monthly rate found must be one of them
        g = (1 + got) ** (1 / 12) - 1
        assert abs(npf.npv(g, cf)) <= 1e-9 * npf.npv(g, np.abs(cf))
    elif np.isnan(i) or not (-0.63 < i < 19):
        assert np.isnan(got) or np.isclose(engine.irr_monthly(jnp.asarray(cf)), i, rtol=1e-8)
    else:
        np.testing.assert_allclose(got, (1 + i) ** 12 - 1, rtol=1e-8, atol=1e-10)


def test_budget_sets_fractional_gpus():
    out = run_constants(reference_doc(cluster=None, capex={"budget_usd": 5e6, "usd_per_gpu": 65000}))
    np.testing.assert_allclose(out["capex_usd"][0], 5e6, rtol=1e-12)
    np.testing.assert_allclose(out["total_output_tokens"][0], 5e6 / 65000 * 1000 * 3600 * 730 * 0.5 * 60, rtol=1e-12)


def test_rent_scenario_cost_per_token_equals_inferencex_formula():
    # capex 0, an hourly rate, u = 1, no gain, no energy: InferenceX's $/GPU-hr / (tok/s * 3600 / 1e6)
    doc = reference_doc(
        capex={"usd_per_gpu": 0},
        utilization={"steady_state": 1.0},
        power={"kw_per_gpu": 0},
        opex={"usd_per_gpu_hour": 2.6},
        throughput={"output_tokens_per_s_per_gpu": 27000},
        finance={"discount_rate": 0.1},
    )
    out = run_constants(doc)
    np.testing.assert_allclose(out["cost_per_mtok_usd"][0], 2.6 / (27000 * 3600 / 1e6), rtol=1e-12)
    assert np.isnan(out["roi_multiple"][0]) and np.isnan(out["net_roi"][0])
    # every month is profitable and nothing is invested: no sign change, no IRR
    assert np.isnan(out["irr_annual"][0])


def test_useful_life_past_horizon_is_clipped_and_fractional_rounded_down():
    oa = run_constants(reference_doc(finance={"useful_life_months": 500}))
    ob = run_constants(reference_doc(finance={"useful_life_months": 36.9}))
    np.testing.assert_allclose(oa["npv_usd"][0], 1.033e8, rtol=1e-9)
    np.testing.assert_allclose(ob["npv_usd"][0], 36 * 2.555e6 - 5e7, rtol=1e-9)
    np.testing.assert_array_equal(ob["annual_cashflow_usd"][0][3:], [0.0, 0.0])


def test_never_paying_back_gives_inf_and_nan_irr_when_no_sign_change():
    out = run_constants(reference_doc(price={"usd_per_mtok_output": 0.0}))
    assert out["payback_months"][0] == np.inf
    assert np.isnan(out["irr_annual"][0])  # all flows negative


def test_irr_batch_against_numpy_financial_on_hard_cashflows():
    rng = np.random.default_rng(7)
    flows = []
    for _ in range(300):
        n = int(rng.integers(13, 73))
        cf = rng.normal(1.0, 2.0, n) * rng.uniform(0.1, 5)
        cf[0] = -abs(rng.normal(30, 20))
        flows.append(np.pad(cf, (0, 73 - n)))
    cf = np.array(flows)
    got = np.asarray(engine.irr_batch(jnp.asarray(cf)))
    for row, g in zip(cf, got, strict=True):
        want = npf.irr(row)
        if np.isnan(g):
            continue  # no root in the bracket: allowed, checked below for the conventional case
        # g is a root: the NPV at g vanishes relative to the discounted flows' size (such flows
        # may have several roots; where numpy-financial's is the only one, it is the same)
        npv_at = npf.npv(g, row)
        size = npf.npv(g, np.abs(row))
        assert abs(npv_at) <= 1e-9 * size, (g, want)
    # conventional flows (one sign change) always have their unique root found
    conv = np.concatenate([[-100.0], np.full(48, 3.0)])
    np.testing.assert_allclose(engine.irr_monthly(jnp.asarray(conv)), npf.irr(conv), rtol=1e-10)
