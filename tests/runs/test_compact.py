"""A run that keeps every draw stores its headline outputs and recomputes the rest when read.

Issue 16: a 10^6-draw run folder was 889 MB. ``results.nc`` now stores the outputs of
:data:`mcroi.runs.STORED_OUTPUTS` per draw; the inputs, the other outputs and the yearly line
items are recomputed from the seed when the run is read, and checked bit for bit against the
sha256 the run recorded. The oracle is a ``--keep all`` run of the same seed, which stores every
variable: reading either must give the same numbers, bit for bit.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from mcroi import analysis, pipeline, runs
from tests.helpers import cli

DRAWS = 3000


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("compact")
    small, full = root / "small", root / "full"
    pipeline.simulate(None, draws=DRAWS, seed=5, chunk_size=1024, out=small, plots=False)
    pipeline.simulate(None, draws=DRAWS, seed=5, chunk_size=4096, out=full, plots=False, keep="all")
    return small, full


def _same(a: xr.Dataset, b: xr.Dataset) -> None:
    assert list(a.data_vars) == list(b.data_vars)
    for k in a.data_vars:
        assert a[k].dims == b[k].dims and a[k].dtype == b[k].dtype, k
        assert analysis.same_bits(a[k].values, b[k].values).all(), k
    for c in ("draw", "year", "input", "input_units"):
        assert np.array_equal(a[c].values, b[c].values), c


def test_reading_recomputes_exactly_what_a_full_run_stores(pair: tuple[Path, Path]) -> None:
    small, full = pair
    folder = runs.read_run(small)
    assert folder.recomputes and not runs.read_run(full).recomputes
    stored = xr.load_dataset(small / "results.nc", engine="h5netcdf")
    assert sorted(stored.data_vars) == sorted(runs.STORED_OUTPUTS) and "draw" not in stored.coords
    ds = folder.dataset()
    _same(ds, runs.read_run(full).dataset())
    assert folder.recomputed == {"draws": DRAWS, "variables": len(ds.data_vars), "stored": len(runs.STORED_OUTPUTS)}
    assert json.loads(ds.attrs["manifest"])["storage"]["mode"] == "recompute"


def test_results_nc_holds_about_64_bytes_a_draw(pair: tuple[Path, Path]) -> None:
    small, full = pair
    per_draw_small = (small / "results.nc").stat().st_size / DRAWS
    per_draw_full = (full / "results.nc").stat().st_size / DRAWS
    stored = 8 * len(runs.STORED_OUTPUTS)
    assert stored <= per_draw_small < stored + 25  # + the netCDF header, spread over the draws
    assert per_draw_full > 10 * per_draw_small  # every input, output and yearly item
    # what the disk check asks for before the draws
    assert runs.stored_bytes(10**6, 8, "draws", 0) == 10**6 * stored <= 100 * 10**6
    assert runs.stored_bytes(10**6, 8, "all", 123) == 123


def _copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def _edit_manifest(run: Path, edit) -> None:
    man = json.loads((run / "manifest.json").read_text())
    edit(man)
    (run / "manifest.json").write_text(json.dumps(man))


def test_an_edited_stored_draw_is_named(pair: tuple[Path, Path], tmp_path: Path) -> None:
    run = _copy(pair[0], tmp_path / "edited")
    ds = xr.load_dataset(run / "results.nc", engine="h5netcdf")
    ds["irr_annual"].values[2500] = np.nextafter(ds["irr_annual"].values[2500], 1.0)
    ds.to_netcdf(run / "results.nc", engine="h5netcdf")
    with pytest.raises(runs.RunFolderError, match=r"irr_annual stored differs from irr_annual recomputed"):
        runs.read_run(run).dataset()
    report = pipeline.verify(run)
    assert not report.ok and any("irr_annual stored differs" in c.message for c in report.problems)


def test_a_recomputation_that_differs_from_the_record_says_where_the_run_was_made(
    pair: tuple[Path, Path], tmp_path: Path
) -> None:
    """What a run made on another backend meets: its recorded sha256 differ from this machine's bits."""
    run = _copy(pair[0], tmp_path / "elsewhere")

    def edit(man: dict) -> None:
        man["storage"]["sha256"]["annual_tax_usd"] = "0" * 64
        man["storage"]["made_on"] = {"backend": "gpu", "jax": "0.0.1", "machine": "x86_64"}

    _edit_manifest(run, edit)
    with pytest.raises(runs.RunFolderError) as e:
        runs.read_run(run).dataset()
    msg = str(e.value)
    assert "\n" not in msg and "annual_tax_usd" in msg and "on gpu" in msg and "--keep all" in msg
    res = cli("export", str(run), "--format", "csv", "--out", str(tmp_path / "x.csv"))
    assert res.exit_code == 2 and res.output.count("\n") == 1 and "annual_tax_usd" in res.output
    assert not (tmp_path / "x.csv").exists()


