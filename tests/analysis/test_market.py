"""The market check: year-1 revenue per GPU-hour against the GPU's market rent, wherever a run is read.

Oracle: the contract's reference case (model.md) earns R = 2.628e6 USD a month from 1000 GPUs over
730 hours, so 3.6 USD per GPU-hour; with the rent uniform on [1.5, 2.5] the ratio 3.6 / rent is
monotone in the rent, and its quantiles are 3.6 over the rent's opposite quantiles (scipy.stats).
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import scipy.stats as st

from mcroi import analysis, pipeline, priors
from mcroi.report import build_html as build
from mcroi.runs import market_check_lines, tables
from tests.helpers import cli, reference_doc, to_toml

REV_PER_GPU_HOUR = 2.628e6 / (1000 * 730)  # 3.6 USD
DRAWS = 4000
RENT = st.uniform(1.5, 1.0)


def _quantile_se(dist: st.rv_continuous, p: float, n: int) -> float:
    """The order-statistic standard error of the p quantile of n iid draws of ``dist``."""
    return math.sqrt(p * (1 - p) / n) / dist.pdf(dist.ppf(p))


@pytest.fixture(scope="module")
def rent_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("market")
    doc = reference_doc(market={"gpu_hour_usd": {"dist": "uniform", "min": 1.5, "max": 2.5}})
    doc["scenario"] = {"name": "rent"}
    (folder / "rent.toml").write_text(to_toml(doc))
    out = folder / "run"
    pipeline.simulate(priors.load(folder / "rent.toml"), draws=DRAWS, seed=11, out=out, plots=False, command="t")
    return out


def test_flag_rule_is_the_median_ratio_above_two():
    rev = {"p10": 3.0, "p50": 4.0, "p90": 5.0, "mcse_p50": 0.01, "n_nan": 0.0}
    for p50, flagged in ((2.01, True), (2.0, False), (0.7, False)):
        ratio = {"p10": p50 / 2, "p50": p50, "p90": p50 * 2, "mcse_p50": 0.01, "n_nan": 0.0}
        mc = analysis.market_check(
            {"revenue_per_gpu_hour_usd": rev, "revenue_to_rent_ratio": ratio}, {"p10": 2, "p50": 2, "p90": 2}
        )
        assert mc is not None and mc["flagged"] is flagged
        assert any("needs a reason" in line for line in market_check_lines(mc)) is flagged
    no_rent = analysis.market_check({"revenue_per_gpu_hour_usd": rev}, None)
    assert no_rent is not None and no_rent["flagged"] is None and no_rent["revenue_to_rent_ratio"] is None
    assert "no market rent" in market_check_lines(no_rent)[0]
    # a run written before contract v2 has no revenue per GPU-hour: no check, no line
    assert analysis.market_check({"npv_usd": rev}, None) is None and market_check_lines(None) == []


def test_summary_market_check_matches_the_closed_form(rent_run):
    mc = json.loads((rent_run / "summary.json").read_text())["market_check"]
    rev = mc["revenue_per_gpu_hour_usd"]
    for k in ("p10", "p50", "p90"):  # every draw earns exactly the reference case's revenue
        assert rev[k] == pytest.approx(REV_PER_GPU_HOUR, rel=1e-12, abs=1e-9)
    for k, p in (("p10", 0.1), ("p50", 0.5), ("p90", 0.9)):
        want_rent = RENT.ppf(p)
        assert abs(mc["market_gpu_hour_usd"][k] - want_rent) < 4 * _quantile_se(RENT, p, DRAWS)
        # ratio = 3.6 / rent falls with the rent: its p quantile is 3.6 over the rent's 1 - p quantile
        want = REV_PER_GPU_HOUR / RENT.ppf(1 - p)
        se = REV_PER_GPU_HOUR / RENT.ppf(1 - p) ** 2 * _quantile_se(RENT, 1 - p, DRAWS)
        assert abs(mc["revenue_to_rent_ratio"][k] - want) < 4 * se
    assert mc["flagged"] is False  # 3.6 / 2.0 = 1.8 <= 2


def test_summary_json_reports_no_mean_where_a_mean_is_no_headline(rent_run):
    outs = json.loads((rent_run / "summary.json").read_text())["outputs"]
    assert outs["irr_annual"]["mean"] is None and outs["payback_months"]["mean"] is None
    assert outs["irr_annual"]["p50"] is not None
    assert isinstance(outs["npv_usd"]["mean"], float) and isinstance(outs["mirr_annual"]["mean"], float)


def test_report_and_export_show_the_check(rent_run):
    html = build(rent_run)
    assert 'id="market"' in html and "x</strong> the <strong>$" in html
    assert "Market check:" not in html  # not flagged: no warning box
    about = {r["key"]: r["value"] for r in tables(*_ds_and_manifest(rent_run))["about"]}
    assert "x the market rent of $" in about["market_check"]


def _ds_and_manifest(run):
    from mcroi.runs import open_run

    return open_run(run), json.loads((run / "manifest.json").read_text())


def test_terminal_flags_a_case_far_above_the_rent(tmp_path):
    doc = reference_doc(market={"gpu_hour_usd": 1.2})  # 3.6 / 1.2 = 3x the rent
    doc["scenario"] = {"name": "rich"}
    (tmp_path / "rich.toml").write_text(to_toml(doc))
    res = cli("simulate", tmp_path / "rich.toml", "--draws", 2000, "--seed", 1, "--out", tmp_path / "run")
    assert res.exit_code == 0, res.output
    out = " ".join(res.output.split())
    assert "Year-1 revenue per GPU-hour: P50 $3.60" in out and "3.00x the market rent of $1.20" in out
    assert "Market check: above 2x the rent" in out
    mc = json.loads((tmp_path / "run" / "summary.json").read_text())["market_check"]
    assert mc["flagged"] is True and mc["revenue_to_rent_ratio"]["p50"] == pytest.approx(3.0, rel=1e-12)
    html = (tmp_path / "run" / "report.html").read_text()
    assert "Market check:" in html and "3.0x the market rent" in html


def test_compare_shows_each_platforms_check(compare_run):
    out = " ".join(compare_run["stdout"].split())
    # three platforms narrow the label column: rich may wrap a label, so look for its words
    assert "Year-1 revenue" in out and "GPU-hour" in out and "no rent" in out
    for label, one in compare_run["summary"]["per_platform"].items():
        mc = one["market_check"]
        rev = compare_run["ds"].sel(platform=label)["revenue_per_gpu_hour_usd"].values
        assert mc["revenue_per_gpu_hour_usd"]["p50"] == pytest.approx(float(np.median(rev)), rel=1e-12)
        assert mc["flagged"] is None
        assert one["outputs"]["irr_annual"]["mean"] is None
