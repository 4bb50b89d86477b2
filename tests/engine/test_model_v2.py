"""Cashflow contract v2, market part (a first subset), against the independent v2 reference.

The subset: sizing by facility power, build months, a demand cap (with growth), a revenue share,
electricity price change and opex escalation; outputs mirr_annual, irr_unique,
discounted_payback_months, revenue_per_gpu_hour_usd, revenue_to_rent_ratio, sold_share and
facility_mw. The oracle is ``tests/reference_v2.py`` (readings in ``tests/REFERENCE_V2_NOTES.md``).
"""

from __future__ import annotations

import math

import numpy as np
import numpy_financial as npf
import pytest

from mcroi import engine, priors
from tests import reference_v2 as ref2
from tests.helpers import V1_SCALARS, flat, random_constant_scenario, reference_doc

V2_SCALARS = [
    "mirr_annual",
    "irr_unique",
    "discounted_payback_months",
    "revenue_per_gpu_hour_usd",
    "revenue_to_rent_ratio",
    "sold_share",
    "facility_mw",
    "retire_month",
    "price_path_log_mean",
]
SCALARS = V1_SCALARS + V2_SCALARS
ANNUAL = ["annual_cashflow_usd", "price_path_multiplier"]


def run_constants(doc: dict) -> dict[str, np.ndarray]:
    return engine.run(priors.from_dict(doc), 1, seed=0).outputs


