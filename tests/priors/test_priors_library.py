"""The shipped priors library, curve interpolation, the empirical family and `mcroi priors`."""

from __future__ import annotations

import math
import re
from pathlib import Path

import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

from mcroi import engine, priors
from mcroi.priors import LAYER_DIRS, cdf, empirical_positions, fit_families, is_layer, ppf
from tests.helpers import cli, mcroi_subprocess, parse_one

ROOT = priors.library_root()
FILES = sorted(p for p in ROOT.rglob("*.toml"))
IDS = [str(p.relative_to(ROOT)) for p in FILES]
PLATFORMS = ["h100", "h200", "b200", "b300", "gb200-nvl72", "gb300-nvl72", "mi300x", "mi325x", "mi355x"]
WORKLOADS = ["deepseek-r1-1k1k", "deepseek-r1-8k1k", "deepseek-r1-1k8k", "gpt-oss-120b"]


def test_the_library_has_what_the_issue_lists():
    for p in PLATFORMS:
        assert (ROOT / "platforms" / f"{p}.toml").exists()
        for tier in ("hyperscaler", "neocloud", "rent"):
            assert (ROOT / "platforms" / "tco" / f"{p}-{tier}.toml").exists()
        for w in WORKLOADS:
            assert (ROOT / "curves" / w / f"{p}.toml").exists()
    for w in WORKLOADS:
        assert (ROOT / "workloads" / f"{w}.toml").exists()
    for m in ("slow", "base", "llmflation"):
        assert (ROOT / "markets" / f"{m}.toml").exists()
    for f in ("hyperscaler", "neocloud"):
        assert (ROOT / "finance" / f"{f}.toml").exists()
    assert priors.load(priors.default_path()).name == "default"


@pytest.mark.parametrize("path", FILES, ids=IDS)
def test_every_file_loads_and_validates(path: Path):
    layer = is_layer(path)
    ps = priors.load(path, partial=layer)
    if not layer:
        # a complete scenario: the full validation passed, so every required input is there
        assert "price.usd_per_mtok_output" in ps.inputs and "power.pue" in ps.inputs
        assert "finance.useful_life_months" in ps.inputs
        assert ps.curve is not None or "throughput.output_tokens_per_s_per_gpu" in ps.inputs
    else:
        assert ps.inputs or ps.curve, "a layer that gives nothing"


@pytest.mark.parametrize("path", FILES, ids=IDS)
def test_every_sampled_input_and_curve_carries_a_dated_source(path: Path):
    ps = priors.load(path, partial=is_layer(path))
    for name, d in ps.inputs.items():
        if d.source in ("mcroi default (contract v1)", "mcroi default: the horizon"):
            assert d.is_constant, (path, name)
            continue
        assert d.source and len(d.source) > 10, (path, name)
        if not d.is_constant:
            assert re.search(r"20\d\d", d.source), f"{path}: {name}: the source names no date"
    if ps.curve:
        assert ps.curve_source and re.search(r"20\d\d", ps.curve_source), path


def test_layers_are_refused_as_complete_scenarios():
    with pytest.raises(priors.PriorsError) as e:
        priors.load(ROOT / "platforms" / "h200.toml")
    assert any("missing required input" in line for line in e.value.lines)
    assert all(
        line.startswith(str(Path("priors") / "platforms" / "h200.toml")) or "h200.toml" in line
        for line in e.value.lines
    )


def test_a_partial_layer_still_reports_bad_values(tmp_path: Path):
    f = tmp_path / "p.toml"
    f.write_text('[capex]\nusd_per_gpu = { dist = "normal", mean = 5, sd = 10, source = "x" }\n')
    with pytest.raises(priors.PriorsError) as e:
        priors.load(f, partial=True)
    assert len(e.value.lines) == 1 and "capex.usd_per_gpu" in e.value.lines[0]


def test_is_layer_knows_the_library_folders():
    assert is_layer(ROOT / "platforms" / "h200.toml")
    assert is_layer(ROOT / "curves" / "gpt-oss-120b" / "b200.toml")
    assert not is_layer(priors.default_path())
    assert not is_layer(ROOT / "scenarios" / "claims" / "b200-2-cents.toml")
    assert set(LAYER_DIRS) >= {"platforms", "workloads", "markets", "finance"}


