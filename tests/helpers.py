"""What several test modules share: scenarios and priors text, one-input parsing, the CLI, subprocesses.

Test modules import from here (``from tests.helpers import ...``), never from one another. The
one private name of :mod:`mcroi` the tests still need outside the engine (the priors parser's
error collector, for :func:`parse_one` with ``check_domain=False``) is used here only.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from mcroi import priors
from tests.reference import REFERENCE_CASE, flat

__all__ = [
    "ANY_SIGN",
    "BASE",
    "NONNEG",
    "REFERENCE_CASE",
    "ROOT",
    "V1_SCALARS",
    "assert_one_line_error",
    "cli",
    "default_priors",
    "flat",
    "mcroi_subprocess",
    "is_number_text",
    "parse_one",
    "parse_table",
    "random_constant_scenario",
    "reference_doc",
    "subprocess_env",
    "to_toml",
    "write_priors",
]

ROOT = Path(__file__).resolve().parents[1]

# --------------------------------------------------------------------------- scenarios

#: A small complete scenario as TOML text: every required input, all constants.
BASE = """
[cluster]
gpus = 100
[capex]
usd_per_gpu = 50000
[throughput]
output_tokens_per_s_per_gpu = 1000
[utilization]
steady_state = 0.5
[price]
usd_per_mtok_output = 2.0
annual_decline = 0.3
[power]
kw_per_gpu = 1.5
pue = 1.2
usd_per_kwh = 0.08
[finance]
discount_rate = 0.1
"""


def write_priors(folder: Path, text: str, name: str = "p.toml") -> Path:
    """``text`` (dedented) as the priors file ``folder/name``; returns its path."""
    p = Path(folder) / name
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(textwrap.dedent(text))
    return p


def reference_doc(**groups: Mapping[str, Any] | None) -> dict[str, dict[str, Any]]:
    """A deep copy of the contract's reference case (model.md) with some groups changed.

    ``reference_doc(price={"annual_decline": 0.3})`` updates keys inside ``[price]``; a group
    given as None is removed (``cluster=None`` to size by budget instead).
    """
    doc = copy.deepcopy(REFERENCE_CASE)
    for group, body in groups.items():
        if body is None:
            doc.pop(group, None)
        else:
            doc.setdefault(group, {}).update(copy.deepcopy(dict(body)))
    return doc


def random_constant_scenario(rng: np.random.Generator) -> dict[str, dict[str, Any]]:
    """A complete scenario of contract v1, every input a random constant (horizon 12, 37, 60 or 84)."""
    doc = reference_doc()
    doc["cluster"]["gpus"] = float(rng.integers(8, 5000))
    doc["capex"]["usd_per_gpu"] = float(rng.uniform(20000, 90000))
    doc["throughput"]["output_tokens_per_s_per_gpu"] = float(rng.uniform(50, 8000))
    doc["workload"]["input_output_ratio"] = float(rng.choice([1.0, 8.0, 0.125]))
    doc["optimization"] = {"max_gain": float(rng.uniform(1, 4)), "half_life_months": float(rng.uniform(1, 24))}
    doc["utilization"] = {
        "steady_state": float(rng.uniform(0.1, 1)),
        "ramp_months": float(rng.choice([0, rng.uniform(1, 12)])),
    }
    doc["price"] = {
        "usd_per_mtok_output": float(rng.uniform(0.1, 8)),
        "usd_per_mtok_input": float(rng.uniform(0, 2)),
        "annual_decline": float(rng.uniform(0, 0.9)),
    }
    doc["power"] = {
        "kw_per_gpu": float(rng.uniform(0.7, 2.7)),
        "idle_fraction": float(rng.uniform(0, 1)),
        "pue": float(rng.uniform(1, 1.6)),
        "usd_per_kwh": float(rng.uniform(0.03, 0.2)),
    }
    doc["opex"] = {
        "usd_per_gpu_month": float(rng.uniform(0, 800)),
        "usd_per_gpu_hour": float(rng.choice([0.0, rng.uniform(0, 2)])),
        "maintenance_pct_per_year": float(rng.uniform(0, 0.05)),
    }
    H = int(rng.choice([12, 37, 60, 84]))
    doc["finance"] = {
        "discount_rate": float(rng.uniform(0, 0.2)),
        "tax_rate": float(rng.uniform(0, 0.35)),
        "residual_value_pct": float(rng.uniform(0, 0.3)),
        "useful_life_months": float(rng.uniform(6, 100)),
        "horizon_months": H,
    }
    return doc


def _toml_value(v: Any) -> str:
    if isinstance(v, Mapping):
        return "{ " + ", ".join(f"{k} = {_toml_value(x)}" for k, x in v.items()) + " }"
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    return repr(v)


def to_toml(doc: Mapping[str, Mapping[str, Any]]) -> str:
    """A priors document (groups of ``key = value``, values numbers, strings or tables) as TOML text."""
    lines = []
    for group, body in doc.items():
        lines.append(f"[{group}]")
        lines += [f"{k} = {_toml_value(v)}" for k, v in body.items()]
        lines.append("")
    return "\n".join(lines)


#: The scalar outputs of contract v1 that the reference implementations give.
V1_SCALARS = [
    "npv_usd",
    "payback_months",
    "roi_multiple",
    "net_roi",
    "cost_per_mtok_usd",
    "breakeven_price_usd_per_mtok",
    "total_output_tokens",
    "total_revenue_usd",
    "capex_usd",
]


@cache
def default_priors() -> priors.PriorSet:
    """The shipped default scenario (loaded once; a PriorSet is immutable)."""
    return priors.load(priors.default_path())


# --------------------------------------------------------------------------- one input

#: An input whose domain is ">= 0" (any non-negative family), and one that may be negative.
NONNEG = "price.usd_per_mtok_output"
ANY_SIGN = "finance.discount_rate"


def parse_one(raw: Any, key: str = NONNEG, *, check_domain: bool = True, file: str = "t.toml") -> priors.Dist:
    """One input's value (a number or a distribution table), parsed as a priors file would be.

    With ``check_domain`` (the default) through the public :func:`mcroi.priors.from_dict`: ``raw``
    is put at ``key`` in the reference case, so the input's domain is checked too, and a problem
    raises :class:`~mcroi.priors.PriorsError`.

    ``check_domain=False`` parses the table on its own, without the input's domain: family
    arithmetic checked on a wider support than the input allows (a normal for
    ``finance.discount_rate`` can go below -1), or lines printed for another key. No public
    function does that, so this calls ``priors.parse_dist`` with the parser's private error
    collector; problems still fail the test.
    """
    if check_domain:
        group, name = key.split(".", 1)
        ps = priors.from_dict(reference_doc(**{group: {name: raw}}), file=file)
        return ps.inputs[key]
    return parse_table(raw, key, file=file)


def parse_table(raw: Any, key: str, base: Path | None = None, *, file: str = "t.toml") -> priors.Dist:
    """One input's table parsed on its own (no domain check), data paths relative to ``base``."""
    errs = priors._Collector()  # the tests' only private name; see parse_one's docstring
    d = priors.parse_dist(file, key, raw, errs, base)
    assert d is not None and not errs.lines, errs.lines
    return d