def assert_matches_reference(doc: dict, rtol: float = 1e-9) -> dict:
    out = run_constants(doc)
    expect = ref2.outputs(flat(doc))
    money_atol = 1e-6 * max(1.0, abs(expect["capex_usd"]))
    for k in SCALARS:
        got, want = float(out[k][0]), float(expect[k])
        if math.isnan(want) or math.isinf(want):
            assert got == want or (math.isnan(got) and math.isnan(want)), (k, got, want)
        else:
            atol = money_atol if k.endswith("_usd") else 1e-9
            np.testing.assert_allclose(got, want, rtol=rtol, atol=atol, err_msg=k)
    for k in ANNUAL:
        np.testing.assert_allclose(out[k][0], expect[k], rtol=rtol, atol=money_atol, err_msg=k)
    # the annual line items sum to the reference's monthly ones
    f = expect["monthly"]
    H = f["H"]
    for name, series in (
        ("annual_revenue_usd", f["R"]),
        ("annual_energy_usd", f["E"]),
        ("annual_other_opex_usd", f["O"]),
        ("annual_tax_usd", f["T"]),
        ("annual_output_tokens", f["K"]),
    ):
        want = [sum(series[m] for m in range(12 * y + 1, min(12 * y + 12, H) + 1)) for y in range(-(-H // 12))]
        scale = max(1.0, max(abs(w) for w in want))
        np.testing.assert_allclose(out[name][0], want, rtol=rtol, atol=1e-9 * scale, err_msg=name)
    return out


# --------------------------------------------------------------------------- the contract's numbers


def test_demand_reference_case_matches_the_contract():
    out = assert_matches_reference(reference_doc(demand={"output_mtok_per_month": 657000}))
    # numbers written in shared/design/model.md, "Reference case" (v2)
    np.testing.assert_allclose(out["total_output_tokens"][0], 60 * 6.57e11, rtol=1e-12)
    np.testing.assert_allclose(out["total_revenue_usd"][0], 60 * 1.314e6, rtol=1e-12)
    np.testing.assert_allclose(out["annual_energy_usd"][0], [12 * 73000.0] * 5, rtol=1e-12)
    np.testing.assert_allclose(out["annual_cashflow_usd"][0], [12 * 1.241e6] * 5, rtol=1e-12)
    np.testing.assert_allclose(out["npv_usd"][0], 2.446e7, rtol=1e-9)
    assert out["payback_months"][0] == 41
    assert out["sold_share"][0] == 0.5
    assert out["discounted_payback_months"][0] == 41  # r = 0
    assert out["irr_unique"][0] == 1.0
    np.testing.assert_allclose(out["facility_mw"][0], 1.0, rtol=1e-15)
    # first-year revenue per GPU-hour: 1.314e6 / (1000 * 730)
    np.testing.assert_allclose(out["revenue_per_gpu_hour_usd"][0], 1.314e6 / 730e3, rtol=1e-12)
    assert np.isnan(out["revenue_to_rent_ratio"][0])


def test_v1_reference_case_v2_outputs():
    out = assert_matches_reference(reference_doc())
    assert out["sold_share"][0] == 1.0
    np.testing.assert_allclose(out["revenue_per_gpu_hour_usd"][0], 2.628e6 / 730e3, rtol=1e-12)


# --------------------------------------------------------------------------- each input, alone and combined

ALONE = {
    "power_mw": {"cluster": None, "cluster.power_mw": 3.2},
    "build": {"schedule.build_months": 4},
    "demand": {"demand.output_mtok_per_month": 400000.0},
    "demand_growth": {"demand.output_mtok_per_month": 300000.0, "demand.annual_growth": 0.6},
    "demand_above_capacity": {"demand.output_mtok_per_month": 5e6, "demand.annual_growth": -0.5},
    "revenue_share": {"revenue.share": 0.3},
    "power_price": {"power.annual_price_change": 0.08},
    "power_price_falls": {"power.annual_price_change": -0.2},
    "opex_escalation": {"opex.annual_escalation": 0.05},
    "rent": {"market.gpu_hour_usd": 2.1},
    "pass_through": {"price.gain_pass_through": 0.6, "optimization.max_gain": 2.0},
    "contract": {"contract.share": 0.6, "contract.usd_per_gpu_hour": 2.2, "contract.months": 30},
    "contract_beyond_life": {"contract.share": 1.0, "contract.usd_per_gpu_hour": 1.5, "contract.months": 90.5},
    "tax_life": {"finance.tax_depreciation_months": 24, "finance.tax_rate": 0.25},
    "expensed": {"finance.tax_depreciation_months": 1, "finance.tax_rate": 0.3},
    "carryforward": {
        "finance.tax_loss_carryforward": True,
        "finance.tax_rate": 0.3,
        "finance.tax_depreciation_months": 6,
        "utilization.ramp_months": 10,
    },
    "retire": {
        "finance.retire_when_unprofitable": True,
        "price.annual_decline": 0.7,
        "finance.residual_value_pct": 0.3,
    },
    "retire_after_contract": {
        "finance.retire_when_unprofitable": True,
        "price.annual_decline": 0.8,
        "contract.share": 0.5,
        "contract.usd_per_gpu_hour": 3.0,
        "contract.months": 20,
    },
}


def _doc(changes: dict, base: dict | None = None) -> dict:
    doc = reference_doc() if base is None else base
    for key, value in changes.items():
        if value is None:
            doc.pop(key, None)
            continue
        group, name = key.split(".", 1)
        doc.setdefault(group, {})[name] = value
    return doc


def _interesting_base() -> dict:
    """The reference case with every v1 term switched on (so each v2 input meets all of them)."""
    return reference_doc(
        optimization={"max_gain": 2.5, "half_life_months": 9},
        utilization={"steady_state": 0.6, "ramp_months": 5},
        price={"usd_per_mtok_input": 0.4, "annual_decline": 0.35},
        power={"kw_per_gpu": 1.4, "idle_fraction": 0.3, "pue": 1.25},
        opex={"usd_per_gpu_month": 300.0, "usd_per_gpu_hour": 0.2, "maintenance_pct_per_year": 0.02},
        finance={"discount_rate": 0.12, "tax_rate": 0.25, "residual_value_pct": 0.1, "useful_life_months": 48},
    )


@pytest.mark.parametrize("case", sorted(ALONE))
def test_each_v2_input_alone_matches_reference(case):
    assert_matches_reference(_doc(ALONE[case]))
    assert_matches_reference(_doc(ALONE[case], _interesting_base()))


def test_all_v2_inputs_combined_match_reference():
    changes: dict = {}
    for c in ("power_mw", "build", "demand_growth", "revenue_share", "power_price", "opex_escalation", "rent"):
        changes |= ALONE[c]
    for c in ("pass_through", "contract", "tax_life", "carryforward", "retire"):
        changes |= ALONE[c]
    assert_matches_reference(_doc(changes, _interesting_base()))
    assert_matches_reference(_doc(changes))


@pytest.mark.parametrize("case", range(16))
def test_random_constant_v2_scenarios_match_reference(case):
    rng = np.random.default_rng(2000 + case)
    doc = random_constant_scenario(rng)
    H = doc["finance"]["horizon_months"]
    changes: dict = {}
    if rng.uniform() < 0.5:
        changes["schedule.build_months"] = int(rng.integers(0, min(H, 18)))
    if rng.uniform() < 0.6:
        cap = doc["cluster"]["gpus"] * doc["throughput"]["output_tokens_per_s_per_gpu"] * 3600 * 730 / 1e6
        changes["demand.output_mtok_per_month"] = float(cap * rng.uniform(0.05, 1.2))
        if rng.uniform() < 0.6:
            changes["demand.annual_growth"] = float(rng.uniform(-0.5, 2.0))
    if rng.uniform() < 0.5:
        changes["revenue.share"] = float(rng.uniform(0, 0.5))
    if rng.uniform() < 0.5:
        changes["power.annual_price_change"] = float(rng.uniform(-0.2, 0.2))
    if rng.uniform() < 0.5:
        changes["opex.annual_escalation"] = float(rng.uniform(-0.1, 0.15))
    if rng.uniform() < 0.5:
        changes["market.gpu_hour_usd"] = float(rng.uniform(0.5, 5))
    if rng.uniform() < 0.3:
        changes["cluster"] = None
        changes["cluster.power_mw"] = float(rng.uniform(0.5, 50))
    assert_matches_reference(_doc(changes, doc), rtol=1e-8)


def test_build_longer_than_the_life_never_operates():
    doc = _doc(
        {"schedule.build_months": 30, "market.gpu_hour_usd": 2.0}, reference_doc(finance={"useful_life_months": 24})
    )
    out = assert_matches_reference(doc)
    assert np.isnan(out["revenue_per_gpu_hour_usd"][0]) and np.isnan(out["revenue_to_rent_ratio"][0])
    assert np.isnan(out["sold_share"][0])
    assert out["total_revenue_usd"][0] == 0 and out["payback_months"][0] == np.inf


def test_build_months_delay_the_reference_cash_flow():
    # b = 6: the same 54 months of 2.555e6 later, depreciation over L - b
    out = assert_matches_reference(_doc({"schedule.build_months": 6}))
    np.testing.assert_allclose(out["npv_usd"][0], 54 * 2.555e6 - 5e7, rtol=1e-12)
    assert out["payback_months"][0] == 6 + 20
    np.testing.assert_allclose(out["annual_cashflow_usd"][0], [6 * 2.555e6] + [12 * 2.555e6] * 4, rtol=1e-12)


def test_power_sizing_fills_the_facility():
    out = assert_matches_reference(_doc({"cluster": None, "cluster.power_mw": 10.0, "power.pue": 1.25}))
    np.testing.assert_allclose(out["facility_mw"][0], 10.0, rtol=1e-14)
    np.testing.assert_allclose(out["capex_usd"][0], 10.0 * 1000 / 1.25 * 50000, rtol=1e-14)


# --------------------------------------------------------------------------- the new outputs


def test_mirr_matches_numpy_financial_annualized():
    doc = _doc({"demand.output_mtok_per_month": 500000.0, "opex.annual_escalation": 0.1}, _interesting_base())
    out = run_constants(doc)
    cf = np.array(ref2.outputs(flat(doc))["cashflow"])
    assert (cf > 0).any() and (cf < 0).any()
    r = (1 + doc["finance"]["discount_rate"]) ** (1 / 12) - 1
    want = (1 + npf.mirr(cf, r, r)) ** 12 - 1
    np.testing.assert_allclose(out["mirr_annual"][0], want, rtol=1e-10)


def test_mirr_is_nan_without_a_positive_month():
    out = run_constants(reference_doc(price={"usd_per_mtok_output": 0.0}))
    assert np.isnan(out["mirr_annual"][0])
    assert out["discounted_payback_months"][0] == np.inf


def test_irr_unique_is_zero_with_two_sign_changes_of_the_cumulative_cash():
    # a cluster that pays back early, then loses money every month as its price collapses and
    # opex doubles every year: the cumulative cash goes -, +, - (two sign changes)
    doc = _doc(
        {"opex.annual_escalation": 1.0},
        reference_doc(price={"usd_per_mtok_output": 20.0, "annual_decline": 0.9}, opex={"usd_per_gpu_month": 1000.0}),
    )
    expect = ref2.outputs(flat(doc))
    cum = np.cumsum(expect["cashflow"])
    assert (cum[1:-1] > 0).any() and cum[0] < 0 and cum[-1] < 0, "the case must change sign twice"
    out = assert_matches_reference(doc)
    assert out["irr_unique"][0] == 0.0 and expect["irr_unique"] == 0.0
    # a conventional case has exactly one
    assert run_constants(reference_doc())["irr_unique"][0] == 1.0


def test_revenue_to_rent_ratio():
    out = run_constants(_doc({"market.gpu_hour_usd": 2.0}))
    np.testing.assert_allclose(out["revenue_to_rent_ratio"][0], 2.628e6 / 730e3 / 2.0, rtol=1e-12)


def test_numeric_guard_accepts_the_documented_nans_of_a_run():
    # no rent (ratio NaN everywhere) and a build as long as the life in some draws (NaN revenue per hour)
    doc = _doc(
        {"schedule.build_months": 20},
        reference_doc(finance={"useful_life_months": {"dist": "uniform", "min": 10, "max": 60}}),
    )
    res = engine.run(priors.from_dict(doc), 256, seed=1)
    o = res.outputs
    assert np.isnan(o["revenue_to_rent_ratio"]).all()
    assert np.isnan(o["revenue_per_gpu_hour_usd"]).any()
    from mcroi.engine._guards import check_numeric

    rep = check_numeric(res.names, res.inputs, o)
    assert rep.ok and not rep.unexpected, rep.to_json()


# --------------------------------------------------------------------------- priors


def test_v2_inputs_are_not_filled_in():
    ps = priors.from_dict(reference_doc())
    assert not any(priors.INPUTS[k].contract == "2" for k in ps.inputs)
    ps2 = priors.from_dict(_doc({"revenue.share": 0.1}))
    assert "revenue.share" in ps2.inputs and "demand.output_mtok_per_month" not in ps2.inputs


def test_sizing_is_exclusive_one_line_naming_file_and_keys(tmp_path):
    from tests.helpers import cli, to_toml

    doc = _doc({"cluster.power_mw": 5.0})  # cluster.gpus is there too
    path = tmp_path / "both.toml"
    path.write_text(to_toml(doc))
    with pytest.raises(priors.PriorsError) as e:
        priors.load(path)
    msg = str(e.value)
    assert len(msg.strip().splitlines()) == 1, msg
    for needle in ("both.toml", "cluster.gpus", "cluster.power_mw", "not both"):
        assert needle in msg, (needle, msg)
    res = cli("simulate", path, "--draws", 100, "--out", tmp_path / "run")
    assert res.exit_code != 0
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and "both.toml" in lines[0] and "cluster.power_mw" in lines[0], res.output


def test_power_sizing_needs_a_gpu_that_draws_power():
    with pytest.raises(priors.PriorsError, match="power.kw_per_gpu.*must be > 0 when cluster.power_mw"):
        priors.from_dict(_doc({"cluster": None, "cluster.power_mw": 5.0, "power.kw_per_gpu": 0.0}))


def test_sampled_v2_inputs_match_reference_draw_by_draw():
    # v2 inputs as distributions: every draw of the batch equals the reference at its own inputs
    doc = _doc(
        {
            "cluster": None,
            "cluster.power_mw": {"dist": "uniform", "min": 1, "max": 20},
            "schedule.build_months": {"dist": "uniform", "min": 0, "max": 9},
            "demand.output_mtok_per_month": {"dist": "uniform", "min": 1e5, "max": 2e7},
            "demand.annual_growth": {"dist": "uniform", "min": -0.3, "max": 1.5},
            "revenue.share": {"dist": "uniform", "min": 0, "max": 0.4},
            "power.annual_price_change": {"dist": "uniform", "min": -0.1, "max": 0.2},
            "opex.annual_escalation": {"dist": "uniform", "min": 0, "max": 0.1},
            "market.gpu_hour_usd": {"dist": "uniform", "min": 1, "max": 4},
        },
        _interesting_base(),
    )
    ps = priors.from_dict(doc)
    res = engine.run(ps, 64, seed=3)
    for d in range(0, 64, 9):
        x = {name: float(v) for name, v in zip(res.names, res.inputs[d], strict=True)}
        x["finance.horizon_months"] = ps.horizon_months
        x["schedule.build_months"] = math.floor(x["schedule.build_months"])  # the reference takes int()
        want = ref2.outputs(x)
        for k in SCALARS:
            got = float(res.outputs[k][d])
            if math.isinf(want[k]) or math.isnan(want[k]):
                assert got == want[k] or (math.isnan(got) and math.isnan(want[k])), (d, k)
            else:
                atol = 1e-6 * want["capex_usd"] if k.endswith("_usd") else 1e-9
                np.testing.assert_allclose(got, want[k], rtol=1e-8, atol=atol, err_msg=f"draw {d}: {k}")


# --------------------------------------------------------------------------- paths and the default


def _path_and_default_doc() -> dict:
    return _doc(
        {
            "price.volatility_annual": 0.6,
            "price.jumps_per_year": 2.0,
            "price.jump_size": 0.3,
            "contract.share": 0.5,
            "contract.usd_per_gpu_hour": 2.5,
            "contract.months": 36,
            "contract.default_per_year": 0.4,
            "schedule.build_months": 3,
            "finance.retire_when_unprofitable": True,
        },
        _interesting_base(),
    )


def _path_numbers(ps: priors.PriorSet, seed: int, idx: np.ndarray) -> dict[str, np.ndarray]:
    """The default uniforms and path shocks of draws ``idx``, from the generator itself."""
    import jax
    import jax.numpy as jnp

    with jax.enable_x64(True):
        root = jax.random.key(seed)
        keys = engine.path_keys(root, ps.horizon_months, engine.PRICE_PATH in engine.derived_names(ps))
        inp = {k: jnp.full(len(idx), v.params[0]) for k, v in ps.inputs.items() if v.is_constant}
        engine.add_path_draws(ps, inp, keys, jnp.asarray(idx, jnp.int64), jnp.float64)
        return {k: np.asarray(inp[k]) for k in ("price.path.z", "price.path.w", "contract.default_month") if k in inp}


def test_paths_and_default_match_reference_draw_by_draw():
    doc = _path_and_default_doc()
    ps = priors.from_dict(doc)
    res = engine.run(ps, 40, seed=11)
    assert res.names[-2:] == ["contract.default_month", "price.path"]
    idx = np.arange(40)
    gen = _path_numbers(ps, 11, idx)
    np.testing.assert_array_equal(res.inputs[:, -2], gen["contract.default_month"])
    for d in range(40):
        x = flat(doc)
        x["price.path.z"] = list(gen["price.path.z"][:, d])
        x["price.path.w"] = list(gen["price.path.w"][:, d])
        x["contract.default_month"] = float(gen["contract.default_month"][d])
        want = ref2.outputs(x)
        for k in SCALARS:
            got = float(res.outputs[k][d])
            if math.isinf(want[k]) or math.isnan(want[k]):
                assert got == want[k] or (math.isnan(got) and math.isnan(want[k])), (d, k, got, want[k])
            else:
                atol = 1e-6 * want["capex_usd"] if k.endswith("_usd") else 1e-9
                np.testing.assert_allclose(got, want[k], rtol=1e-8, atol=atol, err_msg=f"draw {d}: {k}")
        np.testing.assert_allclose(res.outputs["price_path_multiplier"][d], want["price_path_multiplier"], rtol=1e-10)
        np.testing.assert_allclose(res.inputs[d, -1], want["price_path_log_mean"], rtol=1e-10, atol=1e-12)


def test_default_month_formula():
    # M_def = b + ceil(-12 ln(w_c) / rate), checked against the formula on the generator's own w_c
    ps = priors.from_dict(_path_and_default_doc())
    gen = _path_numbers(ps, 5, np.arange(2000))
    months = gen["contract.default_month"]
    assert np.all(months == np.floor(months)) and months.min() >= 3 + 1
    # the months after the build are geometric: P(M_def - b > k) = exp(-rate k / 12)
    k = 12
    share = np.mean(months - 3 > k)
    p = math.exp(-0.4 * k / 12)
    assert abs(share - p) < 4 * math.sqrt(p * (1 - p) / len(months))


def test_price_path_has_mean_one_without_jumps():
    doc = _doc({"price.volatility_annual": 0.8})
    ps = priors.from_dict(doc)
    n = 20_000
    res = engine.run(ps, n, seed=2)
    S = res.outputs["price_path_multiplier"]  # (n, years): S at months 12, 24, ...
    for y in range(S.shape[1]):
        mean, se = S[:, y].mean(), S[:, y].std(ddof=1) / math.sqrt(n)
        assert abs(mean - 1) < 3 * se, (y, mean, se)
    # and log S(12y) is normal with variance sig^2 (12y - 1) / 12 and mean minus half of it
    var = 0.8**2 * (12 * 1 - 1) / 12
    from scipy import stats

    assert stats.kstest(np.log(S[:, 0]), stats.norm(-var / 2, math.sqrt(var)).cdf).pvalue > 1e-3


def test_jump_share_matches_the_rate():
    ps = priors.from_dict(_doc({"price.jumps_per_year": 3.0, "price.jump_size": 0.5}))
    gen = _path_numbers(ps, 9, np.arange(4000))
    jumped = gen["price.path.w"][1:] < 1 - math.exp(-3.0 / 12)
    p = 1 - math.exp(-3.0 / 12)
    assert abs(jumped.mean() - p) < 3 * math.sqrt(p * (1 - p) / jumped.size)
    # every jump halves the price: S at year 1 is 0.5 ** (jumps in months 2..12)
    res = engine.run(ps, 4000, seed=9)
    want = 0.5 ** jumped[:11].sum(axis=0)
    np.testing.assert_allclose(res.outputs["price_path_multiplier"][:, 0], want, rtol=1e-12)


def test_other_inputs_draws_unchanged_by_a_path():
    base = _doc({"utilization.steady_state": {"dist": "uniform", "min": 0.3, "max": 0.9}})
    with_path = _doc({"price.volatility_annual": 0.4, "price.jumps_per_year": 1.0, "price.jump_size": 0.2}, base)
    plain = engine.run(priors.from_dict(base), 300, seed=4)
    pathy = engine.run(priors.from_dict(with_path), 300, seed=4)
    i, j = plain.names.index("utilization.steady_state"), pathy.names.index("utilization.steady_state")
    np.testing.assert_array_equal(plain.inputs[:, i], pathy.inputs[:, j])


def test_path_draws_do_not_depend_on_the_chunk_or_the_horizon():
    doc = _path_and_default_doc()
    a = engine.run(priors.from_dict(doc), 700, seed=1, chunk_size=256)
    b = engine.run(priors.from_dict(doc), 700, seed=1, chunk_size=4096)
    np.testing.assert_array_equal(a.inputs, b.inputs)
    np.testing.assert_array_equal(a.outputs["npv_usd"], b.outputs["npv_usd"])
    longer = copy_doc = _path_and_default_doc()
    copy_doc["finance"]["horizon_months"] = 72
    ps_long = priors.from_dict(longer)
    short, long_ = _path_numbers(priors.from_dict(doc), 1, np.arange(50)), _path_numbers(ps_long, 1, np.arange(50))
    np.testing.assert_array_equal(short["price.path.z"], long_["price.path.z"][:60])
    np.testing.assert_array_equal(short["price.path.w"], long_["price.path.w"][:60])


def test_switches_must_be_booleans():
    with pytest.raises(priors.PriorsError, match="finance.retire_when_unprofitable.*must be true or false"):
        priors.from_dict(_doc({"finance.retire_when_unprofitable": 1}))


def test_fan_chart_cash_regenerates_each_draws_path():
    # the report's fan chart re-evaluates months from the stored inputs: with a price path it must
    # regenerate each draw's path, so its yearly cash equals the run's own annual cash flow
    doc = _path_and_default_doc()
    ps = priors.from_dict(doc)
    res = engine.run(ps, 200, seed=7, start=1000)
    idx = np.arange(1000, 1200)
    cum = engine.cumulative_cash(res.inputs, res.names, ps.horizon_months, switches=ps.switches, seed=7, index=idx)
    yearly = np.diff(cum[:, [0, 12, 24, 36, 48, 60]], axis=1)
    scale = np.abs(res.outputs["annual_cashflow_usd"]).max()
    np.testing.assert_allclose(yearly, res.outputs["annual_cashflow_usd"], rtol=1e-9, atol=1e-9 * scale)
    # without the path (the median one) the cash differs: the check above can fail
    flat_path = engine.cumulative_cash(res.inputs, res.names, ps.horizon_months, switches=ps.switches)
    assert np.abs(np.diff(flat_path[:, [0, 12]], axis=1)[:, 0] - res.outputs["annual_cashflow_usd"][:, 0]).max() > 1


def test_numeric_guard_accepts_a_customer_that_never_defaults_and_a_price_taken_to_zero():
    # contract.default_month is +inf without a default and price.path -inf after a jump of size 1:
    # both documented, neither is a numeric failure; a NaN input still is
    doc = _doc(
        {
            "contract.share": 0.5,
            "contract.usd_per_gpu_hour": 2.0,
            "contract.months": 24,
            "contract.default_per_year": 0.0,
            "price.jumps_per_year": 6.0,
            "price.jump_size": 1.0,
        }
    )
    res = engine.run(priors.from_dict(doc), 200, seed=1)
    assert np.isposinf(res.inputs[:, res.names.index("contract.default_month")]).all()
    assert np.isneginf(res.inputs[:, res.names.index("price.path")]).any()
    rep = engine.check_numeric(res.names, res.inputs, res.outputs)
    assert not rep.unexpected, rep.unexpected
    broken = res.inputs.copy()
    broken[3, res.names.index("contract.default_month")] = np.nan
    assert engine.check_numeric(res.names, broken, res.outputs).unexpected == {"inputs": 1}
