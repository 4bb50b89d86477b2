"""The investment-committee report: one self-contained HTML page per run folder.

Everything is inline (CSS, SVG figures); the page makes no network request, and a Content
Security Policy forbids it to. Every string that comes from a user (scenario names,
descriptions, sources, platform names) goes through :func:`html.escape`.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from mcroi import analysis
from mcroi.analysis import METHODS_REGISTRY, column_quantiles
from mcroi.engine import SCALAR_OUTPUTS
from mcroi.report import _decide as decide
from mcroi.report import _fanchart as fanchart
from mcroi.report import _figures as figures
from mcroi.report import _lender as lender
from mcroi.report import _market as market
from mcroi.report._text import esc as esc
from mcroi.runs import clean_leftovers, file_hashes, money, read_run, record_file
from mcroi.runs import finite as _finite
from mcroi.runs import months as fmt_months
from mcroi.runs import multiple as fmt_multiple
from mcroi.runs import number as fmt_num
from mcroi.runs import pct as fmt_pct
from mcroi.runs import per_mtok as fmt_per_mtok


def fmt_money(x: Any) -> str:
    return money(x) if _finite(x) else "n/a"


CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


# ----------------------------------------------------------------------------- formatting


def fmt_payback(x: Any) -> str:
    """A payback month; summary.json stores "never" (+inf) as null, and payback has no other non-finite value."""
    return "never" if x is None else fmt_months(x)


# name, label, formatter, what the number means
HEADLINE: list[tuple[str, str, Callable[[Any], str], str]] = [
    ("npv_usd", "Median NPV", fmt_money, "net present value at the scenario's discount rate, capex included"),
    ("irr_annual", "Median IRR", fmt_pct, "annualized internal rate of return"),
    ("payback_months", "Median payback", fmt_payback, "first month the cumulative cash is back above zero"),
    ("roi_multiple", "Median ROI multiple", fmt_multiple, "token revenue over the horizon per dollar of capex"),
    ("cost_per_mtok_usd", "Median cost per M tokens", fmt_per_mtok, "levelized cost of a million output tokens (USD)"),
]


# ----------------------------------------------------------------------------- reading a run


def _summary_for(summary: Any, ds: xr.Dataset, horizon: int, platform: str | None) -> Mapping[str, Any]:
    """The summary of the run (or of one platform), from summary.json when it has one."""
    if isinstance(summary, Mapping) and "outputs" in summary:
        return summary
    if isinstance(summary, Mapping) and platform is not None:
        for key in ("platforms", "by_platform"):
            sub = summary.get(key)
            if isinstance(sub, Mapping) and isinstance(sub.get(platform), Mapping) and "outputs" in sub[platform]:
                return sub[platform]
        if isinstance(summary.get(platform), Mapping) and "outputs" in summary[platform]:
            return summary[platform]
    outs = {k: ds[k].values for k in SCALAR_OUTPUTS if k in ds}
    return analysis.summarize(outs, list(outs), horizon)


# ----------------------------------------------------------------------------- sections


def _headline(s: Mapping[str, Any]) -> str:
    outs, risk = s["outputs"], s["risk"]
    draws = int(s.get("draws", outs["npv_usd"]["n"]))
    p_neg = risk["p_npv_negative"]
    p_pos = 1.0 - p_neg["p"] if _finite(p_neg["p"]) else math.nan
    cards = [
        f'<div class="kpi kpi-main {_tone(p_pos)}" data-key="p_npv_positive" data-value="{esc(repr(p_pos))}" data-mcse="{esc(repr(p_neg["mcse"]))}">'
        f'<div class="kpi-label">P(NPV &gt; 0)</div><div class="kpi-value">{fmt_pct(p_pos)}</div>'
        f'<div class="kpi-range">chance the investment beats its cost of capital</div>'
        f'<div class="kpi-foot">{draws:,} draws &middot; MC error &plusmn;{fmt_pct(p_neg["mcse"], 2)}</div></div>'
    ]
    for key, label, fmt, meaning in HEADLINE:
        row = outs[key]
        n_valid = int(row["n"] - row["n_nan"])
        note = ""
        if row["n_nan"]:
            note = f" ({int(row['n_nan']):,} undefined)"
        if key == "payback_months" and row.get("n_inf"):
            note = f" ({int(row['n_inf']):,} never pay back)"
        cards.append(
            f'<div class="kpi" data-key="{esc(key)}" data-value="{esc(repr(row["p50"]))}" data-mcse="{esc(repr(row["mcse_p50"]))}">'
            f'<div class="kpi-label" title="{esc(meaning)}">{esc(label)}</div>'
            f'<div class="kpi-value">{fmt(row["p50"])}</div>'
            f'<div class="kpi-range">P10 {fmt(row["p10"])} &ndash; P90 {fmt(row["p90"])}</div>'
            f'<div class="kpi-foot">{n_valid:,} draws{esc(note)} &middot; MC error {_mc_error(key, row["mcse_p50"], fmt, row["p50"])}</div></div>'
        )
    return '<div class="kpis">' + "".join(cards) + "</div>"


def _tone(p_pos: Any) -> str:
    """The P(NPV > 0) card's colour: green only when most futures pay, red when most lose."""
    if not _finite(p_pos):
        return "kpi-mixed"
    return "kpi-good" if p_pos >= 0.8 else ("kpi-mixed" if p_pos >= 0.5 else "kpi-bad")