def test_platforms_without_a_measured_curve_say_so():
    for p in ("curves/deepseek-r1-1k8k/b300.toml", *(f"curves/gpt-oss-120b/{x}.toml" for x in PLATFORMS)):
        text = (ROOT / p).read_text()
        assert "NO MEASURED CURVE" in text, p
        ps = priors.load(ROOT / p, partial=True)
        assert ps.curve is not None and len(ps.curve) == 1
        assert ps.inputs["throughput.curve_scale"].params[1] >= math.log(1.4)  # a wide prior


def test_curves_follow_the_readme_rule_for_output_tokens():
    # output tok/s/GPU = total / (1 + ISL/OSL); check one knot per sequence mix against the copied CSV
    import csv

    with (ROOT / "data" / "inferencex_dsr1_pareto_knots.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    for wl, (isl, osl) in {
        "deepseek-r1-1k1k": (1024, 1024),
        "deepseek-r1-8k1k": (8192, 1024),
        "deepseek-r1-1k8k": (1024, 8192),
    }.items():
        ps = priors.load(ROOT / "curves" / wl / "h200.toml", partial=True)
        data = sorted(
            (float(r["median_intvty"]), float(r["total_tput_per_gpu"]) / (1 + isl / osl))
            for r in rows
            if r["hardware"] == "h200" and int(r["isl"]) == isl and int(r["osl"]) == osl
        )
        np.testing.assert_allclose(np.asarray(ps.curve), np.asarray(data), rtol=0, atol=0.051)


# --------------------------------------------------------------------------- curve interpolation

KNOTS = np.asarray(priors.load(ROOT / "curves" / "deepseek-r1-1k1k" / "gb200-nvl72.toml", partial=True).curve)


def curve(x: np.ndarray, scale: float = 1.0) -> np.ndarray:
    x = jnp.asarray(np.asarray(x, float))
    return np.asarray(engine.curve_throughput(x, KNOTS, jnp.full_like(x, scale)))


def test_curve_is_exact_at_the_knots():
    np.testing.assert_allclose(curve(KNOTS[:, 0]), KNOTS[:, 1], rtol=1e-12)
    np.testing.assert_allclose(curve(KNOTS[:, 0], 1.3), 1.3 * KNOTS[:, 1], rtol=1e-12)


def test_curve_is_log_log_linear_and_monotone_between_knots():
    for (x0, y0), (x1, y1) in zip(KNOTS[:-1], KNOTS[1:], strict=True):
        xs = np.exp(np.linspace(np.log(x0), np.log(x1), 25))
        ys = curve(xs)
        d = np.diff(ys)
        assert np.all(d <= 0) if y1 <= y0 else np.all(d >= 0)  # monotone the way the knots go
        t = (np.log(xs) - np.log(x0)) / (np.log(x1) - np.log(x0))
        np.testing.assert_allclose(ys, np.exp(np.log(y0) + t * (np.log(y1) - np.log(y0))), rtol=1e-10)


def test_curve_is_clamped_below_and_zero_above_the_fastest_knot():
    lo, hi = KNOTS[0], KNOTS[-1]
    np.testing.assert_allclose(curve([lo[0] * 0.5, lo[0] * 0.01, lo[0] * (1 - 1e-9)]), lo[1], rtol=1e-9)
    assert np.all(curve([hi[0] * (1 + 1e-9), hi[0] * 2, 1e6]) == 0.0)
    assert curve([hi[0]])[0] == pytest.approx(hi[1], rel=1e-12)


# --------------------------------------------------------------------------- empirical family


def write_empirical(tmp_path: Path, values: list[str], key: str = "price.usd_per_mtok_output") -> Path:
    d = tmp_path / "sub"
    d.mkdir(exist_ok=True)
    (d / "obs.csv").write_text("id,x\n" + "\n".join(f"{i},{v}" for i, v in enumerate(values)) + "\n")
    group, name = key.split(".")
    f = d / "layer.toml"
    f.write_text(
        f'[{group}]\n{name} = {{ dist = "empirical", file = "obs.csv", column = "x", source = "test data" }}\n'
    )
    return f


