"""Write a compare run folder (the shell around :func:`mcroi.compare.compare`).

The folder is simulate's: ``results.nc`` (every per-draw variable on a ``platform`` dimension),
``manifest.json`` (every scenario's resolved priors and hash), ``summary.json``, ``summary.csv``
(one row per platform and output) and ``plots/``, written atomically by :func:`mcroi.store.write_run`.
"""

from __future__ import annotations

import csv
import datetime as _dt
import io
import json
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from mcroi import analysis, engine
from mcroi.analysis import union_inputs
from mcroi.engine import ANNUAL_OUTPUTS, OUTPUTS, SCALAR_OUTPUTS
from mcroi.priors import PriorSet, input_unit
from mcroi.runs import _store as store
from mcroi.runs._format import csv_number

CSV_STATS = ("mean", "sd", "p5", "p10", "p50", "p90", "p95", "mcse_mean", "mcse_p50", "n_nan", "n_inf")


def compare_summary_csv(ds: xr.Dataset) -> str:
    """One row per (platform, output): simulate's statistics (infinities spelled ``inf``)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["platform", "output", "unit", *CSV_STATS])
    for platform in ds.platform.values:
        for name in SCALAR_OUTPUTS:
            row = analysis.describe(ds[name].sel(platform=platform).values)
            w.writerow(
                [
                    platform,
                    name,
                    OUTPUTS[name].unit,
                    *(csv_number(row.get(k, math.nan)) for k in CSV_STATS),
                ]
            )
    return buf.getvalue()


def compare_dataset(sets: Sequence[PriorSet], labels: Sequence[str], runs: Sequence[engine.RunArrays]) -> xr.Dataset:
    """Stack per-platform run arrays on a leading ``platform`` dimension (see :func:`compare`)."""
    names = union_inputs(sets)
    n_years = max(-(-ps.horizon_months // 12) for ps in sets)
    draws = runs[0].inputs.shape[0]
    data_vars: dict[str, Any] = {}
    for k in SCALAR_OUTPUTS:
        unit, long = OUTPUTS[k].unit, OUTPUTS[k].long_name
        data_vars[k] = xr.Variable(
            ("platform", "draw"), np.stack([r.outputs[k] for r in runs]), {"units": unit, "long_name": long}
        )
    for k in ANNUAL_OUTPUTS:
        unit, long = OUTPUTS[k].unit, OUTPUTS[k].long_name
        block = np.full((len(runs), draws, n_years), np.nan)
        for i, r in enumerate(runs):
            block[i, :, : r.outputs[k].shape[1]] = r.outputs[k]
        data_vars[k] = xr.Variable(("platform", "draw", "year"), block, {"units": unit, "long_name": long})
    inputs = np.full((len(runs), draws, len(names)), np.nan)
    for i, r in enumerate(runs):
        for j, name in enumerate(r.names):
            inputs[i, :, names.index(name)] = r.inputs[:, j]
    data_vars["inputs"] = xr.Variable(
        ("platform", "draw", "input"),
        inputs,
        {"units": "see input_units", "long_name": "sampled value of each input (NaN: not an input of that platform)"},
    )
    coords = {
        "platform": ("platform", np.array(labels, dtype=object), {"long_name": "scenario compared (label)"}),
        "scenario": (
            "platform",
            np.array([ps.name for ps in sets], dtype=object),
            {"long_name": "scenario name in its priors"},
        ),
        "horizon_months": ("platform", np.array([ps.horizon_months for ps in sets]), {"units": "months"}),
        "draw": ("draw", np.arange(draws), {"long_name": "draw index (absolute, shared by every platform)"}),
        "year": (
            "year",
            np.arange(1, n_years + 1),
            {"units": "year", "long_name": "year of operation (months 12y-11 .. 12y)"},
        ),
        "input": ("input", np.array(names, dtype=object), {"long_name": "contract input name"}),
        "input_units": (
            "input",
            np.array([input_unit(k) for k in names], dtype=object),
            {"long_name": "unit of each input"},
        ),
    }
    return xr.Dataset(data_vars, coords=coords)


def compare_run_dir(labels: list[str], root: Path = Path("runs")) -> Path:
    stamp = _dt.datetime.now(_dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    joined = "-vs-".join(labels)
    safe = "".join(c if c.isalnum() or c in "-_." else "-" for c in joined)[:80] or "compare"
    return root / f"compare-{safe}-{stamp}"


def write_compare(
    ds: xr.Dataset,
    out: str | Path,
    *,
    force: bool = False,
    extra: Callable[[Path, xr.Dataset, dict[str, Any]], None] | None = None,
    keep: str = "draws",
) -> Path:
    """Write the Dataset returned by :func:`mcroi.compare` as a run folder at ``out``.

    ``extra(tmp, body, summary)`` may add files (plots, the report) before the folder lands.
    ``keep="draws"`` stores each platform's headline outputs and recomputes the rest when the run
    is read (as simulate's runs); ``"all"`` stores every variable.
    """
    if keep not in ("draws", "all"):
        raise ValueError(f"keep must be 'draws' or 'all', got {keep!r}")
    summary = json.loads(ds.attrs["summary"])
    manifest = json.loads(ds.attrs["manifest"])
    manifest["utc"] = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
    body = ds.copy()
    body.attrs = {k: v for k, v in ds.attrs.items() if k not in ("summary", "manifest")}

    def add(tmp: Path) -> None:
        if extra is not None:
            extra(tmp, body, summary)

    csv_text = compare_summary_csv(body)
    manifest["keep"] = keep
    stored = body
    if keep == "draws":
        stored, manifest["storage"] = store.compact(body, store.made_on(manifest))
    else:
        manifest["storage"] = {"mode": "stored"}
    return store.write_run(Path(out), stored, manifest, summary, force=force, extra=add, csv_text=csv_text)
