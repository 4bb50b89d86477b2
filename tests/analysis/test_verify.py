"""``mcroi verify`` and the reproducibility matrix.

One real run (default priors copied to a temp file, 1,500 draws in chunks of 512: two full chunks
and a remainder) is recomputed draw by draw and checked bit for bit; tampering with the run, its
manifest or its priors file must be reported. The chunk-size matrix runs the engine several times.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from mcroi import analysis, engine, pipeline, priors, runs
from tests.helpers import cli, default_priors, mcroi_subprocess, subprocess_env

DRAWS = 1500
CHUNK = 512


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("verify")
    shutil.copytree(priors.library_root(), root / "lib")  # the default scenario extends library layers
    src = root / "lib" / "default.toml"
    out = root / "runs" / "r1"
    # every variable stored: verify compares stored and recomputed draws (tests/runs/test_compact.py: the default)
    pipeline.simulate(str(src), draws=DRAWS, seed=11, chunk_size=CHUNK, out=out, plots=False, keep="all")
    return out


def _invoke(*args: str) -> tuple[int, str]:
    res = cli("verify", *args)
    assert "Traceback" not in res.output
    return res.exit_code, res.output


def test_manifest_priors_rebuild_to_the_same_hash(run_dir: Path) -> None:
    man = json.loads((run_dir / "manifest.json").read_text())
    ps = priors.from_resolved(man["priors"], man["priors_files"])
    assert ps.sha256() == man["priors_sha256"]
    assert ps.names == list(man["priors"]["inputs"])


def test_recomputed_draws_are_bit_identical(run_dir: Path) -> None:
    man = json.loads((run_dir / "manifest.json").read_text())
    ps = priors.from_resolved(man["priors"])
    ds = xr.load_dataset(run_dir / "results.nc", engine="h5netcdf")
    idx = np.array([0, 1, 511, 512, 1023, 1024, 1400, 1499])  # chunk edges and the remainder
    x, out = analysis.recompute(ps, man["seed"], idx)
    sub = ds.isel(draw=idx)
    stored = {k: sub[k].values for k in out}
    strict = out
    cmp = analysis.compare_draws(idx, ps.names, sub["inputs"].values, stored, x, strict)
    assert cmp.ok, cmp.mismatches
    assert len(cmp.variables) == len(ps.names) + len(strict)

    # tamper with one stored number: the comparison names variable and draw
    tampered = {k: v.copy() for k, v in stored.items()}
    tampered["npv_usd"][5] = np.nextafter(tampered["npv_usd"][5], np.inf)
    bad = analysis.compare_draws(idx, ps.names, sub["inputs"].values, tampered, x, strict)
    assert [(m.variable, m.n_different, m.first_draw) for m in bad.mismatches] == [("npv_usd", 1, 1024)]
    inputs = sub["inputs"].values.copy()
    inputs[0, 3] += 1.0
    bad = analysis.compare_draws(idx, ps.names, inputs, stored, x, strict)
    assert [(m.variable, m.first_draw) for m in bad.mismatches] == [(f"inputs[{ps.names[3]}]", 0)]


def test_select_indices() -> None:
    idx, s = analysis.select_indices(5000, 1000, 1000, rng_seed=4)
    assert idx.size == 2000 and np.unique(idx).size == 2000 and s == 4
    assert np.array_equal(idx[:1000], np.arange(1000)) and idx.max() < 5000
    assert np.array_equal(analysis.select_indices(5000, 1000, 1000, rng_seed=4)[0], idx)
    small, _ = analysis.select_indices(1500, 1000, 1000, rng_seed=1)
    assert np.array_equal(small, np.arange(1500))


def test_cli_verify_accepts_the_run_and_a_copy_without_priors(run_dir: Path, tmp_path: Path) -> None:
    code, out = _invoke(str(run_dir), "--first", "30", "--random", "30", "--check-seed", "2")
    assert code == 0, out
    assert "resolves to the same sha256" in out and "bit-identical" in out and "verified" in out
    # "sent by someone else": the folder alone, somewhere else, priors file absent
    copy = tmp_path / "received"
    shutil.copytree(run_dir, copy)
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        code, out = _invoke(str(copy), "--first", "30", "--random", "30", "--check-seed", "2", "--embedded")
    finally:
        os.chdir(cwd)
    assert code == 0, out
    assert "using the priors stored in the manifest" in out


def test_cli_verify_reports_changes(run_dir: Path, tmp_path: Path) -> None:
    no_draws = ("--first", "0", "--random", "0")
    # an edited manifest: its priors no longer hash to the recorded sha256
    edited = tmp_path / "edited"
    shutil.copytree(run_dir, edited)
    man = json.loads((edited / "manifest.json").read_text())
    first = next(iter(man["priors"]["inputs"]))
    man["priors"]["inputs"][first]["params"][0] += 1
    man["priors_files"] = []
    (edited / "manifest.json").write_text(json.dumps(man))
    code, out = _invoke(str(edited), *no_draws)
    assert code == 1 and "DIFF" in out and "edited?" in out
    # a changed priors file: named, exit 1
    src = Path(json.loads((run_dir / "manifest.json").read_text())["priors_files"][-1])
    changed = tmp_path / "changed"
    shutil.copytree(run_dir, changed)
    man = json.loads((changed / "manifest.json").read_text())
    new_src = src.parent / "changed-scenario.toml"  # beside it: its extends paths are relative
    text = src.read_text()
    assert "value = 576" in text
    new_src.write_text(text.replace("value = 576", "value = 577", 1))
    man["priors_files"] = [str(new_src)]
    (changed / "manifest.json").write_text(json.dumps(man))
    code, out = _invoke(str(changed), *no_draws)
    assert code == 1 and "changed since the run" in out
    # a tampered results.nc value at a checked draw
    tampered = tmp_path / "tampered"
    shutil.copytree(run_dir, tampered)
    ds = xr.load_dataset(tampered / "results.nc", engine="h5netcdf")
    ds["npv_usd"].values[3] += 1.0
    ds.to_netcdf(tampered / "results.nc", engine="h5netcdf")
    code, out = _invoke(str(tampered), "--first", "30", "--random", "30", "--check-seed", "2")
    assert code == 1 and "npv_usd: 1 of 60 draws differ (first at draw 3" in out


def test_cli_verify_bad_folders(tmp_path: Path) -> None:
    code, out = _invoke(str(tmp_path / "nope"))
    assert code == 2 and out.count("\n") == 1 and "not a run folder" in out
    (tmp_path / "r").mkdir()
    code, out = _invoke(str(tmp_path / "r"))
    assert code == 2 and "manifest.json: file not found" in out
    (tmp_path / "r" / "manifest.json").write_text("{not json")
    code, out = _invoke(str(tmp_path / "r"))
    assert code == 2 and "not valid JSON" in out and out.count("\n") == 1


# --------------------------------------------------------------------------- reproducibility matrix


def _assert_same(a: engine.RunArrays, b: engine.RunArrays) -> None:
    assert a.inputs.dtype == np.float64
    assert analysis.same_bits(a.inputs, b.inputs).all()
    for k, v in a.outputs.items():
        assert analysis.same_bits(v, b.outputs[k]).all(), k


def test_chunk_sizes_give_identical_draws() -> None:
    """Several chunks plus a remainder vs one chunk (chunks are rounded up to engine.TILE)."""
    ps = default_priors()
    base = engine.run(ps, 3000, seed=3, chunk_size=3072)
    _assert_same(base, engine.run(ps, 3000, seed=3, chunk_size=1024))


@pytest.mark.slow
@pytest.mark.parametrize(
    "chunk",
    [
        4096,
        65536,
        1_000_000,
        1500,
    ],
)
def test_chunk_size_matrix(chunk: int) -> None:
    ps = default_priors()
    _assert_same(engine.run(ps, 5000, seed=5, chunk_size=5000), engine.run(ps, 5000, seed=5, chunk_size=chunk))


def test_irr_is_bit_identical_across_chunk_sizes() -> None:
    ps = default_priors()
    a = engine.run(ps, 2000, seed=3, chunk_size=2000)
    b = engine.run(ps, 2000, seed=3, chunk_size=700)
    assert analysis.same_bits(a.outputs["irr_annual"], b.outputs["irr_annual"]).all()


_DEVICE_SCRIPT = """
import sys, numpy as np, jax
jax.config.update("jax_enable_x64", True)
from mcroi import engine, priors
a = engine.run(priors.load(priors.default_path()), 3000, seed=9, chunk_size=1024)
np.savez(sys.argv[1], inputs=a.inputs, n=len(jax.devices()), **a.outputs)
"""


@pytest.mark.slow
def test_forced_host_devices_give_identical_draws(tmp_path: Path) -> None:
    """1 / 2 / 4 forced host devices: identical inputs and outputs (meaningful once the engine shards)."""
    res = {}
    for n in (1, 2, 4):
        f = tmp_path / f"d{n}.npz"
        subprocess.run(
            [sys.executable, "-c", _DEVICE_SCRIPT, str(f)], env=subprocess_env(devices=n), check=True, timeout=900
        )
        res[n] = dict(np.load(f))
        assert int(res[n].pop("n")) == n
    for n in (2, 4):
        for k, v in res[1].items():
            assert analysis.same_bits(v, res[n][k]).all(), (n, k)


def test_verify_accepts_untouched_keep_summary_and_until_mcse_runs(tmp_path: Path) -> None:
    """Issue 16: verify raised a false tamper alarm ("FAILED: 2 difference(s)") on every streamed run."""
    ks, um = tmp_path / "ks", tmp_path / "um"
    pipeline.simulate(None, draws=12_000, seed=1, keep="summary", out=ks, plots=False)
    pipeline.simulate(None, draws=3_000, seed=1, until_mcse=0.05, max_draws=20_000, out=um, plots=False)
    for run in (ks, um):
        code, out = _invoke(str(run), "--first", "50", "--random", "20", "--check-seed", "0")
        assert code == 0, out
        assert "DIFF" not in out and "verified" in out
    report = pipeline.verify(ks, first=10, n_random=0)
    assert report.ok and any(c.status == "note" and "streams all 12,000 draws" in c.message for c in report.checks)


# --------------------------------------------------------------------------- verify proves the whole run (issue 18)


@pytest.fixture(scope="module")
def full_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("whole") / "run"
    pipeline.simulate(None, draws=2000, seed=4, out=out)  # with plots, tornados and the report
    return out


def _tampered(full_run: Path, tmp_path: Path, change) -> Path:
    run = tmp_path / "run"
    shutil.copytree(full_run, run)
    change(run)
    return run


def _edit_json(path: Path, edit) -> None:
    doc = json.loads(path.read_text())
    edit(doc)
    path.write_text(json.dumps(doc))


def _drop_npv(run: Path) -> None:
    ds = xr.load_dataset(run / "results.nc", engine="h5netcdf").drop_vars("npv_usd")
    (run / "results.nc").unlink()
    ds.to_netcdf(run / "results.nc", engine="h5netcdf")


def _rename_scenario(run: Path) -> None:
    ds = xr.load_dataset(run / "results.nc", engine="h5netcdf")
    ds.attrs["scenario"] = "someone else's"
    (run / "results.nc").unlink()
    ds.to_netcdf(run / "results.nc", engine="h5netcdf")


TAMPERING = {
    "risk forged": lambda run: _edit_json(run / "summary.json", lambda d: d["risk"]["p_npv_negative"].update(p=0.001)),
    "summary.csv edited": lambda run: (run / "summary.csv").write_text((run / "summary.csv").read_text() + "x\n"),
    "report.html edited": lambda run: (run / "report.html").write_text("<html>99.9 % sure</html>"),
    "sensitivity.nc deleted": lambda run: (run / "sensitivity.nc").unlink(),
    "npv_usd deleted": _drop_npv,
    "scenario renamed": _rename_scenario,
}


@pytest.mark.parametrize("case", list(TAMPERING))
def test_verify_detects_each_tampering(full_run: Path, tmp_path: Path, case: str) -> None:
    run = _tampered(full_run, tmp_path, TAMPERING[case])
    report = pipeline.verify(run, first=20, n_random=0)
    assert not report.ok, (case, [c.message for c in report.checks])


def test_verify_accepts_the_untouched_run_and_a_rebuilt_report(full_run: Path, tmp_path: Path) -> None:
    run = _tampered(full_run, tmp_path, lambda r: None)
    assert pipeline.verify(run, first=20, n_random=0).ok
    assert cli("report", run).exit_code == 0  # mcroi rewrites its own report: the manifest follows
    report = pipeline.verify(run, first=20, n_random=0)
    assert report.ok, [c.message for c in report.checks if c.status == "diff"]


def test_a_report_of_a_tampered_folder_says_so_at_the_top(full_run: Path, tmp_path: Path) -> None:
    run = _tampered(full_run, tmp_path, TAMPERING["risk forged"])
    assert cli("report", run).exit_code == 0
    text = (run / "report.html").read_text()
    assert "fails verification" in text and "summary.json" in text
    assert text.index("fails verification") < text.index('id="headline"')
    clean = _tampered(full_run, tmp_path / "b", lambda r: None)
    assert cli("report", clean).exit_code == 0 and "fails verification" not in (clean / "report.html").read_text()


def test_verify_recomputes_every_draw_by_default(run_dir: Path, tmp_path: Path) -> None:
    """Issue 18: one changed draw far from the start is found by default, even with every hash re-synced."""
    tampered = tmp_path / "one-draw"
    shutil.copytree(run_dir, tampered)
    ds = xr.load_dataset(tampered / "results.nc", engine="h5netcdf")
    ds["npv_usd"].values[1237] = np.nextafter(ds["npv_usd"].values[1237], np.inf)
    ds.to_netcdf(tampered / "results.nc", engine="h5netcdf")
    man = json.loads((tampered / "manifest.json").read_text())
    man["files"]["results.nc"] = runs.file_hashes(tampered)["results.nc"]  # a forger re-syncs the hash
    (tampered / "manifest.json").write_text(json.dumps(man))
    code, out = _invoke(str(tampered))
    assert code == 1 and "npv_usd: 1 of 1500 draws differ (first at draw 1237" in out
    # the untouched run: every draw, said so
    code, out = _invoke(str(run_dir))
    assert code == 0 and "recomputed 1,500 draws (every stored draw)" in out
    # a quick sample says what it covered
    code, out = _invoke(str(run_dir), "--sample", "20", "--check-seed", "5")
    assert code == 0 and "recomputed 20 draws (first 10 + 10 at random (--check-seed 5))" in out
    code, out = _invoke(str(run_dir), "--sample", "20", "--first", "3")
    assert code == 2 and out.count("\n") == 1 and "--sample" in out


def test_a_levered_run_on_two_devices_verifies_bit_for_bit(tmp_path: Path) -> None:
    """The equity IRR of a run sharded over two devices is recomputed bit for bit on one.

    It once came from a second evaluation of the monthly model that XLA fused differently under
    shard_map: 207 of 3,000 draws of a 70 %-debt run differed in the last bit.
    """
    out = tmp_path / "ig70"
    args = ("simulate", "scenarios/capital/ig-70", "-n", 3000, "--seed", 2, "--devices", 2, "-q", "--out", out)
    res = mcroi_subprocess(*args, env=subprocess_env(devices=2))
    assert res.returncode == 0, res.stderr
    assert len(json.loads((out / "manifest.json").read_text())["devices"]) == 2
    report = pipeline.verify(out)
    assert report.ok, [c.message for c in report.problems]
    assert any("recomputed all 3,000 draws from the seed" in c.message for c in report.checks)
    # and draw by draw, each in the engine tile that produced it, on one device
    report = pipeline.verify(out, first=3000, n_random=0)
    assert report.ok, [c.message for c in report.problems]
    assert any("every stored draw" in c.message for c in report.checks)
