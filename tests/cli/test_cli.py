"""`mcroi simulate` end to end: CliRunner, a real subprocess, and bad input."""

from __future__ import annotations

import json
import shutil
import textwrap

import arviz as az
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mcroi
from tests.helpers import BASE, assert_one_line_error, cli, mcroi_subprocess, subprocess_env, write_priors

SMALL = '[scenario]\nname = "small"\n' + BASE.replace(
    "usd_per_mtok_output = 2.0", 'usd_per_mtok_output = { ci90 = [1.0, 3.0], source = "test" }'
)
DRAWS = 1000  # one compiled chunk (engine.TILE) shared by every run in this module


@pytest.fixture
def small_priors(tmp_path):
    return write_priors(tmp_path, SMALL, "small.toml")


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    """``mcroi simulate small.toml --draws 1000 --seed 7 --out runs/demo``, once for the module.

    Tests read it, or copy the folder before changing it.
    """
    root = tmp_path_factory.mktemp("small")
    src = write_priors(root, SMALL, "small.toml")
    out = root / "runs" / "demo"
    res = cli("simulate", src, "--draws", DRAWS, "--seed", 7, "--out", out)
    return {"out": out, "priors": src, "res": res}


def _copy_run(small_run, dest):
    shutil.copytree(small_run["out"], dest)
    return dest


def test_simulate_writes_a_complete_run(small_run):
    out, res = small_run["out"], small_run["res"]
    assert res.exit_code == 0, res.output
    assert "NPV (USD)" in res.output and "P(NPV < 0)" in res.output
    for f in ("results.nc", "manifest.json", "summary.json", "summary.csv", "plots/distribution.png"):
        assert (out / f).is_file(), f
    man = json.loads((out / "manifest.json").read_text())
    for k in (
        "command",
        "seed",
        "draws",
        "precision",
        "chunk_size",
        "contract_version",
        "versions",
        "backend",
        "devices",
        "priors",
        "priors_sha256",
        "utc",
        "timings_s",
    ):
        assert k in man, k
    assert man["seed"] == 7 and man["draws"] == DRAWS and man["precision"] == "float64"
    assert set(man["versions"]) >= {"mcroi", "jax", "numpy", "xarray"}
    ds = mcroi.open_run(out)
    assert ds.sizes["draw"] == DRAWS
    for v in (
        "npv_usd",
        "irr_annual",
        "payback_months",
        "roi_multiple",
        "net_roi",
        "cost_per_mtok_usd",
        "breakeven_price_usd_per_mtok",
        "total_output_tokens",
        "total_revenue_usd",
        "capex_usd",
    ):
        assert ds[v].dims == ("draw",)
        assert ds[v].attrs["units"] and ds[v].attrs["long_name"]
    assert ds["annual_cashflow_usd"].dims == ("draw", "year")
    assert ds["inputs"].dims == ("draw", "input")
    assert "price.usd_per_mtok_output" in list(ds["input"].values)
    # the summary file agrees with the stored draws
    summ = json.loads((out / "summary.json").read_text())
    npv = ds["npv_usd"].values
    np.testing.assert_allclose(summ["outputs"]["npv_usd"]["p50"], np.quantile(npv, 0.5), rtol=1e-12)
    np.testing.assert_allclose(summ["outputs"]["npv_usd"]["mean"], npv.mean(), rtol=1e-12)
    np.testing.assert_allclose(summ["risk"]["p_npv_negative"]["p"], np.mean(npv < 0), rtol=0, atol=0)
    # arviz reads it
    s = az.summary(ds[["npv_usd", "roi_multiple"]], sample_dims=["draw"], kind="stats")
    assert len(s) == 2


def test_same_seed_same_results_file(tmp_path, small_run):
    b = tmp_path / "b"
    res = cli("simulate", small_run["priors"], "-n", DRAWS, "--seed", "7", "-o", b, "-q")
    assert res.exit_code == 0, res.output
    da, db = mcroi.open_run(small_run["out"]), mcroi.open_run(b)
    assert list(da.data_vars) == list(db.data_vars)
    for v in da.data_vars:
        np.testing.assert_array_equal(da[v].values, db[v].values)


