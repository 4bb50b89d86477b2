"""Tests generated from the registries: every output, sensitivity method and export format.

Adding an entry to a registry adds its cases here; an entry that the rest of mcroi does not
honour (a missing model field, an unknown number format, a method that stores nothing) fails.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy import stats

from mcroi import analysis, engine, pipeline, priors, runs
from mcroi.priors import Dist
from tests.helpers import is_number_text
from tests.reference import REFERENCE_CASE

KINDS = {"usd", "rate", "months", "multiple", "usd_per_mtok", "count"}


# --------------------------------------------------------------------------- outputs


def test_the_model_computes_exactly_the_registered_outputs_in_order() -> None:
    assert tuple(engine.Outputs._fields) == tuple(engine.OUTPUTS)
    assert engine.SCALAR_OUTPUTS + engine.ANNUAL_OUTPUTS == tuple(engine.OUTPUTS)


@pytest.mark.parametrize("name", list(engine.OUTPUTS))
def test_output_record_is_complete(name: str) -> None:
    spec = engine.OUTPUTS[name]
    assert spec.name == name
    assert spec.unit and spec.long_name and spec.label, name
    assert spec.kind in KINDS, f"{name}: kind {spec.kind!r} has no number format"
    # per year: the annual line items, and the contract's price_path_multiplier[year]
    per_year = name.startswith("annual_") or name == "price_path_multiplier"
    assert spec.dims == (("draw", "year") if per_year else ("draw",))
    # every kind is written: a finite value never reads n/a
    assert runs.format_value(name, 1234.5) != "n/a"
    assert runs.format_value(name, math.nan) == "n/a"


@pytest.fixture(scope="module")
def reference_run():
    ps = priors.from_dict(REFERENCE_CASE, name="reference")
    return engine.run(ps, 64, seed=0)


@pytest.mark.parametrize("name", list(engine.OUTPUTS))
def test_run_dataset_carries_each_outputs_units_and_dims(reference_run, name: str) -> None:
    ps = priors.from_dict(REFERENCE_CASE, name="reference")
    ds = runs.to_dataset(ps, reference_run)
    spec = engine.OUTPUTS[name]
    assert ds[name].dims == spec.dims
    assert ds[name].attrs["units"] == spec.unit and ds[name].attrs["long_name"] == spec.long_name


@pytest.mark.parametrize("name", list(engine.SCALAR_OUTPUTS))
def test_documented_nonfinite_rule(name: str) -> None:
    """The guard's rule for each output: a finite value is never flagged; the documented case is."""
    spec = engine.OUTPUTS[name]
    n = 4
    outputs = {k: np.ones(n) for k in engine.SCALAR_OUTPUTS}
    x = np.array([1.0, np.nan, np.inf, -np.inf])
    mask = spec.nonfinite(x, outputs, None)
    assert not mask[0], name
    doc = {
        "irr_annual": (np.array([np.nan]), {}),
        "payback_months": (np.array([np.inf]), {}),
        "roi_multiple": (np.array([np.nan]), {"capex_usd": np.zeros(1)}),
        "net_roi": (np.array([np.nan]), {"capex_usd": np.zeros(1)}),
        "cost_per_mtok_usd": (np.array([np.inf]), {"total_output_tokens": np.zeros(1)}),
        "breakeven_price_usd_per_mtok": (np.array([np.nan]), {"total_output_tokens": np.zeros(1)}),
        # contract v2
        "mirr_annual": (np.array([np.nan]), {"capex_usd": np.zeros(1)}),
        "discounted_payback_months": (np.array([np.inf]), {"npv_usd": -np.ones(1)}),
        "revenue_per_gpu_hour_usd": (np.array([np.nan]), {"total_revenue_usd": np.zeros(1)}),
        "revenue_to_rent_ratio": (np.array([np.nan]), {}),
        "sold_share": (np.array([np.nan]), {"total_output_tokens": np.zeros(1)}),
        "price_path_log_mean": (np.array([-np.inf]), {}),
        "equity_irr_annual": (np.array([np.nan]), {}),
        "equity_multiple": (np.array([np.nan]), {}),
        "min_dscr": (np.array([np.inf]), {}),
    }
    if name in doc:
        xv, over = doc[name]
        outs = {k: np.ones(1) for k in engine.SCALAR_OUTPUTS} | over
        assert spec.nonfinite(xv, outs, None).all(), f"{name}: the documented case is not recognised"
        assert spec.nonfinite_doc != "never"
    else:
        assert not mask.any(), f"{name}: the contract documents no NaN/inf for it"


def test_terminal_formats_match_the_readme_style() -> None:
    assert runs.format_value("npv_usd", 155.68e6) == "155.68M"
    assert runs.format_value("npv_usd", -1.91e6) == "-1.91M"
    assert runs.format_value("irr_annual", 0.438) == "43.8%"
    assert runs.format_value("payback_months", math.inf) == "never"
    assert runs.format_value("payback_months", 7.0) == "7"
    assert runs.format_value("cost_per_mtok_usd", 0.45612) == "0.4561"
    assert runs.format_value("roi_multiple", 6.6312) == "6.63"
    assert runs.money(-1.5e6) == "-$1.5M" and runs.money(math.nan) == "n/a"


