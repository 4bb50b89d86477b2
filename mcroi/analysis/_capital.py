"""The lender's and the equity's view of a run: covenant breaches, equity losses, returns side by side.

NumPy functions of per-draw arrays (contract v2's finance outputs). A debt-service coverage ratio
(DSCR) is ``+inf`` in a year without debt service (and ``min_dscr`` is ``+inf`` without debt): such a
year can never breach a covenant, and a run with no finite DSCR has **no debt** -- its summaries
say so instead of printing coverage figures.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from mcroi.analysis import _summaries as summaries
from mcroi.analysis._compare import describe_paired, prob_greater

#: The usual minimum DSCR in GPU-backed and project loans (``mcroi simulate --covenant``).
DEFAULT_COVENANT = 1.2
#: Percentiles of the per-year DSCR bands (the report's fan chart, the exports).
DSCR_PERCENTILES = (5, 10, 25, 50, 75, 90, 95)


def check_covenant(covenant: float) -> float:
    """The covenant as a float; ValueError (one line) unless it is a positive finite number."""
    c = float(covenant)
    if not (math.isfinite(c) and c > 0):
        raise ValueError(f"--covenant = {covenant}: must be a positive number (a minimum DSCR), e.g. 1.2")
    return c


def has_debt(min_dscr: np.ndarray) -> bool:
    """Whether any draw services debt (a finite ``min_dscr``)."""
    return bool(np.isfinite(np.asarray(min_dscr, dtype=float)).any())


def breach(dscr: np.ndarray, covenant: float) -> np.ndarray:
    """Where a DSCR is below the covenant; a year without debt service (``+inf``) never is."""
    return np.asarray(dscr, dtype=float) < covenant


def breach_by_year(annual_dscr: np.ndarray, covenant: float) -> list[dict[str, float]]:
    """P(DSCR < covenant) in each year over all draws, its MCSE, and the share of draws paying debt that year.

    ``annual_dscr`` is (draws, years); NaN columns (past a shorter horizon) give NaN.
    """
    a = np.asarray(annual_dscr, dtype=float)
    out = []
    for j in range(a.shape[1]):
        col = a[:, j]
        if np.isnan(col).all():
            out.append({"year": j + 1, "p": math.nan, "mcse": math.nan, "p_debt_service": math.nan})
            continue
        out.append(
            {
                "year": j + 1,
                **summaries.probability(breach(col, covenant)),
                "p_debt_service": float(np.isfinite(col).mean()),
            }
        )
    return out


def dscr_bands(annual_dscr: np.ndarray, percentiles: tuple[int, ...] = DSCR_PERCENTILES) -> np.ndarray:
    """Percentiles of each year's DSCR over draws, shape (len(percentiles), years).

    ``+inf`` (no debt service in that year) takes part as the largest value, so a band at ``+inf``
    means that share of draws owes nothing that year (the rule of every mcroi percentile).
    """
    a = np.asarray(annual_dscr, dtype=float)
    out = np.full((len(percentiles), a.shape[1]), np.nan)
    for j in range(a.shape[1]):
        col = a[:, j][~np.isnan(a[:, j])]
        if col.size:
            out[:, j] = summaries.quantile(col, np.array(percentiles) / 100)
    return out


def _side(npv: np.ndarray, irr: np.ndarray, multiple: np.ndarray) -> dict[str, Any]:
    """Median IRR (total losses as -100 %), NPV percentiles, P(NPV < 0) and the cash multiple of one side."""
    d_npv, d_irr, d_mult = summaries.describe(npv), summaries.describe(irr), summaries.describe(multiple)
    return {
        "irr_p10": d_irr["p10"],
        "irr_p50": d_irr["p50"],
        "irr_p90": d_irr["p90"],
        "irr_undefined": d_irr["n_nan"],
        "npv_p5": d_npv["p5"],
        "npv_p50": d_npv["p50"],
        "npv_p95": d_npv["p95"],
        "multiple_p50": d_mult["p50"],
        "p_loss": summaries.probability(np.asarray(npv, dtype=float) < 0),
    }


def returns(outputs: Mapping[str, np.ndarray]) -> dict[str, Any]:
    """Project and equity returns side by side.

    The project side is the unlevered cash flow (``npv_usd``, ``irr_annual``, cash multiple ``net_roi
    + 1``); the equity side is the levered one (``equity_npv_usd`` at the cost of equity,
    ``equity_irr_annual``, ``equity_multiple``). A draw whose cash never comes back counts as an IRR
    of -100 % on either side (:func:`irr_ranked`), never dropped.
    """
    f = {k: np.asarray(v, dtype=float) for k, v in outputs.items()}
    sides = {
        "project": (f["npv_usd"], f["irr_annual"], f["net_roi"] + 1),
        "equity": (f["equity_npv_usd"], f["equity_irr_annual"], f["equity_multiple"]),
    }
    out = {}
    for name, (npv, irr, mult) in sides.items():
        out[name] = _side(npv, irr_ranked(irr, mult), mult)
        out[name]["irr_loss_without_root"] = float((np.isnan(irr) & (mult < 1)).sum())
    return out


def irr_ranked(irr: np.ndarray, multiple: np.ndarray) -> np.ndarray:
    """The IRR as the returns table ranks it: a draw without an IRR that returns less than it put in is -100 %.

    A balloon repaid at an early end makes the equity's last flow negative (- + ... + -); when the
    cash returned is less than the cash put in (multiple < 1), the NPV is then negative at every
    rate and no IRR exists. Dropping such draws would flatter exactly the losing cases, so they rank
    at the bottom, as -100 % (a superset of :func:`mcroi.engine.irr_for_summaries`'s total losses).
    The same rule on both sides makes the two columns equal without debt.
    """
    irr, multiple = np.asarray(irr, dtype=float), np.asarray(multiple, dtype=float)
    return np.where(np.isnan(irr) & (multiple < 1), -1.0, irr)


def capital_summary(
    outputs: Mapping[str, np.ndarray], covenant: float = DEFAULT_COVENANT, basis: str = "all draws"
) -> dict[str, Any]:
    """The ``capital`` block of ``summary.json``: covenant, breaches, equity loss, returns side by side.

    Parameters
    ----------
    outputs
        Per-draw arrays: the scalar outputs (``min_dscr``, ``equity_npv_usd``, ...) and, when
        present, ``annual_dscr`` (draws, years).
    covenant
        The minimum DSCR the loan requires.
    basis
        Which draws these are (``"all draws"``, or the kept subsample of a streamed run).

    Returns
    -------
    dict
        ``has_debt`` False (and no coverage figures) when no draw services debt; else
        ``p_min_dscr_below_covenant`` (P(min DSCR < covenant) with its MCSE), ``min_dscr``
        percentiles and ``breach_by_year``. Always ``p_equity_loss`` (P(equity NPV < 0)) and
        ``returns`` (:func:`returns`).
    """
    c = check_covenant(covenant)
    m = np.asarray(outputs["min_dscr"], dtype=float)
    out: dict[str, Any] = {"covenant": c, "basis": basis, "draws": int(m.size), "has_debt": has_debt(m)}
    if out["has_debt"]:
        d = summaries.describe(m)
        out["p_min_dscr_below_covenant"] = summaries.probability(breach(m, c))
        out["p_debt"] = float(np.isfinite(m).mean())
        out["min_dscr"] = {k: d[k] for k in ("p5", "p10", "p50", "p90", "p95", "mcse_p50")}
        if "annual_dscr" in outputs:
            out["breach_by_year"] = breach_by_year(outputs["annual_dscr"], c)
    out["p_equity_loss"] = summaries.probability(np.asarray(outputs["equity_npv_usd"], dtype=float) < 0)
    out["returns"] = returns(outputs)
    return out


def capital_versus(out: Mapping[str, np.ndarray], base: Mapping[str, np.ndarray]) -> dict[str, Any]:
    """Paired equity statistics of one capital structure against the baseline (common draws)."""
    e, eb = np.asarray(out["equity_npv_usd"], float), np.asarray(base["equity_npv_usd"], float)
    return {
        "p_equity_npv_above_baseline": prob_greater(e, eb),
        "equity_npv_difference_usd": describe_paired(e - eb),
    }