#: The smallest step each headline formatter shows: an error below it reads "< step", never "+/-$0.000".
RESOLUTION = {"npv_usd": 1.0, "roi_multiple": 0.005, "cost_per_mtok_usd": 0.0005, "irr_annual": 0.0005}


def _mc_error(key: str, mcse: Any, fmt: Callable[[Any], str], value: Any = 0.0) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)) or not _finite(mcse):
        return "&mdash;"  # no error of a value that is "never" or undefined
    # payback is a whole month: a zero-width quantile error means "under one month", not "exact"
    if key == "payback_months":
        return "&lt;1 mo" if mcse == 0 else f"&plusmn;{mcse:.1f} mo"
    step = RESOLUTION.get(key, 0.0)
    if mcse < step:
        return f"&lt;{fmt(2 * step)}"
    return f"&plusmn;{fmt(mcse)}"


def _risk_table(s: Mapping[str, Any], horizon: int) -> str:
    r = s["risk"]
    rows = [
        ("P(NPV &lt; 0)", fmt_pct(r["p_npv_negative"]["p"]), f"&plusmn;{fmt_pct(r['p_npv_negative']['mcse'], 2)}"),
        (
            f"P(no payback within {horizon} months)",
            fmt_pct(r["p_no_payback_within_horizon"]["p"]),
            f"&plusmn;{fmt_pct(r['p_no_payback_within_horizon']['mcse'], 2)}",
        ),
        (
            "P(ROI multiple &lt; 1)",
            fmt_pct(r["p_roi_multiple_below_1"]["p"]),
            f"&plusmn;{fmt_pct(r['p_roi_multiple_below_1']['mcse'], 2)}",
        ),
        (
            f"NPV at risk ({fmt_pct(r['var_level'], 0)} quantile)",
            fmt_money(r["var_npv_usd"]),
            f"&plusmn;{fmt_money(r['mcse_var_npv_usd'])}",
        ),
        (f"Expected NPV in the worst {fmt_pct(r['var_level'], 0)} (CVaR)", fmt_money(r["cvar_npv_usd"]), ""),
    ]
    body = "".join(
        f"<tr><th scope=row>{a}</th><td class=num>{b}</td><td class='num muted'>{c}</td></tr>" for a, b, c in rows
    )
    return f'<table class="risk"><thead><tr><th>risk</th><th class=num>value</th><th class=num>MC error</th></tr></thead><tbody>{body}</tbody></table>'


def _verdict(s: Mapping[str, Any], horizon: int) -> str:
    outs, risk = s["outputs"], s["risk"]
    p_pos = 1.0 - risk["p_npv_negative"]["p"]
    npv = outs["npv_usd"]
    pb = outs["payback_months"]
    pb_text = (
        f"pays back in month {pb['p50']:.0f}" if _finite(pb["p50"]) else f"does not pay back within {horizon} months"
    )
    return (
        f'<p class="verdict">In <strong>{fmt_pct(p_pos, 0)}</strong> of {int(s.get("draws", npv["n"])):,} simulated futures the cluster '
        f"earns more than its cost of capital. The median outcome is an NPV of <strong>{fmt_money(npv['p50'])}</strong> "
        f"(P10 {fmt_money(npv['p10'])} to P90 {fmt_money(npv['p90'])}) and the median draw {pb_text}.</p>"
    )


