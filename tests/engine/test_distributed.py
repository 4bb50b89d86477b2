"""Two local CPU processes on loopback (jax.distributed) give the single-process streamed summary."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.helpers import subprocess_env

ARGS = [
    "simulate",
    "--draws",
    "3000",
    "--seed",
    "11",
    "--chunk-size",
    "1024",
    "--keep",
    "summary",
    "-q",
    "--devices",
    "1",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env(tmp_path: Path) -> dict[str, str]:
    env = subprocess_env(devices=1, drop=("MCROI_", "JAX_COORDINATOR"))
    env["MCROI_CACHE_DIR"] = str(tmp_path / "cache")
    return env


@pytest.mark.slow  # ~55 s of CPU on 2 shared cores (three compiles)
def test_two_processes_on_loopback_match_one_process(tmp_path):
    cmd = [sys.executable, "-m", "mcroi"]
    env = _env(tmp_path)
    port = _free_port()
    dist = tmp_path / "dist"
    procs = [
        subprocess.Popen(
            [
                *cmd,
                *ARGS,
                "--out",
                str(dist),
                "--distributed",
                "--coordinator",
                f"127.0.0.1:{port}",
                "--num-processes",
                "2",
                "--process-id",
                str(i),
            ],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for i in range(2)
    ]
    try:
        outs = [p.communicate(timeout=300)[0] for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    assert all(p.returncode == 0 for p in procs), outs
    single = tmp_path / "single"
    subprocess.run([*cmd, *ARGS, "--out", str(single)], env=env, cwd=tmp_path, check=True, timeout=300)

    sd, ss = (json.loads((d / "summary.json").read_text()) for d in (dist, single))
    md = json.loads((dist / "manifest.json").read_text())
    assert md["processes"] == 2 and md["draws"] == 3000 and sd["draws"] == ss["draws"] == 3000
    assert sd["risk"]["p_npv_negative"] == ss["risk"]["p_npv_negative"]  # exact counts
    for k, row in ss["outputs"].items():
        for c, v in row.items():
            if v is None:
                assert sd["outputs"][k][c] is None
            elif c.startswith("p") or c.startswith("n"):
                assert sd["outputs"][k][c] == v, (k, c)  # same sketch counts: same quantiles
            else:  # moments merged in another order: rounding only
                np.testing.assert_allclose(sd["outputs"][k][c], v, rtol=1e-10, err_msg=f"{k}.{c}")
    # process 0 kept the subsample of draws 0.. and it equals the single run's
    import mcroi

    a, b = mcroi.open_run(dist)["npv_usd"].values, mcroi.open_run(single)["npv_usd"].values
    assert a.size == 2048  # process 0 evaluated draws 0 .. 2047 (two chunks of 1024)
    np.testing.assert_array_equal(a, b[: a.size])
