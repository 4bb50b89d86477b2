"""Percentile tables of a run for budgeting tools: tidy CSV, JSON and XLSX.

Every table row is ``scenario, metric, period, statistic, value, unit``: ``period`` is ``total``
or a year of operation (1, 2, ...), ``statistic`` is ``mean`` or ``pNN`` (``p5``, ``p2.5``).
Each statistic is computed over the run's draws of that exact quantity, so a year's P10 and the
total's P10 come from different draws: a percentile of a sum is not the sum of percentiles.

Works on simulate runs (one scenario) and compare runs (a ``platform`` dimension; one scenario
per platform, plus the paired statistics against the baseline).
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import xarray as xr

from mcroi.analysis import describe, market_check, paired_ratio, rent_stats
from mcroi.engine import OUTPUTS, SCALAR_OUTPUTS
from mcroi.priors import CURVE_KEY, HORIZON_KEY, input_unit
from mcroi.runs._format import market_check_lines
from mcroi.runs._read import read_run
from mcroi.runs._store import clean_leftovers

SCHEMA = "mcroi.export"
SCHEMA_VERSION = 1
DEFAULT_PERCENTILES = (5.0, 10.0, 50.0, 90.0, 95.0)
COLUMNS = ("scenario", "metric", "period", "statistic", "value", "unit")
ASSUMPTION_COLUMNS = ("scenario", "input", "unit", "family", "parameters", "p10", "p50", "p90", "source")
#: Per-year line items: run variable -> metric name in the export.
LINE_ITEMS = {
    "annual_revenue_usd": "revenue_usd",
    "annual_energy_usd": "energy_usd",
    "annual_other_opex_usd": "other_opex_usd",
    "annual_tax_usd": "tax_usd",
    "annual_cashflow_usd": "cashflow_usd",
    "annual_output_tokens": "output_tokens",
    "annual_equity_cashflow_usd": "equity_cashflow_usd",
    "annual_dscr": "dscr",
}
#: Per-year ratios: no ``total`` row (a ratio's years do not add up; ``min_dscr`` in the totals is
#: the per-draw minimum over the years).
NO_TOTAL = frozenset({"annual_dscr"})
PERCENTILE_METHOD = (
    "mean: over draws with a finite value; pNN: numpy.quantile over draws that are not NaN, "
    "method 'linear', or 'inverted_cdf' where infinities are present (payback 'never'), "
    "the rule of summary.json"
)


# --------------------------------------------------------------------------- statistics


def parse_percentiles(text: str) -> tuple[float, ...]:
    """``"5,10,50"`` -> ``(5.0, 10.0, 50.0)``, sorted and unique, each in [0, 100].

    Raises
    ------
    ValueError
        With a one-line message naming the bad value.
    """
    items = [t.strip() for t in str(text).split(",")]
    if not any(items):
        raise ValueError(
            f"--percentiles = {text!r}: empty; give comma-separated percentiles between 0 and 100, e.g. 5,10,50,90,95"
        )
    out = set()
    for t in items:
        try:
            v = float(t)
        except ValueError:
            raise ValueError(
                f"--percentiles = {text!r}: {t!r} is not a number; give comma-separated percentiles between 0 and 100, e.g. 5,10,50,90,95"
            ) from None
        if not (0.0 <= v <= 100.0) or math.isnan(v):
            raise ValueError(
                f"--percentiles = {text!r}: {t} is outside 0..100; give percentiles between 0 and 100, e.g. 5,10,50,90,95"
            )
        out.add(v)
    return tuple(sorted(out))


def stat_name(p: float) -> str:
    """5.0 -> ``p5``, 2.5 -> ``p2.5``."""
    return f"p{p:g}"


def quantiles(x: np.ndarray, percentiles: Sequence[float]) -> np.ndarray:
    """Percentiles of the non-NaN values of ``x`` (the rule in :data:`PERCENTILE_METHOD`)."""
    x = np.asarray(x, dtype=float).ravel()
    x = x[~np.isnan(x)]
    if x.size == 0:
        return np.full(len(percentiles), np.nan)
    method: Literal["linear", "inverted_cdf"] = "linear" if np.isfinite(x).all() else "inverted_cdf"
    return np.quantile(x, np.asarray(percentiles, dtype=float) / 100, method=method)


def statistics(x: np.ndarray, percentiles: Sequence[float]) -> list[tuple[str, float]]:
    """``[("mean", ...), ("p5", ...), ...]`` of one quantity over draws."""
    x = np.asarray(x, dtype=float).ravel()
    finite = x[np.isfinite(x)]
    mean = float(finite.mean()) if finite.size else math.nan
    return [
        ("mean", mean),
        *((stat_name(p), float(v)) for p, v in zip(percentiles, quantiles(x, percentiles), strict=True)),
    ]


# --------------------------------------------------------------------------- tables


def _scenarios(ds: xr.Dataset) -> list[tuple[str, xr.Dataset]]:
    if "platform" in ds.dims:
        return [(str(p), ds.sel(platform=p)) for p in ds.platform.values]
    return [(str(ds.attrs.get("scenario", "scenario")), ds)]


def _rows(
    scenario: str, metric: str, period: str | int, x: np.ndarray, unit: str, percentiles: Sequence[float]
) -> list[dict[str, Any]]:
    return [
        {"scenario": scenario, "metric": metric, "period": period, "statistic": s, "value": v, "unit": unit}
        for s, v in statistics(x, percentiles)
    ]


def totals_table(ds: xr.Dataset, percentiles: Sequence[float]) -> list[dict[str, Any]]:
    """Every scalar output over the horizon (period ``total``)."""
    rows = []
    for name, sub in _scenarios(ds):
        for k in SCALAR_OUTPUTS:
            if k in sub:
                got = _rows(name, k, "total", sub[k].values, OUTPUTS[k].unit, percentiles)
                # a mean that is no headline (the IRR's, payback's) is never a budget figure
                rows += [r for r in got if OUTPUTS[k].mean_is_headline or r["statistic"] not in ("mean", "sd")]
    return rows


def annual_table(ds: xr.Dataset, percentiles: Sequence[float]) -> list[dict[str, Any]]:
    """Line items per year of operation, and their per-draw sum over the years (``total``)."""
    rows = []
    for name, sub in _scenarios(ds):
        for var, metric in LINE_ITEMS.items():
            if var not in sub:
                continue
            a = np.asarray(sub[var].values, dtype=float)  # (draw, year)
            years = [j for j in range(a.shape[1]) if not np.isnan(a[:, j]).all()]  # NaN: past this platform's horizon
            unit = OUTPUTS[var].unit
            got = [r for j in years for r in _rows(name, metric, int(sub.year.values[j]), a[:, j], unit, percentiles)]
            if var not in NO_TOTAL:
                got += _rows(name, metric, "total", a[:, years].sum(axis=1), unit, percentiles)
            # a mean that is no headline (a DSCR's, over the draws that owe debt) is no budget figure
            rows += [r for r in got if OUTPUTS[var].mean_is_headline or r["statistic"] != "mean"]
    return rows


def vs_baseline_table(ds: xr.Dataset, percentiles: Sequence[float]) -> list[dict[str, Any]]:
    """Paired statistics of each platform against the baseline (compare runs; else empty)."""
    if "platform" not in ds.dims:
        return []
    base = str(ds.attrs.get("baseline", ds.platform.values[0]))
    b = ds.sel(platform=base)
    rows = []
    for name, sub in _scenarios(ds):
        if name == base:
            continue
        npv, npv_b = sub.npv_usd.values, b.npv_usd.values
        rows += [
            {
                "scenario": name,
                "metric": "npv_above_baseline",
                "period": "total",
                "statistic": "mean",
                "value": float(np.mean(npv > npv_b)),
                "unit": "probability",
            }
        ]
        rows += _rows(name, "npv_difference_vs_baseline_usd", "total", npv - npv_b, "USD", percentiles)
        rows += _rows(
            name,
            "roi_multiple_ratio_vs_baseline",
            "total",
            paired_ratio(sub.roi_multiple.values, b.roi_multiple.values),
            "x",
            percentiles,
        )
        rows += _rows(
            name,
            "cost_per_mtok_ratio_vs_baseline",
            "total",
            paired_ratio(sub.cost_per_mtok_usd.values, b.cost_per_mtok_usd.values),
            "x",
            percentiles,
        )
    return rows


def _scenario_priors(manifest: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
    if manifest.get("kind") == "compare":
        return [(s["platform"], s["priors"]) for s in manifest.get("scenarios", [])]
    if "priors" in manifest:
        return [(str(manifest.get("scenario", manifest["priors"].get("name", "scenario"))), manifest["priors"])]
    return []


def _parameters(spec: Mapping[str, Any]) -> str:
    return json.dumps({k: v for k, v in spec.items() if k not in ("dist", "source")}, separators=(", ", ": "))


def assumptions_table(ds: xr.Dataset, manifest: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every input of every scenario: family, parameters, P10/P50/P90 of its draws, source.

    P10/P50/P90 are empirical percentiles of the stored draws (after truncation and copula).
    """
    draws = dict(_scenarios(ds))
    rows: list[dict[str, Any]] = []
    for name, pri in _scenario_priors(manifest):
        sub = draws.get(name)
        for key, d in pri.get("inputs", {}).items():
            spec = d.get("spec", {}) or {}
            p10 = p50 = p90 = math.nan
            if sub is not None and "input" in sub.dims and key in sub.input.values:
                p10, p50, p90 = (float(v) for v in quantiles(sub.inputs.sel(input=key).values, (10, 50, 90)))
            rows.append(
                {
                    "scenario": name,
                    "input": key,
                    "unit": input_unit(key),
                    "family": str(spec.get("dist", d.get("family", "")))
                    if d.get("family") != "constant"
                    else "constant",
                    "parameters": _parameters(spec) if spec else json.dumps({"params": d.get("params")}),
                    "p10": p10,
                    "p50": p50,
                    "p90": p90,
                    "source": d.get("source") or "",
                }
            )
        rows.append(
            {
                "scenario": name,
                "input": HORIZON_KEY,
                "unit": "months",
                "family": "constant",
                "parameters": json.dumps({"value": pri.get(HORIZON_KEY)}),
                "p10": pri.get(HORIZON_KEY),
                "p50": pri.get(HORIZON_KEY),
                "p90": pri.get(HORIZON_KEY),
                "source": "scenario constant",
            }
        )
        if pri.get(CURVE_KEY):
            rows.append(
                {
                    "scenario": name,
                    "input": CURVE_KEY,
                    "unit": "[tok/s/user, tok/s/GPU]",
                    "family": "curve",
                    "parameters": json.dumps({"knots": pri[CURVE_KEY]}),
                    "p10": math.nan,
                    "p50": math.nan,
                    "p90": math.nan,
                    "source": pri.get("curve_source") or "",
                }
            )
    return rows


