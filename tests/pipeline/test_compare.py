"""Platform comparison on common random numbers: shared draws, paired statistics, run folder, CLI."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.stats as st

from mcroi import analysis, engine, pipeline, priors
from tests.compare_cases import DRAWS, blackwell, hopper, write_files
from tests.helpers import assert_one_line_error, cli, reference_doc, to_toml

SHARED_SAME = [
    "price.usd_per_mtok_output",
    "price.annual_decline",
    "power.usd_per_kwh",
    "capex.usd_per_gpu",
    "finance.discount_rate",
]


# --------------------------------------------------------------------------- the run (CLI, 3 platforms)


def test_platform_dimension_on_every_per_draw_variable(compare_run):
    ds = compare_run["ds"]
    assert list(ds.platform.values) == ["hopper", "blackwell", "hopper-2"]
    for name, var in ds.data_vars.items():
        assert var.dims[:2] == ("platform", "draw"), name
    assert ds.sizes["draw"] == DRAWS
    assert ds.attrs["baseline"] == "hopper"


def test_shared_inputs_have_identical_draws(compare_run):
    ds = compare_run["ds"]
    inp = ds.inputs
    for name in SHARED_SAME:
        a = inp.sel(platform="hopper", input=name).values
        b = inp.sel(platform="blackwell", input=name).values
        np.testing.assert_array_equal(a, b)
    # the market inputs really are uncertain (not a vacuous equality)
    assert np.std(inp.sel(platform="hopper", input="price.usd_per_mtok_output").values) > 0.1
    # a shared name with a different distribution still shares its uniform: U(600,1400) and U(1500,3500)
    ta = inp.sel(platform="hopper", input="throughput.output_tokens_per_s_per_gpu").values
    tb = inp.sel(platform="blackwell", input="throughput.output_tokens_per_s_per_gpu").values
    np.testing.assert_allclose(st.uniform(600, 800).cdf(ta), st.uniform(1500, 2000).cdf(tb), rtol=0, atol=1e-12)


def test_input_union_is_nan_where_a_platform_lacks_an_input(compare_run):
    inp = compare_run["ds"].inputs
    assert np.isnan(inp.sel(platform="hopper", input="capex.budget_usd").values).all()
    assert np.isnan(inp.sel(platform="blackwell", input="cluster.gpus").values).all()
    np.testing.assert_array_equal(inp.sel(platform="blackwell", input="capex.budget_usd").values, 5e7)
    names = list(inp.input.values)
    assert names.index("cluster.gpus") < names.index("capex.budget_usd") < names.index("capex.usd_per_gpu")


def test_p_greater_equals_a_direct_count(compare_run):
    ds, s = compare_run["ds"], compare_run["summary"]
    a = ds.npv_usd.sel(platform="blackwell").values
    b = ds.npv_usd.sel(platform="hopper").values
    v = s["vs_baseline"]["blackwell"]
    assert v["p_npv_above_baseline"]["p"] == np.count_nonzero(a > b) / DRAWS
    d = a - b
    for p in (5, 50, 95):
        np.testing.assert_allclose(v["npv_difference_usd"][f"p{p}"], np.percentile(d, p), rtol=1e-12, atol=1e-3)


def test_roi_ratio_is_the_throughput_ratio(compare_run):
    # the platforms differ only in tokens per second (same capex, no software gain): ROI multiple,
    # revenue / capex, scales with throughput draw by draw; the oracle is the input draws
    ds, s = compare_run["ds"], compare_run["summary"]
    tps = ds.inputs.sel(input="throughput.output_tokens_per_s_per_gpu")
    ratio = tps.sel(platform="blackwell").values / tps.sel(platform="hopper").values
    v = s["vs_baseline"]["blackwell"]
    for p in (5, 50, 95):
        np.testing.assert_allclose(v["roi_multiple_ratio"][f"p{p}"], np.percentile(ratio, p), rtol=1e-9)
    # cost per Mtok: same energy and capex per hour, more tokens -> cheaper per token
    assert v["cost_per_mtok_ratio"]["p95"] < 1


def test_identical_scenarios_give_exactly_zero_difference(compare_run):
    ds, s = compare_run["ds"], compare_run["summary"]
    for k in ("npv_usd", "irr_annual", "cost_per_mtok_usd", "annual_cashflow_usd"):
        a, b = ds[k].sel(platform="hopper-2").values, ds[k].sel(platform="hopper").values
        np.testing.assert_array_equal(a, b)
    v = s["vs_baseline"]["hopper-2"]
    assert v["npv_difference_usd"]["p5"] == v["npv_difference_usd"]["p95"] == 0.0
    assert v["p_npv_above_baseline"]["p"] == 0.0 and v["p_npv_above_baseline"]["p_tie"] == 1.0
    assert v["npv_dominance"]["verdict"] == "indistinguishable"
    assert v["npv_difference_se"]["se_common"] == 0.0
    assert v["npv_difference_se"]["variance_ratio"] is None  # inf in strict JSON


def test_dominance_holds_when_every_draw_is_better(compare_run):
    ds, s = compare_run["ds"], compare_run["summary"]
    # U(1500, 3500) vs U(600, 1400) on the same uniform: blackwell earns more on every draw
    assert (ds.npv_usd.sel(platform="blackwell").values > ds.npv_usd.sel(platform="hopper").values).all()
    dom = s["vs_baseline"]["blackwell"]["npv_dominance"]
    assert dom["verdict"] == "dominates" and dom["max_cdf_excess"] == 0.0


def test_common_draws_reduce_the_standard_error(compare_run):
    ds, s = compare_run["ds"], compare_run["summary"]
    se = s["vs_baseline"]["blackwell"]["npv_difference_se"]
    a, b = ds.npv_usd.sel(platform="blackwell").values, ds.npv_usd.sel(platform="hopper").values
    np.testing.assert_allclose(se["se_common"], np.std(a - b, ddof=1) / math.sqrt(DRAWS), rtol=1e-12)
    assert se["se_common"] < se["se_independent"]
    # the independent-draws run measures what the formula says, within the sampling error of a
    # standard deviation (relative SE ~ sqrt((kurtosis - 1) / (4 m)); kurtosis of NPV here < 20)
    m = se["m_independent_run"]
    assert m == DRAWS
    rel = math.sqrt(19 / (4 * m))
    assert abs(se["se_independent_run"] / se["se_independent"] - 1) < 4 * rel
    assert se["variance_ratio"] > 1.5


def test_per_platform_summary_has_payback_and_tail_risk(compare_run):
    ds, s = compare_run["ds"], compare_run["summary"]
    for p in ("hopper", "blackwell"):
        r = s["per_platform"][p]["risk"]
        pay = ds.payback_months.sel(platform=p).values
        assert r["p_payback_over_24_months"]["p"] == np.mean(~(pay <= 24))
        assert r["p_payback_over_36_months"]["p"] == np.mean(~(pay <= 36))
        npv = np.sort(ds.npv_usd.sel(platform=p).values)
        np.testing.assert_allclose(r["var_npv_usd"], np.quantile(npv, 0.05), rtol=1e-12)
        np.testing.assert_allclose(r["cvar_npv_usd"], npv[npv <= r["var_npv_usd"]].mean(), rtol=1e-12)
    # hopper has a real chance of a late payback; the test is not vacuous
    assert 0.05 < s["per_platform"]["hopper"]["risk"]["p_payback_over_24_months"]["p"] < 0.95


def test_run_folder_manifest_and_plots(compare_run):
    out, man = compare_run["out"], compare_run["manifest"]
    for f in (
        "results.nc",
        "manifest.json",
        "summary.json",
        "summary.csv",
        "plots/npv_ecdf.png",
        "plots/forest.png",
        "plots/npv_difference.png",
    ):
        assert (out / f).is_file(), f
    assert [s["platform"] for s in man["scenarios"]] == ["hopper", "blackwell", "hopper-2"]
    assert (
        man["scenarios"][0]["priors_sha256"]
        == man["scenarios"][2]["priors_sha256"]
        != man["scenarios"][1]["priors_sha256"]
    )
    assert "capex.budget_usd" in man["scenarios"][1]["priors"]["inputs"]
    assert man["command"].startswith("mcroi compare")
    assert man["priors_sha256"] == analysis.combined_sha256([s["priors_sha256"] for s in man["scenarios"]])
    header = (out / "summary.csv").read_text().splitlines()[0]
    assert header.startswith("platform,output,unit,mean")
    assert not list(out.parent.glob(".run.partial-*"))


def test_cli_prints_a_side_by_side_table(compare_run):
    text = compare_run["stdout"]
    assert "hopper (baseline)" in text and "blackwell" in text and "dominates baseline" in text
    assert "P(payback > 36 months)" in text


# --------------------------------------------------------------------------- pure statistics


def test_dominance_fails_when_the_ecdfs_cross():
    rng = np.random.default_rng(0)
    z = rng.standard_normal(4000)
    wide, narrow = 1.0 + 3.0 * z, 1.2 + 0.5 * z  # higher mean, but far wider: the ECDFs cross
    d = analysis.dominance(narrow, wide)
    assert d["verdict"] == "neither" and not d["dominates"] and not d["dominated"]
    assert d["max_cdf_excess"] > 0.2 and d["max_cdf_deficit"] > 0.2


def test_dominance_tolerance_false_alarm_rate():
    # same distribution, independent samples: "indistinguishable" except about alpha of the time
    rng = np.random.default_rng(1)
    n, reps, alpha = 500, 400, 0.05
    wrong = sum(
        analysis.dominance(rng.standard_normal(n), rng.standard_normal(n), alpha)["verdict"] != "indistinguishable"
        for _ in range(reps)
    )
    # P(either one-sided gap > tol) <= 2 alpha asymptotically; binomial 4-sigma margin
    assert wrong / reps < 2 * alpha + 4 * math.sqrt(2 * alpha / reps)


def test_dominance_detects_a_shift_beyond_the_tolerance():
    rng = np.random.default_rng(2)
    x = rng.standard_normal(5000)
    assert analysis.dominance(x + 0.2, x)["verdict"] == "dominates"
    assert analysis.dominance(x - 0.2, x)["verdict"] == "dominated"


def test_variance_reduction_formula_on_a_known_correlation():
    # a = z + e1, b = z + e2 with var z = 4, var e = 1: var(a - b) = 2, var a + var b = 10
    rng = np.random.default_rng(3)
    n = 200_000
    z = 2.0 * rng.standard_normal(n)
    a, b = z + rng.standard_normal(n), z + rng.standard_normal(n)
    r = analysis.variance_reduction(a, b)
    assert abs(r["variance_ratio"] - 5.0) < 0.1
    np.testing.assert_allclose(r["se_common"], math.sqrt(2 / n), rtol=0.02)


def test_prob_greater_counts_ties_separately():
    r = analysis.prob_greater(np.array([1.0, 2.0, 3.0, 4.0]), np.array([0.0, 2.0, 5.0, 4.0]))
    assert r["p"] == 0.25 and r["p_tie"] == 0.5


def test_paired_ratio_is_nan_where_undefined():
    r = analysis.paired_ratio(np.array([1.0, np.nan, 2.0, 3.0]), np.array([2.0, 1.0, 0.0, np.inf]))
    assert r[0] == 0.5 and np.isnan(r[1:]).all()


def test_platform_labels_are_unique():
    assert analysis.platform_labels(["a", "b", "a", "a"]) == ["a", "b", "a-2", "a-3"]


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "args, needle",
    [
        (["compare", "{a}"], "at least two"),
        (["compare", "{a}", "{tmp}/missing.toml"], "missing.toml: no such priors file"),
        (["compare", "{a}", "{b}", "--baseline", "rubin"], "--baseline = 'rubin': not one of the scenarios"),
    ],
)
def test_bad_input_is_one_line_exit_2(tmp_path, args, needle):
    a, b = write_files(tmp_path)
    out = tmp_path / "out"
    argv = [x.format(a=a, b=b, tmp=tmp_path) for x in args] + ["--out", str(out), "--draws", "10"]
    assert_one_line_error(cli(*argv), needle)
    assert not out.exists()


def test_bad_priors_file_is_reported(tmp_path):
    a, b = write_files(tmp_path)
    b.write_text(b.read_text().replace("budget_usd = 50000000.0", "budget_usd = -5"))
    res = cli("compare", a, b, "--out", tmp_path / "o", "--draws", "10")
    assert res.exit_code == 2
    assert "budget_usd" in res.output and "Traceback" not in res.output


def test_platforms_with_different_horizons_and_inputs_stack_with_nan():
    # no engine: synthetic run arrays through the same Dataset builder
    from mcroi import engine, priors
    from mcroi.engine import ANNUAL_OUTPUTS, SCALAR_OUTPUTS
    from mcroi.runs import annual_table

    short = hopper()
    short["finance"] = {**short["finance"], "horizon_months": 24, "useful_life_months": 24}
    sets = [priors.from_dict(short), priors.from_dict(blackwell())]
    n = 7
    runs = []
    for ps in sets:
        years = -(-ps.horizon_months // 12)
        outs = {k: np.arange(n, dtype=float) for k in SCALAR_OUTPUTS}
        outs.update({k: np.ones((n, years)) for k in ANNUAL_OUTPUTS})
        runs.append(engine.RunArrays(ps.names, np.ones((n, len(ps.names))), outs))
    ds = pipeline.compare_dataset(sets, ["short", "long"], runs)
    assert ds.sizes["year"] == 5 and list(ds.horizon_months.values) == [24, 60]
    assert np.isnan(ds.annual_revenue_usd.sel(platform="short", year=[3, 4, 5]).values).all()
    assert (ds.annual_revenue_usd.sel(platform="long").values == 1).all()
    assert set(ds.input.values) == set(sets[0].names) | set(sets[1].names)
    rows = annual_table(ds, (50,))
    short_periods = {r["period"] for r in rows if r["scenario"] == "short" and r["metric"] == "revenue_usd"}
    assert short_periods == {1, 2, "total"}
    total = next(
        r["value"] for r in rows if r["scenario"] == "short" and r["metric"] == "revenue_usd" and r["period"] == "total"
    )
    assert total == 2.0


def test_a_certain_probability_prints_a_bound_not_plus_minus_zero() -> None:
    from mcroi.runs import probability_text as p_with_error

    assert p_with_error({"p": 1.0, "mcse": 0.0}, 3000) == "100.0% (every draw; >= 99.90% at 95 %)"
    assert p_with_error({"p": 0.0, "mcse": 0.0}, 3000) == "0.0% (no draw; <= 0.10% at 95 %)"
    assert p_with_error({"p": 0.25, "mcse": 0.0079}, 3000) == "25.0% ±0.79%"
    assert "±0.00%" not in p_with_error({"p": 1.0, "mcse": 0.0}, 10)


def test_compare_keeps_the_derived_inputs_of_price_paths_and_defaults(tmp_path):
    """Scenarios with a price path and a defaulting contract keep ``price.path`` and
    ``contract.default_month`` with their inputs, as each one's simulate run does."""
    a = reference_doc(price={"volatility_annual": 0.3, "jumps_per_year": 1.0, "jump_size": 0.3})
    b = reference_doc(contract={"share": 0.5, "usd_per_gpu_hour": 2.0, "months": 24, "default_per_year": 0.2})
    a["scenario"], b["scenario"] = {"name": "paths"}, {"name": "contract"}
    (tmp_path / "a.toml").write_text(to_toml(a))
    (tmp_path / "b.toml").write_text(to_toml(b))
    ds = pipeline.compare([tmp_path / "a.toml", tmp_path / "b.toml"], draws=1024, seed=5)
    names = [str(n) for n in ds.input.values]
    assert names[-2:] == ["contract.default_month", "price.path"]
    for label, f in (("paths", "a.toml"), ("contract", "b.toml")):
        ps = priors.load(tmp_path / f)
        run = engine.run(ps, 1024, seed=5)
        got = ds.inputs.sel(platform=label)
        for j, n in enumerate(run.names):
            np.testing.assert_array_equal(got.sel(input=n).values, run.inputs[:, j])
