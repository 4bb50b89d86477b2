"""The capital structure in the terminal: the ``--covenant`` option, the lender's line, returns side by side.

Reads the ``capital`` block that :func:`mcroi.analysis.capital_summary` put into ``summary.json``
(non-finite numbers arrive as null). A run without debt says "no debt" instead of coverage figures.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import click

from mcroi.analysis import DEFAULT_COVENANT
from mcroi.cli._errors import UserError


def _check(ctx: click.Context, param: click.Parameter, value: float) -> float:
    if not (math.isfinite(value) and value > 0):
        raise UserError(f"--covenant = {value:g}: must be a positive number (a minimum DSCR), e.g. 1.2")
    return value


def covenant_option[F: Callable[..., Any]](fn: F) -> F:
    """``--covenant X``: the loan's minimum DSCR (default 1.2), recorded in the manifest."""
    return click.option(
        "--covenant",
        type=float,
        default=DEFAULT_COVENANT,
        show_default=True,
        callback=_check,
        help="The loan's minimum debt-service coverage ratio: P(min DSCR < X) is reported and recorded.",
    )(fn)


def _n(v: Any, kind: str) -> str:
    from mcroi.runs import format_value, money, multiple, pct

    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "n/a"
    return {"usd": lambda x: money(x, 2, ""), "rate": pct, "x": multiple}.get(kind, lambda x: format_value("", x))(v)


def covenant_text(cap: Mapping[str, Any]) -> str:
    """``P(min DSCR < 1.2) = 74.7% ±0.69%``, or ``no debt``."""
    from mcroi.runs import probability_text

    if not cap.get("has_debt"):
        return "no debt"
    return f"{probability_text(cap['p_min_dscr_below_covenant'], int(cap['draws']))}"


def print_capital(cap: Mapping[str, Any] | None) -> None:
    """The lender's line and the returns table of a simulate run (nothing for a run without the block)."""
    if not cap:
        return
    from rich.console import Console
    from rich.table import Table

    from mcroi.runs import probability_text

    console = Console()
    n = int(cap["draws"])
    eq_loss = probability_text(cap["p_equity_loss"], n)
    basis = "" if cap.get("basis") == "all draws" else f"  (from {cap.get('basis')})"
    if not cap["has_debt"]:
        console.print(
            f"Debt: no debt (no DSCR, no covenant test)   P(equity NPV < 0) = {eq_loss}{basis}", soft_wrap=True
        )
        return
    m = cap["min_dscr"]
    console.print(
        f"Lender: P(min DSCR < {cap['covenant']:g}) = {covenant_text(cap)}   min DSCR P50 {_n(m['p50'], 'x')} "
        f"(P10 {_n(m['p10'], 'x')}, P90 {_n(m['p90'], 'x')})   P(equity NPV < 0) = {eq_loss}{basis}",
        soft_wrap=True,
    )
    t = Table(title="Returns: project (unlevered) vs equity (levered)", title_justify="left")
    t.add_column("")
    t.add_column("project", justify="right")
    t.add_column("equity", justify="right")
    p, e = cap["returns"]["project"], cap["returns"]["equity"]
    for label, key, kind in (
        ("IRR P50", "irr_p50", "rate"),
        ("NPV P5", "npv_p5", "usd"),
        ("NPV P50", "npv_p50", "usd"),
        ("NPV P95", "npv_p95", "usd"),
        ("cash multiple P50", "multiple_p50", "x"),
    ):
        t.add_row(label, _n(p[key], kind), _n(e[key], kind))
    t.add_row("P(NPV < 0)", probability_text(p["p_loss"], n), probability_text(e["p_loss"], n))
    console.print(t)


def compare_rows(summary: Mapping[str, Any], row: Callable[[str, Callable[[str], str]], None], base: str) -> None:
    """The compare table's capital rows per platform: DSCR, covenant, equity returns and losses."""

    def cap(p: str) -> Mapping[str, Any]:
        return summary["per_platform"][p].get("capital") or {}

    def debt_only(fn: Callable[[Mapping[str, Any]], str]) -> Callable[[str], str]:
        return lambda p: (fn(cap(p)) if cap(p).get("has_debt") else "no debt") if cap(p) else "n/a"

    if not any(cap(p) for p in summary["platforms"]):
        return
    covenant = next(cap(p)["covenant"] for p in summary["platforms"] if cap(p))
    row("Min DSCR P50", debt_only(lambda c: _n(c["min_dscr"]["p50"], "x")))
    row(f"P(min DSCR < {covenant:g})", debt_only(covenant_text))
    row("Equity IRR P50", lambda p: _n(cap(p)["returns"]["equity"]["irr_p50"], "rate") if cap(p) else "n/a")
    row(
        "Equity NPV P5 / P50 / P95",
        lambda p: (
            " / ".join(_n(cap(p)["returns"]["equity"][k], "usd") for k in ("npv_p5", "npv_p50", "npv_p95"))
            if cap(p)
            else "n/a"
        ),
    )
    row("P(equity NPV < 0)", lambda p: f"{cap(p)['p_equity_loss']['p']:.1%}" if cap(p) else "n/a")


def compare_versus_rows(
    summary: Mapping[str, Any], row: Callable[[str, Callable[[str], str]], None], base: str
) -> None:
    """The compare table's paired equity row: P(equity NPV above the baseline's) on the same draws."""
    from mcroi.runs import probability_text

    def versus(p: str) -> str:
        v = summary["vs_baseline"].get(p, {}).get("capital")
        if p == base or not v:
            return "-"
        return probability_text(v["p_equity_npv_above_baseline"], int(summary["draws"]))

    if any(summary["vs_baseline"].get(p, {}).get("capital") for p in summary["platforms"]):
        row(f"P(equity NPV > {base}'s), same draws", versus)
