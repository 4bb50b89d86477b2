"""The capital summary: covenant breaches, equity losses and returns, counted directly on the stored draws."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from mcroi import analysis, pipeline, priors
from tests.helpers import assert_one_line_error, cli, reference_doc, to_toml, write_priors

DRAWS = 1500
COVENANT = 1.3


def levered_doc() -> dict:
    """The reference case with an uncertain price, a price decline, an early end and 60 % debt at 8 %."""
    return reference_doc(
        scenario={"name": "levered"},
        price={
            "usd_per_mtok_output": {"ci90": [0.4, 2.0]},
            "annual_decline": {"dist": "uniform", "min": 0, "max": 0.5},
        },
        finance={"tax_rate": 0.21, "useful_life_months": {"dist": "triangular", "min": 40, "mode": 60, "max": 72}},
        debt={"fraction": 0.6, "annual_rate": {"dist": "uniform", "min": 0.06, "max": 0.1}, "term_months": 48},
    )


@pytest.fixture(scope="module")
def levered():
    ds = pipeline.simulate(priors.from_dict(levered_doc()), draws=DRAWS, seed=5, covenant=COVENANT)
    return ds, json.loads(ds.attrs["summary"]), json.loads(ds.attrs["manifest"])


def test_p_min_dscr_below_covenant_is_a_direct_count(levered):
    ds, summary, manifest = levered
    cap = summary["capital"]
    m = ds["min_dscr"].values
    p = float(np.count_nonzero(m < COVENANT)) / m.size
    assert 0.05 < p < 0.95  # the case is not degenerate
    assert cap["has_debt"] and cap["covenant"] == COVENANT and manifest["covenant"] == COVENANT
    assert cap["p_min_dscr_below_covenant"]["p"] == p
    assert cap["p_min_dscr_below_covenant"]["mcse"] == pytest.approx(math.sqrt(p * (1 - p) / m.size), rel=1e-12)
    assert cap["min_dscr"]["p50"] == pytest.approx(float(np.percentile(m, 50)), rel=1e-12)


def test_breach_by_year_is_a_direct_count(levered):
    ds, summary, _ = levered
    a = ds["annual_dscr"].values
    by_year = summary["capital"]["breach_by_year"]
    assert [b["year"] for b in by_year] == list(range(1, a.shape[1] + 1))
    for j, b in enumerate(by_year):
        assert b["p"] == float(np.count_nonzero(a[:, j] < COVENANT)) / a.shape[0]
        assert b["p_debt_service"] == float(np.count_nonzero(np.isfinite(a[:, j]))) / a.shape[0]
    # a draw breaches in some year exactly when its minimum is below the covenant
    assert np.array_equal((a < COVENANT).any(axis=1), ds["min_dscr"].values < COVENANT)


def test_equity_loss_and_returns_are_the_stored_draws(levered):
    ds, summary, _ = levered
    cap = summary["capital"]
    eq = ds["equity_npv_usd"].values
    assert cap["p_equity_loss"]["p"] == float(np.count_nonzero(eq < 0)) / eq.size
    e, p = cap["returns"]["equity"], cap["returns"]["project"]
    np.testing.assert_allclose(
        [e["npv_p5"], e["npv_p50"], e["npv_p95"]], np.percentile(eq, [5, 50, 95]), rtol=1e-12, atol=1e-6
    )
    np.testing.assert_allclose(p["npv_p50"], np.percentile(ds["npv_usd"].values, 50), rtol=1e-12, atol=1e-6)
    irr, mult = ds["equity_irr_annual"].values, ds["equity_multiple"].values
    ranked = np.where(np.isnan(irr) & (mult < 1), -1.0, irr)
    ranked = ranked[~np.isnan(ranked)]
    method = "linear" if np.isfinite(ranked).all() else "inverted_cdf"
    assert e["irr_p50"] == pytest.approx(float(np.quantile(ranked, 0.5, method=method)), rel=1e-12)
    assert e["multiple_p50"] == pytest.approx(float(np.percentile(mult, 50)), rel=1e-12)
    assert e["irr_loss_without_root"] == float(np.count_nonzero(np.isnan(irr) & (mult < 1)))


def test_without_debt_there_are_no_coverage_figures_and_equity_is_the_project():
    ds = pipeline.simulate(
        priors.from_dict(reference_doc(price={"usd_per_mtok_output": {"ci90": [0.4, 2.0]}})), draws=400, seed=1
    )
    cap = json.loads(ds.attrs["summary"])["capital"]
    assert cap["has_debt"] is False
    assert not {"p_min_dscr_below_covenant", "min_dscr", "breach_by_year"} & set(cap)
    assert cap["returns"]["project"] == cap["returns"]["equity"]
    assert np.isposinf(ds["min_dscr"].values).all()


def test_irr_ranked_counts_losses_without_a_root_at_the_bottom():
    irr = np.array([0.1, np.nan, np.nan, -0.2])
    mult = np.array([1.5, 0.4, 1.2, 0.9])
    got = analysis.irr_ranked(irr, mult)
    np.testing.assert_array_equal(got[[0, 1, 3]], [0.1, -1.0, -0.2])
    assert np.isnan(got[2])  # no IRR and no loss: undefined, not a loss


def test_dscr_bands_rank_no_debt_service_as_infinite():
    a = np.array([[1.0, np.inf], [2.0, np.inf], [3.0, 0.5], [4.0, np.inf]])
    b = analysis.dscr_bands(a, (25, 50, 75))
    np.testing.assert_allclose(b[:, 0], np.quantile(a[:, 0], [0.25, 0.5, 0.75]))
    np.testing.assert_array_equal(b[:, 1], np.quantile(a[:, 1], [0.25, 0.5, 0.75], method="inverted_cdf"))
    assert analysis.breach_by_year(a, 1.2)[1]["p"] == 0.25  # inf never breaches


@pytest.mark.parametrize("bad", [0.0, -1.0, math.nan, math.inf])
def test_covenant_must_be_a_positive_number(bad):
    with pytest.raises(ValueError, match="--covenant"):
        analysis.check_covenant(bad)


def test_cli_records_the_covenant_and_prints_the_lender_line(tmp_path: Path):
    f = write_priors(tmp_path, to_toml(levered_doc()))
    out = tmp_path / "run"
    res = cli("simulate", f, "--draws", "600", "--seed", "2", "--covenant", "1.5", "--out", out)
    assert res.exit_code == 0, res.output
    man = json.loads((out / "manifest.json").read_text())
    summary = json.loads((out / "summary.json").read_text())
    assert man["covenant"] == 1.5 and summary["capital"]["covenant"] == 1.5
    assert "P(min DSCR < 1.5)" in res.output and "equity" in res.output


def test_cli_bad_covenant_is_one_line_and_writes_nothing(tmp_path: Path):
    f = write_priors(tmp_path, to_toml(levered_doc()))
    out = tmp_path / "run"
    res = cli("simulate", f, "--draws", "100", "--covenant", "-1", "--out", out)
    assert_one_line_error(res, "--covenant", "-1")
    assert not out.exists()


def test_no_debt_reads_no_debt_in_the_terminal(tmp_path: Path):
    f = write_priors(tmp_path, to_toml(reference_doc(scenario={"name": "plain"})))
    res = cli("simulate", f, "--draws", "200", "--out", tmp_path / "run")
    assert res.exit_code == 0, res.output
    assert "no debt" in res.output and "P(min DSCR" not in res.output


def test_verify_recounts_the_capital_block(tmp_path: Path):
    out = tmp_path / "run"
    pipeline.simulate(priors.from_dict(levered_doc()), draws=400, seed=6, out=out, plots=False, covenant=1.4)
    res = cli("verify", out)
    assert "summary.json (statistics and risk) matches the stored draws" in res.output, res.output
    summary = json.loads((out / "summary.json").read_text())
    summary["capital"]["p_min_dscr_below_covenant"]["p"] = 0.01  # a flattering edit
    (out / "summary.json").write_text(json.dumps(summary))
    res = cli("verify", out)
    assert "summary.json differs from the stored draws in: capital" in res.output, res.output