def reproduce_command(manifest: Mapping[str, Any]) -> str:
    """A command line that recreates the run's draws (the recorded one if it was a CLI call)."""
    cmd = str(manifest.get("command", ""))
    if cmd.startswith("mcroi "):
        return cmd
    opts = f"--draws {manifest.get('draws')} --seed {manifest.get('seed')} --precision {manifest.get('precision', 'float64')}"
    if manifest.get("kind") == "compare":
        files = [s.get("source") or (s.get("priors_files") or ["?"])[-1] for s in manifest.get("scenarios", [])]
        return f"mcroi compare {' '.join(files)} --baseline {manifest.get('baseline')} {opts}"
    files = manifest.get("priors_files") or ["?"]
    return f"mcroi simulate {files[-1]} {opts}"


def market_check_rows(ds: xr.Dataset) -> list[tuple[str, Any]]:
    """The market check of each scenario as a sentence (year-1 revenue per GPU-hour against the rent)."""
    rows = []
    scenarios = _scenarios(ds)
    for name, sub in scenarios:
        outs = {k: describe(sub[k].values) for k in ("revenue_per_gpu_hour_usd", "revenue_to_rent_ratio") if k in sub}
        names = [str(x) for x in sub["input"].values] if "inputs" in sub else []
        rent = rent_stats(names, np.asarray(sub["inputs"].values)) if names else None
        text = " ".join(market_check_lines(market_check(outs, rent)))
        if text:
            rows.append(("market_check" if len(scenarios) == 1 else f"market_check.{name}", text))
    return rows


