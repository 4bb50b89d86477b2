"""Numeric guard (undocumented NaN/inf counted, reported, refused above a threshold) and memory guard."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from mcroi import engine, pipeline, priors
from mcroi.engine import ANNUAL_OUTPUTS, SCALAR_OUTPUTS, RunArrays
from tests.helpers import REFERENCE_CASE, assert_one_line_error, cli

NAMES = ["capex.usd_per_gpu", "price.usd_per_mtok_output", "finance.tax_rate"]


def fake_arrays(n: int = 1000, years: int = 5, seed: int = 0) -> RunArrays:
    """Finite outputs for ``n`` draws, inputs uniform in (0, 1) per column."""
    rng = np.random.default_rng(seed)
    inputs = rng.uniform(size=(n, len(NAMES)))
    inputs[:, 2] = 0.21
    out = {k: rng.normal(size=n) + 5.0 for k in SCALAR_OUTPUTS}
    out.update({k: rng.normal(size=(n, years)) for k in ANNUAL_OUTPUTS})
    return RunArrays(names=list(NAMES), inputs=inputs, outputs=out)


def test_finite_run_has_no_unexpected() -> None:
    a = fake_arrays()
    rep = engine.check_numeric(a.names, a.inputs, a.outputs)
    assert rep.ok and rep.bad_draws == 0 and rep.unexpected == {} and rep.documented == {}


def test_documented_cases_are_counted_not_refused() -> None:
    a = fake_arrays()
    a.outputs["irr_annual"][:100] = np.nan  # no sign change: documented
    a.outputs["payback_months"][:50] = np.inf  # never pays back: documented
    a.outputs["capex_usd"][:10] = 0.0  # renting: ROI NaN is documented
    a.outputs["roi_multiple"][:10] = np.nan
    a.outputs["net_roi"][:10] = np.nan
    a.outputs["total_output_tokens"][20:22] = 0.0
    a.outputs["cost_per_mtok_usd"][20:22] = np.inf
    a.outputs["breakeven_price_usd_per_mtok"][20:22] = np.nan
    rep = engine.check_numeric(a.names, a.inputs, a.outputs, max_fraction=0.0)
    assert rep.ok, rep.to_json()
    assert rep.documented == {
        "irr_annual": 100,
        "payback_months": 50,
        "roi_multiple": 10,
        "net_roi": 10,
        "cost_per_mtok_usd": 2,
        "breakeven_price_usd_per_mtok": 2,
    }


def test_undocumented_nonfinite_is_counted_per_output() -> None:
    a = fake_arrays()
    a.outputs["roi_multiple"][:3] = np.nan  # capex is not 0: not documented
    a.outputs["payback_months"][3] = -np.inf  # only +inf is documented
    a.outputs["npv_usd"][3:5] = np.inf
    a.outputs["annual_tax_usd"][7, 2] = np.nan
    a.inputs[8, 0] = np.nan
    rep = engine.check_numeric(a.names, a.inputs, a.outputs, max_fraction=0.01)
    assert rep.unexpected == {"inputs": 1, "npv_usd": 2, "payback_months": 1, "roi_multiple": 3, "annual_tax_usd": 1}
    assert rep.bad_draws == 7  # draws 0, 1, 2, 3, 4, 7, 8
    assert rep.first_bad_draws == [0, 1, 2, 3, 4]
    assert rep.ok  # 0.7% <= 1%
    assert not engine.check_numeric(a.names, a.inputs, a.outputs, max_fraction=0.005).ok


def test_refusal_names_the_input_in_whose_tail_the_bad_draws_sit() -> None:
    a = fake_arrays(n=2000)
    price = a.inputs[:, 1]
    a.outputs["npv_usd"][price > 0.97] = np.inf  # the top 3% of one input
    rep = engine.check_numeric(a.names, a.inputs, a.outputs)
    assert not rep.ok
    assert len(rep.inputs_involved) == 1 and rep.inputs_involved[0].startswith("price.usd_per_mtok_output (upper tail")
    with pytest.raises(engine.NumericGuardError) as info:
        engine.enforce_numeric(rep, "my.toml")
    (line,) = info.value.lines
    assert line.startswith("my.toml: outputs = npv_usd (")
    assert "price.usd_per_mtok_output" in line and "capex" not in line


def test_every_draw_bad_blames_the_constants() -> None:
    a = fake_arrays(n=100)
    a.outputs["npv_usd"][:] = np.nan
    rep = engine.check_numeric(a.names, a.inputs, a.outputs)
    assert rep.bad_draws == 100 and rep.inputs_involved == []
    assert "constants" in engine.numeric_error_line(rep, "f.toml")


def _constant_priors() -> priors.PriorSet:
    return priors.from_dict(REFERENCE_CASE)


def test_simulate_reports_counts_and_refuses_without_writing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """pipeline.simulate: counts land in summary and manifest; above the threshold nothing is written."""
    ps = _constant_priors()
    n = 400
    years = -(-ps.horizon_months // 12)

    def fake_run(p: priors.PriorSet, draws: int, **kw: object) -> RunArrays:
        rng = np.random.default_rng(1)
        out = {k: rng.normal(size=draws) + 5 for k in SCALAR_OUTPUTS}
        out.update({k: rng.normal(size=(draws, years)) for k in ANNUAL_OUTPUTS})
        out["irr_annual"][:5] = np.nan
        out["npv_usd"][draws - 1] = np.nan
        return RunArrays(names=list(p.names), inputs=np.ones((draws, len(p.names))), outputs=out)

    monkeypatch.setattr(engine, "run", fake_run)
    ds = pipeline.simulate(ps, draws=n, out=tmp_path / "ok", plots=False, max_nonfinite=0.01)
    man = json.loads((tmp_path / "ok" / "manifest.json").read_text())
    summ = json.loads((tmp_path / "ok" / "summary.json").read_text())
    for doc in (man, summ, json.loads(ds.attrs["summary"])):
        assert doc["numeric"]["unexpected_nonfinite"] == {"npv_usd": 1}
        assert doc["numeric"]["documented_nonfinite"] == {"irr_annual": 5}
    assert man["memory_estimate"]["stored_bytes"] > 0
    with pytest.raises(engine.NumericGuardError):
        pipeline.simulate(ps, draws=n, out=tmp_path / "refused", plots=False, max_nonfinite=0.0)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ok"]


def test_memory_estimate_and_refusal() -> None:
    stored, work = engine.run_memory(1000, 20, 60, "float64", 65536)
    years = 5
    assert stored == 1000 * ((20 + len(SCALAR_OUTPUTS) + len(ANNUAL_OUTPUTS) * years) * 8 + 8)
    assert engine.run_memory(1000, 20, 60, "float32", 65536)[0] < stored
    assert engine.check_memory(1000, 20, 60, "float64", 1000, available=10 * (stored + work))["stored_bytes"] == stored
    with pytest.raises(engine.MemoryGuardError) as info:
        engine.check_memory(10**9, 20, 60, "float64", 65536, available=2**30)
    msg = str(info.value)
    assert msg.startswith("--draws = 1000000000: ") and "--keep summary" in msg and "\n" not in msg
    fit = int(msg.rsplit("at most ", 1)[1].split(" ")[0].replace(",", ""))
    s_fit, w_fit = engine.run_memory(fit, 20, 60, "float64", 65536)
    assert s_fit + w_fit <= engine.MEMORY_HEADROOM * 2**30 < sum(engine.run_memory(fit + 2, 20, 60, "float64", 65536))


def test_available_memory_is_plausible() -> None:
    avail = engine.available_memory()
    assert avail is None or 2**20 < avail < 2**50


def test_cli_refuses_a_run_too_big_for_memory(tmp_path: Path) -> None:
    """Before sampling: one line, exit 2, no run folder, nothing computed."""
    out = tmp_path / "runs" / "big"
    line = assert_one_line_error(cli("simulate", "--draws", 10**14, "-q", "--out", out), "--keep summary")
    assert line.startswith("--draws = 100000000000000: "), line
    assert not out.exists()
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


HOSTILE_FILES = {
    "syntax.toml": "[capex\nusd_per_gpu = 1\n",
    "nan.toml": "[capex]\nusd_per_gpu = nan\n",
    "overflow.toml": '[capex]\nusd_per_gpu = { dist = "uniform", min = -1e308, max = 1e308 }\n',
    "binary.toml": b"\x00\xff\xfe garbage",
}


@pytest.mark.parametrize("name", sorted(HOSTILE_FILES))
def test_cli_hostile_priors_one_line_exit_2_no_run(tmp_path: Path, name: str) -> None:
    text = HOSTILE_FILES[name]
    src = tmp_path / name
    src.write_bytes(
        text if isinstance(text, bytes) else priors.default_path().read_text().encode() + b"\n" + text.encode()
    )
    out = tmp_path / "runs" / "x"
    res = cli("simulate", src, "-n", "100", "-q", "--out", out)
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output
    assert all(
        line.startswith(str(src)) or name in line.split(":", 1)[0] for line in res.output.strip().splitlines()
    ), res.output
    assert not out.exists()


@pytest.mark.slow
def test_cli_refuses_a_run_whose_tail_overflows(tmp_path: Path) -> None:
    """A valid but hostile prior: the upper tail of capex.usd_per_gpu overflows capex to inf."""
    src = tmp_path / "tail.toml"
    src.write_text(
        f'[scenario]\nname = "tail"\nextends = ["{priors.default_path()}"]\n'
        '[capex]\nusd_per_gpu = { dist = "lognormal", median = 1e305, gsd = 10, source = "test" }\n'
    )
    out = tmp_path / "runs" / "x"
    line = assert_one_line_error(cli("simulate", src, "-n", "2000", "-q", "--out", out))
    assert line.startswith(f"{src}: outputs = ") and "npv_usd (" in line, line
    involved = line.split("inputs involved: ", 1)[1]
    assert involved.startswith("capex.usd_per_gpu (") and involved.count("(") == 1, line
    assert not out.exists()
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_a_chunk_too_large_for_memory_is_refused_even_when_streaming(tmp_path) -> None:
    """Issue 18: --keep summary stores a subsample, but each chunk still runs in memory."""
    with pytest.raises(engine.MemoryGuardError) as info:
        engine.check_memory(10_000, 20, 60, "float64", 10**9, total=10**9, available=2**34)
    msg = str(info.value)
    assert msg.startswith("--chunk-size = 1000000000: one chunk needs") and "--chunk-size" in msg.split(";")[1]
    fit = int(msg.rsplit("--chunk-size ", 1)[1].split(" ")[0].replace(",", ""))
    assert sum(engine.run_memory(10_000, 20, 60, "float64", fit, 10**9)) <= engine.MEMORY_HEADROOM * 2**34
    res = cli(
        "simulate", "--keep", "summary", "--chunk-size", "1000000000", "--draws", "1e9", "--out", tmp_path / "r", "-q"
    )
    assert res.exit_code == 2 and res.output.count("\n") == 1 and "--chunk-size = 1000000000" in res.output
    assert not (tmp_path / "r").exists()


def test_a_streamed_run_is_guarded_over_every_draw_not_its_subsample() -> None:
    """Issue 16: with keep="summary" the guard counts every draw, chunk by chunk, as a kept run would."""
    ps = priors.load(priors.default_path())
    full = engine.run(ps, 5000, seed=4, chunk_size=1024)
    want = engine.check_numeric(full.names, full.inputs, full.outputs)
    streamed = engine.run(ps, 5000, seed=4, chunk_size=1024, keep="summary", subsample=700)
    got = streamed.numeric
    assert got is not None and streamed.inputs.shape[0] == 700
    assert got.draws == 5000 and got.documented == want.documented and got.unexpected == want.unexpected
    assert sum(got.documented.values()) > sum(  # the subsample alone would have seen far fewer
        engine.check_numeric(streamed.names, streamed.inputs, streamed.outputs).documented.values()
    )
    # a chunk's draw indices are offset into the run: the merge keeps absolute indices
    a = engine.NumericReport(draws=10, unexpected={"npv_usd": 1}, bad_draws=1, first_bad_draws=[3])
    b = engine.NumericReport(draws=10, unexpected={"npv_usd": 2}, bad_draws=2, first_bad_draws=[0, 9])
    m = engine.merge_numeric(engine.merge_numeric(None, a, 0), b, 10)
    assert (m.draws, m.bad_draws, m.unexpected, m.first_bad_draws) == (20, 3, {"npv_usd": 3}, [3, 10, 19])
