"""Crash safety: SIGKILL a real ``python -m mcroi simulate`` at random moments.

After every kill, ``runs/`` holds only complete runs (which ``mcroi verify`` accepts) and, at
most, hidden leftovers named ``.NAME.partial-PID`` of the killed process; the next start removes
them. Half of the kills are aimed at the final write: the test waits for the temporary folder to
appear and kills within the next fraction of a second.

Subprocesses share a JAX compilation cache so that only the first one compiles. Both tests are
``slow``; ``test_store.py`` checks the same invariants in-process.
"""

from __future__ import annotations

import random
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import xarray as xr

from mcroi.runs import RUN_FILES
from tests.helpers import cli, subprocess_env

DRAWS = 2000
LEFTOVER = re.compile(r"^\.(?P<name>.+)\.(partial|replaced)-(?P<pid>\d+)$")


def _start(root: Path, name: str, cache: Path) -> subprocess.Popen[bytes]:
    cmd = [
        sys.executable,
        "-m",
        "mcroi",
        "simulate",
        "-n",
        str(DRAWS),
        "--seed",
        "1",
        "-q",
        "--out",
        str(root / "runs" / name),
    ]
    return subprocess.Popen(
        cmd, cwd=root, env=subprocess_env(cache=cache), stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )


def _check_runs(runs: Path, killed: set[int]) -> list[Path]:
    """Visible entries are complete runs; hidden ones are leftovers of killed processes."""
    complete = []
    for p in sorted(runs.iterdir()) if runs.exists() else []:
        if p.name.startswith("."):
            m = LEFTOVER.match(p.name)
            assert m is not None, f"unexpected hidden entry {p.name}"
            assert int(m["pid"]) in killed, f"leftover of a process that was not killed: {p.name}"
            continue
        assert set(RUN_FILES) <= {x.name for x in p.iterdir() if x.is_file()}, p
        ds = xr.load_dataset(p / "results.nc", engine="h5netcdf")
        assert ds.sizes["draw"] == DRAWS
        complete.append(p)
    return complete


def _trials(tmp_path: Path, n_trials: int, seed: int) -> None:
    rng = random.Random(seed)
    cache = tmp_path / "jax-cache"
    runs = tmp_path / "runs"
    killed: set[int] = set()
    # trial 0 runs to the end: a complete run and a warm compilation cache; then the warm duration
    p = _start(tmp_path, "t0", cache)
    _, err = p.communicate(timeout=900)
    assert p.returncode == 0, err.decode()
    duration = 0.0
    outcomes: list[str] = []
    # the others are killed: at a random moment, or as soon as the final write has begun
    for k in range(1, n_trials):
        name = f"t{k}"
        t = time.monotonic()
        p = _start(tmp_path, name, cache)
        if k == 1:  # measure the warm run once, to aim the random kills inside it
            p.communicate(timeout=900)
            duration = time.monotonic() - t
            _check_runs(runs, killed)
            continue
        if k % 2:
            time.sleep(rng.uniform(0, duration))
        else:
            while p.poll() is None and not any(runs.glob(f".{name}.partial-*")) and time.monotonic() - t < 900:
                time.sleep(0.002)
            time.sleep(rng.uniform(0, 0.25))
        p.send_signal(signal.SIGKILL)
        p.communicate(timeout=60)
        killed.add(p.pid)
        complete = {c.name for c in _check_runs(runs, killed)}
        leftover = any(runs.glob(f".{name}.partial-*")) if runs.exists() else False
        outcomes.append("complete" if name in complete else "leftover" if leftover else "nothing")
    print("kill outcomes:", {o: outcomes.count(o) for o in sorted(set(outcomes))})
    if n_trials >= 20:  # some kills must have landed inside the final write
        assert "leftover" in outcomes and "nothing" in outcomes, outcomes
    # the next start cleans every leftover of the killed runs
    p = _start(tmp_path, "final", cache)
    _, err = p.communicate(timeout=900)
    assert p.returncode == 0, err.decode()
    assert not [x.name for x in runs.iterdir() if x.name.startswith(".")]
    complete = _check_runs(runs, killed)
    assert {"t0", "final"} <= {c.name for c in complete}
    # every complete run is accepted by verify (one compilation in this process, then cached)
    for c in complete:
        res = cli("verify", c, "--first", "200", "--random", "100", "--check-seed", "0")
        assert res.exit_code == 0, res.output


# The invariants these kills probe run in-process in test_store.py (a run is visible only once
# complete, a failed write leaves nothing, a dead process's leftovers are cleaned or restored and a
# live one's kept); the kills here add real processes dying at random moments.
@pytest.mark.slow  # ~33 s: six subprocesses, one cold compile
def test_sigkill_leaves_complete_runs_or_named_leftovers(tmp_path: Path) -> None:
    _trials(tmp_path, 4, seed=0)


@pytest.mark.slow
def test_sigkill_twenty_trials(tmp_path: Path) -> None:
    _trials(tmp_path, 20, seed=1)
