"""The seed page's claims as ready scenarios: each reproduces its published number within 2 %."""

from __future__ import annotations

import math

import jax.numpy as jnp
import numpy as np
import pytest
from scipy.optimize import least_squares

from mcroi import engine, priors

ROOT = priors.library_root()
CLAIMS = ROOT / "scenarios" / "claims"
HOURS = 730.0


def claim(name: str) -> priors.PriorSet:
    return priors.load(CLAIMS / f"{name}.toml")


def one_draw(ps: priors.PriorSet) -> dict[str, float]:
    out = engine.run(ps, 1, seed=0).outputs
    return {k: float(np.asarray(v)[0]) for k, v in out.items() if np.asarray(v).ndim == 1}


def test_gb200_15x_backsolve_reproduces_75m_and_15x():
    ps = claim("gb200-15x-backsolve")
    out = one_draw(ps)
    np.testing.assert_allclose(out["capex_usd"], 5e6, rtol=1e-6)
    np.testing.assert_allclose(out["roi_multiple"], 15.0, rtol=0.02)
    np.testing.assert_allclose(out["total_revenue_usd"], 75e6, rtol=0.02, atol=1.0)
    # the published arithmetic: throughput x blended price = $75M / (72 GPU-years x 4 in Mtok-seconds)
    tps = float(engine.curve_throughput(jnp.asarray([46.46]), np.asarray(ps.curve), jnp.asarray([1.0]))[0])
    np.testing.assert_allclose(tps * (2.19 + 0.55), 75e6 / (72 * 3600 * 8760 * 4 / 1e6), rtol=0.02)


def test_b200_two_cents_per_million_tokens():
    ps = claim("b200-2-cents")
    assert ps.inputs["opex.usd_per_gpu_hour"].params[0] == 1.95
    out = one_draw(ps)
    np.testing.assert_allclose(out["cost_per_mtok_usd"], 0.02, rtol=0.02)
    # the InferenceX formula: $/GPU-hr / (tok/s/GPU x 3600 / 1e6)
    np.testing.assert_allclose(out["cost_per_mtok_usd"], 1.95 / (27083.33 * 3600 / 1e6), rtol=1e-9)


@pytest.mark.parametrize(("name", "published"), [("nvidia-tco-h200", 4.35), ("nvidia-tco-gb300", 0.123)])
def test_nvidia_cost_per_token_table(name: str, published: float):
    out = one_draw(claim(name))
    np.testing.assert_allclose(out["cost_per_mtok_usd"], published, rtol=0.02)


def test_nvidia_table_ratio_is_35x():
    h200 = one_draw(claim("nvidia-tco-h200"))["cost_per_mtok_usd"]
    gb300 = one_draw(claim("nvidia-tco-gb300"))["cost_per_mtok_usd"]
    np.testing.assert_allclose(h200 / gb300, 35.0, rtol=0.02)  # ref:nv_tco_gb300_cost "35x lower"


def fit_inferencex_improvements() -> tuple[float, float]:
    """Least-squares (log ratio) fit of g(t) to the InferenceX same-config speed-ups."""
    import csv

    with (ROOT / "data" / "inferencex_dsr1_sw_improvement.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    t = np.array([float(r["days"]) for r in rows]) * 12 / 365.25
    r = np.array([float(r["ratio"]) for r in rows])

    def g(p: np.ndarray) -> np.ndarray:
        big, h = 1 + np.exp(p[0]), np.exp(p[1])
        return 1 + (big - 1) * (1 - 2 ** (-t / h))

    f = least_squares(lambda p: np.log(g(p)) - np.log(r), [0.0, 0.5], xtol=1e-14, ftol=1e-14)
    return float(1 + np.exp(f.x[0])), float(np.exp(f.x[1]))


def test_optimization_priors_are_fitted_to_inferencex_and_the_5x_claim():
    max_gain, half_life = fit_inferencex_improvements()
    measured = priors.load(ROOT / "optimization" / "inferencex-measured.toml", partial=True)
    mode = measured.inputs["optimization.max_gain"].spec["mode"]
    np.testing.assert_allclose(mode, max_gain, rtol=0.02)
    nv = priors.load(ROOT / "optimization" / "nvidia-5x-2months.toml", partial=True).inputs
    np.testing.assert_allclose(nv["optimization.half_life_months"].params[0], half_life, rtol=0.02)
    big, h = nv["optimization.max_gain"].params[0], nv["optimization.half_life_months"].params[0]
    np.testing.assert_allclose(1 + (big - 1) * (1 - 2 ** (-2 / h)), 5.0, rtol=0.02)


def test_b200_5x_lower_cost_per_token_within_two_months():
    ps = claim("b200-5x-in-2-months")
    inp = {k: v[0] for k, v in engine.sample(ps, 0, jnp.arange(1)).items()}
    _, mo = engine.monthly(inp, ps.horizon_months, None)
    tokens = np.asarray(mo.tokens)
    launch = 5416.667 * 3600 * HOURS  # one GPU, fully used, launch software
    np.testing.assert_allclose(tokens[2] / launch, 5.0, rtol=0.02)
    cost_m2 = 1.95 * HOURS / (tokens[2] / 1e6)
    np.testing.assert_allclose(cost_m2, 0.02, rtol=0.02)  # ... which is claim 2's two cents
    np.testing.assert_allclose(1.95 * HOURS / (launch / 1e6), 0.10, rtol=0.02)  # from 10 cents at launch


def test_gb200_15x_under_uncertainty_is_a_far_tail():
    """The honest version: P(roi_multiple >= 15) and P(NPV > 0) under the library's (v2) priors."""
    ps = claim("gb200-15x-uncertain")
    n = 4000
    out = engine.run(ps, n, seed=0).outputs
    np.testing.assert_allclose(out["capex_usd"], 5e6, rtol=1e-9)
    p15 = float(np.mean(out["roi_multiple"] >= 15))
    pnpv = float(np.mean(out["npv_usd"] > 0))
    se15 = math.sqrt(max(p15 * (1 - p15), 1 / n) / n)
    senpv = math.sqrt(max(pnpv * (1 - pnpv), 1 / n) / n)
    # measured at 20,000 draws (docs/claims.md): P(roi >= 15) = 0.0016, P(NPV > 0) = 0.30
    assert abs(p15 - 0.0016) < 4 * se15 + 0.005, p15
    assert abs(pnpv - 0.30) < 4 * senpv + 0.005, pnpv
    assert p15 < 0.01 and pnpv < 0.5


def test_hopper_vs_blackwell_share_the_market_and_differ_in_the_platform():
    h = priors.load(ROOT / "scenarios" / "hopper-vs-blackwell" / "h200.toml")
    b = priors.load(ROOT / "scenarios" / "hopper-vs-blackwell" / "gb200-nvl72.toml")
    platform = {"capex.usd_per_gpu", "power.kw_per_gpu", "market.gpu_hour_usd"}
    assert set(h.inputs) == set(b.inputs)
    for k in h.inputs:
        same = h.inputs[k] == b.inputs[k] or (
            h.inputs[k].params == b.inputs[k].params and h.inputs[k].family == b.inputs[k].family
        )
        assert same == (k not in platform), k
    assert h.curve != b.curve and h.correlations == b.correlations
    # common random numbers: the shared inputs take identical values draw by draw
    idx = jnp.arange(64)
    dh, db = engine.sample(h, 3, idx), engine.sample(b, 3, idx)
    for k in h.inputs:
        if k not in platform and k != "throughput.curve_scale":
            np.testing.assert_array_equal(np.asarray(dh[k]), np.asarray(db[k]))