def _section(anchor: str, title: str, body: str, cls: str = "") -> str:
    return f'<section id="{anchor}" class="{cls}"><h2>{title}</h2>{body}</section>'


def _distributions(ds: xr.Dataset) -> str:
    npv = ds["npv_usd"].values
    roi = ds["roi_multiple"].values
    a = figures.histogram(
        npv / 1e6, "NPV (USD million)", lambda v: figures.money(v * 1e6), "fig-npv", zero_line=True, title="NPV"
    )
    b = figures.histogram(
        roi, "ROI multiple (token revenue / capex)", lambda v: f"{v:.2f}x", "fig-roi", title="ROI multiple"
    )
    return (
        '<div class="grid2">'
        f"<figure>{a}<figcaption>NPV of every draw; dashed: P10 and P90, solid red: the median (P50); black: NPV = 0.</figcaption></figure>"
        f"<figure>{b}<figcaption>Token revenue over the horizon per dollar of capex; P10, P50, P90 marked.</figcaption></figure>"
        "</div>"
    )


def _fan(
    ds: xr.Dataset, s: Mapping[str, Any], priors_doc: Mapping[str, Any] | None, horizon: int, fan_draws: int
) -> str:
    if priors_doc is None:
        return '<p class="muted">Not drawn: the run does not record its resolved priors, so its months cannot be re-evaluated.</p>'
    n = min(fan_draws, ds.sizes["draw"])
    knots = priors_doc.get("throughput.curve")
    # a compare run stores the union of its scenarios' inputs (NaN where a scenario lacks one):
    # re-evaluate with this scenario's own inputs only
    own = set(priors_doc.get("inputs") or ())
    cols = [j for j, x in enumerate(ds["input"].values) if not own or str(x) in own]
    cum = fanchart.cumulative_cash(
        ds["inputs"].values[:n][:, cols],
        [str(ds["input"].values[j]) for j in cols],
        horizon,
        None if not knots else np.asarray(knots, float),
        switches=tuple(priors_doc.get("switches") or ()),
        seed=int(ds.attrs["seed"]) if "seed" in ds.attrs else None,
        index=ds["draw"].values[:n] if "draw" in ds.coords else None,
    )
    f = fanchart.fan(cum)
    pb = s["outputs"]["payback_months"]
    capex = float(np.median(ds["capex_usd"].values))
    svg = figures.fan_chart(f.months, f.quantiles, capex, (pb["p10"], pb["p50"], pb["p90"]), "fig-fan")
    worst = float(np.nanmax(f.mcse))
    where = np.unravel_index(int(np.nanargmax(f.mcse)), f.mcse.shape)
    rows = []
    step = 6 if horizon <= 72 else 12
    for m in list(range(0, horizon + 1, step)) + ([horizon] if horizon % step else []):
        rows.append(
            f"<tr data-month='{m}'><td class=num>{m}</td>"
            + "".join(
                f"<td class=num data-p='{p}' data-value='{float(f.quantiles[i, m])!r}'>{fmt_money(f.quantiles[i, m])}</td>"
                for i, p in enumerate(f.percentiles)
            )
            + "</tr>"
        )
    table = (
        "<details><summary>Cumulative cash by month (table)</summary>"
        '<table class="fan"><thead><tr><th class=num>month</th>'
        + "".join(f"<th class=num>P{p}</th>" for p in f.percentiles)
        + "</tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table></details>"
    )
    return (
        f"<figure>{svg}<figcaption>Cumulative undiscounted cash by month: capex is paid at month 0, "
        "the band holds the middle 80% of draws, the line is the median month by month (not one draw), "
        "the green region spans the P10 to P90 payback months and the dashed line the median payback.</figcaption></figure>"
        f'<p class="accuracy" data-fan-draws="{f.draws}">Accuracy: the fan is computed from the first {f.draws:,} of '
        f"{ds.sizes['draw']:,} draws, re-evaluated month by month from their stored inputs. The largest Monte Carlo "
        f"standard error of any plotted quantile is {fmt_money(worst)} (P{f.percentiles[where[0]]} at month {int(where[1])}), "
        f"{fmt_pct(worst / capex if capex > 0 else math.nan)} of the median capex.</p>" + table
    )