def test_empirical_reads_the_csv_next_to_the_priors_file(tmp_path: Path):
    vals = [3.0, 1.0, 2.0, 5.0, 4.0]
    f = write_empirical(tmp_path, [str(v) for v in vals] + [""])  # blank cells are skipped
    d = priors.load(f, partial=True).inputs["price.usd_per_mtok_output"]
    assert d.family == "empirical" and d.params == (1.0, 2.0, 3.0, 4.0, 5.0)
    assert d.support() == (1.0, 5.0) and d.source == "test data"
    assert d.spec["file"] == "obs.csv" and d.spec["n"] == 5


def test_empirical_ppf_interpolates_at_plotting_positions(tmp_path: Path):
    vals = np.sort(np.random.default_rng(1).lognormal(0.5, 0.4, size=200))
    d = priors.load(write_empirical(tmp_path, [repr(float(v)) for v in vals]), partial=True).inputs[
        "price.usd_per_mtok_output"
    ]
    p = empirical_positions(len(vals))
    np.testing.assert_allclose(np.asarray(ppf(d, jnp.asarray(p))), vals, rtol=1e-12)
    # clamped outside the first/last position; monotone; cdf inverts ppf inside
    assert float(ppf(d, jnp.asarray([1e-9]))[0]) == vals[0] and float(ppf(d, jnp.asarray([1 - 1e-9]))[0]) == vals[-1]
    u = np.linspace(0.01, 0.99, 99)
    x = np.asarray(ppf(d, jnp.asarray(u)))
    assert np.all(np.diff(x) >= 0)
    np.testing.assert_allclose([cdf(d, float(v)) for v in x], u, atol=1e-9)
    # draws reproduce the data's distribution (two-sample KS, 200 data vs 20k draws)
    draws = np.asarray(ppf(d, jnp.asarray((np.arange(20000) + 0.5) / 20000)))
    assert stats.ks_2samp(draws, vals).pvalue > 0.05


@pytest.mark.parametrize(
    ("values", "column", "needle"),
    [
        (["1", "2", "abc"], "x", "line 4: x = 'abc' is not a finite number"),
        (["1", "2"], "y", "no column 'y'"),
        (["1"], "x", "at least two distinct"),
    ],
)
def test_empirical_errors_are_one_line(tmp_path: Path, values, column, needle):
    f = write_empirical(tmp_path, values)
    if column != "x":
        f.write_text(f.read_text().replace('column = "x"', f'column = "{column}"'))
    with pytest.raises(priors.PriorsError) as e:
        priors.load(f, partial=True)
    assert len(e.value.lines) == 1
    line = e.value.lines[0]
    assert "layer.toml: price.usd_per_mtok_output = " in line and needle in line


def test_empirical_missing_file_is_named(tmp_path: Path):
    f = tmp_path / "p.toml"
    f.write_text('[price]\nannual_decline = { dist = "empirical", file = "nope.csv", column = "x" }\n')
    with pytest.raises(priors.PriorsError) as e:
        priors.load(f, partial=True)
    assert "nope.csv" in e.value.lines[0] and "relative to the priors file" in e.value.lines[0]


def test_empirical_is_checked_against_the_input_domain(tmp_path: Path):
    f = write_empirical(tmp_path, ["0.5", "1.5"], key="utilization.steady_state")
    with pytest.raises(priors.PriorsError) as e:
        priors.load(f, partial=True)
    assert "utilization.steady_state" in e.value.lines[0] and "between 0 and 1" in e.value.lines[0]


# --------------------------------------------------------------------------- fit


def test_fit_ranks_the_true_family_first():
    rng = np.random.default_rng(0)
    x = rng.lognormal(np.log(2.0), 0.5, size=400)
    res = fit_families(x)
    assert res[0]["family"] == "lognormal"
    assert res[0]["params"]["median"] == pytest.approx(2.0, rel=0.1)
    assert res[0]["params"]["gsd"] == pytest.approx(math.exp(0.5), rel=0.1)
    # AIC = 2k - 2 loglik, against scipy's own log-likelihood
    ll = stats.lognorm.logpdf(x, math.log(res[0]["params"]["gsd"]), 0, res[0]["params"]["median"]).sum()
    assert res[0]["aic"] == pytest.approx(2 * 2 - 2 * ll, rel=1e-12)
    assert fit_families(rng.normal(5, 1, size=400))[0]["family"] in ("normal", "beta")


