"""The lender's page of the report: DSCR by year, covenant breaches, the P50 cash waterfall, the debt terms.

Only for a run with debt (a finite ``min_dscr`` in some draw). Every number comes from the stored
draws (``annual_dscr``, the yearly line items, ``annual_equity_cashflow_usd``) and the run's
``capital`` summary; nothing here computes the contract. Debt service is read as what the project's
cash and the equity's cash differ by: ``CF - EqCF = DS + balloon + (Te - T)``, the payments less
the tax the interest saves.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

import numpy as np
import xarray as xr

from mcroi import analysis
from mcroi.report import _figures as figures
from mcroi.report._text import esc
from mcroi.runs import money, multiple, pct, probability_text

#: Which inputs describe the capital structure (by prefix or name), for the assumptions table.
CAPITAL_INPUTS = ("debt.", "contract.", "finance.cost_of_equity", "finance.tax_depreciation_months", "finance.tax_rate")
#: The band of total equity cash whose draws the P50 waterfall averages (so its steps add up).
WATERFALL_BAND = (45, 55)


class Waterfall(NamedTuple):
    """The P50 cash waterfall (USD over the horizon), from revenue to the equity's cash."""

    labels: tuple[str, ...]
    steps: np.ndarray  # signed USD: revenue, -energy, -opex, -tax, +resale, -debt service net of the shield
    equity: float  # their sum: the equity's cash over the horizon (its capex share at month 0 not counted)
    equity_in: float  # the same draws' mean capex share the equity paid at month 0
    draws: int  # draws averaged


def waterfall(ds: xr.Dataset, band: tuple[int, int] = WATERFALL_BAND) -> Waterfall:
    """The mean of each line item over the draws whose total equity cash is between P45 and P55.

    Medians of line items do not add up; the mean over the draws around the median equity cash
    does, step by step, to that band's mean equity cash.
    """
    total = lambda k: np.nansum(np.asarray(ds[k].values, float), axis=1)  # noqa: E731
    R, E, O = total("annual_revenue_usd"), total("annual_energy_usd"), total("annual_other_opex_usd")  # noqa: E741
    T, CF, Eq = total("annual_tax_usd"), total("annual_cashflow_usd"), total("annual_equity_cashflow_usd")
    lo, hi = np.percentile(Eq, band)
    sel = (Eq >= lo) & (Eq <= hi)
    resale = CF - (R - E - O - T)
    service = CF - Eq
    steps = np.array([x[sel].mean() for x in (R, -E, -O, -T, resale, -service)])
    labels = ("revenue", "energy", "other opex", "tax", "resale", "debt service\nnet of tax shield")
    frac = 0.0
    if "inputs" in ds and "debt.fraction" in [str(x) for x in ds["input"].values]:
        frac = np.asarray(ds["inputs"].sel(input="debt.fraction").values, float)[sel]
    equity_in = float((np.asarray(ds["capex_usd"].values, float)[sel] * (1 - frac)).mean())
    return Waterfall(labels, steps, float(Eq[sel].mean()), equity_in, int(sel.sum()))


def dscr_axis_top(bands: np.ndarray, covenant: float, pcts: tuple[int, ...]) -> float:
    """The fan chart's upper limit: the highest finite band, but at most 6x the covenant or 1.3x the median's peak."""
    finite = bands[np.isfinite(bands)]
    if not finite.size:
        return 2 * covenant
    med = bands[pcts.index(50)]
    peak = float(med[np.isfinite(med)].max()) if np.isfinite(med).any() else 0.0
    return max(min(float(finite.max()), max(6 * covenant, 1.3 * peak)), 2 * covenant)


def _dscr_fig(years: np.ndarray, bands: np.ndarray, covenant: float, pcts: tuple[int, ...]) -> Any:
    fig, ax = figures._fig((10.5, 3.8))
    finite = bands[np.isfinite(bands)]
    top = dscr_axis_top(bands, covenant, pcts)
    bottom = min(float(finite.min()) if finite.size else 0.0, 0.0)
    shown = np.clip(np.where(np.isinf(bands), top * 2, bands), bottom - 1, top * 2)  # +inf: above the axis
    for (lo, hi), alpha in (((0, -1), 0.35), ((1, -2), 0.55), ((2, -3), 0.8)):
        ax.fill_between(
            years, shown[lo], shown[hi], color=figures.BAND, alpha=alpha, lw=0, label=f"P{pcts[lo]}-P{pcts[hi]}"
        )
    ax.plot(years, shown[pcts.index(50)], "o-", color=figures.INK, lw=2.0, label="P50 (median)")
    ax.axhline(covenant, color=figures.RED, lw=1.4, ls="--")
    ax.text(years[0] - 0.45, covenant, f" covenant {covenant:g}x", color=figures.RED, va="bottom", fontsize=8.5)
    ax.axhline(1.0, color=figures.GREY, lw=0.8, ls=":")
    ax.set_ylim(bottom - 0.05 * (top - bottom), top)
    ax.set_xlim(years[0] - 0.5, years[-1] + 0.5)
    ax.set_xticks(years, [f"year {y}" for y in years])
    ax.set_ylabel("DSCR (x)")
    ax.grid(alpha=0.25)
    ax.legend(loc="upper right", frameon=True, framealpha=0.9, edgecolor="none", fontsize=8.5, ncol=4)
    return fig


