"""Shared, session-scoped runs for pipeline/test_compare.py and runs/test_export.py (each compile costs seconds).

The fixtures are registered once, in ``tests/conftest.py``.

Two platforms that differ only in a platform input (throughput) and in how the GPU count is
given (``cluster.gpus`` vs an equal ``capex.budget_usd``), plus an exact copy of the first:

* hopper:    1000 GPUs, tps ~ U(600, 1400)
* blackwell: budget 5e7 USD at 50k USD/GPU (= 1000 GPUs), tps ~ U(1500, 3500)
* hopper again (label ``hopper-2``)

Shared uncertain market inputs: output price (lognormal), price decline, electricity price.
"""

from __future__ import annotations

import json
import traceback
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import cli, reference_doc, to_toml

DRAWS = 2000
SEED = 3

#: The contract's reference case with the market and the throughput uncertain.
BASE: dict[str, dict[str, Any]] = reference_doc(
    throughput={"output_tokens_per_s_per_gpu": {"dist": "uniform", "min": 600, "max": 1400}},
    price={
        "usd_per_mtok_output": {"dist": "lognormal", "median": 2, "gsd": 1.5},
        "annual_decline": {"dist": "uniform", "min": 0.1, "max": 0.6},
    },
    power={"usd_per_kwh": {"dist": "uniform", "min": 0.05, "max": 0.15}},
    finance={"discount_rate": 0.1},
)


def scenario(name: str, **changes: dict[str, Any]) -> dict[str, dict[str, Any]]:
    doc = {g: dict(b) for g, b in BASE.items()}
    doc["scenario"] = {"name": name}
    for group, body in changes.items():
        doc.setdefault(group, {}).update(body)
    return doc


def hopper() -> dict[str, dict[str, Any]]:
    return scenario("hopper")


def blackwell() -> dict[str, dict[str, Any]]:
    doc = scenario(
        "blackwell", throughput={"output_tokens_per_s_per_gpu": {"dist": "uniform", "min": 1500, "max": 3500}}
    )
    del doc["cluster"]
    doc["capex"]["budget_usd"] = 5e7
    return doc


def write_files(folder: Path) -> tuple[Path, Path]:
    a, b = folder / "hopper.toml", folder / "blackwell.toml"
    a.write_text(to_toml(hopper()))
    b.write_text(to_toml(blackwell()))
    return a, b


@pytest.fixture(scope="session")
def compare_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """``mcroi compare hopper.toml blackwell.toml hopper.toml`` through the CLI, read back."""
    from mcroi.runs import open_run

    folder = tmp_path_factory.mktemp("compare")
    a, b = write_files(folder)
    out = folder / "run"
    res = cli(
        "compare", a, b, a, "--baseline", "hopper", "--draws", DRAWS, "--seed", SEED, "--independent-draws", DRAWS,
        "--out", out,
    )  # fmt: skip
    assert res.exit_code == 0, (
        res.output,
        res.exception,
        traceback.format_exception(res.exc_info[1]) if res.exc_info else "",
    )
    return {
        "out": out,
        "stdout": res.output,
        "ds": open_run(out),
        "summary": json.loads((out / "summary.json").read_text()),
        "manifest": json.loads((out / "manifest.json").read_text()),
        "files": (a, b),
    }


@pytest.fixture(scope="session")
def simulate_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A small simulate run of the hopper scenario."""
    from mcroi import pipeline, priors
    from mcroi.runs import open_run

    folder = tmp_path_factory.mktemp("simulate")
    a, _ = write_files(folder)
    out = folder / "run"
    pipeline.simulate(
        priors.load(a),
        draws=1500,
        seed=SEED,
        out=out,
        plots=False,
        command=f"mcroi simulate {a} --draws 1500 --seed {SEED}",
    )
    return {"out": out, "ds": open_run(out), "manifest": json.loads((out / "manifest.json").read_text()), "file": a}