def _payback(ds: xr.Dataset, horizon: int) -> str:
    m, p, se = fanchart.payback_cdf(ds["payback_months"].values, horizon)
    svg = figures.payback_cdf(m, p, se, "fig-payback")
    marks = [x for x in (12, 24, 36, 48, 60, 72, 84, 96, 120) if x <= horizon]
    if horizon not in marks:
        marks.append(horizon)
    cells = "".join(f"<td class=num>{fmt_pct(p[x], 0)}</td>" for x in marks)
    head = "".join(f"<th class=num>month {x}</th>" for x in marks)
    return (
        f"<figure>{svg}<figcaption>Probability of having paid back the capex (undiscounted) by each month, over all "
        f"{ds.sizes['draw']:,} draws; the band is &plusmn;2 Monte Carlo standard errors.</figcaption></figure>"
        f'<table class="compact"><thead><tr><th></th>{head}</tr></thead><tbody><tr><th scope=row>P(paid back)</th>{cells}</tr></tbody></table>'
    )


def _tornado(run: Path) -> str | None:
    # simulate's own tornados (plots/), and those `mcroi sensitivity RUN` wrote (sensitivity-<output>/)
    svgs = sorted(run.glob("tornado-*.svg")) + sorted((run / "plots").glob("tornado-*.svg"))
    svgs += sorted(run.glob("sensitivity-*/tornado-*.svg"))
    if not svgs:
        return None
    parts = []
    for i, p in enumerate(svgs):
        method = p.stem.removeprefix("tornado-")
        if p.parent.name.startswith("sensitivity-"):
            method = f"{method} ({p.parent.name.removeprefix('sensitivity-')}, from mcroi sensitivity)"
        meaning = next((m.caption for k, m in METHODS_REGISTRY.items() if method.lower().startswith(k)), "")
        svg = figures.clean_svg(p.read_text(), f"fig-tornado{i}")
        parts.append(
            f"<figure>{svg}<figcaption><strong>{esc(method)}</strong>"
            f"{': ' + esc(meaning) if meaning else ''}</figcaption></figure>"
        )
    note = ""
    if (run / "sensitivity.nc").exists():
        note = '<p class="muted">The indices behind these charts are stored in <code>sensitivity.nc</code> in the run folder.</p>'
    return "".join(parts) + note


def _compare(run: Path, ds: xr.Dataset) -> str | None:
    if "platform" not in ds.dims:
        return None
    names = [str(x) for x in ds["platform"].values]
    base = str(ds.attrs.get("baseline", names[0]))
    if base not in names:
        base = names[0]
    npv = ds["npv_usd"].transpose("platform", "draw").values
    b = npv[names.index(base)]
    rows = []
    p10, p50, p90 = [], [], []
    for i, name in enumerate(names):
        x = npv[i]
        q = np.nanpercentile(x, (10, 50, 90))
        p10.append(q[0])
        p50.append(q[1])
        p90.append(q[2])
        beats = float(np.mean(x > b))
        other = {}
        for k in ("irr_annual", "payback_months", "cost_per_mtok_usd", "roi_multiple"):
            if k in ds:
                v = ds[k].sel(platform=ds["platform"].values[i]).values
                v = v[~np.isnan(v)]
                other[k] = float(np.quantile(v, 0.5, method="inverted_cdf")) if v.size else math.nan
        rows.append(
            f"<tr><th scope=row>{esc(name)}{' <span class=tag>baseline</span>' if name == base else ''}</th>"
            f"<td class=num>{fmt_pct(float(np.mean(x > 0)))}</td><td class=num>{fmt_money(q[1])}</td>"
            f"<td class=num>{fmt_money(q[0])} &ndash; {fmt_money(q[2])}</td>"
            f"<td class=num>{fmt_pct(other.get('irr_annual', math.nan))}</td>"
            f"<td class=num>{fmt_months(other.get('payback_months', math.nan))}</td>"
            f"<td class=num>{fmt_multiple(other.get('roi_multiple', math.nan))}</td>"
            f"<td class=num>{fmt_per_mtok(other.get('cost_per_mtok_usd', math.nan))}</td>"
            f"<td class=num>{'&mdash;' if name == base else fmt_pct(beats)}</td></tr>"
        )
    table = (
        '<table class="compare"><thead><tr><th>platform</th><th class=num>P(NPV &gt; 0)</th><th class=num>median NPV</th>'
        "<th class=num>NPV P10 &ndash; P90</th><th class=num>median IRR</th><th class=num>median payback</th>"
        "<th class=num>median ROI</th><th class=num>cost / M tok</th><th class=num>P(beats baseline)</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table>"
    )
    given = sorted(run.glob("forest*.svg")) + sorted((run / "plots").glob("forest*.svg"))
    if given:
        svg = figures.clean_svg(given[0].read_text(), "fig-forest")
    else:
        svg = figures.forest(
            names, np.array(p10), np.array(p50), np.array(p90), "NPV (USD million): median and P10-P90", "fig-forest"
        )
    return (
        table + f"<figure>{svg}<figcaption>NPV per platform: the dot is the median, the bar spans P10 to P90. "
        "P(beats baseline) is the share of draws, paired on the shared market inputs, in which the platform's NPV exceeds "
        f"the baseline's ({esc(base)}).</figcaption></figure>"
    )


