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
from collections.abc import Callable
from pathlib import Path
from typing import Any

import xarray as xr

from mcroi import analysis
from mcroi.engine import OUTPUTS, SCALAR_OUTPUTS
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
) -> Path:
    """Write the Dataset returned by :func:`mcroi.compare` as a run folder at ``out``.

    ``extra(tmp, body, summary)`` may add files (plots, the report) before the folder lands.
    """
    summary = json.loads(ds.attrs["summary"])
    manifest = json.loads(ds.attrs["manifest"])
    manifest["utc"] = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
    body = ds.copy()
    body.attrs = {k: v for k, v in ds.attrs.items() if k not in ("summary", "manifest")}

    def add(tmp: Path) -> None:
        if extra is not None:
            extra(tmp, body, summary)

    return store.write_run(
        Path(out), body, manifest, summary, force=force, extra=add, csv_text=compare_summary_csv(body)
    )