def about_table(
    ds: xr.Dataset, manifest: Mapping[str, Any], run: str, percentiles: Sequence[float]
) -> list[dict[str, Any]]:
    """``key, value`` rows: what produced the run and how to reproduce it."""
    rows: list[tuple[str, Any]] = [
        ("schema", SCHEMA),
        ("schema_version", SCHEMA_VERSION),
        ("run", run),
        ("kind", manifest.get("kind", ds.attrs.get("kind", "simulate"))),
        ("scenario", ds.attrs.get("scenario", "")),
    ]
    if "platform" in ds.dims:
        rows += [
            ("platforms", ", ".join(str(p) for p in ds.platform.values)),
            ("baseline", ds.attrs.get("baseline", "")),
        ]
    rows += market_check_rows(ds)
    rows += [
        ("seed", manifest.get("seed", ds.attrs.get("seed"))),
        ("draws", manifest.get("draws", ds.sizes.get("draw"))),
        ("precision", manifest.get("precision", ds.attrs.get("precision"))),
        ("contract_version", manifest.get("contract_version", ds.attrs.get("contract_version"))),
        ("priors_sha256", manifest.get("priors_sha256", ds.attrs.get("priors_sha256"))),
    ]
    for s in manifest.get("scenarios", []):
        rows.append((f"priors_sha256.{s['platform']}", s.get("priors_sha256")))
    for k, v in (manifest.get("versions") or {}).items():
        rows.append((f"version.{k}", v))
    rows += [
        ("backend", manifest.get("backend")),
        ("run_utc", manifest.get("utc")),
        ("command", manifest.get("command")),
        ("reproduce", reproduce_command(manifest)),
        ("percentiles", ", ".join(stat_name(p) for p in percentiles)),
        ("statistics", PERCENTILE_METHOD),
        (
            "note",
            "a percentile of a sum is not the sum of percentiles: each row is computed over the draws of that exact quantity",
        ),
        (
            "non_finite",
            "NaN (undefined, e.g. IRR without a sign change) is an empty cell / null; infinity is 'inf' "
            "(in xlsx: a payback that never happens is 'never', a DSCR without debt service 'no debt')",
        ),
    ]
    return [{"key": k, "value": "" if v is None else v} for k, v in rows]


