"""The priors library v2: every computed number in a layer follows its stated rule, and the default
scenario passes its own market check (issue 14)."""

from __future__ import annotations

import importlib.util
import math
import re

import numpy as np
import pytest

from mcroi import engine, priors

ROOT = priors.library_root()
TOOL = ROOT / "tools" / "market_numbers.py"
PLATFORMS = ["h100", "h200", "b200", "b300", "gb200-nvl72", "gb300-nvl72", "mi300x", "mi325x", "mi355x"]
DSR1 = ["deepseek-r1-1k1k", "deepseek-r1-8k1k", "deepseek-r1-1k8k"]

pytestmark = pytest.mark.skipif(not TOOL.exists(), reason="the library's tools are not shipped with the package")


def tool():
    spec = importlib.util.spec_from_file_location("market_numbers", TOOL)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def layer(rel: str) -> priors.PriorSet:
    return priors.load(ROOT / rel, partial=True)


def ci90(d: priors.Dist) -> tuple[float, float]:
    return d.spec["p5"], d.spec["p95"]


@pytest.mark.parametrize("name", PLATFORMS)
def test_platforms_give_capex_from_hardware_prices_and_a_market_rent(name: str):
    mn = tool()
    ps = layer(f"platforms/{name}.toml")
    capex, rent = ps.inputs["capex.usd_per_gpu"], ps.inputs["market.gpu_hour_usd"]
    assert ci90(capex) == mn.capex_ci90(name)
    assert ci90(rent) == mn.rent_ci90(name)
    # the system price is the floor; the all-in factor 1.6 the top; never 35,000 h x a TCO rate
    assert capex.spec["p95"] == pytest.approx(capex.spec["p5"] * 1.6, rel=0.01)
    assert "35,000" not in capex.source and "hardware price" in capex.source
    # a rent is what the market pays: at least SemiAnalysis's term-rent tier, which is its p5
    assert f"ref:tco_rent_{name.split('-')[0]}_jul2026" in rent.source
    # the rate layers inherit the rent, so a claim built on them shows its market check
    for tier in ("hyperscaler", "neocloud", "rent"):
        assert layer(f"platforms/tco/{name}-{tier}.toml").inputs["market.gpu_hour_usd"] == rent


def test_capex_anchors_are_the_reference_rows():
    mn = tool()
    assert mn.SYSTEM_PER_GPU["gb200-nvl72"][0] == pytest.approx(3.3e6 / 72)  # gb200_nvl72_rack_cost_semianalysis
    assert mn.SYSTEM_PER_GPU["h100"][0] == pytest.approx(33750)  # dgx_h100_price / 8
    # the two all-in anchors (H100 $50k vs $33,750; GB200 $5M vs $3.3M) sit inside [1, 1.6]
    for allin, system in ((50000, 33750), (5e6, 3.3e6)):
        assert 1 < allin / system < mn.ALLIN_P95


def test_base_market_aging_rate_is_its_own_central_path():
    mn = tool()
    base = layer("markets/base.toml").inputs
    smooth = base["price.annual_decline"].spec["mode"]
    rate = sum(base["price.jumps_per_year"].params) / 2
    size = sum(base["price.jump_size"].params) / 2
    assert (smooth, rate, size) == pytest.approx((mn.SMOOTH_DECLINE_MODE, 1.0, 0.37))
    assert mn.aging_factor_per_year() == pytest.approx((1 - smooth) * (1 - size) ** rate, rel=1e-12)
    assert mn.aging_factor_per_year() == pytest.approx(0.72 * 0.63, rel=1e-12)


@pytest.mark.parametrize("workload", DSR1)
def test_launch_prices_are_quotes_aged_to_the_launch_date(workload: str):
    mn = tool()
    ps = layer(f"workloads/{workload}.toml").inputs
    a = 0.72 * 0.63
    # written out by hand: 2.19 from 2025-01 (23 months), 6.00 from 2026-02 (10 months) to 2026-12
    lo, hi = 2.19 * a ** (23 / 12), 6.00 * a ** (10 / 12)
    assert ci90(ps["price.usd_per_mtok_output"]) == pytest.approx((lo, hi), abs=0.0006)
    assert ci90(ps["price.usd_per_mtok_output"]) == mn.aged_ci90(mn.DSR1_OUT)
    assert ci90(ps["price.usd_per_mtok_input"]) == pytest.approx(
        (0.55 * a ** (23 / 12), 2.0 * a ** (10 / 12)), abs=6e-4
    )
    src = ps["price.usd_per_mtok_output"].source
    assert "aged to the launch date 2026-12" in src and "0.4536" in src
    assert ps["revenue.share"].params == (0.0,) and "MIT" in ps["revenue.share"].source