def test_a_changed_seed_does_not_pass_as_the_run(pair: tuple[Path, Path], tmp_path: Path) -> None:
    run = _copy(pair[0], tmp_path / "reseeded")
    _edit_manifest(run, lambda man: man.update(seed=6))
    with pytest.raises(runs.RunFolderError, match="stored differs"):
        runs.read_run(run).dataset()


def test_exports_and_summary_checks_read_the_recomputed_draws(pair: tuple[Path, Path], tmp_path: Path) -> None:
    small, full = pair
    out_s, out_f = tmp_path / "s.json", tmp_path / "f.json"
    assert cli("export", str(small), "--format", "json", "--out", str(out_s)).exit_code == 0
    assert cli("export", str(full), "--format", "json", "--out", str(out_f)).exit_code == 0
    s, f = json.loads(out_s.read_text()), json.loads(out_f.read_text())
    rows = {k for k in s if k != "about"}
    assert rows and all(s[k] == f[k] for k in rows), sorted(k for k in rows if s[k] != f[k])
    report = pipeline.verify(small)
    assert report.ok, [c.message for c in report.problems]
    msgs = " ".join(c.message for c in report.checks)
    assert f"recomputed all {DRAWS:,} draws from the seed" in msgs and "summary.json" in msgs


@pytest.mark.parametrize("how", ["float32", "until-mcse"])
def test_other_runs_that_keep_every_draw_recompute_bit_for_bit(tmp_path: Path, how: str) -> None:
    out = tmp_path / how
    if how == "float32":
        pipeline.simulate(None, draws=2048, seed=1, precision="float32", out=out, plots=False)
    else:  # the draws are decided while running; the recomputation draws the same ones
        pipeline.simulate(None, draws=50_000, seed=2, until_mcse=0.05, chunk_size=1024, out=out, plots=False)
    folder = runs.read_run(out)
    assert folder.recomputes
    ds = folder.dataset()
    assert ds.sizes["draw"] == folder.manifest["draws"]
    if how == "float32":
        assert ds["inputs"].dtype == np.float32
    assert pipeline.verify(out).ok


def test_a_compare_run_stores_each_platforms_headline_outputs_and_recomputes_the_rest(tmp_path: Path) -> None:
    """Each platform is recomputed as compare made it (same seed, draws plus the independent extra)."""
    made = pipeline.compare(["scenarios/capital/equity", "scenarios/capital/ig-70"], draws=1500, seed=3)
    small, full = tmp_path / "small", tmp_path / "full"
    pipeline.write_compare(made, small, plots=False)
    pipeline.write_compare(made, full, plots=False, keep="all")
    stored = xr.load_dataset(small / "results.nc", engine="h5netcdf")
    assert sorted(stored.data_vars) == sorted(runs.STORED_OUTPUTS) and stored.sizes["platform"] == 2
    assert (small / "results.nc").stat().st_size * 8 < (full / "results.nc").stat().st_size
    folder = runs.read_run(small)
    _same(folder.dataset(), runs.read_run(full).dataset())
    made.attrs.clear()
    _same(folder.dataset(), made)  # and what compare returned in memory
    assert folder.recomputed is not None and folder.recomputed["draws"] == 1500
    # a stored draw of the second platform edited: named
    edited = _copy(small, tmp_path / "edited")
    ds = xr.load_dataset(edited / "results.nc", engine="h5netcdf")
    ds["npv_usd"].values[1, 700] += 1.0
    ds.to_netcdf(edited / "results.nc", engine="h5netcdf")
    with pytest.raises(runs.RunFolderError, match="npv_usd stored differs"):
        runs.read_run(edited).dataset()


def test_the_report_rebuilt_from_the_recomputed_draws_is_the_one_simulate_wrote(tmp_path: Path) -> None:
    """simulate writes its report from the draws in memory; `mcroi report` reads them back recomputed."""
    out = tmp_path / "run"
    pipeline.simulate(None, draws=2000, seed=8, out=out)
    written = (out / "report.html").read_bytes()
    assert cli("report", str(out)).exit_code == 0
    assert (out / "report.html").read_bytes() == written