def _assumptions(ds: xr.Dataset, priors_doc: Mapping[str, Any] | None) -> str:
    names = [str(x) for x in ds["input"].values]
    units = [str(x) for x in ds["input_units"].values] if "input_units" in ds.coords else [""] * len(names)
    x = ds["inputs"].values
    qs = column_quantiles(x, [0.1, 0.5, 0.9])
    spec_of = (priors_doc or {}).get("inputs", {})
    rows = []
    for j, name in enumerate(names):
        d = spec_of.get(name, {})
        spec = d.get("spec") or {}
        fam = str(spec.get("dist", d.get("family", "")))
        if d.get("family") == "constant":
            fam = "constant"
        params = ", ".join(f"{k}={_spec_value(v)}" for k, v in spec.items() if k not in ("dist", "source", "value"))
        if d.get("family") == "constant":
            params = _spec_value(d.get("params", [math.nan])[0])
        canon = ""
        if d.get("family") and d.get("family") not in ("constant", fam):
            canon = f"<div class=muted>as {esc(d['family'])}({', '.join(_spec_value(v) for v in d.get('params', []))})</div>"
        rows.append(
            f"<tr><td><code>{esc(name)}</code></td><td>{esc(units[j])}</td><td>{esc(fam)}</td>"
            f"<td>{esc(params)}{canon}</td>"
            + "".join(f"<td class=num>{fmt_num(float(v))}</td>" for v in qs[:, j])
            + f"<td class=source>{esc(d.get('source') or '')}</td></tr>"
        )
    table = (
        '<table class="assumptions"><thead><tr><th>input</th><th>unit</th><th>family</th><th>parameters</th>'
        "<th class=num>P10</th><th class=num>P50</th><th class=num>P90</th><th>source</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table>"
    )
    extra = ""
    if priors_doc is not None:
        horizon = priors_doc.get("finance.horizon_months")
        extra += f"<p><code>finance.horizon_months</code> = {esc(horizon)} months (a constant of the scenario).</p>"
        knots = priors_doc.get("throughput.curve")
        if knots:
            pts = "; ".join(f"{_spec_value(a)} tok/s/user &rarr; {_spec_value(b)} tok/s/GPU" for a, b in knots)
            extra += (
                f"<p><code>throughput.curve</code> (measured Pareto curve, log-log interpolation): {pts}. "
                f"Source: {esc(priors_doc.get('curve_source') or 'not given')}.</p>"
            )
        corr = priors_doc.get("correlations") or []
        if corr:
            extra += (
                "<p>Rank correlations (Gaussian copula): "
                + "; ".join(
                    f"<code>{esc(a)}</code> ~ <code>{esc(b)}</code>: {esc(f'{float(r):+.2f}')}" for a, b, r in corr
                )
                + ".</p>"
            )
    return (
        '<p class="muted">P10, P50 and P90 are those of the sampled values stored in the run (truncation and '
        "correlations included).</p>" + table + extra
    )


def _spec_value(v: Any) -> str:
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_spec_value(a) for a in v) + "]"
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


