"""Sensitivity: estimators against closed forms (linear model, Ishigami, Sobol' G), charts, CLI."""

from __future__ import annotations

import dataclasses
import math

import jax.numpy as jnp
import numpy as np
import pytest
import xarray as xr
from scipy import stats

from mcroi import analysis, engine, priors
from mcroi.priors import Correlation, Dist
from tests.helpers import cli, default_priors, reference_doc, to_toml

A = {"x1": 3.0, "x2": -2.0, "x3": 0.5, "x4": 1.0}
LIN = {
    "x1": Dist("normal", (1.0, 2.0)),
    "x2": Dist("uniform", (0.0, 3.0)),
    "x3": Dist("normal", (-1.0, 4.0)),
    "x4": Dist("lognormal", (0.0, 0.5)),
}
SCIPY = {
    "x1": stats.norm(1.0, 2.0),
    "x2": stats.uniform(0.0, 3.0),
    "x3": stats.norm(-1.0, 4.0),
    "x4": stats.lognorm(0.5, scale=1.0),
}


def linear(d):
    return sum(a * d[k] for k, a in A.items())


def lin_priors(**extra: Dist) -> priors.PriorSet:
    return analysis.make_priors({**LIN, **extra})


# --------------------------------------------------------------------------- swing


def test_linear_swing_is_exact_and_constants_are_excluded():
    ps = lin_priors(c=Dist("constant", (5.0,)))
    r = analysis.swing(lambda d: linear(d) + d["c"], ps)
    assert r.names == list(A)  # the constant has no spread: excluded
    want = np.array([abs(a) * (SCIPY[k].ppf(0.9) - SCIPY[k].ppf(0.1)) for k, a in A.items()])
    np.testing.assert_allclose(r.measures["width"], want, rtol=1e-9, atol=1e-12)
    base = sum(a * SCIPY[k].median() for k, a in A.items()) + 5.0
    np.testing.assert_allclose(r.base, base, rtol=1e-9)
    assert not r.measures["non_monotone"].any()
    # direction: x2 has a negative coefficient, so its high end is below the base
    assert r.measures["high"][1] < r.base < r.measures["low"][1]


def test_swing_flags_a_non_monotone_input():
    ps = analysis.make_priors({"a": Dist("uniform", (-1.0, 1.0)), "b": Dist("uniform", (-1.0, 1.0))})
    r = analysis.swing(lambda d: d["a"] ** 2 + d["b"] ** 3, ps)
    np.testing.assert_array_equal(r.measures["non_monotone"], [True, False])
    # a's bar is zero width: P10 and P90 of a symmetric input give the same a^2
    np.testing.assert_allclose(r.measures["width"][0], 0.0, atol=1e-12)


# --------------------------------------------------------------------------- Sobol'


def test_linear_sobol_first_equals_total_equals_variance_share():
    ps = lin_priors()
    r = analysis.sobol(linear, ps, 2**13, key=1, n_boot=100)
    var = np.array([a**2 * SCIPY[k].var() for k, a in A.items()])
    truth = var / var.sum()
    for m in ("s1", "st"):
        err = np.abs(r.measures[m] - truth)
        assert np.all(err < 3 * r.info["se"][m] + 1e-3), (m, r.measures[m], truth, r.info["se"][m])
        lo, hi = r.intervals[m].T
        assert np.all(lo <= r.measures[m] + 1e-12) and np.all(r.measures[m] <= hi + 1e-12)


def ishigami(d, a=7.0, b=0.1):
    return jnp.sin(d["x1"]) + a * jnp.sin(d["x2"]) ** 2 + b * d["x3"] ** 4 * jnp.sin(d["x1"])


def test_ishigami_indices_at_n_2_14():
    ps = analysis.make_priors({f"x{i}": Dist("uniform", (-math.pi, math.pi)) for i in (1, 2, 3)})
    r = analysis.sobol(ishigami, ps, 2**14, key=0, n_boot=100)
    # analytic values (Ishigami & Homma 1990; Sobol' & Levitan 1999), a = 7, b = 0.1
    s1 = np.array([0.3139, 0.4424, 0.0])
    st = np.array([0.5576, 0.4424, 0.2437])
    se1, set_ = r.info["se"]["s1"], r.info["se"]["st"]
    assert np.all(np.abs(r.measures["s1"] - s1) < 3 * se1 + 1e-3), (r.measures["s1"], se1)
    assert np.all(np.abs(r.measures["st"] - st) < 3 * set_ + 1e-3), (r.measures["st"], set_)
    assert np.all(np.abs(r.measures["s1"] - s1) < 0.03) and np.all(np.abs(r.measures["st"] - st) < 0.03)
    assert r.info["evaluations"] == 2**14 * 5


