"""The one number formatter: how mcroi writes a number for a person (terminal, report, charts).

Each output's registry record (:data:`mcroi.engine.OUTPUTS`) names its ``kind``; :func:`format_value`
writes a value of that kind. Machine-readable files (CSV, JSON) keep full precision
(:func:`csv_number`). Non-finite values read as ``n/a``, and a payback that never happens reads
as ``never``.
"""

from __future__ import annotations

import math
from typing import Any

from mcroi._numbers import finite as finite
from mcroi._numbers import money as money
from mcroi.engine import OUTPUTS


def pct(x: Any, digits: int = 1) -> str:
    """A fraction as a percentage (``0.123`` -> ``12.3%``)."""
    return f"{x * 100:.{digits}f}%" if finite(x) else "n/a"


def months(x: Any, unit: str = " mo") -> str:
    """A month count; ``never`` for +inf (a payback that never happens)."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    return "never" if not finite(x) else f"{x:.0f}{unit}"


def multiple(x: Any) -> str:
    return f"{x:.2f}x" if finite(x) else "n/a"


def per_mtok(x: Any) -> str:
    return f"${x:.3f}" if finite(x) else "n/a"


def number(x: Any) -> str:
    """A plain number, 4 significant digits, thousands separated, scientific when very large or small."""
    if not finite(x):
        return "n/a"
    a = abs(x)
    if a != 0 and (a >= 1e9 or a < 1e-3):
        return f"{x:.3g}"
    if a >= 1000:
        return f"{x:,.0f}"
    return f"{x:.4g}"


def quantity(x: float) -> str:
    """An input's value in ``mcroi priors show``: whole thousands with separators, 4 digits below, scientific past 1e9."""
    if math.isnan(x):
        return "nan"
    a = abs(x)
    if a != 0 and (a >= 1e9 or a < 1e-3):
        return f"{x:.3g}"
    if a >= 1000:
        return f"{x:,.0f}"  # 65,030, never 6.503e+04
    return f"{x:.4g}"


def format_value(name: str, v: Any) -> str:
    """A value of output ``name`` as the terminal tables write it (``155.68M``, ``43.8%``, ``never``)."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "n/a"
    kind = OUTPUTS[name].kind if name in OUTPUTS else ""
    v = float(v)
    if math.isinf(v):
        return "never" if kind == "months" and v > 0 else ("inf" if v > 0 else "-inf")
    if kind == "usd":
        return money(v, digits=2, symbol="")
    if kind == "rate":
        return f"{v:.1%}"
    if kind == "months":
        return f"{v:.0f}"
    if kind == "usd_per_mtok":
        return f"{v:.4g}"
    return f"{v:.3g}"


def csv_number(v: Any) -> str:
    """Full-precision text of a number for CSV files (``nan``, ``inf``; None reads as ``nan``)."""
    if v is None:
        return "nan"
    v = float(v)
    return "nan" if math.isnan(v) else repr(v)


def probability_text(d: dict[str, Any] | None, n: int) -> str:
    """A probability with its Monte Carlo error; at 0 % or 100 % the error is no zero but a one-sided bound.

    With no draw on one side, the binomial standard error is 0 and says nothing: the rule of three
    gives the 95 % bound (1 - 3 / n, or 3 / n) the draws can support.
    """
    if not d or d.get("p") is None:
        return "n/a"
    p, se = float(d["p"]), float(d.get("mcse") or 0.0)
    if n > 0 and p in (0.0, 1.0):
        bound = 3.0 / n
        return (
            f"{p:.1%} (every draw; >= {1 - bound:.2%} at 95 %)"
            if p == 1.0
            else f"{p:.1%} (no draw; <= {bound:.2%} at 95 %)"
        )
    return f"{p:.1%} ±{se:.2%}"


def usd_small(x: Any) -> str:
    """A small USD amount with cents (``$3.30``); ``n/a`` when not finite."""
    return f"${x:,.2f}" if finite(x) else "n/a"


def market_check_lines(mc: dict[str, Any] | None) -> list[str]:
    """The market check (:func:`mcroi.analysis.market_check`) as sentences for a person.

    ``Year-1 revenue per GPU-hour: P50 $5.20 (P10 $3.90, P90 $6.80), 1.6x the market rent of $3.30.``
    plus a warning line when the median ratio is above the flag. Empty for a run without the check.
    """
    if not mc or mc.get("revenue_per_gpu_hour_usd") is None:
        return []
    r = mc["revenue_per_gpu_hour_usd"]
    head = (
        f"Year-1 revenue per GPU-hour: P50 {usd_small(r['p50'])} (P10 {usd_small(r['p10'])}, P90 {usd_small(r['p90'])})"
    )
    rent, ratio = mc.get("market_gpu_hour_usd"), mc.get("revenue_to_rent_ratio")
    if rent is None or ratio is None:
        return [f"{head}; no market.gpu_hour_usd in the priors, so it is compared with no market rent."]
    spread = "" if rent["p10"] == rent["p90"] else f" (P10 {usd_small(rent['p10'])} - P90 {usd_small(rent['p90'])})"
    lines = [f"{head}, {ratio['p50']:.2f}x the market rent of {usd_small(rent['p50'])}/GPU-hour{spread}."]
    if mc.get("flagged"):
        lines.append(
            f"! Market check: above {mc['flag_ratio']:g}x the rent. A buyer could rent this GPU for "
            f"{usd_small(rent['p50'])} an hour; earning {ratio['p50']:.1f}x that needs a reason "
            "(scarce capacity, contracted demand, a premium model)."
        )
    return lines
