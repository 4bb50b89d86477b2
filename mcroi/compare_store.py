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
from pathlib import Path

import xarray as xr

from mcroi import store, summarize
from mcroi.model import SCALAR_OUTPUTS

CSV_STATS = ("mean", "sd", "p5", "p10", "p50", "p90", "p95", "mcse_mean", "mcse_p50", "n_nan", "n_inf")


def summary_csv(ds: xr.Dataset) -> str:
    """One row per (platform, output): simulate's statistics (infinities spelled ``inf``)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["platform", "output", "unit", *CSV_STATS])
    for platform in ds.platform.values:
        for name in SCALAR_OUTPUTS:
            row = summarize.describe(ds[name].sel(platform=platform).values)
            w.writerow([platform, name, store.OUTPUT_META.get(name, ("", ""))[0], *(_num(row.get(k, math.nan)) for k in CSV_STATS)])
    return buf.getvalue()


def _num(v: float | None) -> str:
    # summary.json writes non-finite numbers as null; the CSV spells them out
    if v is None:
        return "nan"
    v = float(v)
    return "nan" if math.isnan(v) else repr(v)


def default_run_dir(labels: list[str], root: Path = Path("runs")) -> Path:
    stamp = _dt.datetime.now(_dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    joined = "-vs-".join(labels)
    safe = "".join(c if c.isalnum() or c in "-_." else "-" for c in joined)[:80] or "compare"
    return root / f"compare-{safe}-{stamp}"


def write(ds: xr.Dataset, out: str | Path, *, force: bool = False, plots: bool = True) -> Path:
    """Write the Dataset returned by :func:`mcroi.compare.compare` as a run folder at ``out``."""
    summary = json.loads(ds.attrs["summary"])
    manifest = json.loads(ds.attrs["manifest"])
    manifest["utc"] = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
    body = ds.copy()
    body.attrs = {k: v for k, v in ds.attrs.items() if k not in ("summary", "manifest")}

    def extra(tmp: Path) -> None:
        if plots:
            from mcroi.report import compare_plots

            compare_plots.all_plots(body, summary["baseline"], tmp / "plots")
            from mcroi.report import html

            html.write(tmp, tmp / "report.html", name=Path(out).name)

    return store.write_run(Path(out), body, manifest, summary, force=force, extra=extra, csv_text=summary_csv(body))