def _method(manifest: Mapping[str, Any], ds: xr.Dataset, run: Path) -> str:
    vers = manifest.get("versions") or {}
    items = [
        ("Contract version", manifest.get("contract_version", ds.attrs.get("contract_version"))),
        ("Seed", manifest.get("seed", ds.attrs.get("seed"))),
        ("Draws", f"{int(manifest.get('draws', ds.sizes['draw'])):,}"),
        ("Precision", manifest.get("precision", ds.attrs.get("precision"))),
        ("Chunk size", manifest.get("chunk_size")),
        ("Backend", f"{manifest.get('backend', '')} {', '.join(map(str, manifest.get('devices') or []))}".strip()),
        ("Priors files", ", ".join(map(str, manifest.get("priors_files") or []))),
        ("Priors SHA-256", manifest.get("priors_sha256", ds.attrs.get("priors_sha256"))),
        ("Written (UTC)", manifest.get("utc")),
        ("Versions", ", ".join(f"{k} {v}" for k, v in vers.items())),
    ]
    dl = "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in items if v not in (None, ""))
    cmd = manifest.get("command") or "(not recorded)"
    return (
        f'<dl class="method">{dl}</dl>'
        f'<p>Reproduce this run exactly (same draws, same numbers) with:</p><pre class="cmd"><code>{esc(cmd)}</code></pre>'
        "<p class=muted>Each input's draw <em>i</em> depends only on the seed, the input's name and <em>i</em>, so the "
        "command reproduces every draw regardless of chunk size or device. Monte Carlo errors are standard errors: "
        "for a probability <em>p</em> over <em>n</em> independent draws, &radic;(p(1&minus;p)/n); for a quantile, the "
        "order-statistic (binomial) width. The economic model is documented in <code>docs/model.md</code>.</p>"
    )


# ----------------------------------------------------------------------------- page


def _tamper_banner(folder: Any) -> str:
    """A warning at the top when a file the run wrote no longer has its recorded sha256 (or is gone)."""
    recorded = folder.manifest.get("files")
    if not isinstance(recorded, dict):
        return ""
    now = file_hashes(folder.path)
    bad = sorted(k for k, h in recorded.items() if k != "report.html" and now.get(k) != h)
    if not bad:
        return ""
    listed = ", ".join(f"<code>{esc(k)}</code>" for k in bad[:6]) + (
        f" and {len(bad) - 6} more" if len(bad) > 6 else ""
    )
    return (
        '<div class="tamper" role="alert"><strong>This run folder fails verification:</strong> '
        f"{listed} changed or disappeared after the run wrote them. The numbers below may not be the run's; "
        "run <code>mcroi verify</code> on the folder.</div>"
    )


