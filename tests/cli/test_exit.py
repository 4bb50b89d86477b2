"""The ``mcroi`` command ends without tearing the interpreter down (issue 16: 0.4-0.6 s a command),
yet with the status, output and exit handlers of a normal exit."""

from __future__ import annotations

import subprocess
import sys

import pytest

CODE = """
import atexit, sys, threading
atexit.register(print, "exit handler ran", flush=True)
sys.argv = ["mcroi", *sys.argv[1:]]
if "--thread" in sys.argv:
    sys.argv.remove("--thread")
    threading.Thread(target=lambda: (__import__("time").sleep(0.5), print("thread finished", flush=True))).start()
from mcroi.cli import run
run()
print("never printed")
"""


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", CODE, *args], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize(
    ("args", "status", "out"),
    [
        (["--version"], 0, "mcroi, version"),
        (["simulate", "--draws", "abc"], 2, ""),
        (["nosuchcommand"], 2, ""),
    ],
)
def test_status_output_and_exit_handlers_as_a_normal_exit(args, status, out):
    res = _run(*args)
    assert res.returncode == status, res.stderr
    assert out in res.stdout
    assert "exit handler ran" in res.stdout  # atexit still runs (JAX's, logging's, coverage's)
    assert "never printed" not in res.stdout
    if status:
        assert len(res.stderr.strip().splitlines()) == 1 and "Traceback" not in res.stderr


def test_a_thread_still_running_ends_the_usual_way():
    res = _run("--version", "--thread")
    assert res.returncode == 0 and "thread finished" in res.stdout and "exit handler ran" in res.stdout