def g_function(a):
    def f(d):
        out = 1.0
        for i, ai in enumerate(a):
            out = out * (jnp.abs(4 * d[f"x{i}"] - 2) + ai) / (1 + ai)
        return out

    return f


def test_sobol_g_function_matches_its_closed_form():
    a = np.array([0.0, 1.0, 4.5, 9.0, 99.0, 99.0])
    ps = analysis.make_priors({f"x{i}": Dist("uniform", (0.0, 1.0)) for i in range(len(a))})
    r = analysis.sobol(g_function(a), ps, 2**13, key=3, n_boot=100)
    vi = 1 / (3 * (1 + a) ** 2)
    v = np.prod(1 + vi) - 1
    s1 = vi / v
    st = np.array([vi[i] * np.prod(np.delete(1 + vi, i)) for i in range(len(a))]) / v
    assert np.all(np.abs(r.measures["s1"] - s1) < 3 * r.info["se"]["s1"] + 2e-3), (r.measures["s1"], s1)
    assert np.all(np.abs(r.measures["st"] - st) < 3 * r.info["se"]["st"] + 2e-3), (r.measures["st"], st)


def test_estimators_vectorize_over_output_columns():
    rng = np.random.default_rng(0)
    fA, fB = rng.normal(size=(64, 3)), rng.normal(size=(64, 3))
    fAB = rng.normal(size=(2, 64, 3))
    full = np.asarray(analysis.first_order(fA, fB, fAB))
    one = np.asarray(analysis.first_order(fA[:, 1], fB[:, 1], fAB[:, :, 1]))
    np.testing.assert_allclose(full[:, 1], one, rtol=1e-12)
    assert full.shape == (2, 3)


def test_correlated_priors_carry_a_note():
    ps = lin_priors()
    from dataclasses import replace

    ps = replace(ps, correlations=(Correlation("x1", "x3", 0.5),))
    assert any("independent" in n for n in analysis.swing(linear, ps).notes)
    assert any("independent" in n for n in analysis.sobol(linear, ps, 256, key=0, n_boot=0).notes)


# --------------------------------------------------------------------------- conditional and rank


def test_conditional_decile_means_of_a_linear_normal_model():
    # y = 3 x1 - 2 x3, normal inputs: E[y | x1 in top decile] - E[y | bottom] = 3 * 2 sd phi(z90) / 0.1
    ps = analysis.make_priors({"x1": Dist("normal", (0.0, 1.0)), "x3": Dist("normal", (0.0, 2.0))})
    r = analysis.conditional(lambda d: 3 * d["x1"] - 2 * d["x3"], ps, 40_000, key=0, n_boot=200)
    tail = stats.norm.pdf(stats.norm.ppf(0.9)) / 0.1
    want = np.array([3 * 2 * tail, -2 * 2 * 2 * tail])
    lo, hi = r.intervals["effect"].T
    se = (hi - lo) / (2 * 1.96)
    assert np.all(np.abs(r.measures["effect"] - want) < 4 * se), (r.measures["effect"], want, se)
    assert np.all(lo < r.measures["effect"]) and np.all(r.measures["effect"] < hi)


def test_rank_spearman_matches_the_normal_closed_form():
    ps = analysis.make_priors({"x1": Dist("normal", (0.0, 1.0)), "x3": Dist("normal", (0.0, 2.0))})
    r = analysis.rank(lambda d: 3 * d["x1"] - 2 * d["x3"], ps, 20_000, key=0, n_boot=50)
    rho = np.array([3.0, -4.0]) / 5.0  # Pearson of y with each input (sd_y = 5)
    spearman = 6 / np.pi * np.arcsin(rho / 2)
    np.testing.assert_allclose(r.measures["spearman"], spearman, atol=0.015)
    assert r.info["r2"] > 0.95 and not r.notes
    assert np.all(np.sign(r.measures["srrc"]) == np.sign(rho))


