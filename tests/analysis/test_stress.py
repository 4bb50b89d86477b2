"""Stress and reverse stress: bands by rank, exponential tilting against its closed form, SWIM's weights."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import norm

from mcroi import analysis

N = 20_000


def test_band_mask_takes_the_band_by_rank() -> None:
    x = np.random.default_rng(1).lognormal(size=N)
    low = analysis.band_mask(x, 0, 10)
    high = analysis.band_mask(x, 90, 100)
    assert low.sum() == N // 10 and high.sum() == N // 10
    assert x[low].max() < np.quantile(x, 0.1001) and x[high].min() > np.quantile(x, 0.8999)
    assert not (analysis.band_mask(x, 0, 10) & analysis.band_mask(x, 10, 20)).any()


@pytest.mark.parametrize("lo, hi", [(10, 5), (0, 120), (-5, 10), (20, 20)])
def test_band_out_of_range_names_the_option(lo: float, hi: float) -> None:
    with pytest.raises(analysis.StressError) as e:
        analysis.band_mask(np.arange(10.0), lo, hi)
    assert e.value.option == "band" and str(e.value).startswith("band = ")


def test_band_stress_of_a_uniform_input() -> None:
    rng = np.random.default_rng(2)
    x = rng.uniform(size=N)
    npv = x - 0.3 + rng.normal(0, 0.01, N)
    res = analysis.band_stress(x, {"npv_usd": npv}, 0, 10, mean_ok=["npv_usd"])
    band = res["outputs"]["npv_usd"]["band"]
    assert res["draws"] == N // 10
    assert band["p50"] == pytest.approx(0.05 - 0.3, abs=0.005)
    assert band["mean"] == pytest.approx(0.05 - 0.3, abs=0.005)
    assert res["p_npv_negative"]["band"] == 1.0
    assert res["p_npv_negative"]["all"] == pytest.approx(0.3, abs=3 * math.sqrt(0.21 / N))


def test_mean_target_on_an_affine_output_tilts_the_normal_input_by_lambda_sigma2() -> None:
    # y = a + b x with x ~ N(mu, s): tilting y by exp(lambda y) tilts x by exp(lambda b x), a normal
    # with the same s and mean mu + lambda b s^2 (the closed form of exponential tilting)
    rng = np.random.default_rng(3)
    mu, s, a, b = 0.75, 0.1, -5.4e7, 7.9e7
    x = rng.normal(mu, s, N)
    y = a + b * x
    target = analysis.parse_target(f"mean(npv_usd) = {float(np.mean(y) - 2e6)!r}")
    rs = analysis.reverse_stress(x[:, None], ["price"], {"npv_usd": y}, target, n_boot=50)
    row = rs.inputs[0]
    # lambda is solved on the draws; the closed form holds for the normal law, so up to the draws'
    # departure from it (their skewness, ~sqrt(6 / n)): 2 % here
    assert row["stressed_mean"] - row["mean"] == pytest.approx(rs.lam * b * s**2, rel=0.02)
    assert row["stressed_mean"] - row["mean"] == pytest.approx(-2e6 / b, rel=1e-6)
    assert rs.achieved == pytest.approx(target.value, rel=1e-9)
    # the stressed input is still normal with SD s: its percentiles are the shifted ones
    new_mu = mu + rs.lam * b * s**2
    for p in (5, 50, 95):
        want = norm.ppf(p / 100, new_mu, s)
        assert abs(row["stressed"][f"p{p}"] - want) < 0.01 * s + 4 * s / math.sqrt(N) / norm.pdf(norm.ppf(p / 100))
    assert row["shift_sd"] == pytest.approx(-2e6 / b / np.std(x), rel=1e-6)
    assert row["shift_sd_se"] > 0
    # effective sample size of a normal tilt: n exp(-(lambda b s)^2)
    assert rs.ess == pytest.approx(N * math.exp(-((rs.lam * b * s) ** 2)), rel=0.02)


def test_probability_target_is_swims_two_weights() -> None:
    rng = np.random.default_rng(4)
    x = rng.normal(size=N)
    y = x + 1.5
    p = float(np.mean(y < 0))
    target = analysis.parse_target("P(npv_usd < 0) = 20%")
    w, lam = analysis.tilt_weights(y, target)
    assert np.mean(w) == pytest.approx(1.0)
    assert np.mean(w * (y < 0)) == pytest.approx(0.2)
    assert lam == pytest.approx(math.log(0.2 * (1 - p) / (p * 0.8)))
    rs = analysis.reverse_stress(x[:, None], ["x"], {"npv_usd": y}, target, n_boot=20)
    assert rs.ess == pytest.approx(N / (0.2**2 / p + 0.8**2 / (1 - p)), rel=1e-9)
    assert rs.achieved == pytest.approx(0.2)
    assert rs.inputs[0]["shift_sd"] < 0


@pytest.mark.parametrize(
    "text",
    ["P(npv_usd < -1e12) = 20%", "mean(npv_usd) = 1e12", "P(npv_usd < 0) = 0%"],
)
def test_unreachable_targets_name_the_target(text: str) -> None:
    y = np.random.default_rng(5).normal(size=1000)
    with pytest.raises(analysis.StressError) as e:
        analysis.tilt_weights(y, analysis.parse_target(text))
    assert e.value.option == "target" and "unreachable" in str(e.value)


def test_parse_target() -> None:
    t = analysis.parse_target("P(min_dscr < 1.2) <= 5%")
    assert (t.kind, t.output, t.op, t.threshold, t.rel, t.value) == ("prob", "min_dscr", "<", 1.2, "<=", 0.05)
    t = analysis.parse_target("median(irr_annual) = 15%")
    assert (t.kind, t.level, t.value) == ("quantile", 0.5, pytest.approx(0.15))
    t = analysis.parse_target("p5(npv_usd) >= -20M")
    assert (t.kind, t.level, t.value, t.rel) == ("quantile", 0.05, -2e7, ">=")
    for bad in ("npv < 0", "P(npv_usd < 0) = 120%", "p0(npv_usd) = 1", "mean(npv_usd) ~ 3"):
        with pytest.raises(analysis.StressError):
            analysis.parse_target(bad)


def test_no_mean_where_a_mean_is_no_headline_or_drops_never() -> None:
    """A payback mean over the draws that pay back (27 months where the median is "never") is refused."""
    rng = np.random.default_rng(5)
    x = rng.normal(size=2000)
    npv = x - 0.5
    payback = np.where(npv > 0, 20 + 10 * rng.random(2000), np.inf)
    irr = np.where(npv > 0, 0.1 + x, np.nan)
    target = analysis.parse_target("P(npv_usd < 0) = 20%")
    outs = {"npv_usd": npv, "payback_months": payback, "irr_annual": irr}
    rs = analysis.reverse_stress(x[:, None], ["x"], outs, target, n_boot=5)
    assert "mean" in rs.outputs["npv_usd"]["base"]
    for k in ("payback_months", "irr_annual"):
        assert "mean" not in rs.outputs[k]["base"] and "mean" not in rs.outputs[k]["stressed"]
    assert "mean" not in analysis.describe_weighted(np.array([1.0, 2.0, np.inf]))