def tables(
    ds: xr.Dataset,
    manifest: Mapping[str, Any] | None = None,
    *,
    run: str = "",
    percentiles: Sequence[float] = DEFAULT_PERCENTILES,
) -> dict[str, list[dict[str, Any]]]:
    """All export tables of a run Dataset (``manifest`` as written in the run's manifest.json)."""
    manifest = manifest if manifest is not None else json.loads(ds.attrs.get("manifest", "{}"))
    out = {"totals": totals_table(ds, percentiles), "annual": annual_table(ds, percentiles)}
    vs = vs_baseline_table(ds, percentiles)
    if vs:
        out["vs_baseline"] = vs
    out["assumptions"] = assumptions_table(ds, manifest)
    out["about"] = about_table(ds, manifest, run, percentiles)
    return out


ROW_TABLES = ("totals", "annual", "vs_baseline")


# --------------------------------------------------------------------------- formats


def _cell(v: Any) -> Any:
    """NaN -> None (empty / null); +-inf -> "inf" / "-inf"; numpy scalars -> Python."""
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float):
        if math.isnan(v):
            return None
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
    return v


#: A text cell beginning with one of these is read as a formula by spreadsheets (OWASP, CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: Texts mcroi itself writes for non-finite numbers: never neutralised.
NUMBER_WORDS = frozenset({"inf", "-inf", "never", "no debt"})


