"""The report's market check: year-1 revenue per GPU-hour against the GPU's market rent, and the IRR's caveats."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import xarray as xr

from mcroi import analysis
from mcroi.report._text import esc
from mcroi.runs import pct, usd_small


def check_of(s: Mapping[str, Any], ds: xr.Dataset) -> dict[str, Any] | None:
    """The summary's market check, or one computed from the stored draws (a summary written without it)."""
    if "market_check" in s:
        return s["market_check"]
    if "inputs" not in ds or "revenue_per_gpu_hour_usd" not in ds:
        return None
    names = [str(x) for x in ds["input"].values]
    outs = {
        k: analysis.describe(ds[k].values) for k in ("revenue_per_gpu_hour_usd", "revenue_to_rent_ratio") if k in ds
    }
    return analysis.market_check(outs, analysis.rent_stats(names, ds["inputs"].values))


def _sentence(mc: Mapping[str, Any]) -> str:
    r = mc["revenue_per_gpu_hour_usd"]
    rev = (
        f"In its first 12 operating months the cluster earns <strong>{usd_small(r['p50'])}</strong> per GPU-hour "
        f"at the median (P10 {usd_small(r['p10'])}, P90 {usd_small(r['p90'])})"
    )
    rent, ratio = mc.get("market_gpu_hour_usd"), mc.get("revenue_to_rent_ratio")
    if rent is None or ratio is None:
        return (
            f"<p>{rev}. The priors give no market rent for this GPU (<code>market.gpu_hour_usd</code>), "
            "so this revenue is compared with nothing: add the platform's rent to see whether the case "
            "earns more than renting the GPU out would.</p>"
        )
    return (
        f"<p>{rev}: <strong data-key='revenue_to_rent_ratio' data-value='{ratio['p50']!r}'>{ratio['p50']:.2f}x</strong> "
        f"the <strong>{usd_small(rent['p50'])}</strong> an hour the market pays to rent the same GPU "
        f"(<code>market.gpu_hour_usd</code>; ratio P10 {ratio['p10']:.2f}x, P90 {ratio['p90']:.2f}x). "
        "A buyer could rent the GPU for that rent instead of buying tokens from this cluster, and its owner "
        "could rent it out instead of selling tokens.</p>"
    )


def _flag(mc: Mapping[str, Any]) -> str:
    if not mc.get("flagged"):
        return ""
    ratio, rent = mc["revenue_to_rent_ratio"]["p50"], mc["market_gpu_hour_usd"]["p50"]
    return (
        f'<div class="tamper" role="note" data-key="market_check_flag"><strong>Market check: '
        f"{ratio:.1f}x the market rent.</strong> The median draw earns more than {mc['flag_ratio']:g}x what the GPU "
        f"rents for ({usd_small(rent)} an hour). A case like this needs a reason the rental market does not "
        "see: scarce capacity, contracted demand at that price, a premium model. Without one, read the "
        "returns below as an upper bound.</div>"
    )


def _irr_note(s: Mapping[str, Any]) -> str:
    outs = s["outputs"]
    u, mirr = outs.get("irr_unique", {}).get("mean"), outs.get("mirr_annual")
    parts = []
    if mirr is not None:
        parts.append(
            f"The MIRR (cash financed and reinvested at the discount rate) has median <strong>{pct(mirr['p50'])}</strong> "
            f"(P10 {pct(mirr['p10'])}, P90 {pct(mirr['p90'])}): the rate an IRR becomes when the early cash earns "
            "the cost of capital rather than the IRR itself."
        )
    if u is not None and float(u) < 1.0:
        parts.append(
            f"{1 - float(u):.1%} of draws have no unique IRR (their cumulative cash does not change sign exactly "
            "once); IRR figures on this page are percentiles, never a mean."
        )
    return f"<p>{' '.join(parts)}</p>" if parts else ""


def _platform_rows(summary_doc: Mapping[str, Any] | None) -> str:
    per = (summary_doc or {}).get("per_platform")
    if not isinstance(per, Mapping) or len(per) < 2:
        return ""
    rows = []
    for name, one in per.items():
        mc = one.get("market_check") if isinstance(one, Mapping) else None
        if not mc or mc.get("revenue_per_gpu_hour_usd") is None:
            continue
        ratio, rent = mc.get("revenue_to_rent_ratio"), mc.get("market_gpu_hour_usd")
        rows.append(
            f"<tr><th scope=row>{esc(name)}</th><td class=num>{usd_small(mc['revenue_per_gpu_hour_usd']['p50'])}</td>"
            f"<td class=num>{usd_small(rent['p50']) if rent else 'not given'}</td>"
            f"<td class=num>{f'{ratio["p50"]:.2f}x' if ratio else 'n/a'}{' &#9888;' if mc.get('flagged') else ''}</td></tr>"
        )
    if not rows:
        return ""
    return (
        '<table class="risk"><thead><tr><th>platform</th><th class=num>revenue / GPU-hour, P50</th>'
        "<th class=num>market rent</th><th class=num>ratio, P50</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table>"
    )


def section(s: Mapping[str, Any], ds: xr.Dataset, summary_doc: Mapping[str, Any] | None) -> str | None:
    """The "Compared with renting the GPU" section; None for a run without the v2 outputs."""
    mc = check_of(s, ds)
    if not mc or mc.get("revenue_per_gpu_hour_usd") is None:
        return None
    return _flag(mc) + _sentence(mc) + _platform_rows(summary_doc) + _irr_note(s)


def headline_flag(s: Mapping[str, Any], ds: xr.Dataset) -> str:
    """One line at the top of the headline when the market check flags the case (the section has the detail)."""
    mc = check_of(s, ds)
    if not mc or not mc.get("flagged"):
        return ""
    ratio, rent = mc["revenue_to_rent_ratio"]["p50"], mc["market_gpu_hour_usd"]["p50"]
    return (
        f'<div class="tamper" role="note"><strong>Market check:</strong> the median draw earns {ratio:.1f}x the '
        f"GPU's market rent of {usd_small(rent)} an hour in its first year; see "
        '<a href="#market">Compared with renting the GPU</a> before reading the returns.</div>'
    )