def _breach_fig(years: np.ndarray, p: np.ndarray, se: np.ndarray, covenant: float) -> Any:
    fig, ax = figures._fig((10.5, 2.8))
    ax.bar(years, p, color=figures.RED, alpha=0.75, width=0.6)
    ax.errorbar(years, p, yerr=2 * se, fmt="none", ecolor=figures.INK, lw=1, capsize=3)
    for y, v in zip(years, p, strict=True):
        if np.isfinite(v):
            ax.text(y, v + 0.03, f"{v:.0%}", ha="center", va="bottom", fontsize=8.5, color=figures.INK)
    ax.set_ylim(0, 1.1)
    ax.set_yticks([0, 0.25, 0.5, 0.75, 1.0], ["0%", "25%", "50%", "75%", "100%"])
    ax.set_xticks(years, [f"year {y}" for y in years])
    ax.set_ylabel(f"P(DSCR < {covenant:g})")
    ax.grid(alpha=0.25, axis="y")
    return fig


def _waterfall_fig(w: Waterfall) -> Any:
    fig, ax = figures._fig((10.5, 3.6))
    start = np.concatenate([[0.0], np.cumsum(w.steps)[:-1]])
    colors = [figures.BLUE] + [figures.RED if s < 0 else figures.GREEN for s in w.steps[1:]]
    x = np.arange(len(w.steps) + 1)
    ax.bar(x[:-1], w.steps / 1e6, bottom=start / 1e6, color=colors, width=0.6)
    ax.bar(x[-1], w.equity / 1e6, color=figures.INK, width=0.6)
    for i, (b, s) in enumerate(zip(start, w.steps, strict=True)):
        ax.text(i, (b + max(s, 0)) / 1e6, f"{money(s)}", ha="center", va="bottom", fontsize=8.5)
    ax.text(x[-1], max(w.equity, 0) / 1e6, money(w.equity), ha="center", va="bottom", fontsize=8.5)
    ax.axhline(0, color=figures.INK, lw=0.8)
    lo, hi = ax.get_ylim()
    ax.set_ylim(lo, hi + 0.08 * (hi - lo))  # room for the labels above the bars
    ax.set_xticks(x, [*w.labels, "equity cash"], fontsize=8.5)
    ax.set_ylabel("USD million over the horizon")
    ax.grid(alpha=0.25, axis="y")
    return fig


def dscr_text(x: float) -> str:
    """A DSCR as the page writes it: ``1.35x``; ``none due`` where no payment falls in the year (+inf)."""
    return "none due" if x == np.inf else multiple(float(x))


def _returns_table(cap: Mapping[str, Any]) -> str:
    p, e = cap["returns"]["project"], cap["returns"]["equity"]
    n = int(cap["draws"])
    rows = [
        (
            "IRR P50 (P10 &ndash; P90)",
            *(f"{pct(s['irr_p50'])} ({pct(s['irr_p10'])} &ndash; {pct(s['irr_p90'])})" for s in (p, e)),
        ),
        ("NPV P5 / P50 / P95", *(" / ".join(money(s[k]) for k in ("npv_p5", "npv_p50", "npv_p95")) for s in (p, e))),
        ("P(NPV &lt; 0)", *(probability_text(s["p_loss"], n) for s in (p, e))),
        ("cash multiple P50", *(multiple(s["multiple_p50"]) for s in (p, e))),
    ]
    body = "".join(f"<tr><th scope=row>{a}</th><td class=num>{b}</td><td class=num>{c}</td></tr>" for a, b, c in rows)
    return (
        '<table class="returns"><thead><tr><th></th><th class=num>project (unlevered)</th>'
        f"<th class=num>equity (levered)</th></tr></thead><tbody>{body}</tbody></table>"
    )