def test_existing_run_refused_without_force(tmp_path, small_run):
    out = _copy_run(small_run, tmp_path / "r")
    res = cli("simulate", small_run["priors"], "-n", "500", "-o", out, "-q")
    assert res.exit_code == 2
    assert "exists" in res.output and "--force" in res.output
    res = cli("simulate", small_run["priors"], "-n", "700", "-o", out, "-q", "--force")
    assert res.exit_code == 0, res.output
    assert mcroi.open_run(out).sizes["draw"] == 700
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


BAD_FILES = [
    ("syntax", "[price\n"),
    ("unknown key", SMALL.replace("pue = 1.2", "pue = 1.2\npeu = 2")),
    (
        "negative normal price",
        SMALL.replace(
            'usd_per_mtok_output = { ci90 = [1.0, 3.0], source = "test" }',
            'usd_per_mtok_output = { dist = "normal", mean = 1, sd = 1 }',
        ),
    ),
    ("missing input", SMALL.replace("usd_per_kwh = 0.08", "")),
    ("p5 >= p95", SMALL.replace("ci90 = [1.0, 3.0]", "ci90 = [3.0, 1.0]")),
]


@pytest.mark.parametrize(("label", "text"), BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_bad_priors_exit_2_one_line_no_run_folder(tmp_path, label, text):
    p = tmp_path / "bad.toml"
    p.write_text(text)
    runs = tmp_path / "runs"
    res = cli("simulate", p, "-n", "100", "-o", runs / "x")
    assert_one_line_error(res, "bad.toml")
    assert not runs.exists() or not any(runs.iterdir())


def test_real_subprocess_bad_file_exit_2(tmp_path):
    """The installed entry point, as a user runs it: a bad file gives exit 2, one line per problem
    on stderr naming the file, no traceback, no run folder."""
    bad = tmp_path / "bad.toml"
    bad.write_text(textwrap.dedent("[price]\nusd_per_mtok_output = { dist = 'normal', mean = 1, sd = 1 }\n"))
    env = subprocess_env(drop=("PYTEST",))
    proc = mcroi_subprocess("simulate", bad, "--out", tmp_path / "runs" / "bad", env=env, cwd=tmp_path)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert all("bad.toml" in ln for ln in proc.stderr.strip().splitlines())
    assert not (tmp_path / "runs" / "bad").exists()


# The same run in-process: test_cli_keep_summary_and_until_mcse_write_the_manifest (default
# scenario through the CLI), test_simulate_writes_a_complete_run; the entry point: every
# other *_subprocess test.
@pytest.mark.slow  # ~8 s: a cold interpreter compiles the default scenario
def test_real_subprocess_default_scenario(tmp_path):
    """The installed entry point, as a user runs it, on the embedded default scenario."""
    out = tmp_path / "runs" / "demo"
    proc = mcroi_subprocess(
        "simulate", "--draws", "2000", "--seed", "7", "--out", out, env=subprocess_env(drop=("PYTEST",)), cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    assert "NPV (USD)" in proc.stdout
    assert (out / "results.nc").is_file()
    man = json.loads((out / "manifest.json").read_text())
    assert man["scenario"] == "default"


def test_python_api_returns_the_dataset(small_priors):
    ds = mcroi.simulate(small_priors, draws=DRAWS, seed=1)
    assert ds.sizes["draw"] == DRAWS
    summary = json.loads(ds.attrs["summary"])
    assert summary["draws"] == DRAWS
    assert "npv_usd" in summary["outputs"]


# --force replaces only a run folder mcroi wrote (issue 16: it deleted a folder holding a budget).
def _force(out, small_priors):
    return cli("simulate", small_priors, "-n", "300", "-o", out, "-q", "--force")


def test_force_refuses_a_folder_that_is_not_a_run(tmp_path, small_priors):
    folder = tmp_path / "finance"
    folder.mkdir()
    (folder / "budget-2027.xlsx").write_bytes(b"precious")
    res = _force(folder, small_priors)
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output and len(res.output.strip().splitlines()) == 1
    assert "not an mcroi run folder" in res.output
    assert (folder / "budget-2027.xlsx").read_bytes() == b"precious"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_force_refuses_a_file(tmp_path, small_priors):
    f = tmp_path / "notes.txt"
    f.write_text("keep me")
    res = _force(f, small_priors)
    assert res.exit_code == 2 and "Traceback" not in res.output, res.output
    assert "not an mcroi run folder" in res.output
    assert f.read_text() == "keep me"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_force_refuses_the_current_folder(tmp_path, small_priors, monkeypatch):
    (tmp_path / "keep.txt").write_text("x")
    monkeypatch.chdir(tmp_path)
    for out in (".", str(tmp_path), str(tmp_path.parent)):
        res = _force(out, small_priors)
        assert res.exit_code == 2 and "Traceback" not in res.output, res.output
        assert (tmp_path / "keep.txt").read_text() == "x"


def test_force_refuses_a_run_folder_holding_a_users_file(tmp_path, small_run):
    out = _copy_run(small_run, tmp_path / "r")
    (out / "budget-2027.xlsx").write_bytes(b"precious")
    res = _force(out, small_run["priors"])
    assert res.exit_code == 2 and "budget-2027.xlsx" in res.output, res.output
    assert (out / "budget-2027.xlsx").read_bytes() == b"precious"


def test_force_refuses_a_forged_manifest_folder(tmp_path, small_priors):
    folder = tmp_path / "f"
    folder.mkdir()
    (folder / "manifest.json").write_text('{"note": "someone else\'s"}')
    res = _force(folder, small_priors)
    assert res.exit_code == 2 and "not an mcroi run folder" in res.output
    assert (folder / "manifest.json").exists()


def test_force_replaces_a_run_with_mcroi_extras(tmp_path, small_run):
    out = _copy_run(small_run, tmp_path / "r")
    assert cli("export", out, "--format", "csv").exit_code == 0
    res = cli("simulate", small_run["priors"], "-n", "400", "-o", out, "-q", "--force")
    assert res.exit_code == 0, res.output
    assert mcroi.open_run(out).sizes["draw"] == 400


def test_terminal_table_drops_the_mean_irr_and_fits_80_columns(tmp_path, small_priors):
    """Issue 16: the mean IRR is no headline (a few enormous roots dominate it); an 80-column terminal does not wrap."""
    res = cli("simulate", small_priors, "-n", DRAWS, "-o", tmp_path / "r", env={"COLUMNS": "80"})
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    irr = next(ln for ln in lines if ln.startswith("│ IRR"))
    assert irr.split("│")[2].strip() == "—"
    pay = next(ln for ln in lines if ln.startswith("│ Payback"))
    assert pay.split("│")[2].strip() == "—"
    assert all(len(ln) <= 80 for ln in lines), max(lines, key=len)
    header = [c.strip() for c in lines[2].split("┃") if c.strip()]
    assert header == ["output", "mean", "P10", "P50", "P90", "MCSE P50"]


@pytest.mark.parametrize("text", ["1e3", "1_000", "1,000"])
def test_draws_accept_scientific_and_grouped_numbers(tmp_path, small_priors, text):
    res = cli("simulate", small_priors, "--draws", text, "-o", tmp_path / "r")
    assert res.exit_code == 0, res.output
    assert "1,000 draws" in res.output


@pytest.mark.parametrize("text", ["1.5", "abc", "0", "-5", "inf"])
def test_draws_refuse_what_is_not_a_count(tmp_path, small_priors, text):
    res = cli("simulate", small_priors, "--draws", text, "-o", tmp_path / "r")
    assert res.exit_code == 2 and "Traceback" not in res.output, res.output
    assert not (tmp_path / "r").exists()


def test_seed_beyond_the_generator_and_too_many_devices_are_refused(tmp_path, small_priors):
    """Issue 18: --seed >= 2^63 ended in an OverflowError; --devices 1000 aborted the process."""
    res = cli("simulate", small_priors, "-n", DRAWS, "--seed", 2**63, "-o", tmp_path / "a")
    assert res.exit_code == 2 and "Traceback" not in res.output and "--seed" in res.output
    res = cli("simulate", small_priors, "-n", DRAWS, "--devices", 1000, "-o", tmp_path / "b")
    assert res.exit_code == 2 and "Traceback" not in res.output, res.output
    assert_one_line_error(res, "--devices = 1000")
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()
    with pytest.raises(ValueError, match="2\\^63"):
        mcroi.simulate(small_priors, draws=DRAWS, seed=2**64)


def test_a_run_reports_each_phase_after_its_draws(tmp_path, small_priors):
    """Issue 16: after the draws the bar sat at 100 % for half a minute while tornados and the report ran."""
    phases: list[str] = []
    mcroi.simulate(small_priors, draws=DRAWS, seed=1, out=tmp_path / "r", on_phase=phases.append)
    assert phases[0] == "ranking the inputs (tornados)" and phases[-1] == "saving the run folder"
    assert "writing results.nc" in phases and "writing the report" in phases


OPTION_VALUES = {
    "--draws": st.one_of(st.integers(-5, 2**70), st.sampled_from(["1e3", "abc", "1.5", "", "1e400", "2000"])),
    "--seed": st.one_of(st.integers(-5, 2**70), st.just("x")),
    "--chunk-size": st.one_of(st.integers(-5, 2**40), st.just("0")),
    "--devices": st.integers(-2, 5000),
    "--precision": st.sampled_from(["float64", "float32", "float16", ""]),
    "--keep": st.sampled_from(["draws", "summary", "all"]),
    "--until-mcse": st.sampled_from(["0.5%", "200%", "-1", "x", "1e-9"]),
}


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(
    opts=st.dictionaries(st.sampled_from(sorted(OPTION_VALUES)), st.just(None), min_size=1, max_size=3), data=st.data()
)
def test_random_options_never_traceback(tmp_path_factory, small_priors_text, opts, data):
    """Issue 18: hostile options (huge seeds, chunk sizes, device counts) must give one line and exit 2, or a run."""
    folder = tmp_path_factory.mktemp("opts")
    src = write_priors(folder, small_priors_text, "s.toml")
    args = ["simulate", src, "-q", "-o", folder / "r", "--max-draws", "4096"]
    if "--draws" not in opts:
        args += ["--draws", "1024"]
    for k in opts:
        args += [k, data.draw(OPTION_VALUES[k])]
    res = cli(*args)
    assert "Traceback" not in res.output and not isinstance(res.exception, (OverflowError, RecursionError)), res.output
    assert res.exit_code in (0, 2), (args, res.exit_code, res.output, res.exception)
    if res.exit_code == 2:
        assert not (folder / "r").exists()


@pytest.fixture(scope="module")
def small_priors_text() -> str:
    return SMALL


def test_a_payback_that_never_happens_reads_never_in_the_table(tmp_path):
    """summary.json writes +inf as null: the table must say "never", not "n/a" (issue 16)."""
    from tests.helpers import reference_doc, to_toml

    doc = reference_doc(price={"usd_per_mtok_output": {"dist": "uniform", "min": 0.4, "max": 0.6}})
    (tmp_path / "low.toml").write_text(to_toml(doc))  # at most 60 x (0.79M - 0.073M) = 43M < 50M capex
    res = cli("simulate", tmp_path / "low.toml", "-n", 500, "-o", tmp_path / "r", env={"COLUMNS": "80"})
    assert res.exit_code == 0, res.output
    pay = next(ln for ln in res.output.splitlines() if ln.startswith("│ Payback"))
    cells = [c.strip() for c in pay.split("│")[2:-1]]
    assert cells == ["—", "never", "never", "never", "—"], cells


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("simulate", "-n", "10", "--seed", str(2**63)), "Invalid value for '--seed'"),
        (("simulat",), "No such command 'simulat'"),
        (("verify",), "Missing argument 'RUN'"),
        (("simulate", "--no-such-option"), "No such option"),
    ],
)
def test_a_bad_option_is_one_line_not_clicks_usage(args, needle):
    """Issue 18: every user error is one line with exit 2, options included (click printed three)."""
    res = cli(*args)
    line = assert_one_line_error(res, needle)
    assert "-h lists the options" in line and "Usage:" not in res.output