def test_priors_fit_cli_prints_toml_lines_that_parse(tmp_path: Path):
    rng = np.random.default_rng(2)
    f = tmp_path / "d.csv"
    f.write_text("v\n" + "\n".join(f"{x:.6f}" for x in rng.lognormal(0, 0.3, 300)) + "\n")
    r = cli("priors", "fit", f, "--column", "v", "--key", "price.annual_decline")
    assert r.exit_code == 0, r.output
    lines = [ln.split("  ")[-1].strip() for ln in r.output.splitlines() if "price.annual_decline = {" in ln]
    assert len(lines) == 6 and '"empirical"' in lines[-1]
    import tomllib

    doc = tomllib.loads(
        "\n".join(["[x]", *(ln.replace("price.annual_decline", f"k{i}") for i, ln in enumerate(lines[:-1]))])
    )
    for raw in doc["x"].values():  # each a valid table (for its family; the data are not a decline rate)
        assert parse_one(raw, "price.annual_decline", check_domain=False).family
    bad = cli("priors", "fit", f, "--column", "w")
    assert bad.exit_code == 2 and "no such column" in bad.output


# --------------------------------------------------------------------------- CLI


def test_priors_list_shows_scenarios_and_layers():
    r = cli("priors", "list")
    assert r.exit_code == 0, r.output
    assert "scenarios/claims/gb200-15x-uncertain" in r.output and "platforms/gb300-nvl72" in r.output
    assert " layer " in r.output and " scenario " in r.output


def test_priors_show_prints_percentiles_and_sources():
    r = cli("priors", "show", "default")
    assert r.exit_code == 0, r.output
    assert "P10" in r.output and "P90" in r.output and "ref:power_allin_it_gb200_jul2026" in r.output
    assert (
        "throughput.curve" in r.output
        and "correlation: price.usd_per_mtok_output ~ price.usd_per_mtok_input" in r.output
    )
    # a library layer shows as a layer
    r = cli("priors", "show", "platforms/mi355x")
    assert r.exit_code == 0 and "layer" in r.output


def test_priors_check_layers_and_errors(tmp_path: Path):
    r = cli("priors", "check", ROOT / "platforms" / "b200.toml")
    assert r.exit_code == 0 and r.output.startswith("ok:") and "layer" in r.output
    r = cli("priors", "check", "--full", ROOT / "platforms" / "b200.toml")
    assert r.exit_code == 2 and "missing required input" in r.output and "Traceback" not in r.output
    bad = tmp_path / "bad.toml"
    bad.write_text('[price]\nannual_decline = { dist = "uniform", min = 0.5, max = 1.5, source = "x" }\n')
    r = cli("priors", "check", "--partial", bad)
    assert r.exit_code == 2 and "price.annual_decline" in r.output and len(r.output.strip().splitlines()) == 1


def test_priors_check_through_a_real_subprocess():
    r = mcroi_subprocess("priors", "check", priors.default_path(), timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("ok:") and "scenario 'default'" in r.stdout


INCOHERENT_LAYER = """
[price]
usd_per_mtok_output = { ci90 = [1, 3], source = "t 2026" }
annual_decline = { dist = "uniform", min = 0.2, max = 0.8, source = "t 2026" }

[utilization]
steady_state = { dist = "uniform", min = 0.2, max = 0.8, source = "t 2026" }

[[correlation]]
names = ["price.usd_per_mtok_output", "price.annual_decline", "utilization.steady_state"]
matrix = [[1, 0.9, 0.9], [0.9, 1, -0.9], [0.9, -0.9, 1]]
"""


def test_priors_check_notes_a_repair_and_refuses_it_under_strict(tmp_path: Path):
    f = tmp_path / "c.toml"
    f.write_text(INCOHERENT_LAYER)
    r = cli("priors", "check", "--partial", f)
    assert r.exit_code == 0, r.output
    assert "note: the correlations are not positive semi-definite" in r.output and "+0.900 ->" in r.output
    f.write_text("[scenario]\nstrict = true\n" + INCOHERENT_LAYER)
    r = cli("priors", "check", "--partial", f)
    assert r.exit_code == 2 and "Traceback" not in r.output
    lines = r.output.strip().splitlines()
    assert len(lines) == 1 and "c.toml: correlation = " in lines[0] and "strict = true" in lines[0]
