"""Engine at scale: draws independent of chunk size and device count, streaming, convergence stopping."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mcroi import analysis, engine
from mcroi.engine import ALPHA, SCALAR_OUTPUTS
from tests import _engine_worker as worker
from tests.helpers import ROOT, cli, default_priors, subprocess_env

WORKER = ROOT / "tests" / "_engine_worker.py"


def _worker(tmp_path: Path, host_devices: int, draws: int, chunk: int, counts: str) -> dict[str, np.ndarray]:
    out = tmp_path / f"w{host_devices}.npz"
    subprocess.run(
        [sys.executable, str(WORKER), str(out), str(draws), str(chunk), counts],
        check=True,
        env=subprocess_env(devices=host_devices),
        cwd=ROOT,
        timeout=600,
    )
    with np.load(out) as z:
        return dict(z)


def _same(a: dict[str, np.ndarray], pa: str, b: dict[str, np.ndarray], pb: str) -> None:
    keys = [k[len(pa) :] for k in a if k.startswith(pa) and k not in (pa + "used", pa + "stream")]
    assert "npv_usd" in keys and "irr_annual" in keys and "inputs" in keys
    for k in keys:
        x, y = a[pa + k], b[pb + k]
        assert x.shape == y.shape, k
        assert np.array_equal(x, y, equal_nan=True), f"{k} differs between {pa} and {pb}"  # bit for bit
    # streamed statistics reduced on each device and summed: counts exact, moments to rounding
    from mcroi.engine import SCALAR_OUTPUTS, RunStream

    sa = RunStream.from_array(tuple(SCALAR_OUTPUTS), 60, a[pa + "stream"])
    sb = RunStream.from_array(tuple(SCALAR_OUTPUTS), 60, b[pb + "stream"])
    for k in SCALAR_OUTPUTS:
        np.testing.assert_array_equal(sa.outputs[k].sketch.counts, sb.outputs[k].sketch.counts)
        assert sa.outputs[k].n == sb.outputs[k].n == x.shape[0]
        np.testing.assert_allclose(sa.outputs[k].moments.mean, sb.outputs[k].moments.mean, rtol=1e-12)
        np.testing.assert_allclose(sa.outputs[k].moments.m2, sb.outputs[k].moments.m2, rtol=1e-9)
    assert sa.p_npv_negative == sb.p_npv_negative


def test_two_devices_and_other_chunk_size_give_identical_draws(tmp_path):
    # 1 device x chunk 1000, in this process (its compiled step is the one
    # test_keep_summary_streams_and_keeps_the_first_draws uses), vs a process with 2 forced host
    # devices x chunk 384 (padded last chunk, a per-device block of 192 lanes)
    z = worker.arrays(default_priors(), 1000, 1000, 1)
    w = _worker(tmp_path, 2, 1000, 384, "2")
    assert int(w["local_devices"]) == 2 and int(z["d1_used"]) == 1 and int(w["d2_used"]) == 2
    _same(z, "d1_", w, "d2_")


@pytest.mark.slow
def test_one_two_four_devices_bit_identical(tmp_path):
    runs = {n: _worker(tmp_path, n, 3000, 1024, str(n)) for n in (1, 2, 4)}
    assert int(runs[4]["d4_used"]) == 4
    _same(runs[1], "d1_", runs[2], "d2_")
    _same(runs[1], "d1_", runs[4], "d4_")


CHUNK = 1024  # engine.TILE: chunks are rounded up to a multiple of it


@pytest.fixture(scope="module")
def full():
    ps = default_priors()
    return ps, engine.run(ps, 3000, seed=5, chunk_size=CHUNK)


def test_keep_summary_streams_and_keeps_the_first_draws(full):
    ps, a = full
    b = engine.run(ps, 3000, seed=5, chunk_size=CHUNK, keep="summary", subsample=700)
    assert b.inputs.shape == (700, len(engine.stored_names(ps))) and b.draws == 3000 and b.stream is not None
    np.testing.assert_array_equal(b.inputs, a.inputs[:700])
    for k, v in b.outputs.items():
        np.testing.assert_array_equal(v, a.outputs[k][:700])
    exact = analysis.summarize(a.outputs, list(SCALAR_OUTPUTS), ps.horizon_months)
    got = analysis.summarize_stream(b.stream)
    for key in ("p_npv_negative", "p_no_payback_within_horizon", "p_roi_multiple_below_1"):
        assert got["risk"][key] == exact["risk"][key]
    for k in ("npv_usd", "irr_annual", "roi_multiple", "payback_months"):
        e, g = exact["outputs"][k], got["outputs"][k]
        np.testing.assert_allclose(g["mean"], e["mean"], rtol=1e-12)
        for p in analysis.PERCENTILES:
            x = np.sort(a.outputs[k][~np.isnan(a.outputs[k])])
            n = x.size
            i = int(np.floor(p / 100 * (n - 1)))
            gap = abs(x[min(i + 1, n - 1)] - x[i]) if np.isfinite(x[min(i + 1, n - 1)]) else 0.0
            if np.isinf(e[f"p{p}"]):
                assert g[f"p{p}"] == e[f"p{p}"]
            else:
                assert abs(g[f"p{p}"] - e[f"p{p}"]) <= ALPHA * max(abs(x[i]), abs(x[min(i + 1, n - 1)])) + gap + 1e-9


def test_until_mcse_stops_at_a_chunk_boundary_with_achieved_errors(full):
    ps, a = full
    # 15 %: the default's NPV has a long right tail (its P95 needs about 2,000 draws for 12 %)
    r = engine.run(ps, 3000, seed=5, chunk_size=CHUNK, until_mcse=0.15)
    assert r.converged and r.draws % CHUNK == 0 and r.draws < 3000
    assert set(r.errors) == {"mean", "p5", "p50", "p95", "p_npv_negative"}
    assert all(0 < e <= 0.15 for e in r.errors.values())
    np.testing.assert_array_equal(r.outputs["npv_usd"], a.outputs["npv_usd"][: r.draws])
    capped = engine.run(ps, 1000, seed=5, chunk_size=CHUNK, until_mcse=1e-6)
    assert not capped.converged and capped.draws == 1000


def test_disjoint_ranges_reassemble_the_single_run(full):
    ps, a = full
    b = engine.run(ps, 3000 - 1024, seed=5, chunk_size=CHUNK, start=1024)
    np.testing.assert_array_equal(b.outputs["npv_usd"], a.outputs["npv_usd"][1024:])


def test_process_ranges_cover_draws_disjointly():
    from mcroi.engine import process_range

    for draws, count, align in ((10, 3, 1), (1000, 4, 64), (5, 8, 2), (100_000_000, 7, 65536)):
        spans = [process_range(draws, i, count, align) for i in range(count)]
        assert spans[0][0] == 0 and spans[-1][1] == draws
        assert all(s[1] == t[0] for s, t in zip(spans, spans[1:], strict=False))
        assert all(s[0] % align == 0 for s in spans if s[0] < draws)


def test_cli_keep_summary_and_until_mcse_write_the_manifest(tmp_path, full, monkeypatch):
    monkeypatch.setenv("MCROI_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("XLA_FLAGS", os.environ.get("XLA_FLAGS", ""))  # restored after the CLI sets it

    out = tmp_path / "run"
    r = cli(
        "simulate", "--seed", 5, "--chunk-size", CHUNK, "--keep", "summary", "--until-mcse", "15%",
        "--max-draws", 3000, "-q", "--out", out,
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    man = json.loads((out / "manifest.json").read_text())
    assert man["keep"] == "summary" and man["convergence"]["converged"]
    assert man["draws"] == man["convergence"]["draws"] < 3000
    assert man["streaming"]["relative_error_bound"] == ALPHA
    assert max(man["convergence"]["achieved_mcse"].values()) <= 0.15
    import mcroi

    ds = mcroi.open_run(out)
    assert ds.sizes["draw"] == min(engine.SUBSAMPLE, man["draws"])


@pytest.mark.parametrize("bad", ["abc", "0%", "150%"])
def test_cli_rejects_bad_tolerance(tmp_path, bad):
    r = cli("simulate", "--until-mcse", bad, "-q", "--out", tmp_path / "x")
    assert r.exit_code == 2 and "--until-mcse" in r.output and "Traceback" not in r.output
    assert not (tmp_path / "x").exists()