def test_gptoss_prices_are_aged_too():
    mn = tool()
    ps = layer("workloads/gpt-oss-120b.toml").inputs
    assert ci90(ps["price.usd_per_mtok_output"]) == mn.aged_ci90(mn.GPTOSS_OUT)
    assert ci90(ps["price.usd_per_mtok_input"]) == mn.aged_ci90(mn.GPTOSS_IN)


@pytest.mark.parametrize("market", ["base", "llmflation", "slow"])
def test_utilization_folds_in_availability(market: str):
    mn = tool()
    assert mn.availability() == pytest.approx(0.9796, abs=5e-5)  # the row's own figure, 24 / (24 + 0.5)
    spec = layer(f"markets/{market}.toml").inputs["utilization.steady_state"].spec
    assert (spec["min"], spec["mode"], spec["max"]) == mn.utilization(market)


@pytest.mark.parametrize(("finance", "build"), [("hyperscaler", 6), ("neocloud", 6)])
def test_resale_follows_the_vintage_curve_at_the_operating_life(finance: str, build: int):
    mn = tool()
    ps = layer(f"finance/{finance}.toml")
    life = ps.inputs["finance.useful_life_months"].spec
    res = ps.inputs["finance.residual_value_pct"].spec
    assert ps.inputs["schedule.build_months"].params == (float(build),)
    years = [(life[k] - build) / 12 for k in ("max", "mode", "min")]  # longer life, lower resale
    assert (res["min"], res["mode"], res["max"]) == tuple(mn.residual(y) for y in years)
    # the vintage rows themselves (0.78 after 1 year, 0.35 after 4) and the 90-day haircut
    assert mn.vintage(1) == 0.78 and mn.vintage(4) == 0.35
    assert mn.residual(4) == pytest.approx(0.35 * 0.85 / math.sqrt(1.6), abs=5e-4)
    assert ps.horizon_months == build + 60  # InferenceX's 60-month life after the build


def test_rent_volatility_bound_is_the_realized_one():
    mn = tool()
    # log changes of the H100 rent: 2.99 -> 1.70 over 12 months, 1.70 -> 2.35 over 5 months
    x, t = np.array([math.log(1.70 / 2.99), math.log(2.35 / 1.70)]), np.array([1.0, 5 / 12])
    mu = x.sum() / t.sum()
    vol = math.sqrt(np.mean((x - mu * t) ** 2 / t))
    assert mn.realized_rent_volatility() == pytest.approx(vol, rel=1e-12)
    top = layer("markets/base.toml").inputs["price.volatility_annual"].params[1]
    assert abs(top - vol) < 0.02


def test_every_v2_number_in_the_default_is_sourced():
    ps = priors.load(priors.default_path())
    for key in (
        "market.gpu_hour_usd",
        "schedule.build_months",
        "price.gain_pass_through",
        "price.volatility_annual",
        "price.jumps_per_year",
        "price.jump_size",
        "revenue.share",
        "power.annual_price_change",
        "opex.annual_escalation",
    ):
        d = ps.inputs[key]
        assert len(d.source) > 20 and re.search(r"20\d\d", d.source), key
    for name, d in ps.inputs.items():
        assert "35,000" not in d.source, name  # no capex from a TCO rate anywhere


def market_check(ps: priors.PriorSet, n: int = 4000) -> float:
    out = engine.run(ps, n, seed=7).outputs
    return float(np.nanmedian(np.asarray(out["revenue_to_rent_ratio"])))


def test_the_default_passes_its_own_market_check():
    """P50 year-1 revenue per GPU-hour <= 2x what the market pays to rent a GB200 (issue 14)."""
    ratio = market_check(priors.load(priors.default_path()))
    assert 0 < ratio <= 2.0, ratio


def test_the_15x_backsolve_fails_the_market_check_honestly():
    ratio = market_check(priors.load(ROOT / "scenarios" / "claims" / "gb200-15x-backsolve.toml"), 2000)
    assert ratio > 2.0, ratio


def test_new_layers_are_layers():
    for rel in (
        "finance/power/us-low-cost.toml",
        "finance/power/us-average.toml",
        "finance/power/pjm-new-england.toml",
        "finance/power/eu.toml",
        "markets/demand-contracted.toml",
        "markets/demand-merchant-constrained.toml",
        "markets/revenue-share-lab.toml",
    ):
        assert priors.is_layer(ROOT / rel), rel
        assert layer(rel).inputs, rel
    # regions rank by price as the EIA rows do
    med = {
        r: math.exp(layer(f"finance/power/{r}.toml").inputs["power.usd_per_kwh"].params[0])
        for r in ("us-low-cost", "us-average", "pjm-new-england", "eu")
    }
    assert med["us-low-cost"] < med["us-average"] < med["pjm-new-england"]
    assert med["us-average"] < med["eu"]


def test_tool_runs(capsys: pytest.CaptureFixture[str]):
    tool().main()
    assert "aging factor per year 0.4536" in capsys.readouterr().out