# --------------------------------------------------------------------------- the command line


def cli(*args: Any, **kwargs: Any) -> Any:
    """``mcroi ARGS`` in this process (click's CliRunner); a :class:`click.testing.Result`."""
    from click.testing import CliRunner

    from mcroi.cli import main

    return CliRunner().invoke(main, [str(a) for a in args], **kwargs)


def assert_one_line_error(res: Any, *needles: str, code: int = 2) -> str:
    """The command failed with ``code``, printed exactly one line, no traceback, every needle in it."""
    assert res.exit_code == code, res.output
    lines = res.output.strip().splitlines()
    assert len(lines) == 1, lines
    assert "Traceback" not in res.output
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


def subprocess_env(
    *, devices: int | None = None, cache: Path | None = None, drop: tuple[str, ...] = ()
) -> dict[str, str]:
    """This environment for a child ``python``: CPU JAX, ``devices`` forced host devices, a
    persistent compilation cache in ``cache`` (every compile stored), variables starting with
    ``drop`` removed."""
    env = {k: v for k, v in os.environ.items() if not (drop and k.startswith(drop))}
    env["JAX_PLATFORMS"] = "cpu"
    if devices is not None:
        env["XLA_FLAGS"] = f"--xla_force_host_platform_device_count={devices}"
    if cache is not None:
        env.update(
            {
                "JAX_COMPILATION_CACHE_DIR": str(cache),
                "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0",
                "JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES": "-1",
            }
        )
    return env


def mcroi_subprocess(*args: Any, timeout: float = 600, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """``python -m mcroi ARGS`` in a real child process, text output captured."""
    kwargs.setdefault("capture_output", True)
    return subprocess.run(
        [sys.executable, "-m", "mcroi", *(str(a) for a in args)], text=True, timeout=timeout, **kwargs
    )


def is_number_text(text: str) -> bool:
    """Whether ``text`` reads as a number (``float`` accepts it): a CSV cell's test."""
    try:
        float(text)
    except ValueError:
        return False
    return True
