"""Shared, session-scoped runs for test_compare.py and test_export.py (each compile costs seconds).

Two platforms that differ only in a platform input (throughput) and in how the GPU count is
given (``cluster.gpus`` vs an equal ``capex.budget_usd``), plus an exact copy of the first:

* hopper:    1000 GPUs, tps ~ U(600, 1400)
* blackwell: budget 5e7 USD at 50k USD/GPU (= 1000 GPUs), tps ~ U(1500, 3500)
* hopper again (label ``hopper-2``)

Shared uncertain market inputs: output price (lognormal), price decline, electricity price.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

DRAWS = 2000
SEED = 3

#: Both test files import the fixtures; this memo makes each run happen once per session.
_MEMO: dict[str, dict[str, Any]] = {}

BASE: dict[str, dict[str, Any]] = {
    "cluster": {"gpus": 1000},
    "capex": {"usd_per_gpu": 50000},
    "throughput": {"output_tokens_per_s_per_gpu": {"dist": "uniform", "min": 600, "max": 1400}},
    "workload": {"input_output_ratio": 1},
    "optimization": {"max_gain": 1, "half_life_months": 6},
    "utilization": {"steady_state": 0.5, "ramp_months": 0},
    "price": {
        "usd_per_mtok_output": {"dist": "lognormal", "median": 2, "gsd": 1.5},
        "usd_per_mtok_input": 0,
        "annual_decline": {"dist": "uniform", "min": 0.1, "max": 0.6},
    },
    "power": {
        "kw_per_gpu": 1,
        "idle_fraction": 1,
        "pue": 1,
        "usd_per_kwh": {"dist": "uniform", "min": 0.05, "max": 0.15},
    },
    "opex": {"usd_per_gpu_month": 0, "usd_per_gpu_hour": 0, "maintenance_pct_per_year": 0},
    "finance": {
        "discount_rate": 0.1,
        "tax_rate": 0,
        "residual_value_pct": 0,
        "useful_life_months": 60,
        "horizon_months": 60,
    },
}


def _value(v: Any) -> str:
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k} = {_value(x)}" for k, x in v.items()) + " }"
    if isinstance(v, str):
        return json.dumps(v)
    return repr(v)


def to_toml(doc: dict[str, dict[str, Any]]) -> str:
    """A priors document (two levels) as TOML text."""
    lines = []
    for group, body in doc.items():
        lines.append(f"[{group}]")
        lines += [f"{k} = {_value(v)}" for k, v in body.items()]
        lines.append("")
    return "\n".join(lines)


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
    if "compare" not in _MEMO:
        _MEMO["compare"] = _compare_run(tmp_path_factory)
    return _MEMO["compare"]


def _compare_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from mcroi.cli import main
    from mcroi.runs import open_run

    folder = tmp_path_factory.mktemp("compare")
    a, b = write_files(folder)
    out = folder / "run"
    res = CliRunner().invoke(
        main,
        [
            "compare",
            str(a),
            str(b),
            str(a),
            "--baseline",
            "hopper",
            "--draws",
            str(DRAWS),
            "--seed",
            str(SEED),
            "--independent-draws",
            str(DRAWS),
            "--out",
            str(out),
        ],
    )
    assert res.exit_code == 0, (
        res.output,
        res.exception,
        __import__("traceback").format_exception(res.exc_info[1]) if res.exc_info else "",
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
    if "simulate" not in _MEMO:
        _MEMO["simulate"] = _simulate_run(tmp_path_factory)
    return _MEMO["simulate"]


def _simulate_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
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