def build(
    run: str | Path,
    *,
    fan_draws: int = fanchart.FAN_DRAWS,
    name: str | None = None,
    dataset: xr.Dataset | None = None,
    figures_ready: Callable[[], object] | None = None,
) -> str:
    """The report of run folder ``run`` as one HTML document (text).

    ``fan_draws`` draws (the first ones) are re-evaluated month by month for the fan chart;
    ``name`` is the run's name shown on the page (default: the folder's name). ``dataset`` is the
    run's Dataset when the caller holds it (``simulate`` writing its own folder), so that a run
    which recomputes its draws on reading is not recomputed again.
    """
    run = Path(run)
    folder = read_run(run)
    ds_all = folder.dataset() if dataset is None else dataset
    manifest = folder.manifest
    summary_doc = folder.summary
    platform = None
    ds = ds_all
    if "platform" in ds_all.dims:
        names = [str(x) for x in ds_all["platform"].values]
        platform = str(ds_all.attrs.get("baseline", names[0]))
        if platform not in names:
            platform = names[0]
        ds = ds_all.isel(platform=names.index(platform))
    priors_doc = folder.priors_doc(platform)
    horizon = int(ds.attrs.get("horizon_months") or (priors_doc or {}).get("finance.horizon_months") or 60)
    s = _summary_for(summary_doc, ds, horizon, platform)
    scenario = str(
        ds_all.attrs.get("scenario") or (summary_doc or {}).get("scenario") or manifest.get("scenario") or run.name
    )
    description = str(ds_all.attrs.get("description") or (priors_doc or {}).get("description") or "")

    sections = []
    nav = []

    def add(anchor: str, title: str, body: str | None) -> None:
        if body is None:
            return
        sections.append(_section(anchor, title, body))
        nav.append(f'<a href="#{anchor}">{title}</a>')

    compare = _compare(run, ds_all)
    head_note = ""
    if platform is not None:
        head_note = f'<p class="muted">Headline, charts and assumptions below are for the baseline platform <strong>{esc(platform)}</strong>; the comparison follows.</p>'
    add(
        "headline",
        "Headline",
        head_note + market.headline_flag(s, ds) + _verdict(s, horizon) + _headline(s) + _risk_table(s, horizon),
    )
    add("market", "Compared with renting the GPU", market.section(s, ds, summary_doc))
    add("compare", "Platforms side by side", compare)
    add("distributions", "Distribution of outcomes", _distributions(ds))
    add("cash", "Cumulative cash by month", _fan(ds, s, priors_doc, horizon, fan_draws))
    add("payback", "When is the capex paid back?", _payback(ds, horizon))
    add(
        "lender",
        "The lender's view: debt service and equity",
        lender.page(ds_all, ds, summary_doc, s, platform, priors_doc),
    )
    if figures_ready is not None:
        figures_ready()
    tornado = _tornado(run)
    add(
        "sensitivity",
        "What drives NPV",
        tornado
        if tornado is not None
        else '<p class="muted">No sensitivity analysis in this run folder. Run <code>mcroi sensitivity</code> on it to add a tornado chart.</p>',
    )
    add("decisions", "Decision analytics", decide.section(run))
    add("assumptions", "Assumptions", _assumptions(ds, priors_doc))
    add("method", "Method and reproducibility", _method(manifest, ds, run))

    draws = int(manifest.get("draws", ds.sizes["draw"]))
    sub = f"{draws:,} Monte Carlo draws &middot; seed {esc(manifest.get('seed', ''))} &middot; contract v{esc(manifest.get('contract_version', ''))} &middot; {esc(manifest.get('utc', ''))}"
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(scenario)} &mdash; investment committee report</title>"
        f"<style>{CSS}</style></head><body>"
        '<header class="top"><div class="eyebrow">Investment committee report &middot; AI factory (GPU cluster)</div>'
        f'<h1 id="scenario">{esc(scenario)}</h1>'
        + (f'<p class="desc">{esc(description)}</p>' if description else "")
        + f'<p class="sub">{sub}</p><nav>{"".join(nav)}</nav></header><main>'
        + _tamper_banner(folder)
        + "".join(sections)
        + "</main><footer>Generated by mcroi from the run folder "
        f"<code>{esc(name or run.name)}</code>. All figures are computed from the stored draws; nothing on this page is fetched from the network.</footer>"
        "</body></html>\n"
    )


def write(run: str | Path, out: str | Path | None = None, **kw: Any) -> Path:
    """Write the report of ``run`` to ``out`` (default ``run/report.html``); returns the path."""
    run = Path(run)
    out = Path(out) if out is not None else run / "report.html"
    text = build(run, **kw)
    out.parent.mkdir(parents=True, exist_ok=True)
    clean_leftovers(out.parent)  # what a killed report or export left here
    tmp = out.with_name(f".{out.name}.partial-{os.getpid()}")
    try:
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(out)
    finally:
        tmp.unlink(missing_ok=True)
    if out.parent.resolve() == run.resolve():
        record_file(run, out)  # the run's manifest keeps the sha256 of the report mcroi wrote
    return out