# --------------------------------------------------------------------------- sensitivity methods

LIN = {"a": Dist("normal", (0.0, 1.0)), "b": Dist("uniform", (0.0, 2.0)), "c": Dist("normal", (1.0, 0.5))}
COEF = {"a": 3.0, "b": -1.0, "c": 0.5}


def _linear(d):  # one draw -> (1 + 2 years): the output and two "years"
    import jax.numpy as jnp

    y = sum(k * d[n] for n, k in COEF.items())
    return jnp.stack([y, 0.5 * y, 0.5 * y], axis=-1)


@pytest.mark.parametrize("name", list(analysis.METHODS_REGISTRY))
def test_every_method_ranks_a_linear_model_and_stores_its_measures(name: str) -> None:
    method = analysis.METHODS_REGISTRY[name]
    ps = analysis.make_priors(LIN)
    names = analysis.varying(ps)
    x, y = analysis.monte_carlo(_linear, ps, 4000, key=1)
    design = analysis.Design(_linear, ps, names, np.asarray(x), np.asarray(y), 1, 50, 1024, 0.1, 0.9)
    r = method.estimate(design)
    assert r.method == name and r.names == names
    for measure in method.measures.values():
        assert measure == "high_minus_low" or measure in r.measures, (name, measure)
    # a linear model's inputs ranked by |coefficient| x spread: a (3 x sd 1) first, c (0.5 x 0.5) last
    imp = np.abs(r.measures[method.importance])[:, 0]
    assert names[int(np.argmax(imp))] == "a" and names[int(np.argmin(imp))] == "c", (name, imp)
    assert method.meaning and method.caption and method.needs in ("function", "draws")
    assert all(ds_m in pipeline_measures() for ds_m in method.measures)


def pipeline_measures() -> set[str]:
    from mcroi.pipeline._sensitivity import MEASURES

    return set(MEASURES)


# --------------------------------------------------------------------------- export formats


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("reg") / "run"
    doc = json.loads(json.dumps(REFERENCE_CASE))
    doc["price"]["usd_per_mtok_output"] = {"dist": "uniform", "min": 1.0, "max": 3.0, "source": "test"}
    pipeline.simulate(priors.from_dict(doc, name="reg"), draws=500, seed=3, out=out, plots=False)
    return out


@pytest.mark.parametrize("fmt", list(runs.EXPORT_FORMATS))
def test_every_export_format_writes_the_runs_totals(small_run, tmp_path, fmt: str) -> None:
    dest = tmp_path / f"x.{fmt}"
    got = runs.export(small_run, fmt, dest)
    assert got == dest and dest.stat().st_size > 0
    writer = runs.EXPORT_FORMATS[fmt]
    assert writer.doc
    if writer.text is not None:
        text = runs.export(small_run, fmt, "-")
        assert isinstance(text, str) and "npv_usd" in text
    npv = runs.open_run(small_run)["npv_usd"].values
    p50 = float(np.quantile(npv, 0.5))
    if fmt == "csv":
        rows = [r.split(",") for r in dest.read_text().splitlines()]
        hits = [r for r in rows if "npv_usd" in r and "p50" in r and "total" in r]
        assert hits and any(math.isclose(float(c), p50, rel_tol=1e-9) for c in hits[0] if is_number_text(c))
    elif fmt == "json":
        doc = json.loads(dest.read_text())
        vals = [r["value"] for r in doc["tables"]["totals"] if r["metric"] == "npv_usd" and r["statistic"] == "p50"]
        assert vals and math.isclose(vals[0], p50, rel_tol=1e-9)
    else:
        from openpyxl import load_workbook

        assert "totals" in load_workbook(dest).sheetnames


def test_scipy_is_the_oracle_for_the_linear_swing() -> None:
    """The swing of the linear model equals |coef| x (P90 - P10) from scipy (a registry entry's estimate)."""
    ps = analysis.make_priors(LIN)
    names = analysis.varying(ps)
    d = analysis.Design(_linear, ps, names, None, None, 0, 10, 256, 0.1, 0.9)
    r = analysis.METHODS_REGISTRY["swing"].estimate(d)
    twins = {"a": stats.norm(0, 1), "b": stats.uniform(0, 2), "c": stats.norm(1, 0.5)}
    want = [abs(COEF[n]) * (twins[n].ppf(0.9) - twins[n].ppf(0.1)) for n in names]
    np.testing.assert_allclose(r.measures["width"][:, 0], want, rtol=1e-9, atol=1e-12)


def test_priors_show_writes_thousands_not_scientific_notation() -> None:
    assert runs.quantity(65030.4) == "65,030" and runs.quantity(0.4512) == "0.4512"
    assert runs.quantity(2.5e10) == "2.5e+10" and runs.quantity(576.0) == "576"
