"""Atomic run folders, in-process: what a killed run can leave, and what the next start does with it.

The fast form of ``test_crash_safety.py`` (real ``SIGKILL``s at random moments, marked slow): a
run is visible only once complete, a failed write leaves nothing, and the leftovers a dead
process leaves (``.NAME.partial-PID``, ``.NAME.replaced-PID``) are removed, or restored, by the
next start while those of a live process are left alone.
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from mcroi import runs
from tests.helpers import assert_one_line_error, cli

MANIFEST = {"contract_version": "1", "versions": {"mcroi": "test"}}  # what marks a folder as mcroi's


def _ds(n: int = 3) -> xr.Dataset:
    return xr.Dataset({"npv_usd": ("draw", np.arange(float(n)))})


def _write(out: Path, n: int = 3, **kw: object) -> Path:
    return runs.write_run(out, _ds(n), MANIFEST, {"outputs": {}}, csv_text="output\n", **kw)


def _hidden(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


@pytest.fixture
def dead_pid() -> int:
    """The id of a process that has exited (and been reaped)."""
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


@pytest.fixture
def live_pid():
    p = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    yield p.pid
    p.kill()
    p.wait()


def test_a_run_is_visible_only_once_complete(tmp_path: Path) -> None:
    out = tmp_path / "runs" / "r"
    seen = {}

    def during(tmp: Path) -> None:  # called inside the write, before the rename
        seen["out_exists"] = out.exists()
        seen["entries"] = sorted(p.name for p in out.parent.iterdir())
        seen["files"] = sorted(p.name for p in tmp.iterdir())

    _write(out, extra=during)
    assert seen["out_exists"] is False
    assert seen["entries"] == [f".r.partial-{os.getpid()}"]  # the only trace: hidden, named, this pid
    assert set(runs.RUN_FILES) <= set(seen["files"])
    assert set(runs.RUN_FILES) <= {p.name for p in out.iterdir()}
    assert _hidden(out.parent) == []
    assert xr.load_dataset(out / "results.nc", engine="h5netcdf").sizes["draw"] == 3


@pytest.mark.parametrize("error", [RuntimeError, KeyboardInterrupt])
def test_a_failed_write_leaves_nothing(tmp_path: Path, error: type[BaseException]) -> None:
    out = tmp_path / "r"

    def fail(tmp: Path) -> None:
        raise error("interrupted")

    with pytest.raises(error):
        _write(out, extra=fail)
    assert list(tmp_path.iterdir()) == []


def test_replacing_keeps_the_old_run_until_the_new_one_is_complete(tmp_path: Path) -> None:
    out = _write(tmp_path / "r", n=3)
    seen = {}

    def during(tmp: Path) -> None:
        seen["draws"] = xr.load_dataset(out / "results.nc", engine="h5netcdf").sizes["draw"]

    _write(out, n=5, force=True, extra=during)
    assert seen["draws"] == 3  # the complete old run, up to the rename
    assert xr.load_dataset(out / "results.nc", engine="h5netcdf").sizes["draw"] == 5
    assert _hidden(tmp_path) == []


def test_the_next_start_cleans_the_leftovers_of_dead_processes(tmp_path: Path, dead_pid: int, live_pid: int) -> None:
    runs_dir = tmp_path / "runs"
    runs_dir.mkdir()
    # a run killed while writing: its unfinished temporary folder
    (runs_dir / f".a.partial-{dead_pid}").mkdir()
    (runs_dir / f".a.partial-{dead_pid}" / "results.nc").write_bytes(b"half")
    # killed between its two renames while replacing "b": the complete previous run, set aside
    old_b = _write(runs_dir / "b-old", n=4)
    old_b.rename(runs_dir / f".b.replaced-{dead_pid}")
    # killed after the replacement landed: the set-aside copy of "c" is stale
    _write(runs_dir / "c", n=2)
    (runs_dir / f".c.replaced-{dead_pid}").mkdir()
    # a run still being written by a live process: not ours to touch
    (runs_dir / f".d.partial-{live_pid}").mkdir()

    runs.prepare(runs_dir / "new", force=False)  # what every simulate/compare does first

    assert _hidden(runs_dir) == [f".d.partial-{live_pid}"]
    assert sorted(p.name for p in runs_dir.iterdir() if not p.name.startswith(".")) == ["b", "c"]
    assert xr.load_dataset(runs_dir / "b" / "results.nc", engine="h5netcdf").sizes["draw"] == 4  # restored
    assert xr.load_dataset(runs_dir / "c" / "results.nc", engine="h5netcdf").sizes["draw"] == 2


def test_a_second_writer_is_refused_never_silently_replaces(tmp_path: Path) -> None:
    """Issue 18: two runs into one --out both exited 0 and the later replaced the earlier."""
    out = tmp_path / "run"

    def other_writer_lands_first(tmp: Path) -> None:  # another process finishes while this one writes
        os.rename(_write(tmp_path / "elsewhere", n=5), out)

    with pytest.raises(runs.RunExistsError, match="another run was written there"):
        _write(out, n=3, extra=other_writer_lands_first)
    assert xr.load_dataset(out / "results.nc", engine="h5netcdf").sizes["draw"] == 5  # the first run, intact
    assert _hidden(tmp_path) == []


@pytest.mark.parametrize(
    ("make", "needle"),
    [
        (lambda t: Path("/proc/mcroi-run"), "special filesystem"),
        (lambda t: Path("/sys/mcroi-run"), "special filesystem"),
        (lambda t: t / ("x" * 300), "at most 255"),
        (lambda t: (t / "f.txt").write_text("x") and t / "f.txt" / "run", "which is a file"),
    ],
)
def test_impossible_destinations_are_refused_before_any_work(tmp_path: Path, make, needle) -> None:
    with pytest.raises(runs.RunExistsError, match=needle):
        runs.prepare(make(tmp_path), force=False)


def test_a_run_inside_another_run_folder_is_refused(tmp_path: Path) -> None:
    base = _write(tmp_path / "base")
    with pytest.raises(runs.RunExistsError, match="inside the run folder"):
        runs.prepare(base / "sub", force=False)
    with pytest.raises(runs.RunExistsError):
        runs.prepare(base / "results.nc", force=True)  # a file of another run is never replaced
    assert (base / "results.nc").is_file()


def test_a_killed_report_or_exports_half_file_is_cleaned_next_time(tmp_path: Path, dead_pid: int) -> None:
    """Issue 18: killed report/export runs left partial files that were never cleaned."""
    run = tmp_path / "run"
    run.mkdir()
    half = run / f".report.html.partial-{dead_pid}"
    half.write_text("<html>half")
    mine = run / f".export.csv.partial-{os.getpid()}"  # a live process's: left alone
    mine.write_text("x")
    removed = runs.clean_leftovers(run)
    assert half in removed and not half.exists() and mine.exists()


def test_a_full_disk_is_refused_before_the_draws_in_one_line(tmp_path, monkeypatch):
    """Issue 18: a full disk gave a traceback, then a segfault from HDF5 closing the half-written file."""
    real = shutil.disk_usage
    monkeypatch.setattr(shutil, "disk_usage", lambda p: real(p)._replace(free=3 * 2**20))
    res = cli("simulate", "-n", "20000", "-q", "--out", tmp_path / "run")
    line = assert_one_line_error(res, "the run needs about", "MB free")
    assert str(tmp_path / "run") in line and not list(tmp_path.iterdir())


def test_the_disk_filling_up_while_writing_leaves_nothing(tmp_path, monkeypatch):
    ds = xr.Dataset({"x": ("draw", np.arange(10.0))})

    def full(self, *a, **k):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(xr.Dataset, "to_netcdf", full)
    with pytest.raises(runs.RunWriteError, match="the disk filled up while writing the run"):
        runs.write_run(tmp_path / "run", ds, {"kind": "simulate"}, {"outputs": {}})
    assert not list(tmp_path.iterdir())  # no run, no .partial folder