def test_rank_warns_when_r2_is_low():
    ps = analysis.make_priors({f"x{i}": Dist("uniform", (-math.pi, math.pi)) for i in (1, 2, 3)})
    r = analysis.rank(ishigami, ps, 5000, key=0, n_boot=0)
    assert r.info["r2"] < analysis.R2_WARN
    assert any("R^2" in n for n in r.notes)


@pytest.mark.slow  # two compiles of the contract
def test_monte_carlo_draws_are_simulates_draws():
    # the contract function holds a price path at its median, so compare without the path inputs
    full = default_priors()
    path = ("price.volatility_annual", "price.jumps_per_year", "price.jump_size")
    ps = dataclasses.replace(full, inputs={k: v for k, v in full.inputs.items() if k not in path})
    assert not engine.derived_names(ps)
    x, y = analysis.monte_carlo(analysis.contract_fn(ps), ps, 64, key=5, output="npv_usd")
    run = engine.run(ps, 64, seed=5)
    np.testing.assert_allclose(x, run.inputs, rtol=1e-12)
    np.testing.assert_allclose(y, run.outputs["npv_usd"], rtol=1e-9, atol=1e-3)


# --------------------------------------------------------------------------- charts


def test_tornado_png_has_the_expected_bars(tmp_path):
    from matplotlib import image

    from mcroi import report as tornado

    names = ["a", "b", "c"]
    bars = tornado.tornado(
        [tmp_path / "t.png", tmp_path / "t.svg"],
        names,
        np.array([-1.0, 4.0, 0.5]),
        np.array([3.0, -6.0, 1.0]),
        base=0.0,
        title="t",
        subtitle="s",
        xlabel="y (USD million)",
        low_ci=np.array([[-1.2, -0.8], [3.5, 4.5], [0.4, 0.6]]),
        high_ci=np.array([[2.8, 3.2], [-6.5, -5.5], [0.9, 1.1]]),
        flags=np.array([False, False, True]),
    )
    assert [lab.split()[0] for lab in bars.labels] == ["b", "a", "c"]  # widest first
    np.testing.assert_array_equal(bars.left, [4.0, -1.0, 0.5])
    np.testing.assert_array_equal(bars.right, [-6.0, 3.0, 1.0])
    assert "non-monotone" in bars.labels[2]
    img = image.imread(tmp_path / "t.png")
    assert img.ndim == 3 and img.shape[0] > 100 and img.std() > 0.05  # drawn, not blank
    assert (tmp_path / "t.svg").read_text().lstrip().startswith("<?xml")


# --------------------------------------------------------------------------- CLI and simulate


@pytest.mark.slow  # compiles the contract three times
def test_cli_on_priors_writes_every_artifact(tmp_path):
    out = tmp_path / "sens"
    res = cli("sensitivity", "default", "--draws", "2000", "--sobol-n", "256", "--bootstrap", "20", "--out", out)
    assert res.exit_code == 0, res.output
    assert "what drives npv_usd" in res.output
    ds = xr.load_dataset(out / "sensitivity.nc", engine="h5netcdf")
    assert set(ds["index"].dims) == {"method", "input"}
    assert {"method", "input", "bound", "year"} <= set(ds.dims)
    assert list(ds["method"].values) == ["swing", "conditional", "rank_spearman", "rank_srrc", "sobol_s1", "sobol_st"]
    ps = default_priors()
    # (v2) the default's price path is ranked as one more input, after the sampled ones
    assert list(ds["input"].values) == analysis.varying(ps) + engine.derived_names(ps)
    assert "price.path" in ds["input"].values
    assert "cluster.gpus" not in ds["input"].values  # a constant in the default scenario
    for m in analysis.METHODS:
        assert (out / f"tornado-{m}.png").stat().st_size > 10_000
        assert (out / f"tornado-{m}.svg").exists()
        assert (out / f"heatmap-{m}.png").exists()
    # the price of output tokens matters for NPV, in every flavour
    price = "price.usd_per_mtok_output"
    assert float(ds["index"].sel({"method": "swing", "input": price})) > 0
    assert float(ds["index"].sel({"method": "sobol_st", "input": price})) > 0.02


