"""The lender's page: present with the run's own numbers when there is debt, absent without, and in a browser."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import numpy_financial as npf
import pytest
import xarray as xr

from mcroi import pipeline, priors, report, runs
from tests.helpers import reference_doc
from tests.report.test_report import _chromium, _console, parse

DRAWS = 600
B = 0.5 * 1000 * 50000  # half the reference case's capex
RATE, TERM = 0.06, 48


def levered_doc(**debt: object) -> dict:
    """Reference case, uncertain price and decline, no tax, a 60-month life: debt service is level, no balloon."""
    return reference_doc(
        scenario={"name": "levered-report"},
        price={
            "usd_per_mtok_output": {"ci90": [0.5, 2.0]},
            "annual_decline": {"dist": "uniform", "min": 0, "max": 0.4},
        },
        debt={"fraction": 0.5, "annual_rate": RATE, "term_months": TERM, **debt},
    )


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("lender") / "levered"
    pipeline.simulate(priors.from_dict(levered_doc()), draws=DRAWS, seed=4, out=out)
    return out


@pytest.fixture(scope="module")
def page(run_dir: Path) -> str:
    return (run_dir / "report.html").read_text()


def _ds(run_dir: Path) -> xr.Dataset:
    return runs.read_run(run_dir).dataset()


def test_the_lender_page_carries_the_summary_numbers(run_dir: Path, page: str) -> None:
    cap = json.loads((run_dir / "summary.json").read_text())["capital"]
    assert 'id="lender"' in page and '<a href="#lender">' in page
    lead = re.search(r'data-key="p_min_dscr_below_covenant" data-value="([^"]+)"', page)
    assert lead is not None and float(lead.group(1)) == cap["p_min_dscr_below_covenant"]["p"]
    assert 0 < cap["p_min_dscr_below_covenant"]["p"] < 1
    assert "Capital-structure assumptions" in page and "debt.annual_rate" in page and "debt.fraction" in page


def test_breach_by_year_rows_are_direct_counts(run_dir: Path, page: str) -> None:
    a = _ds(run_dir)["annual_dscr"].values
    got = [float(x) for x in re.findall(r"data-breach='([^']+)'", page)]
    want = [float(np.count_nonzero(a[:, j] < 1.2)) / a.shape[0] for j in range(a.shape[1])]
    assert got == want and max(want) > 0
    p50 = re.findall(r"data-p='50'>([^<]+)<", page)
    want_p50 = []
    for j in range(a.shape[1]):
        col = a[:, j]
        q = float(np.quantile(col, 0.5, method="linear" if np.isfinite(col).all() else "inverted_cdf"))
        want_p50.append("none due" if q == np.inf else runs.multiple(q))
    assert p50 == want_p50 and want_p50[-1] == "none due"  # year 5: the 48-month loan is repaid


def test_waterfall_adds_up_and_its_debt_service_is_numpy_financial_pmt(run_dir: Path) -> None:
    w = report.waterfall(_ds(run_dir))
    np.testing.assert_allclose(w.steps.sum(), w.equity, rtol=1e-12, atol=1e-3)
    # no tax, no early end: every draw pays TERM level payments, numpy-financial's pmt
    np.testing.assert_allclose(-w.steps[-1], TERM * -npf.pmt(RATE / 12, TERM, B), rtol=1e-10, atol=1e-3)
    assert w.steps[0] > 0 and w.draws >= 0.09 * DRAWS
    assert w.equity_in == pytest.approx(1000 * 50000 - B, rel=1e-12)  # the equity paid the other half


def test_no_lender_page_without_debt(tmp_path: Path) -> None:
    out = tmp_path / "plain"
    doc = reference_doc(scenario={"name": "plain"}, price={"usd_per_mtok_output": {"ci90": [0.5, 2.0]}})
    pipeline.simulate(priors.from_dict(doc), draws=200, seed=1, out=out)
    text = (out / "report.html").read_text()
    assert 'id="lender"' not in text and "DSCR" not in text


def test_compare_report_lists_every_structure(tmp_path: Path) -> None:
    plain = priors.from_dict(reference_doc(scenario={"name": "all-equity"}))
    lev = priors.from_dict(levered_doc())
    ds = pipeline.compare([plain, lev], draws=300, seed=2, independent_draws=0)
    out = pipeline.write_compare(ds, tmp_path / "cmp")
    text = (out / "report.html").read_text()
    assert "data-platform='all-equity'" in text and "data-platform='levered-report'" in text
    assert "has no debt" in text  # the baseline borrows nothing: said, not charted
    summary = json.loads((out / "summary.json").read_text())
    assert summary["per_platform"]["all-equity"]["capital"]["has_debt"] is False
    assert summary["vs_baseline"]["levered-report"]["capital"]["p_equity_npv_above_baseline"]["p"] >= 0


def test_lender_page_in_headless_chromium(run_dir: Path, tmp_path: Path) -> None:
    page = run_dir / "report.html"
    p = _chromium(page, tmp_path, "--dump-dom")
    assert p.returncode == 0, p.stderr[-2000:]
    assert _console(p.stderr) == [], _console(p.stderr)
    dom = parse(p.stdout)
    cap = json.loads((run_dir / "summary.json").read_text())["capital"]
    keyed = {a["data-key"]: a["data-value"] for _, a in dom.elements if a.get("data-key")}
    assert float(keyed["p_min_dscr_below_covenant"]) == cap["p_min_dscr_below_covenant"]["p"]
    ids = {a.get("id") for _, a in dom.elements}
    assert "lender" in ids
    figs = {f"{p}-figure_1" for p in ("fig-dscr", "fig-breach", "fig-waterfall")}
    assert figs <= ids  # the three charts reached the DOM
    shot = tmp_path / "lender.png"
    p = _chromium(page, tmp_path, "--hide-scrollbars", "--window-size=1280,6000", f"--screenshot={shot}")
    assert p.returncode == 0 and shot.exists(), p.stderr[-2000:]
    import matplotlib.image as mpimg

    img = mpimg.imread(shot)
    assert float(img[..., :3].std()) > 0.05