CSS = """
:root{--ink:#1d2b3a;--muted:#5f6f7f;--line:#dde3ea;--bg:#f6f8fa;--accent:#2a6f97;--red:#b23a48;--green:#2e7d32}
*{box-sizing:border-box}
html{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue","DejaVu Sans",Arial,sans-serif;color:var(--ink);background:#fff;font-size:15px;line-height:1.45}
body{margin:0}
header.top{background:linear-gradient(135deg,#13293d,#1f4e79);color:#fff;padding:28px 40px 16px}
.eyebrow{text-transform:uppercase;letter-spacing:.08em;font-size:12px;opacity:.8}
h1{margin:4px 0 6px;font-size:30px;font-weight:700;overflow-wrap:anywhere}
.desc{margin:0 0 6px;max-width:900px;opacity:.95}
.sub{margin:0 0 12px;font-size:13px;opacity:.8}
nav{display:flex;flex-wrap:wrap;gap:4px 18px;font-size:13px;border-top:1px solid rgba(255,255,255,.2);padding-top:10px}
nav a{color:#d6e6f5;text-decoration:none}
main{max-width:1180px;margin:0 auto;padding:8px 40px 24px}
section{padding:18px 0 8px;border-bottom:1px solid var(--line)}
h2{font-size:19px;margin:6px 0 12px;color:#13293d}
.verdict{font-size:16.5px;max-width:950px;margin:4px 0 16px}
.kpis{display:grid;grid-template-columns:repeat(3,1fr);gap:12px;margin-bottom:16px}
.kpi{border:1px solid var(--line);border-radius:8px;padding:12px 14px;background:var(--bg)}
.tamper{background:#fbeaea;border:2px solid #b23a48;border-radius:8px;padding:12px 14px;margin:0 0 16px}
.kpi-good{background:#eaf3ea;border-color:#bcd9bd}
.kpi-mixed{background:#fdf6e3;border-color:#e8d9a8}
.kpi-bad{background:#fbeaea;border-color:#e3b9bd}
.kpi-label{font-size:12.5px;text-transform:uppercase;letter-spacing:.04em;color:var(--muted)}
.kpi-value{font-size:28px;font-weight:700;margin:2px 0;font-variant-numeric:tabular-nums}
.kpi-range{font-size:13px;color:var(--ink)}
.kpi-foot{font-size:11.5px;color:var(--muted);margin-top:4px}
table{border-collapse:collapse;width:100%;font-size:13px;margin:6px 0 12px}
th,td{border-bottom:1px solid var(--line);padding:5px 8px;text-align:left;vertical-align:top}
thead th{background:var(--bg);font-weight:600;color:#34495e;border-bottom:2px solid #c9d3dd}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
table.risk{max-width:640px}
table.compact{width:auto}
td.source{font-size:11.5px;color:var(--muted);width:30%;overflow-wrap:anywhere}
.assumptions code{font-size:12px}
.muted{color:var(--muted)}
.tag{font-size:10.5px;background:#dfe8f1;border-radius:3px;padding:1px 5px;margin-left:4px;color:#34495e}
figure{margin:6px 0 14px}
figure svg{width:100%;height:auto;display:block}
figcaption{font-size:12.5px;color:var(--muted);margin-top:2px;max-width:980px}
.grid2{display:grid;grid-template-columns:1fr 1fr;gap:18px}
.accuracy{font-size:13px;background:var(--bg);border-left:3px solid var(--accent);padding:8px 12px;max-width:980px}
details summary{cursor:pointer;font-size:13px;color:var(--accent)}
dl.method{display:grid;grid-template-columns:180px 1fr;gap:4px 14px;font-size:13.5px}
dl.method dt{color:var(--muted)}
dl.method dd{margin:0;overflow-wrap:anywhere}
pre.cmd{background:#13293d;color:#e8f1f8;padding:10px 14px;border-radius:6px;white-space:pre-wrap;overflow-wrap:anywhere;font-size:13px}
code{font-family:ui-monospace,"DejaVu Sans Mono",Menlo,Consolas,monospace}
footer{max-width:1180px;margin:0 auto;padding:14px 40px 30px;font-size:12px;color:var(--muted)}
@media screen and (max-width:800px){.kpis{grid-template-columns:1fr 1fr}.grid2{grid-template-columns:1fr}main,header.top{padding-left:16px;padding-right:16px}}
@media print{
  @page{size:A4;margin:14mm 12mm}
  html{font-size:11.5px}
  header.top{background:none;color:var(--ink);padding:0 0 8px;border-bottom:2px solid var(--ink)}
  nav,details{display:none}
  main,footer{padding:0;max-width:none}
  section{break-inside:auto;padding-top:10px}
  h2{break-after:avoid}
  figure,table.risk,.kpis,.kpi,tr{break-inside:avoid}
  #assumptions{break-before:page}
  table{font-size:9.5px}
  td.source{font-size:8.5px}
  .assumptions code{font-size:8.5px}
  dl.method{grid-template-columns:120px 1fr;font-size:10px}
  th,td{padding:2px 5px}
  figure svg{max-height:95mm}
  .kpi-value{font-size:20px}
  .verdict{font-size:13px}
  .kpi,.kpi-main,thead th,.accuracy{background:none!important}
  pre.cmd{background:none;color:var(--ink);border:1px solid var(--line)}
}
"""
