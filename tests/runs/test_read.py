"""The one run-folder reader against malformed and hostile folders (issue 18): a RunFolderError or a
valid folder, never another exception; every command that reads a run answers with one line, exit 2."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mcroi import pipeline, runs
from tests.helpers import cli

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)


@pytest.fixture(scope="module")
def good_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("read") / "run"
    pipeline.simulate(None, draws=300, seed=1, out=out, plots=False)
    return out


def _paths(doc: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += _paths(v, (*prefix, k))
    return out


def _set(doc: Any, path: tuple[Any, ...], value: Any) -> None:
    for k in path[:-1]:
        doc = doc[k]
    if value is _DELETE:
        del doc[path[-1]]
    else:
        doc[path[-1]] = value


_DELETE = object()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_mutated_manifest_is_read_or_refused_with_one_line(good_run: Path, tmp_path_factory, data) -> None:
    man = json.loads((good_run / "manifest.json").read_text())
    paths = [p for p in _paths(man) if not (p and p[0] in ("versions", "timings_s", "backend_info"))]
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(paths))
        try:
            _set(man, path, data.draw(st.one_of(st.just(_DELETE), JSON)))
        except (KeyError, TypeError):
            pass
        paths = [p for p in _paths(man) if not (p and p[0] in ("versions", "timings_s"))] or [("seed",)]
    folder = tmp_path_factory.mktemp("m")
    (folder / "manifest.json").write_text(json.dumps(man))
    shutil.copy(good_run / "results.nc", folder / "results.nc")
    try:
        runs.read_run(folder)
    except runs.RunFolderError as e:
        assert "\n" not in str(e) and str(folder) in str(e)


@pytest.mark.parametrize(
    "breakage",
    [
        "manifest: []",
        "manifest: priors params empty",
        "manifest: priors params strings",
        "manifest: seed a string",
        "results.nc: not netCDF",
        "results.nc: empty",
        "summary.json: not JSON",
    ],
)
@pytest.mark.parametrize("command", ["report", "export", "verify", "sensitivity"])
def test_every_reader_answers_a_broken_folder_with_one_line(
    good_run: Path, tmp_path: Path, breakage: str, command: str
) -> None:
    run = tmp_path / "run"
    shutil.copytree(good_run, run)
    what, how = breakage.split(": ")
    if what == "manifest":
        man = json.loads((run / "manifest.json").read_text())
        if how == "[]":
            man = []
        elif how == "priors params empty":
            next(iter(man["priors"]["inputs"].values()))["params"] = []
        elif how == "priors params strings":
            next(iter(man["priors"]["inputs"].values()))["params"] = ["a", "b"]
        else:
            man["seed"] = "seven"
        (run / "manifest.json").write_text(json.dumps(man))
    elif what == "results.nc":
        (run / "results.nc").write_bytes(b"" if how == "empty" else b"not a netcdf file" * 10)
    else:
        (run / "summary.json").write_text("{not json")
    args = {
        "report": ["report", run],
        "export": ["export", run],
        "verify": ["verify", run, "--first", 5, "--random", 0],
        "sensitivity": ["sensitivity", run, "--method", "rank", "--bootstrap", 5],
    }[command]
    res = cli(*args)
    assert "Traceback" not in res.output, res.output
    assert res.exit_code in (1, 2), (res.exit_code, res.output)
    if res.exit_code == 2:
        assert len(res.output.strip().splitlines()) == 1, res.output
