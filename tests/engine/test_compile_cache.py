"""The caches the CLI turns on (JAX's compiled code, the engine's traced programs): where they
live, how they are turned off, and that programs loaded from them draw exactly what freshly
traced and compiled ones draw."""

from __future__ import annotations

import json
import stat

import numpy as np
import xarray as xr

from mcroi.engine import cache_dir
from tests.helpers import mcroi_subprocess, subprocess_env


def test_cache_folder_follows_the_environment_and_splits_by_machine(tmp_path, monkeypatch):
    monkeypatch.delenv("MCROI_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    default = cache_dir()
    assert default is not None
    parent = tmp_path / "xdg" / "mcroi" / "jax"
    assert default.startswith(str(parent) + "/")
    tag = default.rsplit("/", 1)[1]
    assert len(tag) == 12 and all(c in "0123456789abcdef" for c in tag)
    monkeypatch.setenv("MCROI_CACHE_DIR", str(tmp_path / "mine"))
    assert cache_dir() == str(tmp_path / "mine" / tag)
    for off in ("off", "OFF", "none", "0", "false"):
        monkeypatch.setenv("MCROI_CACHE_DIR", off)
        assert cache_dir() is None


def _simulate(tmp_path, name, cache):
    env = subprocess_env(drop=("PYTEST", "MCROI_", "JAX_COMPILATION_CACHE", "JAX_PERSISTENT_CACHE"))
    env["MCROI_CACHE_DIR"] = cache
    env["JAX_LOG_COMPILES"] = "1"
    out = tmp_path / name
    proc = mcroi_subprocess("simulate", "--draws", "3000", "--seed", "11", "--out", out, "-q", env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out, proc.stderr


def _same_bits(a, b):
    """Two run folders hold the same draws: every stored variable equal, every recorded sha256
    (the variables recomputed when read) equal, the tornados' numbers equal."""
    ma, mb = (json.loads((p / "manifest.json").read_text()) for p in (a, b))
    assert ma["storage"]["sha256"] == mb["storage"]["sha256"]
    for f in ("results.nc", "sensitivity.nc"):
        with xr.open_dataset(a / f) as x, xr.open_dataset(b / f) as y:
            assert set(x.data_vars) == set(y.data_vars)
            for k in x.data_vars:
                np.testing.assert_array_equal(x[k].values, y[k].values, err_msg=f"{f}: {k}")


def test_a_second_run_loads_its_programs_and_draws_the_same_bits(tmp_path):
    """Fresh processes: the first traces, exports and compiles the engine's step and the swing's;
    the second loads both traced programs and their compiled code (no tracing, no compiling); one
    runs with the cache off; one finds the traced programs damaged and traces again. All hold the
    same draws to the last bit."""
    cache = tmp_path / "cache"
    cold, log_cold = _simulate(tmp_path, "cold", str(cache))
    warm, log_warm = _simulate(tmp_path, "warm", str(cache))
    off, log_off = _simulate(tmp_path, "off", "off")
    assert "tracing block for jit" in log_cold and "cache hit for 'jit_call'" not in log_cold
    assert "tracing block for jit" not in log_warm  # the traced programs came from the folder
    assert log_warm.count("cache hit for 'jit_call'") >= 2  # and their code: the engine's and the swing's
    assert "tracing block for jit" in log_off and "cache hit" not in log_off
    (folder,) = list(cache.iterdir())  # one machine, one subfolder
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700  # cached programs are code: the user's own
    programs = sorted((folder / "programs").iterdir())
    assert len(programs) >= 2
    for p in programs:
        p.write_bytes(b"not a program")
    damaged, log_damaged = _simulate(tmp_path, "damaged", str(cache))
    assert "tracing block for jit" in log_damaged
    assert all(p.read_bytes() != b"not a program" for p in programs)  # stored again
    for run in (warm, off, damaged):
        _same_bits(cold, run)