def test_simulate_writes_default_tornados_and_cli_reads_the_run(tmp_path):
    from mcroi import pipeline

    run = tmp_path / "run"
    pipeline.simulate("default", draws=2000, seed=1, out=run)
    for m in ("swing", "conditional"):
        assert (run / "plots" / f"tornado-{m}.png").exists() and (run / "plots" / f"tornado-{m}.svg").exists()
    ds = xr.load_dataset(run / "sensitivity.nc", engine="h5netcdf")
    assert list(ds["method"].values) == ["swing", "conditional"]
    res = cli("sensitivity", run, "--method", "conditional,rank", "--bootstrap", "10")
    assert res.exit_code == 0, res.output
    ds2 = xr.load_dataset(run / "sensitivity-npv_usd" / "sensitivity.nc", engine="h5netcdf")
    assert ds2.attrs["draws"] == 2000  # the run's draws, not new ones
    np.testing.assert_allclose(
        ds2["index"].sel({"method": "conditional"}), ds["index"].sel({"method": "conditional"}), rtol=1e-12
    )


@pytest.mark.parametrize(
    ("args", "text"),
    [
        (["--method", "swing,tornado"], "--method = swing,tornado"),
        (["--output", "annual_cashflow_usd"], "--output = annual_cashflow_usd"),
    ],
)
def test_cli_bad_options_are_one_line_exit_2(args, text):
    res = cli("sensitivity", "default", *args)
    assert res.exit_code == 2
    assert text in res.output and "Traceback" not in res.output


def test_rank_keeps_never_as_the_largest_value_and_says_so():
    """Issue 16: rank dropped the never-paying draws silently (Spearman 0.334 -> 0.067)."""
    rng = np.random.default_rng(3)
    n = 4000
    x = rng.normal(size=(n, 2))
    y = np.where(x[:, 0] > 1.0, np.inf, 20 + 5 * x[:, 0] + rng.normal(size=n))  # high x0: never pays back
    r = analysis.rank_from_draws(x, y, ["x0", "x1"], key=0, n_boot=50)
    big = np.where(np.isinf(y), 1e300, y)  # scipy's oracle: never as a tied largest value
    want = [stats.spearmanr(x[:, j], big).statistic for j in range(2)]
    np.testing.assert_allclose(r.measures["spearman"], want, rtol=1e-9, atol=1e-12)
    assert any("ranked as its largest value" in note for note in r.notes)
    lo, hi = r.intervals["spearman"].T
    assert np.all(lo <= r.measures["spearman"]) and np.all(r.measures["spearman"] <= hi)


def test_rank_bootstrap_intervals_cover_like_the_row_bootstrap():
    """The Poisson bootstrap's SRRC spread matches resampling rows (the oracle) within 20 %."""
    rng = np.random.default_rng(5)
    n = 3000
    x = rng.normal(size=(n, 3))
    y = x @ np.array([2.0, -1.0, 0.3]) + rng.normal(size=n)
    rx, ry = stats.rankdata(x, axis=0), stats.rankdata(y)
    _, srrc_b = analysis.rank_bootstrap(rx, ry, 400, np.random.default_rng(0))
    rows = []
    g = np.random.default_rng(1)
    for _ in range(400):
        i = g.integers(0, n, n)
        rows.append(analysis.rank_regression(rx[i], ry[i])[1])
    sd_poisson, sd_rows = srrc_b[:, :, 0].std(axis=0), np.array(rows).std(axis=0)
    np.testing.assert_allclose(sd_poisson, sd_rows, rtol=0.2)


def test_conditional_on_payback_with_never_is_refused_with_a_reason():
    from mcroi import pipeline

    ps = analysis.make_priors({"x0": Dist("normal", (0.0, 1.0)), "x1": Dist("normal", (0.0, 1.0))})
    x = np.random.default_rng(0).normal(size=(2000, 2))
    y = np.column_stack([np.where(x[:, 0] > 1, np.inf, 10.0 + x[:, 0]), np.zeros((2000, 5))])
    with pytest.raises(ValueError, match="infinite"):
        pipeline.compute_sensitivity(ps, ["conditional"], "payback_months", x=x, y=y, n_boot=0)
    c = pipeline.compute_sensitivity(ps, ["conditional", "rank"], "payback_months", x=x, y=y, n_boot=0)
    assert list(c.results) == ["rank"] and any(n.startswith("conditional: left out") for n in c.notes)


