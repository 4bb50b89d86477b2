"""Percentiles, risk metrics and Monte Carlo standard errors (host side, NumPy only).

Draws are independent, so the MCSE of the mean is ``sd / sqrt(n)`` and the MCSE of a quantile
``Q(p)`` is the delta-method ``(Q(p + s) - Q(p - s)) / 2`` with ``s = sqrt(p (1 - p) / n)``
(the order-statistic width of one binomial standard error).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Literal

import numpy as np

from mcroi.engine import OUTPUTS, describe_stream, irr_for_summaries, thread_map

PERCENTILES = (1, 5, 10, 25, 50, 75, 90, 95, 99)
MCSE_PERCENTILES = (5, 50, 95)
VAR_LEVEL = 0.05


def quantile(x: np.ndarray, q: np.ndarray | float | list[float]) -> np.ndarray:
    """Quantiles of non-NaN values; linear interpolation unless infinities are present."""
    method: Literal["linear", "inverted_cdf"] = "linear" if np.isfinite(x).all() else "inverted_cdf"
    return np.quantile(x, np.asarray(q, dtype=float), method=method)


def quantile_mcse(x: np.ndarray, p: float) -> float:
    """Monte Carlo standard error of the ``p`` quantile of iid draws ``x`` (NaN-free)."""
    n = x.size
    if n < 2:
        return math.nan
    lo, hi = quantile(x, list(_mcse_bracket(n, p)))
    if not (math.isfinite(lo) and math.isfinite(hi)):  # inf - inf would warn
        return math.nan
    return 0.5 * float(hi - lo)


def _mcse_bracket(n: int, p: float) -> tuple[float, float]:
    """The quantile levels ``p -+ sqrt(p (1 - p) / n)`` whose half-distance is the MCSE of ``Q(p)``."""
    s = math.sqrt(p * (1 - p) / n)
    return max(p - s, 0.0), min(p + s, 1.0)


def moments(finite: np.ndarray) -> dict[str, float]:
    """Mean, sd (ddof 1) and the MCSE of the mean of finite iid draws; NaN when there are none."""
    if not finite.size:
        return {"mean": math.nan, "sd": math.nan, "mcse_mean": math.nan}
    sd = float(finite.std(ddof=1)) if finite.size > 1 else 0.0
    return {"mean": float(finite.mean()), "sd": sd, "mcse_mean": sd / math.sqrt(finite.size)}


def describe(x: np.ndarray) -> dict[str, float]:
    """Summary of one scalar output over draws.

    NaN draws (the contract's documented NaN: IRR without a sign change, ROI without capital)
    are counted and excluded; infinite values (payback never reached) take part in percentiles,
    while mean and sd are over finite values.
    """
    x = np.asarray(x, dtype=float).ravel()
    n = x.size
    nan = np.isnan(x)
    valid = x[~nan]
    finite = valid[np.isfinite(valid)]
    out: dict[str, float] = {
        "n": float(n),
        "n_nan": float(nan.sum()),
        "n_inf": float(np.isinf(valid).sum()),
    }
    out.update(moments(finite))
    if valid.size:
        # one selection pass for the percentiles and the MCSE brackets (np.quantile's value at each
        # q does not depend on the others: the same numbers as quantile() and quantile_mcse())
        brackets = [_mcse_bracket(valid.size, p / 100) for p in MCSE_PERCENTILES]
        qs = quantile(valid, [*(p / 100 for p in PERCENTILES), *(q for b in brackets for q in b)])
        for p, v in zip(PERCENTILES, qs, strict=False):
            out[f"p{p}"] = float(v)
        for i, p in enumerate(MCSE_PERCENTILES):
            lo, hi = (float(v) for v in qs[len(PERCENTILES) + 2 * i : len(PERCENTILES) + 2 * i + 2])
            ok = valid.size >= 2 and math.isfinite(lo) and math.isfinite(hi)
            out[f"mcse_p{p}"] = 0.5 * (hi - lo) if ok else math.nan
    else:
        for p in PERCENTILES:
            out[f"p{p}"] = math.nan
        for p in MCSE_PERCENTILES:
            out[f"mcse_p{p}"] = math.nan
    return out


def probability(mask: np.ndarray) -> dict[str, float]:
    """Share of True in ``mask`` and its binomial MCSE."""
    n = mask.size
    p = float(mask.mean()) if n else math.nan
    return {"p": p, "mcse": math.sqrt(p * (1 - p) / n) if n else math.nan}


def risk(outputs: Mapping[str, np.ndarray], horizon_months: int, level: float = VAR_LEVEL) -> dict[str, Any]:
    """Probabilities of loss and tail metrics of NPV.

    ``var_npv_usd`` is the ``level`` quantile of NPV and ``cvar_npv_usd`` the mean NPV of the
    draws at or below it (expected shortfall); both are NPV values, negative meaning a loss.
    """
    npv = np.asarray(outputs["npv_usd"], dtype=float)
    payback = np.asarray(outputs["payback_months"], dtype=float)
    roi = np.asarray(outputs["roi_multiple"], dtype=float)
    var = float(quantile(npv, level))
    tail = npv[npv <= var]
    roi_valid = roi[~np.isnan(roi)]
    return {
        "p_npv_negative": probability(npv < 0),
        "p_no_payback_within_horizon": probability(~(payback <= horizon_months)),
        "p_roi_multiple_below_1": probability(roi_valid < 1) if roi_valid.size else {"p": math.nan, "mcse": math.nan},
        "var_level": level,
        "var_npv_usd": var,
        "cvar_npv_usd": float(tail.mean()) if tail.size else math.nan,
        "mcse_var_npv_usd": quantile_mcse(npv, level),
    }


def summarize(outputs: Mapping[str, np.ndarray], scalar_names: list[str], horizon_months: int) -> dict[str, Any]:
    """The whole summary: per scalar output :func:`describe`, plus :func:`risk`."""
    # one output per thread: the selections of describe release the GIL
    described = thread_map(
        lambda k: describe(irr_with_total_losses(outputs) if k == "irr_annual" else outputs[k]), scalar_names
    )
    out = dict(zip(scalar_names, described, strict=True))
    if "irr_annual" in out and "net_roi" in outputs:
        out["irr_annual"]["n_total_loss"] = float(_total_loss(outputs).sum())
    return {
        "draws": int(np.asarray(outputs[scalar_names[0]]).shape[0]),
        "outputs": out,
        "risk": risk(outputs, horizon_months),
    }


def _total_loss(outputs: Mapping[str, np.ndarray]) -> np.ndarray:
    irr = np.asarray(outputs["irr_annual"], dtype=float)
    net_roi = np.asarray(outputs.get("net_roi", np.zeros_like(irr)), dtype=float)
    return np.isnan(irr) & (net_roi <= -1)


def irr_with_total_losses(outputs: Mapping[str, np.ndarray]) -> np.ndarray:
    """The IRR as summaries count it (:func:`mcroi.engine.irr_for_summaries`): total losses as -100 %."""
    irr = np.asarray(outputs["irr_annual"], dtype=float)
    if "net_roi" not in outputs:
        return irr
    return np.asarray(irr_for_summaries(irr, np.asarray(outputs["net_roi"], dtype=float)))


def summarize_stream(stream: Any, level: float = VAR_LEVEL) -> dict[str, Any]:
    """:func:`summarize` from a streaming :class:`mcroi.sketch.RunStream` (``keep="summary"`` runs).

    Moments, counts and probabilities are exact; percentiles, VaR and their MCSEs come from the
    quantile sketch (relative error <= ``mcroi.sketch.ALPHA``); CVaR is the mean of the sketch's
    bin representatives at or below VaR (same relative error bound).
    """
    npv = stream.outputs["npv_usd"]
    var = float(npv.sketch.quantile(level))
    return {
        "draws": int(stream.draws),
        "outputs": {k: describe_stream(stream.outputs[k], PERCENTILES, MCSE_PERCENTILES) for k in stream.names},
        "risk": {
            "p_npv_negative": stream.p_npv_negative.result(),
            "p_no_payback_within_horizon": stream.p_no_payback.result(),
            "p_roi_multiple_below_1": stream.p_roi_below_1.result(),
            "var_level": level,
            "var_npv_usd": var,
            "cvar_npv_usd": npv.sketch.tail_mean(var),
            "mcse_var_npv_usd": npv.quantile_mcse(level),
        },
    }


def headline_means(outputs: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """``outputs`` with mean, sd and their MCSE set to None where a mean is no headline.

    An IRR's mean is dominated by a few enormous roots, a payback's is undefined when a draw never pays
    back: summary.json then reports percentiles only, as the terminal and the exports do.
    """
    out = {}
    for k, d in outputs.items():
        spec = OUTPUTS.get(k)
        if spec is not None and not spec.mean_is_headline:
            d = {**d, "mean": None, "sd": None, "mcse_mean": None}
        out[k] = d
    return out