def _assumptions(priors_doc: Mapping[str, Any] | None) -> str:
    if not priors_doc:
        return '<p class="muted">The run does not record its resolved priors.</p>'
    rows = []
    for key, d in (priors_doc.get("inputs") or {}).items():
        if not key.startswith(CAPITAL_INPUTS):
            continue
        spec = d.get("spec") or {}
        value = ", ".join(f"{k}={v}" for k, v in spec.items() if k not in ("source",))
        rows.append(
            f"<tr><td><code>{esc(key)}</code></td><td>{esc(value)}</td><td class=source>{esc(d.get('source'))}</td></tr>"
        )
    for key in priors_doc.get("switches") or ():
        rows.append(f"<tr><td><code>{esc(key)}</code></td><td>on</td><td class=source>scenario switch</td></tr>")
    return (
        '<table class="assumptions"><thead><tr><th>input</th><th>value / distribution</th><th>source</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def capital_of(summary_doc: Any, s: Mapping[str, Any], platform: str | None) -> Mapping[str, Any] | None:
    """The run's ``capital`` block: a simulate summary's, or the shown platform's in a compare summary."""
    if platform is not None and isinstance(summary_doc, Mapping):
        per = summary_doc.get("per_platform")
        if isinstance(per, Mapping) and isinstance(per.get(platform), Mapping):
            cap = per[platform].get("capital")
            return cap if isinstance(cap, Mapping) else None
    cap = s.get("capital")
    return cap if isinstance(cap, Mapping) else None


def section(ds: xr.Dataset, cap: Mapping[str, Any] | None, priors_doc: Mapping[str, Any] | None) -> str | None:
    """The lender's page (HTML), or None when the run has no debt (or predates contract v2)."""
    if "annual_dscr" not in ds or "min_dscr" not in ds or not analysis.has_debt(ds["min_dscr"].values):
        return None
    covenant = float((cap or {}).get("covenant") or analysis.DEFAULT_COVENANT)
    if not cap or "returns" not in cap:
        outs = {str(k): ds[k].values for k in ds.data_vars if ds[k].dims[-1] == "draw" or k == "annual_dscr"}
        cap = analysis.capital_summary(outs, covenant)
    dscr = np.asarray(ds["annual_dscr"].values, float)
    keep = [j for j in range(dscr.shape[1]) if not np.isnan(dscr[:, j]).all()]
    dscr = dscr[:, keep]
    years = np.asarray(ds["year"].values)[keep]
    pcts = analysis.DSCR_PERCENTILES
    bands = analysis.dscr_bands(dscr, pcts)
    by_year = analysis.breach_by_year(dscr, covenant)
    p = np.array([b["p"] for b in by_year])
    se = np.array([b["mcse"] for b in by_year])
    w = waterfall(ds)
    n = int(cap["draws"])
    lead = (
        f'<p class="verdict" data-key="p_min_dscr_below_covenant" data-value="{cap["p_min_dscr_below_covenant"]["p"]!r}">'
        f"In <strong>{pct(cap['p_min_dscr_below_covenant']['p'])}</strong> of {n:,} draws the debt-service coverage "
        f"falls below the covenant of <strong>{covenant:g}x</strong> in at least one year "
        f"(MC error &plusmn;{pct(cap['p_min_dscr_below_covenant']['mcse'], 2)}); the median draw's lowest yearly DSCR is "
        f"<strong>{multiple(cap['min_dscr']['p50'])}</strong>. The equity loses money (equity NPV &lt; 0) in "
        f"<strong>{probability_text(cap['p_equity_loss'], n)}</strong> of draws.</p>"
    )
    table = "".join(
        f"<tr data-year='{y}'><td class=num>{y}</td>"
        + "".join(
            f"<td class=num data-p='{q}'>{dscr_text(bands[i, j])}</td>" for i, q in enumerate(pcts) if q in (10, 50, 90)
        )
        + f"<td class=num data-breach='{float(p[j])!r}'>{pct(p[j])} &plusmn;{pct(se[j], 2)}</td>"
        f"<td class=num>{pct(by_year[j]['p_debt_service'])}</td></tr>"
        for j, y in enumerate(years)
    )
    fan_svg = figures._svg(_dscr_fig(years, bands, covenant, pcts), "fig-dscr")
    top = dscr_axis_top(bands, covenant, pcts)
    cut = (
        f" The axis stops at {top:.1f}x: bands above it (very high coverage, or no payment due) are cut."
        if bool((bands > top).any())
        else ""
    )
    breach_svg = figures._svg(_breach_fig(years, p, se, covenant), "fig-breach")
    water_svg = figures._svg(_waterfall_fig(w), "fig-waterfall")
    return (
        lead
        + _returns_table(cap)
        + f"<figure>{fan_svg}<figcaption>Debt-service coverage (DSCR) by year: operating cash after tax over the "
        "year's payments (a balloon at an early end included). Bands: P5&ndash;P95, P10&ndash;P90, P25&ndash;P75 of "
        "draws; line: the median year by year; dashed red: the covenant; dotted: 1.0x (cash just covers the "
        "payments). A draw that owes nothing in a year counts as an infinite DSCR (above the axis)."
        f"{cut}</figcaption></figure>"
        f"<figure>{breach_svg}<figcaption>P(DSCR &lt; {covenant:g}) in each year, over all {n:,} draws; whiskers are "
        "&plusmn;2 Monte Carlo standard errors.</figcaption></figure>"
        '<table class="compact dscr"><thead><tr><th class=num>year</th><th class=num>DSCR P10</th>'
        "<th class=num>P50</th><th class=num>P90</th><th class=num>P(breach)</th><th class=num>draws paying debt</th>"
        f"</tr></thead><tbody>{table}</tbody></table>"
        f"<figure>{water_svg}<figcaption>The P50 cash waterfall over the horizon, from token and contract revenue to "
        f"the equity's cash: the average of the {w.draws:,} draws whose total equity cash lies between its P"
        f"{WATERFALL_BAND[0]} and P{WATERFALL_BAND[1]}, so the steps add up. Tax is the project's; debt service is "
        "the payments and any balloon less the tax the interest saves. The equity's own capex share (paid at month 0) "
        "is not in the bars: it was "
        f"{money(w.equity_in)} on average in these draws.</figcaption></figure>"
        "<h3>Capital-structure assumptions</h3>" + _assumptions(priors_doc)
    )


def _compare_table(ds_all: xr.Dataset, summary_doc: Any) -> str | None:
    """Every platform's lender figures side by side (compare runs with debt somewhere), from its capital block."""
    per = summary_doc.get("per_platform") if isinstance(summary_doc, Mapping) else None
    if "platform" not in ds_all.dims or not isinstance(per, Mapping):
        return None
    caps = {str(p): (per.get(str(p)) or {}).get("capital") for p in ds_all["platform"].values}
    if not any(c and c.get("has_debt") for c in caps.values()):
        return None
    rows = []
    for name, c in caps.items():
        if not c:
            continue
        debt = c.get("has_debt")
        cov = probability_text(c["p_min_dscr_below_covenant"], int(c["draws"])) if debt else "no debt"
        rows.append(
            f"<tr data-platform='{esc(name)}'><th scope=row>{esc(name)}</th>"
            f"<td class=num>{multiple(c['min_dscr']['p50']) if debt else 'no debt'}</td><td class=num>{cov}</td>"
            f"<td class=num>{pct(c['returns']['equity']['irr_p50'])}</td>"
            f"<td class=num>{money(c['returns']['equity']['npv_p50'])}</td>"
            f"<td class=num>{probability_text(c['p_equity_loss'], int(c['draws']))}</td></tr>"
        )
    covenant = next(c["covenant"] for c in caps.values() if c)
    return (
        '<table class="compare capital"><thead><tr><th>structure</th><th class=num>min DSCR P50</th>'
        f"<th class=num>P(min DSCR &lt; {covenant:g})</th><th class=num>equity IRR P50</th>"
        "<th class=num>equity NPV P50</th><th class=num>P(equity NPV &lt; 0)</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table>"
    )


def page(
    ds_all: xr.Dataset,
    ds: xr.Dataset,
    summary_doc: Any,
    s: Mapping[str, Any],
    platform: str | None,
    priors_doc: Mapping[str, Any] | None,
) -> str | None:
    """The lender's page: in a compare run every structure's figures first, then the shown one's page."""
    table = _compare_table(ds_all, summary_doc)
    own = section(ds, capital_of(summary_doc, s, platform), priors_doc)
    if table is None:
        return own
    rest = (
        own
        if own is not None
        else (
            f'<p class="muted">The baseline ({esc(platform)}) has no debt: its DSCR charts would be empty. Run the '
            "compare with a structure that borrows as <code>--baseline</code> to see that structure's lender's page.</p>"
        )
    )
    return table + (f"<h3>{esc(platform)}</h3>" if own is not None else "") + rest