def test_conditional_normal_interval_agrees_with_the_bootstrap_it_replaces():
    """From CLT_BIN draws per bin the interval is the normal one; it matches the percentile bootstrap."""
    rng = np.random.default_rng(7)
    n = 20_000  # bins of 2,000 draws
    x = rng.normal(size=(n, 2))
    y = 3 * x[:, 0] + rng.standard_t(3, size=n)  # heavy-tailed noise
    fast = analysis.conditional_from_draws(x, y, ["a", "b"], key=0, n_boot=200)
    assert n // 10 >= analysis.CLT_BIN
    slow = analysis.conditional_from_draws(x[:, :], y, ["a", "b"], key=0, n_boot=0)
    assert not slow.intervals
    boot = []
    order = np.argsort(x, axis=0, kind="stable")
    lo, hi = order[: n // 10].T, order[-(n // 10) :].T
    for r in range(400):
        i, j = np.random.default_rng(r).integers(0, n // 10, (2, n // 10))  # each bin resampled on its own
        boot.append(y[hi[:, i]].mean(axis=1) - y[lo[:, j]].mean(axis=1))
    q = np.quantile(np.array(boot), [0.025, 0.975], axis=0).T
    width_fast = np.diff(fast.intervals["effect"], axis=-1)[:, 0]
    np.testing.assert_allclose(width_fast, np.diff(q, axis=-1)[:, 0], rtol=0.15)


@pytest.mark.slow
def test_sobol_intervals_cover_the_truth_90_to_98_percent():
    """Issue 16: the row bootstrap of one scrambled design covered the truth 100 % of the time (its
    error 0.08-0.49 of the real spread). Replicate scrambles with a t-interval: 240 Ishigami and 240
    G-function intervals over 40 seeds at N = 4096 must cover the analytic index 90-98 % of the time."""
    ps = analysis.make_priors({f"x{i}": Dist("uniform", (-math.pi, math.pi)) for i in (1, 2, 3)})
    truth = {"s1": np.array([0.3139, 0.4424, 0.0]), "st": np.array([0.5576, 0.4424, 0.2437])}
    a = np.array([0.0, 1.0, 4.5])
    pg = analysis.make_priors({f"x{i}": Dist("uniform", (0.0, 1.0)) for i in range(3)})
    vi = 1 / (3 * (1 + a) ** 2)
    v = np.prod(1 + vi) - 1
    truth_g = {"s1": vi / v, "st": np.array([vi[i] * np.prod(np.delete(1 + vi, i)) for i in range(3)]) / v}
    hits = {"ishigami": [], "g": []}
    for seed in range(40):
        for label, fn, pri, tr in (("ishigami", ishigami, ps, truth), ("g", g_function(a), pg, truth_g)):
            r = analysis.sobol(fn, pri, 4096, key=seed, n_boot=1)
            for m in ("s1", "st"):
                lo, hi = r.intervals[m].T
                hits[label] += list((lo <= tr[m]) & (tr[m] <= hi))
    for label, h in hits.items():
        cover = float(np.mean(h))
        print(f"{label}: {cover:.1%} of {len(h)} intervals cover the truth")
        assert 0.90 <= cover <= 0.98, (label, cover, len(h))


def test_sensitivity_out_never_overwrites_a_run_folder(tmp_path):
    """Issue 18: `mcroi sensitivity --out RUN` overwrote the run's own sensitivity.nc."""
    from tests.helpers import cli

    run = tmp_path / "run"
    assert cli("simulate", "-n", 500, "-o", run, "-q").exit_code == 0
    before = (run / "sensitivity.nc").read_bytes()
    res = cli("sensitivity", run, "--method", "rank", "--bootstrap", 5, "--out", run)
    assert res.exit_code == 2 and "not an earlier `mcroi sensitivity` output" in res.output, res.output
    assert (run / "sensitivity.nc").read_bytes() == before


def test_sensitivity_designs_keep_the_scenarios_switches(tmp_path):
    """The design function evaluates the scenario as simulate does: retirement (a switch) included."""
    doc = reference_doc(
        price={"annual_decline": {"dist": "uniform", "min": 0.5, "max": 0.95}},
        finance={"retire_when_unprofitable": True, "residual_value_pct": 0.2},
    )
    (tmp_path / "r.toml").write_text(to_toml(doc))
    ps = priors.load(tmp_path / "r.toml")
    run = engine.run(ps, 256, seed=1)
    assert (run.outputs["retire_month"] < 60).mean() > 0.5  # retirement decides these draws
    fn = analysis.contract_fn(ps)
    out = fn({n: run.inputs[:, j] for j, n in enumerate(run.names) if n in ps.names})
    np.testing.assert_array_equal(np.asarray(out.npv_usd), run.outputs["npv_usd"])


def _draws_of_kind(rng: np.random.Generator, kind: str, n: int, k: int) -> np.ndarray:
    if kind == "continuous":
        return rng.normal(size=(n, k))
    if kind == "few values":
        return rng.integers(0, 3, size=(n, k)).astype(float)
    if kind == "with +inf":
        return np.where(rng.random((n, k)) < 0.3, np.inf, rng.integers(0, 5, (n, k)).astype(float))
    x = np.where(rng.random((n, k)) < 0.2, -np.inf, rng.normal(size=(n, k)))
    return np.where(rng.random((n, k)) < 0.1, np.nan, x)


@pytest.mark.parametrize("kind", ["continuous", "few values", "with +inf", "with -inf and NaN"])
def test_extreme_bins_are_exactly_the_stable_argsorts_ends(kind):
    """The O(n) bin selection of the conditional tornado equals numpy's stable argsort, ties included."""
    from mcroi.analysis._sensitivity import extreme_bins

    rng = np.random.default_rng(len(kind))
    for _ in range(60):
        n, k = int(rng.integers(2, 500)), int(rng.integers(1, 4))
        b = int(rng.integers(1, max(2, n // 2)))
        x = _draws_of_kind(rng, kind, n, k)
        order = np.argsort(x, axis=0, kind="stable")
        lo, hi = extreme_bins(x, b)
        np.testing.assert_array_equal(lo, order[:b].T)
        np.testing.assert_array_equal(hi, order[n - b :].T)


@pytest.mark.parametrize("kind", ["continuous", "few values", "with -inf and NaN"])
def test_unordered_bins_hold_the_argsorts_rows_in_row_order(kind):
    from mcroi.analysis._sensitivity import extreme_bins

    rng = np.random.default_rng(11 + len(kind))
    for _ in range(30):
        n, k = int(rng.integers(2, 400)), int(rng.integers(1, 4))
        b = int(rng.integers(1, max(2, n // 2)))
        x = _draws_of_kind(rng, kind, n, k)
        order = np.argsort(x, axis=0, kind="stable")
        lo, hi = extreme_bins(x, b, ordered=False)
        np.testing.assert_array_equal(lo, np.sort(order[:b].T, axis=1))
        np.testing.assert_array_equal(hi, np.sort(order[n - b :].T, axis=1))


def test_large_bin_conditional_means_and_intervals_match_argsort_and_the_normal_formula():
    """Bins of CLT_BIN draws or more (read in place, a column per thread): the means over numpy's
    argsort deciles and the textbook normal interval of a difference of two independent means."""
    rng = np.random.default_rng(3)
    n = 30_000
    x = rng.normal(size=(n, 4))
    x[:, 3] = np.round(x[:, 3])  # heavy ties
    y = np.column_stack([2 * x[:, 0] - x[:, 2] + rng.standard_t(4, size=n), rng.normal(size=(n, 2))])
    cols = [2, 0, 3]
    r = analysis.conditional_from_draws(x, y, ["c", "a", "d"], n_boot=200, first_column_ci=True, columns=cols)
    b = n // 10
    assert b >= analysis.CLT_BIN
    order = np.argsort(x[:, cols], axis=0, kind="stable")
    lo, hi = order[:b].T, order[n - b :].T
    np.testing.assert_allclose(r.measures["low"], y[lo].mean(axis=1), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(r.measures["high"], y[hi].mean(axis=1), rtol=1e-12, atol=1e-12)
    se = np.sqrt(y[lo, 0].var(axis=1, ddof=1) / b + y[hi, 0].var(axis=1, ddof=1) / b)
    d = y[hi, 0].mean(axis=1) - y[lo, 0].mean(axis=1)
    z = 1.959963984540054
    np.testing.assert_allclose(r.intervals["effect"][:, 0], np.column_stack([d - z * se, d + z * se]), rtol=1e-10)
    assert np.isnan(r.intervals["effect"][:, 1:]).all()