def safe_text(v: str) -> str:
    """Text a spreadsheet shows as text: a leading ``'`` before ``= + - @``, tab or CR (OWASP).

    Priors files travel between vendors and analysts; a scenario name or source such as
    ``=HYPERLINK(...)`` must never become a live formula in a budget workbook.
    """
    return "'" + v if v.startswith(FORMULA_START) and v not in NUMBER_WORDS else v


def _csv_cell(v: Any) -> str:
    v = _cell(v)
    if v is None:
        return ""
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, str):
        return safe_text(v)
    return str(v)


def to_csv(t: Mapping[str, list[dict[str, Any]]]) -> str:
    """The tidy rows of every row table in one CSV (header: :data:`COLUMNS`)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(COLUMNS)
    for name in ROW_TABLES:
        for r in t.get(name, []):
            w.writerow([_csv_cell(r[c]) for c in COLUMNS])
    return buf.getvalue()


def to_json(t: Mapping[str, list[dict[str, Any]]]) -> str:
    """Every table, with the schema name and version (strict JSON)."""
    doc = {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "columns": list(COLUMNS),
        "tables": {k: [{c: _cell(v) for c, v in r.items()} for r in t[k]] for k in ROW_TABLES if k in t},
        "assumptions": [{c: _cell(v) for c, v in r.items()} for r in t["assumptions"]],
        "about": {r["key"]: _cell(r["value"]) for r in t["about"]},
    }
    return json.dumps(doc, indent=1, allow_nan=False) + "\n"


#: Excel number formats by unit (cells stay numbers; the format only changes how they read).
NUMBER_FORMATS = {
    "USD": "#,##0;-#,##0",
    "USD/Mtok": "0.0000",
    "1/yr": "0.0%",
    "x": "0.00",
    "months": "0",
    "tokens": "0.00E+00",
}
BUDGET_STATS = ("p10", "p50", "p90")


def budget_table(t: Mapping[str, list[dict[str, Any]]]) -> tuple[list[str], list[list[Any]]]:
    """P10/P50/P90 of each line item per year (columns) and in total: the shape a budget takes.

    Returns the header (scenario, metric, statistic, unit, year 1 .. year Y, total) and the rows;
    percentiles not exported are left out.
    """
    rows = t.get("annual", [])
    years = sorted({r["period"] for r in rows if isinstance(r["period"], int)})
    cells: dict[tuple[str, str, str, str], dict[Any, Any]] = {}
    for r in rows:
        if r["statistic"] in BUDGET_STATS:
            cells.setdefault((r["scenario"], r["metric"], r["statistic"], r["unit"]), {})[r["period"]] = r["value"]
    header = ["scenario", "metric", "statistic", "unit", *(f"year {y}" for y in years), "total"]
    body = [[*key, *(vals.get(y) for y in years), vals.get("total")] for key, vals in cells.items()]
    return header, body


def _xlsx_value(v: Any, metric: str) -> Any:
    """A cell's value: numbers stay numbers; a payback that never happens is the text ``never``."""
    v = _cell(v)
    if v == "inf" and "payback" in str(metric):
        return "never"
    if v == "inf" and "dscr" in str(metric):
        return "no debt"  # no debt service to cover: a coverage ratio is no number
    return v


def _sheet(wb: Any, name: str, cols: Sequence[str], rows: list[list[Any]], units: list[str | None]) -> None:
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    ws = wb.create_sheet(name)
    ws.append(list(cols))
    for c in ws[1]:
        c.font = Font(bold=True)
    for r, unit in zip(rows, units, strict=True):
        ws.append(r)
        fmt = NUMBER_FORMATS.get(unit or "")
        for c in ws[ws.max_row]:
            if isinstance(c.value, str):
                c.data_type = "s"  # text stays text: openpyxl would store "=..." as a live formula
            elif fmt and isinstance(c.value, int | float) and not isinstance(c.value, bool):
                c.number_format = fmt
    ws.freeze_panes = "A2"
    for i, c in enumerate(cols):
        width = max([len(str(c)), *(len(str(r[i] if r[i] is not None else "")) for r in rows[:200])])
        ws.column_dimensions[get_column_letter(i + 1)].width = min(max(10, width + 2), 60)


