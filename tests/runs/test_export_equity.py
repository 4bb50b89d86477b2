"""Exports of the equity's cash flow and the DSCR per year: every row is a numpy percentile of the stored draws."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import openpyxl
import pytest

from mcroi import pipeline, priors, runs
from tests.helpers import reference_doc

PCTS = (5.0, 10.0, 50.0, 90.0, 95.0)
METRICS = {"equity_cashflow_usd": "annual_equity_cashflow_usd", "dscr": "annual_dscr"}


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("export-equity") / "levered"
    doc = reference_doc(
        scenario={"name": "levered-export"},
        price={
            "usd_per_mtok_output": {"ci90": [0.5, 2.0]},
            "annual_decline": {"dist": "uniform", "min": 0, "max": 0.4},
        },
        finance={"useful_life_months": {"dist": "uniform", "min": 40, "max": 60}},
        debt={"fraction": 0.6, "annual_rate": 0.08, "term_months": 36},  # years 4, 5 owe nothing
    )
    ds = pipeline.simulate(priors.from_dict(doc), draws=500, seed=8, out=out, plots=False)
    files = {fmt: runs.export(out, fmt, out / f"x.{fmt}") for fmt in ("csv", "json", "xlsx")}
    return ds, files


def oracle(ds, metric: str, period: str, statistic: str) -> float:
    a = ds[METRICS[metric]].values
    x = a.sum(axis=1) if period == "total" else a[:, int(period) - 1]
    if statistic == "mean":
        f = x[np.isfinite(x)]
        return float(f.mean()) if f.size else math.nan
    x = x[~np.isnan(x)]
    return float(np.percentile(x, float(statistic[1:]), method="linear" if np.isfinite(x).all() else "inverted_cdf"))


def value(v) -> float:
    if v in (None, ""):
        return math.nan
    return math.inf if v in ("inf", "no debt") else float(v)


def check(ds, rows) -> set[tuple[str, str, str]]:
    seen = set()
    for r in rows:
        if r["metric"] not in METRICS:
            continue
        want, got = oracle(ds, r["metric"], str(r["period"]), r["statistic"]), value(r["value"])
        if math.isinf(want) or math.isnan(want):
            assert got == want or (math.isnan(want) and math.isnan(got)), r
        else:
            assert got == pytest.approx(want, rel=1e-12, abs=1e-6), r
        seen.add((r["metric"], str(r["period"]), r["statistic"]))
    return seen


def test_csv_rows_are_numpy_percentiles(run) -> None:
    ds, files = run
    with open(files["csv"], newline="") as fh:
        seen = check(ds, list(csv.DictReader(fh)))
    years = [str(y) for y in range(1, 6)]
    stats = ["p5", "p10", "p50", "p90", "p95"]
    assert {("equity_cashflow_usd", p, s) for p in [*years, "total"] for s in ["mean", *stats]} <= seen
    dscr = {k for k in seen if k[0] == "dscr"}
    # a ratio: no total over years (the totals carry min_dscr), and no mean (no headline)
    assert dscr == {("dscr", p, s) for p in years for s in stats}


def test_json_rows_are_numpy_percentiles(run) -> None:
    ds, files = run
    doc = json.loads(Path(files["json"]).read_text())
    seen = check(ds, doc["tables"]["annual"])
    assert ("dscr", "1", "p50") in seen and ("equity_cashflow_usd", "total", "p50") in seen
    mins = {r["statistic"]: r["value"] for r in doc["tables"]["totals"] if r["metric"] == "min_dscr"}
    assert mins["p50"] == pytest.approx(float(np.percentile(ds["min_dscr"].values, 50)), rel=1e-12)


def test_xlsx_reads_no_debt_where_nothing_is_owed(run) -> None:
    ds, files = run
    wb = openpyxl.load_workbook(files["xlsx"], read_only=True)
    it = wb["annual"].iter_rows(values_only=True)
    header = next(it)
    rows = [dict(zip(header, r, strict=True)) for r in it]
    check(ds, rows)
    late = [r for r in rows if r["metric"] == "dscr" and r["period"] in (4, 5)]
    assert late and all(r["value"] == "no debt" for r in late)  # a 36-month loan: nothing due in years 4, 5
    assert all(isinstance(r["value"], float) for r in rows if r["metric"] == "dscr" and r["period"] == 1)
    budget = list(wb["budget"].iter_rows(values_only=True))
    dscr = [r for r in budget if r[1] == "dscr"]
    assert [r[2] for r in dscr] == ["p10", "p50", "p90"] and all(r[-1] is None for r in dscr)
