"""Goal seek on common random numbers: the break-even price and a loss-probability capex against closed forms."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy.stats import norm

from mcroi import analysis, engine, pipeline, priors
from tests.helpers import reference_doc

DRAWS = 20_000
SLOPE = 60 * 1.314e6  # d NPV / d output price in the reference case (60 months x 1.314e12 tokens / 1e6)
ENERGY_PER_KWH = 60 * 1000 * 730  # 60 months x 1000 GPUs x 1 kW x 730 h (idle = 1, pue = 1)


def write_run(folder: Path, doc: dict[str, Any], seed: int = 5) -> Path:
    out = folder / "run"
    pipeline.simulate(priors.from_dict(doc, file="t.toml"), draws=DRAWS, seed=seed, out=out, plots=False)
    return out


@pytest.fixture(scope="module")
def kwh_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The reference case with an uncertain electricity price (NPV stays affine in the output price)."""
    doc = reference_doc(power={"usd_per_kwh": {"dist": "uniform", "min": 0.05, "max": 0.15}})
    return write_run(tmp_path_factory.mktemp("goal"), doc)


def test_goal_seek_finds_the_closed_form_break_even_price(kwh_run: Path) -> None:
    res = pipeline.goal_seek(kwh_run, "price.usd_per_mtok_output", "mean(npv_usd) = 0", write=False)
    ds = pipeline_open(kwh_run)
    kwh = ds["inputs"].sel(input="power.usd_per_kwh").values
    # mean NPV = SLOPE p - 5e7 - ENERGY_PER_KWH mean(kwh) = 0 over the same draws
    closed = (5e7 + ENERGY_PER_KWH * kwh.mean()) / SLOPE
    assert res["mode"] == "add" and res["value"] == pytest.approx(closed, rel=1e-9, abs=1e-12)
    # and the model's own per-draw break-even price, averaged (NPV is affine: exact)
    assert res["value"] == pytest.approx(ds["breakeven_price_usd_per_mtok"].values.mean(), rel=1e-9)
    assert res["base_statistic"] == pytest.approx(res["stored_statistic"], rel=1e-12)
    assert res["se_value"] == pytest.approx(ENERGY_PER_KWH * kwh.std(ddof=1) / np.sqrt(DRAWS) / SLOPE, rel=0.02)


def test_goal_seek_on_a_probability_is_a_quantile_of_break_even_prices(kwh_run: Path) -> None:
    # NPV rises with the price in every draw, so P(NPV < 0) <= 30 % first holds at the 70th
    # percentile of the draws' break-even prices
    res = pipeline.goal_seek(kwh_run, "price.usd_per_mtok_output", "P(npv_usd < 0) <= 30%", write=False)
    be = np.sort(pipeline_open(kwh_run)["breakeven_price_usd_per_mtok"].values)
    k = int(0.7 * DRAWS)
    assert be[k - 1] - 1e-9 <= res["value"] <= be[k] + 1e-9
    assert res["feasible"] == "at least"
    assert res["statistic"] <= 0.3


def test_largest_capex_with_a_loss_probability_matches_the_normal_closed_form(tmp_path: Path) -> None:
    mu, sd = 0.75, 0.1
    doc = reference_doc(price={"usd_per_mtok_output": {"dist": "normal", "mean": mu, "sd": sd, "lower": 0}})
    run = write_run(tmp_path, doc)
    res = pipeline.goal_seek(run, "capex.usd_per_gpu", "P(npv_usd < 0) <= 10%")
    # P(SLOPE p - energy - 1000 c < 0) = 10 %  <=>  c = (SLOPE (mu + sd z_0.1) - energy) / 1000
    closed = (SLOPE * (mu + sd * norm.ppf(0.1)) - 0.1 * ENERGY_PER_KWH) / 1000
    assert res["feasible"] == "at most"
    assert abs(res["value"] - closed) < 3 * res["se_value"], (res, closed)
    assert (run / "goal.json").is_file()


def test_unreachable_goal_names_the_target(kwh_run: Path) -> None:
    with pytest.raises(analysis.StressError) as e:
        # without a software gain (max_gain = 1) the half-life moves nothing, and no draw loses money
        pipeline.goal_seek(kwh_run, "optimization.half_life_months", "P(npv_usd < 0) >= 50%", write=False)
    assert e.value.option == "target" and "unreachable" in e.value.reason


def test_unknown_input_names_the_input(kwh_run: Path) -> None:
    with pytest.raises(analysis.StressError) as e:
        pipeline.goal_seek(kwh_run, "capex.usd_per_gpux", "P(npv_usd < 0) <= 10%", write=False)
    assert e.value.option == "input" and e.value.value == "capex.usd_per_gpux"


def test_shifted_outputs_at_zero_shift_are_the_runs(kwh_run: Path) -> None:
    ds = pipeline_open(kwh_run)
    ps = priors.from_dict(reference_doc(power={"usd_per_kwh": {"dist": "uniform", "min": 0.05, "max": 0.15}}))
    out = engine.shifted_outputs(ps, 5, 3000, "capex.usd_per_gpu", 0.0, ["npv_usd"])
    np.testing.assert_allclose(out["npv_usd"], ds["npv_usd"].values[:3000], rtol=1e-12, atol=1e-3)
    up = engine.shifted_outputs(ps, 5, 3000, "capex.usd_per_gpu", 100.0, ["npv_usd"])
    np.testing.assert_allclose(out["npv_usd"] - up["npv_usd"], 1000 * 100.0, rtol=1e-9)


def pipeline_open(run: Path) -> Any:
    from mcroi.runs import open_run

    return open_run(run)


def test_lowest_contract_rate_for_a_dscr_covenant_matches_the_closed_form(tmp_path: Path) -> None:
    # half the GPUs on a take-or-pay contract, 60 % debt over 48 months; every year alike, so
    # min DSCR = monthly (merchant margin + contract revenue) / level payment
    mu, sd = 0.75, 0.1
    doc = reference_doc(
        price={"usd_per_mtok_output": {"dist": "normal", "mean": mu, "sd": sd, "lower": 0}},
        contract={"share": 0.5, "usd_per_gpu_hour": 1.0, "months": 60},
        debt={"fraction": 0.6, "annual_rate": 0.08, "term_months": 48},
    )
    run = write_run(tmp_path, doc)
    res = pipeline.goal_seek(run, "contract.usd_per_gpu_hour", "P(min_dscr < 1.2) <= 5%", write=False)
    i = 0.08 / 12
    ds = 3e7 * i / (1 - (1 + i) ** -48)
    merchant = 0.5 * 1.314e6  # USD per month per USD/Mtok of the merchant half
    contract = 1000 * 0.5 * 730  # USD per month per USD/GPU-h
    closed = (1.2 * ds + 73_000 - merchant * (mu + sd * norm.ppf(0.05))) / contract
    assert res["feasible"] == "at least"
    assert abs(res["value"] - closed) < 3 * res["se_value"], (res, closed)