def to_xlsx(t: Mapping[str, list[dict[str, Any]]], path: Path) -> None:
    """One sheet per table (budget, totals, annual, vs_baseline, assumptions, about); numbers formatted by unit."""
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    header, body = budget_table(t)
    if body:
        _sheet(wb, "budget", header, [[_xlsx_value(v, r[1]) for v in r] for r in body], [r[3] for r in body])
    for name in (*ROW_TABLES, "assumptions", "about"):
        if name not in t:
            continue
        cols: Sequence[str] = (
            COLUMNS if name in ROW_TABLES else (ASSUMPTION_COLUMNS if name == "assumptions" else ("key", "value"))
        )
        rows = [[_xlsx_value(r[c], r.get("metric", "")) for c in cols] for r in t[name]]
        units = [r.get("unit") if name in ROW_TABLES else None for r in t[name]]
        _sheet(wb, name, cols, rows, units)
    wb.save(path)


@dataclass(frozen=True)
class ExportFormat:
    """One export format: a writer of the tables into a file, and whether it can be text on stdout.

    ``write(tables, path)`` writes the file; ``text(tables)`` returns it as text (None for binary
    formats such as xlsx, which cannot go to stdout).
    """

    name: str
    write: Callable[[Mapping[str, list[dict[str, Any]]], Path], None]
    text: Callable[[Mapping[str, list[dict[str, Any]]]], str] | None
    doc: str


def _text_writer(
    fn: Callable[[Mapping[str, list[dict[str, Any]]]], str],
) -> Callable[[Mapping[str, list[dict[str, Any]]], Path], None]:
    def write(t: Mapping[str, list[dict[str, Any]]], path: Path) -> None:
        path.write_text(fn(t))

    return write


#: The export formats, by name (the ``--format`` choices).
EXPORT_FORMATS: dict[str, ExportFormat] = {
    f.name: f
    for f in (
        ExportFormat("csv", _text_writer(to_csv), to_csv, "tidy rows of every table in one CSV"),
        ExportFormat("json", _text_writer(to_json), to_json, "every table with the schema name and version"),
        ExportFormat("xlsx", to_xlsx, None, "one sheet per table, cells typed, for budgeting tools"),
    )
}
FORMATS: tuple[str, ...] = tuple(EXPORT_FORMATS)


def _atomic_write(path: Path, write: Any) -> None:
    tmp = path.with_name(f".{path.name}.partial-{os.getpid()}")
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def export(
    run: str | Path, fmt: str = "csv", out: str | Path | None = None, percentiles: Iterable[float] = DEFAULT_PERCENTILES
) -> Path | str:
    """Export a run folder; returns the file written (or the text when ``out == "-"``).

    Parameters
    ----------
    run
        A run folder written by ``mcroi simulate`` or ``mcroi compare``.
    fmt
        ``csv``, ``json`` or ``xlsx``.
    out
        Destination file; default ``RUN/export.<fmt>``; ``"-"`` returns the text (csv, json).
    """
    if fmt not in FORMATS:
        raise ValueError(f"--format = {fmt!r}: unknown format; give one of {', '.join(FORMATS)}")
    folder = read_run(run)
    run = folder.path
    ds, manifest = folder.dataset(), folder.manifest
    t = tables(ds, manifest, run=str(run), percentiles=tuple(percentiles))
    writer = EXPORT_FORMATS[fmt]
    if out == "-":
        if writer.text is None:
            raise ValueError(f"--out = '-': {fmt} cannot be written to stdout; give a file name")
        return writer.text(t)
    dest = Path(out) if out is not None else run / f"export.{fmt}"
    dest.parent.mkdir(parents=True, exist_ok=True)
    clean_leftovers(dest.parent)  # what a killed report or export left here
    _atomic_write(dest, lambda p: writer.write(t, p))
    return dest
